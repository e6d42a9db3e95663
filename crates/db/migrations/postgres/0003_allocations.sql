-- Allocations: requests for a node, answered by reserving a matching available node.
CREATE TABLE allocations (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    name TEXT,
    node_uuid TEXT REFERENCES nodes(uuid) ON DELETE SET NULL,
    candidate_nodes TEXT NOT NULL DEFAULT '[]',
    resource_class TEXT,
    traits TEXT NOT NULL DEFAULT '[]',
    extra TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    state TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_allocations__uuid UNIQUE (uuid),
    CONSTRAINT uniq_allocations__name UNIQUE (name),
    CONSTRAINT uniq_allocations__node_uuid UNIQUE (node_uuid)
);
CREATE INDEX ix_allocations__state ON allocations (state);
