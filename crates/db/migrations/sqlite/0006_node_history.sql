-- Node history: state changes, power changes and errors of each node.
CREATE TABLE node_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    node_uuid TEXT NOT NULL REFERENCES nodes(uuid) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    severity TEXT NOT NULL,
    event TEXT NOT NULL,
    event_type TEXT NOT NULL,
    conductor TEXT,
    "user" TEXT,
    CONSTRAINT uniq_node_history__uuid UNIQUE (uuid)
);
CREATE INDEX ix_node_history__node_uuid ON node_history (node_uuid);
