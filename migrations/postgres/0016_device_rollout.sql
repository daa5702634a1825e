-- Rollout status: the last fetch in which a device proved itself (credentials or certificate),
-- and the last request of a registered device that was refused (wrong credentials, a MAC
-- mismatch, no way in). Not configuration: writing these moves no revision. Kept in step with
-- ../sqlite/0016_device_rollout.sql.
ALTER TABLE devices ADD COLUMN proven_at BIGINT;
ALTER TABLE devices ADD COLUMN failed_at BIGINT;
ALTER TABLE devices ADD COLUMN failure TEXT;
ALTER TABLE devices ADD COLUMN failed_addr TEXT;
