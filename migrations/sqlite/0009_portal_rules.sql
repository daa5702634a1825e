-- The portal rules of issue 3: number labels, PINs and call features; users' mobile
-- integration, app registration and PBX options; Phone IDs; licence pools; BLF grants; trunks;
-- and the audit columns of the change log. Kept in step with ../postgres/0009_portal_rules.sql.

-- Numbers: a two-part display name, the default PIN (shown to admins), the user's own PIN
-- (argon2 hash, never shown), wrong PINs in a row (3 lock it), and the call features (JSON).
ALTER TABLE numbers ADD COLUMN label_first TEXT;
ALTER TABLE numbers ADD COLUMN label_last TEXT;
ALTER TABLE numbers ADD COLUMN default_pin TEXT NOT NULL DEFAULT '';
ALTER TABLE numbers ADD COLUMN pin_hash TEXT;
ALTER TABLE numbers ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE numbers ADD COLUMN features TEXT NOT NULL DEFAULT '{}';
UPDATE numbers SET default_pin = substr('000000' || (abs(random()) % 1000000), -6, 6);

-- Sites' trunks (Amtsleitungen): with several, a user's preferred trunk must be chosen.
CREATE TABLE trunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (site_id, name)
);

-- Users: mobile integration (number and contract), the app registration e-mail (fixed once the
-- user registers and has a login name), the PBX options (JSON), the preferred trunk.
ALTER TABLE users ADD COLUMN mobile TEXT;
ALTER TABLE users ADD COLUMN contract_number TEXT;
ALTER TABLE users ADD COLUMN app_email TEXT;
ALTER TABLE users ADD COLUMN app_login TEXT;
ALTER TABLE users ADD COLUMN app_invitations INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN trunk_id INTEGER REFERENCES trunks (id);

-- Devices: the short Phone ID a phone shows, for picking it in lists.
ALTER TABLE devices ADD COLUMN phone_id TEXT;
UPDATE devices SET phone_id = 'D' || printf('%05d', id);
CREATE UNIQUE INDEX devices_phone_id ON devices (phone_id);

-- Licences: a tenant's pool per kind, and who holds one.
CREATE TABLE licence_pools (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('app', 'conference-room', 'e-fax')),
    total INTEGER NOT NULL CHECK (total >= 0),
    PRIMARY KEY (tenant_id, kind)
);
CREATE TABLE user_licences (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('app', 'conference-room', 'e-fax')),
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- BLF permissions: who may be monitored, by whom (NULL: by anyone of the tenant).
CREATE TABLE blf_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    watched_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    watcher_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (watched_id, watcher_id)
);

-- The change log is the audit trail: who did it, and the record before and after (no secrets).
ALTER TABLE change_log ADD COLUMN actor TEXT;
ALTER TABLE change_log ADD COLUMN before_json TEXT;
ALTER TABLE change_log ADD COLUMN after_json TEXT;
CREATE INDEX change_log_tenant ON change_log (tenant_id, id);
