-- Call pickup groups, call park groups and their slots, schedules and group night forwarding
-- (portal seeds 000, 001). Kept in step with the other backend's 0013_pickup_park_schedules.sql.
-- A deleted user leaves every group by ON DELETE CASCADE, in the delete's transaction.
CREATE TABLE pickup_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);
-- A user is in at most one pickup group: UNIQUE (user_id).
CREATE TABLE pickup_members (
    group_id INTEGER NOT NULL REFERENCES pickup_groups (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    UNIQUE (user_id)
);
CREATE INDEX pickup_members_group ON pickup_members (group_id, position);

CREATE TABLE park_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE TABLE park_members (
    group_id INTEGER NOT NULL REFERENCES park_groups (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    UNIQUE (group_id, user_id)
);
CREATE INDEX park_members_user ON park_members (user_id);
-- A slot is an extension of the tenant's plan: unique in the tenant.
CREATE TABLE park_slots (
    group_id INTEGER NOT NULL REFERENCES park_groups (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    extension TEXT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (tenant_id, extension)
);

-- rules_json: the opening hours (kind opening-hours) or the holiday list (kind holidays).
CREATE TABLE schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    rules_json TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- Per tenant (scope 0) and optionally per site (scope = the site's id).
CREATE TABLE night_service (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope INTEGER NOT NULL,
    site_id INTEGER REFERENCES sites (id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    hours_id INTEGER REFERENCES schedules (id),
    holidays_id INTEGER REFERENCES schedules (id),
    target_kind TEXT NOT NULL,
    destination TEXT,
    UNIQUE (tenant_id, scope)
);
