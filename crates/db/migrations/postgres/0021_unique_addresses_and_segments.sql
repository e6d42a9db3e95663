-- Uniqueness the database enforces for every process on it: a fixed IP is one
-- port's within its subnet, and a segment (a VLAN of a physical network, or its
-- flat network) is one network's.
CREATE TABLE fixed_ips (
    id BIGSERIAL PRIMARY KEY,
    subnet_uuid TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    port_uuid TEXT NOT NULL,
    CONSTRAINT uniq_fixed_ips__ip_address UNIQUE (ip_address, subnet_uuid)
);
CREATE INDEX fixed_ips_port_idx ON fixed_ips (port_uuid);
-- A duplicate that slipped in when only in-process locks guarded addresses
-- keeps its first port's claim.
INSERT INTO fixed_ips (subnet_uuid, ip_address, port_uuid)
    SELECT f->>'subnet_id', f->>'ip_address', p.uuid
    FROM vif_ports p, jsonb_array_elements(p.fixed_ips::jsonb) f
    ORDER BY p.id
    ON CONFLICT DO NOTHING;
ALTER TABLE networks ADD COLUMN segment TEXT;
-- A segment two networks share (possible before) stays the oldest one's.
UPDATE networks SET segment = physical_network || ':vlan:' || segmentation_id
    WHERE network_type = 'vlan' AND NULLIF(physical_network, '') IS NOT NULL
      AND segmentation_id IS NOT NULL
      AND id = (SELECT MIN(o.id) FROM networks o WHERE o.network_type = 'vlan'
                AND o.physical_network = networks.physical_network
                AND o.segmentation_id = networks.segmentation_id);
UPDATE networks SET segment = physical_network || ':flat'
    WHERE network_type = 'flat' AND NULLIF(physical_network, '') IS NOT NULL
      AND id = (SELECT MIN(o.id) FROM networks o WHERE o.network_type = 'flat'
                AND o.physical_network = networks.physical_network);
CREATE UNIQUE INDEX uniq_networks__segment ON networks (segment);
