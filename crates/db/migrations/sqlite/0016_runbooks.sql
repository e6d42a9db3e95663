-- Runbooks (API 1.92, traits and description 1.112).
CREATE TABLE runbooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    steps TEXT NOT NULL DEFAULT '[]',
    disable_ramdisk INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}',
    public INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    description TEXT,
    traits TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_runbooks__uuid UNIQUE (uuid),
    CONSTRAINT uniq_runbooks__name UNIQUE (name)
);
CREATE INDEX runbooks_owner_idx ON runbooks (owner);
