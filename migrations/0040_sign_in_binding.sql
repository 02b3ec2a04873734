-- Sign-in hardening (CONTRACT §6):
-- - a sign-in nonce is bound to the browser that asked for it: the SHA-256 of a short-lived
--   pre-login cookie is stored with the nonce and must come back with the forum's answer
--   (nullable: a nonce issued by an older agentgate during an upgrade matches no browser);
-- - /auth/login is rate limited per client address by a token bucket per address;
-- - expired nonces, expired or idle sessions and full buckets are purged a bounded number at a
--   time whenever a new row is written; the indexes let each purge read only what it deletes.
-- sso_nonce_consume gains the browser's hash and says whether it matched (sql/).

ALTER TABLE sso_nonces ADD COLUMN browser_hash bytea;
CREATE INDEX sso_nonces_expiry ON sso_nonces (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- One bucket per client address (an IPv6 client by its /64): `tokens` left at `refilled_at`.
-- A bucket that has been full again for a while carries no information and is deleted.
CREATE TABLE sso_login_buckets (
    address text PRIMARY KEY,
    tokens double precision NOT NULL,
    refilled_at timestamptz NOT NULL
);
CREATE INDEX sso_login_buckets_refilled ON sso_login_buckets (refilled_at);

DROP FUNCTION sso_nonce_consume(bytea);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON sso_login_buckets TO agentgate_app;
    END IF;
END $$;
