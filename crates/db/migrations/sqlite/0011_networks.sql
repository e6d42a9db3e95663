-- Ferric's network service: networks with a role and a segment, their subnets, and
-- VIF ports (fixed IPs, DHCP options, the binding to a node).
CREATE TABLE networks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    project_id TEXT NOT NULL DEFAULT '',
    shared INTEGER NOT NULL DEFAULT 0,
    admin_state_up INTEGER NOT NULL DEFAULT 1,
    role TEXT NOT NULL DEFAULT 'tenant',
    network_type TEXT NOT NULL,
    physical_network TEXT,
    segmentation_id TEXT,
    mtu TEXT NOT NULL DEFAULT '1500',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_networks__uuid UNIQUE (uuid)
);
CREATE TABLE subnets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    network_uuid TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    project_id TEXT NOT NULL DEFAULT '',
    cidr TEXT NOT NULL,
    gateway_ip TEXT,
    dns_nameservers TEXT NOT NULL DEFAULT '[]',
    allocation_pools TEXT NOT NULL DEFAULT '[]',
    enable_dhcp INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_subnets__uuid UNIQUE (uuid)
);
CREATE INDEX subnets_network_idx ON subnets (network_uuid);
CREATE TABLE vif_ports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    network_uuid TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    project_id TEXT NOT NULL DEFAULT '',
    mac_address TEXT NOT NULL,
    fixed_ips TEXT NOT NULL DEFAULT '[]',
    extra_dhcp_opts TEXT NOT NULL DEFAULT '[]',
    binding_profile TEXT NOT NULL DEFAULT '{}',
    vnic_type TEXT NOT NULL DEFAULT 'normal',
    host_id TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    device_owner TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'DOWN',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_vif_ports__uuid UNIQUE (uuid),
    CONSTRAINT uniq_vif_ports__network_mac UNIQUE (network_uuid, mac_address)
);
