-- The hardening of issue 10. Kept in step with ../sqlite/0010_hardening.sql.

-- Where a site's first-contact windows may be used from (comma-separated CIDRs; empty: anywhere).
ALTER TABLE sites ADD COLUMN first_contact_networks TEXT NOT NULL DEFAULT '';

-- API tokens are found by a random selector, not by their sequential id, so a guesser cannot
-- make the server check a secret against a token that exists. Tokens made before this have none
-- and keep working by id.
ALTER TABLE api_tokens ADD COLUMN selector TEXT;
CREATE UNIQUE INDEX api_tokens_selector ON api_tokens (selector);

-- MACs the platform operator has set aside for a tenant ("devices bought from us are already
-- registered"): no other tenant can register them.
CREATE TABLE device_reservations (
    mac TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- Facts about this installation every node must agree on, e.g. the fingerprint of the local CA
-- that phones trust (a lost certificate folder must not silently become a new CA).
CREATE TABLE server_facts (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
