-- Node fields of API 1.66 (network_data) and 1.75 (boot_mode, secure_boot).
ALTER TABLE nodes ADD COLUMN network_data TEXT NOT NULL DEFAULT '{}';
ALTER TABLE nodes ADD COLUMN boot_mode TEXT;
ALTER TABLE nodes ADD COLUMN secure_boot INTEGER;
