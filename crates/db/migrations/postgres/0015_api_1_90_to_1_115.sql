-- Node disable_power_off (API 1.95), instance_name (1.104) and health (1.109);
-- port description, vendor, category (1.97, 1.100, 1.101) and
-- available_for_dynamic_portgroup (1.111); port group physical_network, category
-- (1.102, 1.103) and dynamic_portgroup (1.111).
ALTER TABLE nodes ADD COLUMN disable_power_off BIGINT NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN instance_name TEXT;
ALTER TABLE nodes ADD COLUMN health TEXT;
CREATE INDEX nodes_instance_name_idx ON nodes (instance_name);
ALTER TABLE ports ADD COLUMN description TEXT;
ALTER TABLE ports ADD COLUMN vendor TEXT;
ALTER TABLE ports ADD COLUMN category TEXT;
ALTER TABLE ports ADD COLUMN available_for_dynamic_portgroup BIGINT NOT NULL DEFAULT 1;
ALTER TABLE portgroups ADD COLUMN physical_network TEXT;
ALTER TABLE portgroups ADD COLUMN category TEXT;
ALTER TABLE portgroups ADD COLUMN dynamic_portgroup BIGINT NOT NULL DEFAULT 0;
-- Node history state, target_provision_state and duration_seconds (API 1.115).
ALTER TABLE node_history ADD COLUMN state TEXT;
ALTER TABLE node_history ADD COLUMN target_provision_state TEXT;
ALTER TABLE node_history ADD COLUMN duration_seconds BIGINT;
