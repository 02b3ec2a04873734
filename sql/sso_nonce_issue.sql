-- Issues a sign-in nonce bound to one browser, if the client's address may start a sign-in now.
-- Each address has a bucket of p_capacity tokens, refilled evenly over p_window; a sign-in takes
-- one (p_capacity 0: no limit). Returns 0 when the nonce was stored, else the whole seconds until a token is back (and
-- stores nothing). A stored nonce also purges up to 100 expired nonces and 100 buckets that are
-- full again, so neither table grows with abandoned sign-ins; SKIP LOCKED keeps concurrent
-- purges from waiting on each other.
CREATE OR REPLACE FUNCTION sso_nonce_issue(p_nonce_hash bytea, p_browser_hash bytea,
    p_forum text, p_return_to text, p_lifetime interval, p_address text, p_capacity integer,
    p_window interval)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_per_second double precision := p_capacity / extract(epoch FROM p_window);
    v_tokens double precision;
BEGIN
    IF p_capacity > 0 THEN
        INSERT INTO sso_login_buckets AS b (address, tokens, refilled_at)
            VALUES (p_address, p_capacity, now())
            ON CONFLICT (address) DO UPDATE SET
                tokens = least(p_capacity::double precision,
                    b.tokens + extract(epoch FROM now() - b.refilled_at) * v_per_second),
                refilled_at = now()
            RETURNING tokens INTO v_tokens;
        IF v_tokens < 1 THEN
            RETURN greatest(1, ceil((1 - v_tokens) / v_per_second))::integer;
        END IF;
        UPDATE sso_login_buckets SET tokens = tokens - 1 WHERE address = p_address;
    END IF;

    DELETE FROM sso_nonces WHERE nonce_hash IN (
        SELECT n.nonce_hash FROM sso_nonces n WHERE n.expires_at <= now()
            LIMIT 100 FOR UPDATE SKIP LOCKED);
    DELETE FROM sso_login_buckets WHERE address IN (
        SELECT b.address FROM sso_login_buckets b WHERE b.refilled_at < now() - p_window
            LIMIT 100 FOR UPDATE SKIP LOCKED);
    INSERT INTO sso_nonces (nonce_hash, browser_hash, forum, return_to, expires_at)
        VALUES (p_nonce_hash, p_browser_hash, p_forum, p_return_to, now() + p_lifetime);
    RETURN 0;
END $$;
