-- Each user's monitor list: the users whose line state (BLF) their phone shows, in key order.
-- Kept in step with the other backend's 0005_monitor_lists.sql.
CREATE TABLE monitors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    monitored_user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    UNIQUE (user_id, monitored_user_id)
);
CREATE INDEX monitors_user ON monitors (user_id, position);
