-- What inspection found on each node: the agent's hardware inventory and the
-- rest of its inspection data (plugin data), as JSON text.
CREATE TABLE node_inventory (
    node_uuid TEXT PRIMARY KEY REFERENCES nodes(uuid) ON DELETE CASCADE,
    inventory TEXT NOT NULL,
    plugin_data TEXT NOT NULL,
    created_at TEXT NOT NULL
);
