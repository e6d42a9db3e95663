-- Volume connectors and targets of nodes (API 1.32).
CREATE TABLE volume_connectors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    node_uuid TEXT NOT NULL REFERENCES nodes(uuid) ON DELETE CASCADE,
    type TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_volume_connectors__uuid UNIQUE (uuid),
    CONSTRAINT uniq_volume_connectors__type_connector_id UNIQUE (type, connector_id)
);
CREATE INDEX ix_volume_connectors__node_uuid ON volume_connectors (node_uuid);
CREATE TABLE volume_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    node_uuid TEXT NOT NULL REFERENCES nodes(uuid) ON DELETE CASCADE,
    volume_type TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',
    boot_index BIGINT NOT NULL,
    volume_id TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_volume_targets__uuid UNIQUE (uuid),
    CONSTRAINT uniq_volume_targets__node_uuid_boot_index UNIQUE (node_uuid, boot_index)
);
CREATE INDEX ix_volume_targets__node_uuid ON volume_targets (node_uuid);
