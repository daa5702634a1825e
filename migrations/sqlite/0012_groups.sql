-- Groups and shared resources (issue 12, part A): hunt groups and call centres (one table,
-- `kind` tells them apart), their agents and supervisors, virtual users, Collaborate bridges,
-- and a user's e-fax number. Every extension of a tenant is unique across users, groups,
-- virtual users and bridges: `store/extensions.rs` checks it inside each write.
-- Kept in step with ../postgres/0012_groups.sql.

CREATE TABLE call_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('hunt-group', 'call-centre')),
    name TEXT NOT NULL,
    -- The group's own number (one of the tenant's; then nobody else's).
    number_id INTEGER REFERENCES numbers (id),
    extension TEXT,
    policy TEXT NOT NULL,
    skip_after_rings INTEGER NOT NULL,
    -- Where calls go when nobody answers or nobody is available: an extension, an E.164
    -- number or `main` (the site's main number); NULL: nowhere.
    forward_to TEXT,
    voicemail INTEGER NOT NULL DEFAULT 0,
    voicemail_email TEXT,
    -- Call centres only: the queue.
    queue_length INTEGER,
    queue_announcement TEXT,
    queue_max_wait_secs INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX call_groups_number ON call_groups (number_id);
CREATE UNIQUE INDEX call_groups_extension ON call_groups (tenant_id, extension);

-- Agents (in order; `weight` is the percentage of the weighted policy) and supervisors.
CREATE TABLE call_group_members (
    group_id INTEGER NOT NULL REFERENCES call_groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
    position INTEGER NOT NULL,
    weight INTEGER,
    PRIMARY KEY (group_id, role, user_id)
);
CREATE INDEX call_group_members_user ON call_group_members (user_id);

CREATE TABLE virtual_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    -- The full external number called (E.164).
    external TEXT NOT NULL,
    extension TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, extension)
);

CREATE TABLE bridges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    number_id INTEGER NOT NULL REFERENCES numbers (id),
    extension TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX bridges_number ON bridges (number_id);
CREATE UNIQUE INDEX bridges_extension ON bridges (tenant_id, extension);

-- The e-fax number of a user with an e-fax licence.
ALTER TABLE users ADD COLUMN fax_number_id INTEGER REFERENCES numbers (id);
CREATE UNIQUE INDEX users_fax_number ON users (fax_number_id);
