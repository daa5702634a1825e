-- Foundation schema: tenants, sites, numbers, users, devices, device lines, and the revision
-- counter with its change log. Kept in step with ../postgres/0001_foundation.sql.
-- Timestamps are Unix seconds; flags are 0/1 integers (the same on both backends).

CREATE TABLE revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0);

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE change_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL,
    tenant_id INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    action TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX change_log_revision ON change_log (revision);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    ntp_server TEXT NOT NULL,
    sip_domain TEXT NOT NULL,
    sip_proxy TEXT,
    sip_port INTEGER NOT NULL,
    sip_transport TEXT NOT NULL CHECK (sip_transport IN ('udp', 'tcp', 'tls')),
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites (id),
    e164 TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'active', 'pending')),
    is_main INTEGER NOT NULL DEFAULT 0 CHECK (is_main IN (0, 1)),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX numbers_one_main_per_site ON numbers (site_id) WHERE is_main = 1;

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'failed', 'deactivated')),
    number_id INTEGER UNIQUE REFERENCES numbers (id),
    extension TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, extension)
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id INTEGER NOT NULL REFERENCES sites (id),
    mac TEXT NOT NULL UNIQUE,
    family TEXT NOT NULL,
    model TEXT NOT NULL,
    admin_password TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE device_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    number_id INTEGER NOT NULL UNIQUE REFERENCES numbers (id),
    position INTEGER NOT NULL,
    sip_user TEXT NOT NULL,
    sip_password TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (device_id, position)
);
