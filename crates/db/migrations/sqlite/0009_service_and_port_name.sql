-- Node service_step (API 1.87) and port name (API 1.88).
ALTER TABLE nodes ADD COLUMN service_step TEXT NOT NULL DEFAULT '{}';
ALTER TABLE ports ADD COLUMN name TEXT;
CREATE UNIQUE INDEX uniq_ports__name ON ports (name);
