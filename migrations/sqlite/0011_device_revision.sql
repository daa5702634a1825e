-- Kept in step with ../postgres/0011_device_revision.sql.

-- The revision of the last write that changed only this device (its first contact, a password
-- rotation, a re-armed window): such a write stamps the device instead of its tenant, so the
-- other devices' cached files and the tenant's directory stay current.
ALTER TABLE devices ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
