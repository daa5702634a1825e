-- Device trust: per-device HTTP credentials (with the previous password kept during a rotation
-- overlap), the first-contact window, and per-site allowed networks and window length.
-- Kept in step with ../postgres/0003_device_trust.sql.
ALTER TABLE devices ADD COLUMN http_password TEXT;
ALTER TABLE devices ADD COLUMN http_password_prev TEXT;
ALTER TABLE devices ADD COLUMN http_prev_until INTEGER;
ALTER TABLE devices ADD COLUMN first_contact_until INTEGER;
ALTER TABLE sites ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN first_contact_hours INTEGER NOT NULL DEFAULT 24;
