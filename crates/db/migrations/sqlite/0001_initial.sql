-- Initial schema: chassis, nodes, port groups and ports.
-- Booleans are integers 0/1 and JSON documents are text on both backends, so one
-- set of queries serves SQLite and PostgreSQL alike.

CREATE TABLE chassis (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    description TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_chassis__uuid UNIQUE (uuid)
);

CREATE TABLE nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT,
    driver TEXT NOT NULL,
    driver_info TEXT NOT NULL DEFAULT '{}',
    driver_internal_info TEXT NOT NULL DEFAULT '{}',
    properties TEXT NOT NULL DEFAULT '{}',
    extra TEXT NOT NULL DEFAULT '{}',
    instance_info TEXT NOT NULL DEFAULT '{}',
    chassis_uuid TEXT REFERENCES chassis(uuid),
    instance_uuid TEXT,
    power_state TEXT,
    target_power_state TEXT,
    provision_state TEXT NOT NULL,
    target_provision_state TEXT,
    provision_updated_at TEXT,
    last_error TEXT,
    reservation TEXT,
    maintenance INTEGER NOT NULL DEFAULT 0,
    maintenance_reason TEXT,
    fault TEXT,
    console_enabled INTEGER NOT NULL DEFAULT 0,
    inspection_started_at TEXT,
    inspection_finished_at TEXT,
    clean_step TEXT NOT NULL DEFAULT '{}',
    deploy_step TEXT NOT NULL DEFAULT '{}',
    raid_config TEXT NOT NULL DEFAULT '{}',
    target_raid_config TEXT NOT NULL DEFAULT '{}',
    bios_interface TEXT,
    boot_interface TEXT,
    console_interface TEXT,
    deploy_interface TEXT,
    firmware_interface TEXT,
    inspect_interface TEXT,
    management_interface TEXT,
    network_interface TEXT,
    power_interface TEXT,
    raid_interface TEXT,
    rescue_interface TEXT,
    storage_interface TEXT,
    vendor_interface TEXT,
    resource_class TEXT,
    traits TEXT NOT NULL DEFAULT '[]',
    conductor_group TEXT NOT NULL DEFAULT '',
    automated_clean INTEGER,
    protected INTEGER NOT NULL DEFAULT 0,
    protected_reason TEXT,
    owner TEXT,
    lessee TEXT,
    description TEXT,
    allocation_uuid TEXT,
    retired INTEGER NOT NULL DEFAULT 0,
    retired_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_nodes__uuid UNIQUE (uuid),
    CONSTRAINT uniq_nodes__name UNIQUE (name),
    CONSTRAINT uniq_nodes__instance_uuid UNIQUE (instance_uuid)
);
CREATE INDEX ix_nodes__chassis_uuid ON nodes (chassis_uuid);
CREATE INDEX ix_nodes__provision_state ON nodes (provision_state);
CREATE INDEX ix_nodes__driver ON nodes (driver);
CREATE INDEX ix_nodes__resource_class ON nodes (resource_class);
CREATE INDEX ix_nodes__conductor_group ON nodes (conductor_group);
CREATE INDEX ix_nodes__owner ON nodes (owner);
CREATE INDEX ix_nodes__lessee ON nodes (lessee);
CREATE INDEX ix_nodes__reservation ON nodes (reservation);

CREATE TABLE portgroups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT,
    address TEXT,
    node_uuid TEXT NOT NULL REFERENCES nodes(uuid) ON DELETE CASCADE,
    extra TEXT NOT NULL DEFAULT '{}',
    internal_info TEXT NOT NULL DEFAULT '{}',
    standalone_ports_supported INTEGER NOT NULL DEFAULT 1,
    mode TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_portgroups__uuid UNIQUE (uuid),
    CONSTRAINT uniq_portgroups__name UNIQUE (name),
    CONSTRAINT uniq_portgroups__address UNIQUE (address)
);
CREATE INDEX ix_portgroups__node_uuid ON portgroups (node_uuid);

CREATE TABLE ports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    address TEXT NOT NULL,
    node_uuid TEXT NOT NULL REFERENCES nodes(uuid) ON DELETE CASCADE,
    portgroup_uuid TEXT REFERENCES portgroups(uuid),
    extra TEXT NOT NULL DEFAULT '{}',
    internal_info TEXT NOT NULL DEFAULT '{}',
    local_link_connection TEXT NOT NULL DEFAULT '{}',
    pxe_enabled INTEGER NOT NULL DEFAULT 1,
    physical_network TEXT,
    is_smartnic INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_ports__uuid UNIQUE (uuid),
    CONSTRAINT uniq_ports__address UNIQUE (address)
);
CREATE INDEX ix_ports__node_uuid ON ports (node_uuid);
CREATE INDEX ix_ports__portgroup_uuid ON ports (portgroup_uuid);
