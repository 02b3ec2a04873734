-- The event bytes of one event (see the top of this file).
CREATE OR REPLACE FUNCTION audit_event_bytes(p_seq bigint, p_id bigint, p_occurred_at timestamptz,
    p_actor text, p_action text, p_forum text, p_draft_id uuid, p_details jsonb)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT convert_to('agentgate-audit-v1' || E'\n' || p_seq || E'\n' || p_id || E'\n'
        || (extract(epoch FROM p_occurred_at) * 1000000)::bigint || E'\n'
        || audit_canonical_field(p_actor) || E'\n' || audit_canonical_field(p_action) || E'\n'
        || audit_canonical_field(p_forum) || E'\n' || audit_canonical_field(p_draft_id::text)
        || E'\n' || audit_canonical_json(p_details), 'UTF8')
$$;
