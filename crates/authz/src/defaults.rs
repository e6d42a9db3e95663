//! Ironic's default policy: every rule Ferric enforces, by Ironic's name, with its
//! default check string and whether it accepts system-scoped callers only. The
//! personas (system admin, owner member, lessee admin, …) are composed the way
//! Ironic composes them, so an operator's `policy.yaml` written for Ironic means the
//! same here.

macro_rules! system_admin {
    () => {
        "role:admin and system_scope:all"
    };
}
macro_rules! system_member {
    () => {
        "(role:member and system_scope:all) or rule:service_role"
    };
}
macro_rules! system_reader {
    () => {
        "(role:reader and system_scope:all) or (role:service and system_scope:all) or rule:service_role"
    };
}
macro_rules! system_service {
    () => {
        "role:service and system_scope:all"
    };
}
macro_rules! project_service {
    () => {
        "role:service and project_id:%(node.owner)s"
    };
}
macro_rules! project_member {
    () => {
        "role:member and (project_id:%(node.owner)s or project_id:%(node.lessee)s)"
    };
}
macro_rules! project_reader {
    () => {
        "role:reader and (project_id:%(node.owner)s or project_id:%(node.lessee)s)"
    };
}
macro_rules! owner {
    ($role:literal) => {
        concat!("role:", $role, " and project_id:%(node.owner)s")
    };
}
macro_rules! lessee {
    ($role:literal) => {
        concat!("role:", $role, " and project_id:%(node.lessee)s")
    };
}
macro_rules! any_of {
    ($($part:expr),+ $(,)?) => {
        concat!("(", any_of!(@join $($part),+), ")")
    };
    (@join $first:expr $(, $rest:expr)*) => {
        concat!($first $(, ") or (", $rest)*)
    };
}

const SYSTEM_ADMIN: &str = system_admin!();
const SYSTEM_MEMBER: &str = system_member!();
const SYSTEM_READER: &str = system_reader!();
const SYSTEM_OR_PROJECT_MEMBER: &str =
    any_of!(system_member!(), project_member!(), system_service!());
const SYSTEM_OR_PROJECT_READER: &str =
    any_of!(system_reader!(), project_reader!(), project_service!());
const SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN: &str = any_of!(
    system_member!(),
    system_service!(),
    owner!("member"),
    lessee!("admin"),
    lessee!("manager"),
    project_service!()
);
const SYSTEM_ADMIN_OR_OWNER_ADMIN: &str = any_of!(
    system_admin!(),
    system_service!(),
    owner!("admin"),
    owner!("manager"),
    project_service!()
);
const SYSTEM_MEMBER_OR_OWNER_ADMIN: &str = any_of!(
    system_member!(),
    system_service!(),
    owner!("admin"),
    owner!("manager"),
    project_service!()
);
const SYSTEM_MEMBER_OR_OWNER_MEMBER: &str = any_of!(
    system_member!(),
    system_service!(),
    owner!("member"),
    project_service!()
);
const SYSTEM_OR_OWNER_READER: &str = any_of!(
    system_reader!(),
    system_service!(),
    owner!("reader"),
    project_service!()
);
const ALLOCATION_MEMBER: &str = any_of!(
    system_member!(),
    "role:member and project_id:%(allocation.owner)s"
);
const ALLOCATION_READER: &str = any_of!(
    system_reader!(),
    "role:reader and project_id:%(allocation.owner)s"
);
const ALLOCATION_CREATOR: &str = any_of!(system_member!(), "role:member");
const API_READER: &str = "(role:reader) or (role:service)";
const SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN: &str = any_of!(
    system_member!(),
    system_service!(),
    owner!("admin"),
    owner!("manager"),
    lessee!("admin"),
    lessee!("manager"),
    project_service!()
);
const TARGET_PROPERTIES_READER: &str = any_of!(system_reader!(), "role:admin");
const RUNBOOK_ADMIN: &str = any_of!(
    system_member!(),
    "role:manager and project_id:%(runbook.owner)s",
    "role:service"
);
const RUNBOOK_READER: &str = any_of!(
    system_reader!(),
    "role:reader and project_id:%(runbook.owner)s",
    "role:service"
);
const RUNBOOK_CREATOR: &str = any_of!(system_member!(), "role:manager", "role:service");

/// Whether a rule accepts project-scoped callers too, or system-scoped ones only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scopes {
    SystemAndProject,
    SystemOnly,
}

use Scopes::{SystemAndProject as ANY, SystemOnly as SYSTEM};

