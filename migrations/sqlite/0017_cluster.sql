-- Several nodes on one store: what a second node must verify lives here, not in a process.
-- Not configuration: writing these moves no revision. Kept in step with
-- ../postgres/0017_cluster.sql.

-- The Digest nonce keys: a node signs new nonces with the newest key and accepts a nonce signed
-- with any key still listed, so a nonce made before a rotation stays valid until it expires.
-- Rotating is inserting id = newest + 1 (the primary key picks one winner among racing nodes).
CREATE TABLE digest_keys (
    id BIGINT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Digest nonce counts spent anywhere in the cluster: an answer that verified is inserted here
-- before it is accepted, and a second insert of the same (nonce, nc) is a replay. Rows go once
-- their nonce has expired.
CREATE TABLE digest_spent (
    nonce TEXT NOT NULL,
    nc BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (nonce, nc)
);
CREATE INDEX digest_spent_expiry ON digest_spent (expires_at);
