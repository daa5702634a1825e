-- The firmware version the device's User-Agent last reported (for firmware rollouts). Not
-- configuration: writing it moves no revision.
ALTER TABLE devices ADD COLUMN firmware_version TEXT;
