-- The operator's activation queue reads the pending users of every tenant in one statement.
CREATE INDEX users_pending ON users (tenant_id, last_name, first_name) WHERE state = 'pending';
