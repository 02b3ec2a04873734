-- Seals up to p_limit committed, unsealed events: appends them to the chain in id order, each as
-- seq = head + 1 with prev_hash = the head's hash (the row trigger audit_events_refuse_change
-- checks exactly that and computes the hash). Returns how many it sealed: 0 when nothing was
-- pending or another sealer holds the seal lock (it never waits for one, nor for writers).
--
-- The chain's order is the order of sealing, not the id order: an event whose transaction
-- commits late is simply sealed by a later run, after events with larger ids. Why no
-- interleaving of writers and sealers can break the chain (migrations/0020_audit_chain_seal_order
-- .sql has the full argument): the trigger only ever accepts the next link after the head it
-- sees, seq is UNIQUE so two links can never share a place (a concurrent second sealer waits on
-- the unique index, then fails and rolls back whole), sealed rows never change, and every
-- committed unsealed event is visible to the next run. The advisory lock only saves work.
--
-- Run it outside an explicit transaction (autocommit) so that each run sees what committed
-- before it and its seals commit at once; a run that fails rolls back whole.
CREATE OR REPLACE FUNCTION audit_seal(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_seq bigint;
    v_hash bytea;
    v_id bigint;
    v_count integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(lock_key('audit_seal'), 2) THEN
        RETURN 0; -- another sealer is at work
    END IF;
    SELECT e.seq, e.hash INTO v_seq, v_hash FROM audit_events e
        WHERE e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_hash := decode(repeat('00', 32), 'hex');
    END IF;
    FOR v_id IN SELECT e.id FROM audit_events e WHERE e.seq IS NULL
            ORDER BY e.id LIMIT p_limit LOOP
        UPDATE audit_events SET seq = v_seq + 1, prev_hash = v_hash
            WHERE id = v_id AND seq IS NULL
            RETURNING seq, hash INTO v_seq, v_hash;
        IF NOT FOUND THEN
            RETURN v_count; -- sealed meanwhile by a sealer that did not take the lock
        END IF;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
REVOKE ALL ON FUNCTION audit_seal(integer) FROM PUBLIC;
