-- Portal accounts and their sessions (issue 14). A login is a login name or an e-mail, stored
-- lower-case; the password as an argon2 hash; `must_change` until the first password change.
-- A session is stored by the SHA-256 of its random id (the cookie holds the id), so any node
-- can serve it and a database read gives no one a session. Kept in step with the other
-- backend's 0018_portal_accounts.sql.
CREATE TABLE portal_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('platform-admin', 'tenant-admin', 'user')),
    tenant_id INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 1 CHECK (must_change IN (0, 1)),
    created_at INTEGER NOT NULL
);

CREATE TABLE portal_sessions (
    id_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES portal_accounts (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
);
CREATE INDEX portal_sessions_account ON portal_sessions (account_id);
