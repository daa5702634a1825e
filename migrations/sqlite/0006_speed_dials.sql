-- Each user's speed dials: keys after the BLF keys, in order. Kept in step with the other
-- backend's 0006_speed_dials.sql.
CREATE TABLE speed_dials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    target TEXT NOT NULL,
    UNIQUE (user_id, position)
);
