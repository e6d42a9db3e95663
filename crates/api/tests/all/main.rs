//! The API test suite, one binary: every scenario runs against SQLite and PostgreSQL.

mod harness;

mod allocations;
mod chassis;
mod conductors_drivers;
mod deploy_templates;
mod inspection;
mod lifecycle;
mod network_ownership;
mod networks;
mod node_create;
mod node_list;
mod node_update;
mod portgroups;
mod ports;
mod ramdisk;
mod rbac;
mod redfish;
mod requests;
mod traits_maintenance;
mod versions;
