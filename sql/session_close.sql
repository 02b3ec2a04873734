-- session_close: see the comment below; first defined in 0002_review.sql.
CREATE OR REPLACE FUNCTION session_close(p_token_hash bytea)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_session sessions%ROWTYPE;
BEGIN
    DELETE FROM sessions WHERE token_hash = p_token_hash RETURNING * INTO v_session;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO audit_events (actor, action, forum, details)
        VALUES ('user:' || v_session.user_id, 'auth.sign_out', v_session.forum,
            jsonb_build_object('user_id', v_session.user_id, 'username', v_session.username));
    RETURN true;
END $$;
