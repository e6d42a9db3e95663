//! The API test suite, one binary: every scenario runs against SQLite and PostgreSQL.

mod harness;

mod allocations;
mod chassis;
mod conductors_drivers;
mod deploy_templates;
mod inspection;
mod inspection_rules;
mod lifecycle;
mod metrics;
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
mod runbooks;
mod traits_maintenance;
mod versions;
mod versions_190_plus;
mod volumes;
