-- What the serving role may call: EXECUTE on the functions the service uses, granted when the
-- recommended least-privilege role exists (README "Database and roles"). Trigger functions are
-- not granted: they run only as triggers. SECURITY DEFINER functions that write what the serving
-- role may not write directly (audit_seal) have EXECUTE revoked from PUBLIC in their own file.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT EXECUTE ON FUNCTION
            lock_key, intake_rate_oldest, intake_hold, intake_refuse, intake_refusals_record, killswitch_set,
            agent_set_paused,
            session_open, session_touch, session_close, sso_nonce_issue, sso_nonce_consume,
            draft_decide, draft_decide_once, draft_decision_remember, draft_coapprove, draft_edit,
            draft_delegate, draft_revoke,
            outbox_add, outbox_claim, outbox_finish, delivery_blocked_reason, delivery_recheck,
            delivery_retry,
            drafts_expire_due, drafts_remind_expiring,
            audit_seal, audit_event_bytes, audit_canonical_field, audit_canonical_json,
            audit_canonical_string, audit_page,
            history_tsvector, draft_search_update, history_match, history_modes, history_masked,
            history_where, history_rows, history_matches, history_pick, history_search, history_page,
            history_open,
            moderation_bulk
            TO agentgate_app;
    END IF;
END $$;
