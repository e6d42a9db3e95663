-- Conductors register here and heartbeat by bumping updated_at.
CREATE TABLE conductors (
    id BIGSERIAL PRIMARY KEY,
    hostname TEXT NOT NULL,
    conductor_group TEXT NOT NULL DEFAULT '',
    drivers TEXT NOT NULL DEFAULT '[]',
    online BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_conductors__hostname UNIQUE (hostname)
);