/// (rule, default check string, scopes).
pub const RULES: &[(&str, &str, Scopes)] = &[
    ("show_password", "!", ANY),
    ("show_instance_secrets", "!", ANY),
    (
        "service_role",
        "role:service and project_name:%(config.service_project_name)s",
        ANY,
    ),
    // Nodes.
    (
        "baremetal:node:create",
        any_of!(system_admin!(), system_service!()),
        ANY,
    ),
    (
        "baremetal:node:create:self_owned_node",
        "(role:admin) or (role:service)",
        ANY,
    ),
    ("baremetal:node:list", API_READER, ANY),
    ("baremetal:node:list_all", SYSTEM_READER, ANY),
    ("baremetal:node:get", SYSTEM_OR_PROJECT_READER, ANY),
    ("baremetal:node:get:filter_threshold", SYSTEM_READER, ANY),
    ("baremetal:node:get:last_error", SYSTEM_OR_OWNER_READER, ANY),
    (
        "baremetal:node:get:reservation",
        SYSTEM_OR_OWNER_READER,
        ANY,
    ),
    (
        "baremetal:node:get:driver_internal_info",
        SYSTEM_OR_OWNER_READER,
        ANY,
    ),
    (
        "baremetal:node:get:driver_info",
        SYSTEM_OR_OWNER_READER,
        ANY,
    ),
    (
        "baremetal:node:update:driver_info",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:update:properties",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    ("baremetal:node:update:chassis_uuid", SYSTEM_ADMIN, ANY),
    (
        "baremetal:node:update:instance_uuid",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:update:lessee",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    ("baremetal:node:update:owner", SYSTEM_MEMBER, ANY),
    (
        "baremetal:node:update:driver_interfaces",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:update:network_data",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    ("baremetal:node:update:conductor_group", SYSTEM_MEMBER, ANY),
    (
        "baremetal:node:update:name",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:update:retired",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    ("baremetal:node:update:shard", SYSTEM_ADMIN, ANY),
    ("baremetal:node:update:parent_node", SYSTEM_MEMBER, ANY),
    ("baremetal:node:update:disable_power_off", SYSTEM_ADMIN, ANY),
    ("baremetal:node:update", SYSTEM_OR_PROJECT_MEMBER, ANY),
    ("baremetal:node:update_extra", SYSTEM_OR_PROJECT_MEMBER, ANY),
    (
        "baremetal:node:update_instance_info",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:update_owner_provisioned",
        SYSTEM_ADMIN,
        SYSTEM,
    ),
    ("baremetal:node:delete", SYSTEM_ADMIN, ANY),
    (
        "baremetal:node:delete:self_owned_node",
        owner!("admin"),
        ANY,
    ),
    (
        "baremetal:node:validate",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:set_maintenance",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:clear_maintenance",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:get_boot_device",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:set_boot_device",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:get_indicator_state",
        SYSTEM_OR_PROJECT_READER,
        ANY,
    ),
    (
        "baremetal:node:set_indicator_state",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:inject_nmi",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    ("baremetal:node:get_states", SYSTEM_OR_PROJECT_READER, ANY),
    (
        "baremetal:node:set_power_state",
        SYSTEM_OR_PROJECT_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:set_boot_mode",
        SYSTEM_OR_PROJECT_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:set_secure_boot",
        SYSTEM_OR_PROJECT_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:set_provision_state",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:set_raid_state",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:get_console",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:set_console_state",
        SYSTEM_MEMBER_OR_OWNER_MEMBER,
        ANY,
    ),
    ("baremetal:node:vif:list", SYSTEM_OR_PROJECT_READER, ANY),
    (
        "baremetal:node:vif:attach",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:vif:detach",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    ("baremetal:node:traits:list", SYSTEM_OR_PROJECT_READER, ANY),
    (
        "baremetal:node:traits:set",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    (
        "baremetal:node:traits:delete",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    ("baremetal:node:bios:get", SYSTEM_OR_PROJECT_READER, ANY),
    ("baremetal:node:disable_cleaning", SYSTEM_ADMIN, SYSTEM),
    ("baremetal:node:history:get", SYSTEM_OR_OWNER_READER, ANY),
    ("baremetal:node:inventory:get", SYSTEM_OR_OWNER_READER, ANY),
    ("baremetal:node:firmware:get", SYSTEM_OR_PROJECT_READER, ANY),
    (
        "baremetal:node:vmedia:attach",
        SYSTEM_OR_PROJECT_MEMBER,
        ANY,
    ),
    (
        "baremetal:node:vmedia:detach",
        SYSTEM_OR_PROJECT_MEMBER,
        ANY,
    ),
    ("baremetal:node:vmedia:get", SYSTEM_OR_PROJECT_READER, ANY),
    ("baremetal:node:vendor_passthru", SYSTEM_ADMIN, ANY),
    ("baremetal:shards:get", SYSTEM_READER, ANY),
    // Ports and port groups, judged by their node.
    ("baremetal:port:get", SYSTEM_OR_PROJECT_READER, ANY),
    ("baremetal:port:list", API_READER, ANY),
    ("baremetal:port:list_all", SYSTEM_READER, ANY),
    ("baremetal:port:create", SYSTEM_ADMIN_OR_OWNER_ADMIN, ANY),
    ("baremetal:port:delete", SYSTEM_ADMIN_OR_OWNER_ADMIN, ANY),
    ("baremetal:port:update", SYSTEM_MEMBER_OR_OWNER_ADMIN, ANY),
    ("baremetal:portgroup:get", SYSTEM_OR_PROJECT_READER, ANY),
    ("baremetal:portgroup:list", API_READER, ANY),
    ("baremetal:portgroup:list_all", SYSTEM_READER, ANY),
    (
        "baremetal:portgroup:create",
        SYSTEM_ADMIN_OR_OWNER_ADMIN,
        ANY,
    ),
    (
        "baremetal:portgroup:delete",
        SYSTEM_ADMIN_OR_OWNER_ADMIN,
        ANY,
    ),
    (
        "baremetal:portgroup:update",
        SYSTEM_MEMBER_OR_OWNER_ADMIN,
        ANY,
    ),
    // System resources.
    ("baremetal:chassis:get", SYSTEM_READER, SYSTEM),
    ("baremetal:chassis:create", SYSTEM_ADMIN, SYSTEM),
    ("baremetal:chassis:delete", SYSTEM_ADMIN, SYSTEM),
    ("baremetal:chassis:update", SYSTEM_MEMBER, SYSTEM),
    ("baremetal:driver:get", SYSTEM_READER, SYSTEM),
    ("baremetal:driver:get_properties", SYSTEM_READER, SYSTEM),
    (
        "baremetal:driver:get_raid_logical_disk_properties",
        SYSTEM_READER,
        SYSTEM,
    ),
    ("baremetal:driver:vendor_passthru", SYSTEM_ADMIN, SYSTEM),
    ("baremetal:conductor:get", SYSTEM_READER, ANY),
    ("baremetal:deploy_template:get", SYSTEM_READER, ANY),
    ("baremetal:deploy_template:create", SYSTEM_ADMIN, ANY),
    ("baremetal:deploy_template:delete", SYSTEM_ADMIN, ANY),
    ("baremetal:deploy_template:update", SYSTEM_ADMIN, ANY),
    // The ramdisk's endpoints: public, protected by the agent token.
    ("baremetal:node:ipa_heartbeat", "", ANY),
    ("baremetal:driver:ipa_lookup", "", ANY),
    ("baremetal:driver:ipa_continue_inspection", "", ANY),
    // Allocations, judged by their own owner.
    ("baremetal:allocation:get", ALLOCATION_READER, ANY),
    ("baremetal:allocation:list", API_READER, ANY),
    ("baremetal:allocation:list_all", SYSTEM_READER, ANY),
    ("baremetal:allocation:create", ALLOCATION_CREATOR, ANY),
    ("baremetal:allocation:create_restricted", SYSTEM_MEMBER, ANY),
    ("baremetal:allocation:delete", ALLOCATION_MEMBER, ANY),
    ("baremetal:allocation:update", ALLOCATION_MEMBER, ANY),
    // Volume connectors and targets, judged by their node.
    ("baremetal:volume:list_all", SYSTEM_READER, ANY),
    ("baremetal:volume:list", API_READER, ANY),
    ("baremetal:volume:get", SYSTEM_OR_PROJECT_READER, ANY),
    (
        "baremetal:volume:create",
        SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:volume:delete",
        SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:volume:update",
        SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
        ANY,
    ),
    (
        "baremetal:volume:view_target_properties",
        TARGET_PROPERTIES_READER,
        ANY,
    ),
    // Runbooks, judged by their own owner.
    ("baremetal:runbook:get", RUNBOOK_READER, ANY),
    ("baremetal:runbook:list", API_READER, ANY),
    ("baremetal:runbook:list_all", SYSTEM_READER, ANY),
    ("baremetal:runbook:create", RUNBOOK_CREATOR, ANY),
    ("baremetal:runbook:delete", RUNBOOK_ADMIN, ANY),
    ("baremetal:runbook:update", RUNBOOK_ADMIN, ANY),
    ("baremetal:runbook:update:public", SYSTEM_MEMBER, ANY),
    ("baremetal:runbook:update:owner", SYSTEM_MEMBER, ANY),
    ("baremetal:runbook:use", RUNBOOK_ADMIN, ANY),
    // Inspection rules: the system's.
    ("baremetal:inspection_rule:get", SYSTEM_READER, ANY),
    ("baremetal:inspection_rule:list_all", SYSTEM_READER, ANY),
    ("baremetal:inspection_rule:create", SYSTEM_ADMIN, ANY),
    ("baremetal:inspection_rule:update", SYSTEM_ADMIN, ANY),
    ("baremetal:inspection_rule:delete", SYSTEM_ADMIN, ANY),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personas_compose_like_ironics() {
        assert_eq!(
            SYSTEM_MEMBER_OR_OWNER_MEMBER,
            "((role:member and system_scope:all) or rule:service_role) or (role:service and \
             system_scope:all) or (role:member and project_id:%(node.owner)s) or (role:service \
             and project_id:%(node.owner)s)"
        );
    }

    #[test]
    fn every_default_parses_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (name, check, _) in RULES {
            assert!(seen.insert(name), "{name} twice");
            crate::Check::parse(check).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
