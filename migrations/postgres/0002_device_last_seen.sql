-- Where and when each device last fetched a file. Not configuration: writing these does not move
-- any revision. Kept in step with ../sqlite/0002_device_last_seen.sql.
ALTER TABLE devices ADD COLUMN last_seen_at BIGINT;
ALTER TABLE devices ADD COLUMN last_seen_addr TEXT;
ALTER TABLE devices ADD COLUMN last_seen_protocol TEXT;
