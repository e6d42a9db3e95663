-- Deploy templates: steps added to the deploys of nodes carrying the template's trait.
CREATE TABLE deploy_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    steps TEXT NOT NULL DEFAULT '[]',
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_deploy_templates__uuid UNIQUE (uuid),
    CONSTRAINT uniq_deploy_templates__name UNIQUE (name)
);
