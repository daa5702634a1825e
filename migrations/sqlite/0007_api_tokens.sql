-- API tokens: shown once, stored as an argon2 hash; a role, and the tenant (and user) they are
-- bound to. Kept in step with the other backend's 0007_api_tokens.sql.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('platform-admin', 'tenant-admin', 'user')),
    tenant_id INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
