-- Firmware components of nodes, as their BMCs report them (API 1.86 and 1.114).
CREATE TABLE firmware_components (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node_uuid TEXT NOT NULL REFERENCES nodes(uuid) ON DELETE CASCADE,
    component TEXT NOT NULL,
    initial_version TEXT NOT NULL,
    current_version TEXT NOT NULL,
    last_version_flashed TEXT,
    vendor TEXT,
    model TEXT,
    serial_number TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_firmware_components__node_uuid_component UNIQUE (node_uuid, component)
);
