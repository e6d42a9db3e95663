//! Table descriptors: the columns of each resource table and how a field of the
//! resource's JSON form maps to a column. Rows are converted through
//! `serde_json::Value`, so each resource struct needs only its serde derive.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use crate::query::Value;
use crate::DbError;

/// Typed access to the columns of a result row, whatever the backend.
pub(crate) trait Columns {
    fn text(&self, i: usize) -> Result<Option<String>, String>;
    fn int(&self, i: usize) -> Result<Option<i64>, String>;
}

/// How a field is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text (strings, UUIDs, timestamps), nullable.
    Text,
    /// A boolean stored as 0/1, nullable.
    Bool,
    /// A whole number, nullable.
    Int,
    /// A JSON document stored as text.
    Json,
}

/// A resource table: its name and its columns (besides the internal `id`).
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
}

impl Table {
    pub fn kind(&self, column: &str) -> Option<Kind> {
        self.columns
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, k)| *k)
    }

    /// `col1, col2, …` for SELECT and INSERT.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The column values of a resource, in column order.
    pub fn encode<T: Serialize>(&self, item: &T) -> Result<Vec<Value>, DbError> {
        let json = serde_json::to_value(item).map_err(|e| DbError::Corrupt(e.to_string()))?;
        let Json::Object(map) = json else {
            return Err(DbError::Corrupt(format!(
                "{} row is not an object",
                self.name
            )));
        };
        Ok(self
            .columns
            .iter()
            .map(|(col, kind)| encode_value(*kind, map.get(field_name(col)).unwrap_or(&Json::Null)))
            .collect())
    }

    /// Rebuilds a resource from a row selected with `column_list()`, deserializing
    /// straight from the columns (no intermediate JSON document).
    pub fn decode<T: DeserializeOwned>(&self, row: &impl Columns) -> Result<T, DbError> {
        T::deserialize(RowDeserializer { table: self, row })
            .map_err(|e| DbError::Corrupt(format!("{} row: {e}", self.name)))
    }
}

/// Presents a row as a map of column name to value, for serde.
struct RowDeserializer<'r, R> {
    table: &'r Table,
    row: &'r R,
}

impl<'de, R: Columns> serde::Deserializer<'de> for RowDeserializer<'_, R> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(RowColumns {
            table: self.table,
            row: self.row,
            next: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct RowColumns<'r, R> {
    table: &'r Table,
    row: &'r R,
    next: usize,
}

impl<'de, R: Columns> serde::de::MapAccess<'de> for RowColumns<'_, R> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.table.columns.get(self.next) {
            None => Ok(None),
            Some((name, _)) => seed
                .deserialize(
                    serde::de::value::BorrowedStrDeserializer::<Self::Error>::new(field_name(name)),
                )
                .map(Some),
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::Error;
        let i = self.next;
        self.next += 1;
        let (col, kind) = self.table.columns[i];
        let column_error = |e: String| Self::Error::custom(format!("{col}: {e}"));
        match kind {
            Kind::Text => {
                let text = self.row.text(i).map_err(column_error)?;
                seed.deserialize(text.map_or(Json::Null, Json::String))
            }
            Kind::Bool => {
                let flag = self.row.int(i).map_err(column_error)?;
                seed.deserialize(flag.map_or(Json::Null, |v| Json::Bool(v != 0)))
            }
            Kind::Int => {
                let n = self.row.int(i).map_err(column_error)?;
                seed.deserialize(n.map_or(Json::Null, Json::from))
            }
            Kind::Json => {
                let text = self.row.text(i).map_err(column_error)?.unwrap_or_default();
                let mut de = serde_json::Deserializer::from_reader(text.as_bytes());
                let value = seed.deserialize(&mut de)?;
                de.end()?;
                Ok(value)
            }
        }
    }
}

/// The resource field a column holds: its name without SQL quoting (`"user"` is a
/// reserved word in PostgreSQL and must be quoted in statements).
fn field_name(column: &str) -> &str {
    column.trim_matches('"')
}

