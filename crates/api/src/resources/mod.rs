//! The v1 resources this build serves: nodes (with traits, maintenance, states,
//! provision and power changes, boot devices), ports, port groups and chassis.

mod allocations;
mod chassis;
mod common;
mod conductors;
mod deploy_templates;
mod drivers;
pub(crate) mod ident;
mod inspection;
mod inspection_rules;
mod node_bios_raid;
mod node_fields;
mod node_firmware;
mod node_history;
mod node_management;
mod node_patch_rules;
mod node_provision_request;
mod node_redaction;
mod node_states;
mod node_traits;
mod node_validate;
mod node_vendor;
mod node_vifs;
mod nodes;
mod port_fields;
mod portgroups;
mod ports;
mod ramdisk;
mod runbooks;
mod shards;
mod values;
mod volume;
mod volume_connectors;
mod volume_targets;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::AppState;

pub use common::nodes_cond;
pub use nodes::project_cond;

/// The largest inspection data accepted (Ironic's limit).
const INSPECTION_BODY_BYTES: usize = 16 << 20;

/// Routes relative to `/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lookup", get(ramdisk::lookup))
        .route("/heartbeat/{node}", post(ramdisk::heartbeat))
        .route(
            "/continue_inspection",
            post(inspection::continue_inspection)
                .layer(DefaultBodyLimit::max(INSPECTION_BODY_BYTES)),
        )
        .route("/nodes", get(nodes::list_nodes).post(nodes::create))
        .route("/nodes/detail", get(nodes::list_nodes_detail))
        .route(
            "/nodes/{node}",
            get(nodes::show).patch(nodes::update).delete(nodes::delete),
        )
        .route("/nodes/{node}/states", get(nodes::states))
        .route("/nodes/{node}/children", get(nodes::children))
        .route(
            "/nodes/{node}/states/provision",
            put(node_states::provision),
        )
        .route("/nodes/{node}/states/power", put(node_states::power))
        .route(
            "/nodes/{node}/states/console",
            get(node_states::console).put(node_states::set_console),
        )
        .route(
            "/nodes/{node}/states/boot_mode",
            put(node_states::boot_mode),
        )
        .route("/nodes/{node}/states/raid", put(node_bios_raid::set_raid))
        .route(
            "/nodes/{node}/vendor_passthru",
            axum::routing::any(node_vendor::call_by_query),
        )
        .route(
            "/nodes/{node}/vendor_passthru/methods",
            get(node_vendor::methods),
        )
        .route(
            "/nodes/{node}/vendor_passthru/{method}",
            axum::routing::any(node_vendor::call_by_path),
        )
        .route("/nodes/{node}/bios", get(node_bios_raid::list_bios))
        .route(
            "/nodes/{node}/bios/{setting}",
            get(node_bios_raid::show_bios),
        )
        .route(
            "/drivers/{driver}/raid/logical_disk_properties",
            get(node_bios_raid::logical_disk_properties),
        )
        .route(
            "/nodes/{node}/states/secure_boot",
            put(node_states::secure_boot),
        )
        .route("/nodes/{node}/validate", get(node_validate::validate_node))
        .route(
            "/nodes/{node}/vifs",
            get(node_vifs::list).post(node_vifs::attach),
        )
        .route("/nodes/{node}/vifs/{vif}", delete(node_vifs::detach))
        .route("/nodes/{node}/history", get(node_history::list))
        .route("/nodes/{node}/history/{event}", get(node_history::show))
        .route("/nodes/{node}/inventory", get(node_history::inventory))
        .route("/nodes/{node}/firmware", get(node_firmware::firmware))
        .route("/shards", get(shards::list))
        .route("/nodes/validate", get(node_validate::validate_by_query))
        .route(
            "/nodes/{node}/management/boot_device",
            get(node_management::get_boot_device).put(node_management::set_boot_device),
        )
        .route(
            "/nodes/{node}/management/boot_device/supported",
            get(node_management::supported_boot_devices),
        )
        .route(
            "/nodes/{node}/management/inject_nmi",
            put(node_management::inject_nmi),
        )
        .route(
            "/nodes/{node}/management/indicators",
            get(node_management::list_indicators),
        )
        .route(
            "/nodes/{node}/management/indicators/{indicator}",
            get(node_management::get_indicator).put(node_management::set_indicator),
        )
        .route(
            "/nodes/{node}/vmedia",
            axum::routing::post(node_management::attach_vmedia)
                .get(node_management::get_vmedia)
                .delete(node_management::detach_vmedia),
        )
        .route(
            "/nodes/{node}/maintenance",
            put(nodes::maintenance_set).delete(nodes::maintenance_unset),
        )
        .route(
            "/nodes/{node}/traits",
            get(node_traits::list)
                .put(node_traits::replace)
                .delete(node_traits::remove_all),
        )
        .route(
            "/nodes/{node}/traits/{trait_name}",
            put(node_traits::add).delete(node_traits::remove),
        )
        .route("/nodes/{node}/ports", get(ports::list_node_ports))
        .route(
            "/nodes/{node}/ports/detail",
            get(ports::list_node_ports_detail),
        )
        .route(
            "/nodes/{node}/portgroups",
            get(portgroups::list_node_portgroups),
        )
        .route(
            "/nodes/{node}/portgroups/detail",
            get(portgroups::list_node_portgroups_detail),
        )
        .route("/ports", get(ports::list_ports).post(ports::create))
        .route("/ports/detail", get(ports::list_ports_detail))
        .route(
            "/ports/{port}",
            get(ports::show).patch(ports::update).delete(ports::delete),
        )
        .route(
            "/portgroups",
            get(portgroups::list_portgroups).post(portgroups::create),
        )
        .route(
            "/portgroups/detail",
            get(portgroups::list_portgroups_detail),
        )
        .route(
            "/portgroups/{portgroup}",
            get(portgroups::show)
                .patch(portgroups::update)
                .delete(portgroups::delete),
        )
        .route(
            "/portgroups/{portgroup}/ports",
            get(ports::list_portgroup_ports),
        )
        .route(
            "/portgroups/{portgroup}/ports/detail",
            get(ports::list_portgroup_ports_detail),
        )
        .route(
            "/allocations",
            get(allocations::list).post(allocations::create),
        )
        .route(
            "/allocations/{allocation}",
            get(allocations::show)
                .patch(allocations::update)
                .delete(allocations::delete),
        )
        .route(
            "/nodes/{node}/allocation",
            get(allocations::show_for_node).delete(allocations::delete_for_node),
        )
        .route(
            "/deploy_templates",
            get(deploy_templates::list).post(deploy_templates::create),
        )
        .route(
            "/deploy_templates/{template}",
            get(deploy_templates::show)
                .patch(deploy_templates::update)
                .delete(deploy_templates::delete),
        )
        .route("/volume", get(volume::root))
        .route(
            "/volume/connectors",
            get(volume_connectors::list_all).post(volume_connectors::create),
        )
        .route(
            "/volume/connectors/{connector}",
            get(volume_connectors::show)
                .patch(volume_connectors::update)
                .delete(volume_connectors::delete),
        )
        .route(
            "/volume/targets",
            get(volume_targets::list_all).post(volume_targets::create),
        )
        .route(
            "/volume/targets/{target}",
            get(volume_targets::show)
                .patch(volume_targets::update)
                .delete(volume_targets::delete),
        )
        .route("/nodes/{node}/volume", get(volume::node_root))
        .route(
            "/nodes/{node}/volume/connectors",
            get(volume_connectors::list_of_node),
        )
        .route(
            "/nodes/{node}/volume/targets",
            get(volume_targets::list_of_node),
        )
        .route(
            "/inspection_rules",
            get(inspection_rules::list)
                .post(inspection_rules::create)
                .delete(inspection_rules::delete_all),
        )
        .route(
            "/inspection_rules/{rule}",
            get(inspection_rules::show)
                .patch(inspection_rules::update)
                .delete(inspection_rules::delete),
        )
        .route("/runbooks", get(runbooks::list).post(runbooks::create))
        .route(
            "/runbooks/{runbook}",
            get(runbooks::show)
                .patch(runbooks::update)
                .delete(runbooks::delete),
        )
        .route(
            "/runbooks/{runbook}/traits",
            get(runbooks::traits)
                .put(runbooks::set_traits)
                .delete(runbooks::delete_traits),
        )
        .route(
            "/runbooks/{runbook}/traits/{trait}",
            axum::routing::put(runbooks::add_trait).delete(runbooks::delete_trait),
        )
        .route("/conductors", get(conductors::list))
        .route("/conductors/{hostname}", get(conductors::show))
        .route("/drivers", get(drivers::list))
        .route("/drivers/{driver}", get(drivers::show))
        .route("/drivers/{driver}/properties", get(drivers::properties))
        .route("/chassis", get(chassis::list_chassis).post(chassis::create))
        .route("/chassis/detail", get(chassis::list_chassis_detail))
        .route(
            "/chassis/{chassis}",
            get(chassis::show)
                .patch(chassis::update)
                .delete(chassis::delete),
        )
        .route("/chassis/{chassis}/nodes", get(chassis::list_nodes))
        .route(
            "/chassis/{chassis}/nodes/detail",
            get(chassis::list_nodes_detail),
        )
}
