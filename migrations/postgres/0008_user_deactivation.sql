-- What callers of a deactivated user hear: an announcement, and a number they are transferred
-- to, announced or on a key press.
ALTER TABLE users ADD COLUMN deactivation_announcement TEXT;
ALTER TABLE users ADD COLUMN deactivation_transfer TEXT;
ALTER TABLE users ADD COLUMN deactivation_mode TEXT;
