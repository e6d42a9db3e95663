-- The built-in identity service: projects, users, role assignments (on a project
-- or the system), application credentials, revoked tokens and the token signing key.
CREATE TABLE identity_projects (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_identity_projects__uuid UNIQUE (uuid),
    CONSTRAINT uniq_identity_projects__name UNIQUE (name)
);
CREATE TABLE identity_users (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    default_project_id TEXT,
    enabled BIGINT NOT NULL DEFAULT 1,
    tokens_valid_after TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_identity_users__uuid UNIQUE (uuid),
    CONSTRAINT uniq_identity_users__name UNIQUE (name)
);
CREATE TABLE identity_assignments (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    user_uuid TEXT NOT NULL REFERENCES identity_users(uuid) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_identity_assignments__uuid UNIQUE (uuid),
    CONSTRAINT uniq_identity_assignments__grant UNIQUE (user_uuid, scope, role)
);
CREATE TABLE identity_app_credentials (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    user_uuid TEXT NOT NULL REFERENCES identity_users(uuid) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    secret_hash TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_identity_app_credentials__uuid UNIQUE (uuid),
    CONSTRAINT uniq_identity_app_credentials__name UNIQUE (user_uuid, name)
);
CREATE TABLE identity_revocations (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_identity_revocations__uuid UNIQUE (uuid)
);
CREATE TABLE identity_keys (
    id BIGSERIAL PRIMARY KEY,
    uuid TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    CONSTRAINT uniq_identity_keys__uuid UNIQUE (uuid)
);
