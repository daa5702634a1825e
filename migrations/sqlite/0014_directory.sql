-- Kept in step with ../postgres/0014_directory.sql.

-- The revision of the last write that changed what the tenant's phone directory shows (users'
-- names, numbers, extensions and hidden flags, numbers' labels, directory entries): the shared
-- directory is cached by it, so a write the directory does not show (a device added, a licence
-- set) reloads no directory.
ALTER TABLE tenants ADD COLUMN directory_revision INTEGER NOT NULL DEFAULT 0;

-- The phone directory's own entries (portal 000 "Phone Site Directory", 004 "Telefonbuch"): a
-- person (first and last name) or a company, and the number to dial; for the whole tenant, or
-- for one site's phones only. `name` is what phones show ("First Last", else the company),
-- kept for search, order and the duplicate rule.
CREATE TABLE directory_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id INTEGER REFERENCES sites (id) ON DELETE CASCADE,
    first_name TEXT,
    last_name TEXT,
    company TEXT,
    name TEXT NOT NULL,
    number TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX directory_entries_unique
    ON directory_entries (tenant_id, COALESCE(site_id, 0), name, number);
