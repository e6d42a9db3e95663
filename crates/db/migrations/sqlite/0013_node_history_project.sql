-- The project of the user a node history entry records (Ironic API 1.113).
ALTER TABLE node_history ADD COLUMN project TEXT;