/// Converts one field of a resource's JSON form to its column value.
pub(crate) fn encode_value(kind: Kind, value: &Json) -> Value {
    match (kind, value) {
        (Kind::Text, Json::Null) => Value::NullText,
        (Kind::Bool | Kind::Int, Json::Null) => Value::NullInt,
        (Kind::Int, other) => other.as_i64().map_or(Value::NullInt, Value::Int),
        (Kind::Text, Json::String(s)) => Value::Text(s.clone()),
        (Kind::Text, other) => Value::Text(other.to_string()),
        (Kind::Bool, Json::Bool(b)) => Value::Int(i64::from(*b)),
        (Kind::Bool, other) => Value::Int(i64::from(other.as_i64().unwrap_or(0) != 0)),
        (Kind::Json, other) => Value::Text(other.to_string()),
    }
}

use Kind::{Bool, Int, Json as J, Text};

pub(crate) static CHASSIS: Table = Table {
    name: "chassis",
    columns: &[
        ("uuid", Text),
        ("description", Text),
        ("extra", J),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static NODES: Table = Table {
    name: "nodes",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("driver", Text),
        ("driver_info", J),
        ("driver_internal_info", J),
        ("properties", J),
        ("extra", J),
        ("instance_info", J),
        ("chassis_uuid", Text),
        ("instance_uuid", Text),
        ("power_state", Text),
        ("target_power_state", Text),
        ("provision_state", Text),
        ("target_provision_state", Text),
        ("provision_updated_at", Text),
        ("last_error", Text),
        ("reservation", Text),
        ("maintenance", Bool),
        ("maintenance_reason", Text),
        ("fault", Text),
        ("console_enabled", Bool),
        ("inspection_started_at", Text),
        ("inspection_finished_at", Text),
        ("clean_step", J),
        ("deploy_step", J),
        ("raid_config", J),
        ("target_raid_config", J),
        ("bios_interface", Text),
        ("boot_interface", Text),
        ("console_interface", Text),
        ("deploy_interface", Text),
        ("firmware_interface", Text),
        ("inspect_interface", Text),
        ("management_interface", Text),
        ("network_interface", Text),
        ("power_interface", Text),
        ("raid_interface", Text),
        ("rescue_interface", Text),
        ("storage_interface", Text),
        ("vendor_interface", Text),
        ("resource_class", Text),
        ("traits", J),
        ("conductor_group", Text),
        ("automated_clean", Bool),
        ("protected", Bool),
        ("protected_reason", Text),
        ("owner", Text),
        ("lessee", Text),
        ("description", Text),
        ("allocation_uuid", Text),
        ("retired", Bool),
        ("retired_reason", Text),
        ("network_data", J),
        ("boot_mode", Text),
        ("secure_boot", Bool),
        ("shard", Text),
        ("parent_node", Text),
        ("service_step", J),
        ("disable_power_off", Bool),
        ("instance_name", Text),
        ("health", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static PORTGROUPS: Table = Table {
    name: "portgroups",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("address", Text),
        ("node_uuid", Text),
        ("extra", J),
        ("internal_info", J),
        ("standalone_ports_supported", Bool),
        ("mode", Text),
        ("properties", J),
        ("physical_network", Text),
        ("category", Text),
        ("dynamic_portgroup", Bool),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static PORTS: Table = Table {
    name: "ports",
    columns: &[
        ("uuid", Text),
        ("address", Text),
        ("node_uuid", Text),
        ("portgroup_uuid", Text),
        ("extra", J),
        ("internal_info", J),
        ("local_link_connection", J),
        ("pxe_enabled", Bool),
        ("physical_network", Text),
        ("is_smartnic", Bool),
        ("name", Text),
        ("description", Text),
        ("vendor", Text),
        ("category", Text),
        ("available_for_dynamic_portgroup", Bool),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static CONDUCTORS: Table = Table {
    name: "conductors",
    columns: &[
        ("hostname", Text),
        ("conductor_group", Text),
        ("drivers", J),
        ("online", Bool),
        ("created_at", Text),
        ("updated_at", Text),
        ("rpc_url", Text),
    ],
};

pub(crate) static NETWORKS: Table = Table {
    name: "networks",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("description", Text),
        ("project_id", Text),
        ("shared", Bool),
        ("admin_state_up", Bool),
        ("role", Text),
        ("network_type", Text),
        ("physical_network", Text),
        ("segmentation_id", J),
        ("mtu", J),
        ("created_at", Text),
        ("updated_at", Text),
        // Derived from the type, physical network and VLAN; unique.
        ("segment", Text),
    ],
};

pub(crate) static SUBNETS: Table = Table {
    name: "subnets",
    columns: &[
        ("uuid", Text),
        ("network_uuid", Text),
        ("name", Text),
        ("description", Text),
        ("project_id", Text),
        ("cidr", Text),
        ("gateway_ip", Text),
        ("dns_nameservers", J),
        ("allocation_pools", J),
        ("enable_dhcp", Bool),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static VIF_PORTS: Table = Table {
    name: "vif_ports",
    columns: &[
        ("uuid", Text),
        ("network_uuid", Text),
        ("name", Text),
        ("description", Text),
        ("project_id", Text),
        ("mac_address", Text),
        ("fixed_ips", J),
        ("extra_dhcp_opts", J),
        ("binding_profile", J),
        ("vnic_type", Text),
        ("host_id", Text),
        ("device_id", Text),
        ("device_owner", Text),
        ("admin_state_up", Bool),
        ("status", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static ALLOCATIONS: Table = Table {
    name: "allocations",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("node_uuid", Text),
        ("candidate_nodes", J),
        ("resource_class", Text),
        ("traits", J),
        ("extra", J),
        ("owner", Text),
        ("state", Text),
        ("last_error", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static DEPLOY_TEMPLATES: Table = Table {
    name: "deploy_templates",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("steps", J),
        ("extra", J),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static RUNBOOKS: Table = Table {
    name: "runbooks",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("steps", J),
        ("disable_ramdisk", Bool),
        ("extra", J),
        ("public", Bool),
        ("owner", Text),
        ("description", Text),
        ("traits", J),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static VOLUME_CONNECTORS: Table = Table {
    name: "volume_connectors",
    columns: &[
        ("uuid", Text),
        ("node_uuid", Text),
        ("type", Text),
        ("connector_id", Text),
        ("extra", J),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static VOLUME_TARGETS: Table = Table {
    name: "volume_targets",
    columns: &[
        ("uuid", Text),
        ("node_uuid", Text),
        ("volume_type", Text),
        ("properties", J),
        ("boot_index", Int),
        ("volume_id", Text),
        ("extra", J),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static FIRMWARE_COMPONENTS: Table = Table {
    name: "firmware_components",
    columns: &[
        ("node_uuid", Text),
        ("component", Text),
        ("initial_version", Text),
        ("current_version", Text),
        ("last_version_flashed", Text),
        ("vendor", Text),
        ("model", Text),
        ("serial_number", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static INSPECTION_RULES: Table = Table {
    name: "inspection_rules",
    columns: &[
        ("uuid", Text),
        ("description", Text),
        ("phase", Text),
        ("priority", Int),
        ("sensitive", Bool),
        ("conditions", J),
        ("actions", J),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static IDENTITY_PROJECTS: Table = Table {
    name: "identity_projects",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("description", Text),
        ("enabled", Bool),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static IDENTITY_USERS: Table = Table {
    name: "identity_users",
    columns: &[
        ("uuid", Text),
        ("name", Text),
        ("password_hash", Text),
        ("default_project_id", Text),
        ("enabled", Bool),
        ("tokens_valid_after", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static IDENTITY_ASSIGNMENTS: Table = Table {
    name: "identity_assignments",
    columns: &[
        ("uuid", Text),
        ("user_uuid", Text),
        ("scope", Text),
        ("role", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static IDENTITY_APP_CREDENTIALS: Table = Table {
    name: "identity_app_credentials",
    columns: &[
        ("uuid", Text),
        ("user_uuid", Text),
        ("name", Text),
        ("description", Text),
        ("secret_hash", Text),
        ("project_uuid", Text),
        ("roles", J),
        ("expires_at", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static IDENTITY_REVOCATIONS: Table = Table {
    name: "identity_revocations",
    columns: &[
        ("uuid", Text),
        ("expires_at", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static IDENTITY_KEYS: Table = Table {
    name: "identity_keys",
    columns: &[
        ("uuid", Text),
        ("secret", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

pub(crate) static NODE_HISTORY: Table = Table {
    name: "node_history",
    columns: &[
        ("uuid", Text),
        ("node_uuid", Text),
        ("created_at", Text),
        ("severity", Text),
        ("event", Text),
        ("event_type", Text),
        ("conductor", Text),
        ("\"user\"", Text),
        ("project", Text),
        ("state", Text),
        ("target_provision_state", Text),
        ("duration_seconds", Int),
    ],
};
