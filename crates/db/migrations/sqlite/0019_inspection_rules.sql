-- Inspection rules (API 1.96): conditions on inspection data and actions to take.
CREATE TABLE inspection_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    description TEXT,
    phase TEXT NOT NULL DEFAULT 'main',
    priority BIGINT NOT NULL DEFAULT 0,
    sensitive INTEGER NOT NULL DEFAULT 0,
    conditions TEXT NOT NULL DEFAULT '[]',
    actions TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_inspection_rules__uuid UNIQUE (uuid)
);
