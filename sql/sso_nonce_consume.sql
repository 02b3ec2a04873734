-- Consumes a sign-in nonce: true exactly once, within its lifetime.
CREATE OR REPLACE FUNCTION sso_nonce_consume(p_nonce_hash bytea, OUT forum text, OUT return_to text)
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sso_nonces n WHERE n.nonce_hash = p_nonce_hash AND n.expires_at > now()
        RETURNING n.forum, n.return_to INTO forum, return_to;
END $$;
