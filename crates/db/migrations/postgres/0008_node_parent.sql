-- Node parent_node (API 1.83): child nodes (DPUs, blades) under a parent node.
ALTER TABLE nodes ADD COLUMN parent_node TEXT;
CREATE INDEX ix_nodes__parent_node ON nodes (parent_node);
