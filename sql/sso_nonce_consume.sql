-- Consumes a sign-in nonce: found once, within its lifetime. same_browser tells whether the
-- browser presenting it holds the pre-login cookie the nonce was issued to (p_browser_hash is
-- that cookie's SHA-256, NULL without one). A nonce presented by another browser is consumed
-- all the same: a callback URL works at most once, wherever it is opened.
CREATE OR REPLACE FUNCTION sso_nonce_consume(p_nonce_hash bytea, p_browser_hash bytea,
    OUT forum text, OUT return_to text, OUT same_browser boolean)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sso_nonces n WHERE n.nonce_hash = p_nonce_hash AND n.expires_at > now()
        RETURNING n.forum, n.return_to, coalesce(n.browser_hash = p_browser_hash, false)
        INTO forum, return_to, same_browser;
END $$;
