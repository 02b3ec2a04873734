-- BEFORE INSERT on audit_events: what the database decides about a new event, whoever inserts it
-- (migrations/0020_audit_chain_seal_order.sql, point 4).
--
-- - id from the sequence and occurred_at from the database server's clock at the insert
--   (clock_timestamp(): not the transaction's start, which a long transaction could hold in the
--   past), whatever the inserter gave; the event starts unsealed (seq, prev_hash, hash NULL).
-- - Refused, with a check_violation naming the field, so that an event that could never be
--   sealed, or that agentgate never writes, is never stored: details that are not a JSON object,
--   are nested deeper than 32 levels below it or are longer than 64 MiB as text (the canonical
--   encoding in SQL recurses once per level and is at most three times that text, so it always
--   fits PostgreSQL's limits, and the C verifier's 1000-level limit is far away); an actor other
--   than `agentgate`, `user:<id>`, `agent:<id>`, `forum:<name>`, `cli:<name>` or longer than
--   200 characters; an action not of the form `word.word` (lower-case letters and `_`, at most
--   64 characters); a forum that is not a forum name (`[a-z0-9_-]{1,32}`, as in the config).
--
-- SECURITY DEFINER so that inserting roles need no privilege on the id sequence.
CREATE OR REPLACE FUNCTION audit_events_assign_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF jsonb_typeof(NEW.details) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'audit event refused: details must be a JSON object'
            USING ERRCODE = 'check_violation';
    END IF;
    IF jsonb_path_exists(NEW.details, 'strict $.**{33}') THEN
        RAISE EXCEPTION 'audit event refused: details nested deeper than 32 levels'
            USING ERRCODE = 'check_violation';
    END IF;
    IF octet_length(NEW.details::text) > 67108864 THEN
        RAISE EXCEPTION 'audit event refused: details longer than 64 MiB'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.actor IS NULL OR char_length(NEW.actor) > 200
       OR NEW.actor !~ '^(agentgate|(user|agent|forum|cli):.+)$' THEN
        RAISE EXCEPTION 'audit event refused: actor must be agentgate, user:ID, agent:ID, forum:NAME or cli:NAME (at most 200 characters)'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.action IS NULL OR char_length(NEW.action) > 64
       OR NEW.action !~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$' THEN
        RAISE EXCEPTION 'audit event refused: action must look like draft.approve (at most 64 characters)'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.forum !~ '^[a-z0-9_-]{1,32}$' THEN
        RAISE EXCEPTION 'audit event refused: forum must be a forum name or NULL'
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.id := nextval('audit_events_id_seq_v2');
    NEW.occurred_at := clock_timestamp();
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END $$;
