-- The only change an event ever accepts is its seal: seq, prev_hash and hash go from NULL to
-- the next link of the chain (seq = head + 1, prev_hash = the head's hash or 32 zero bytes,
-- hash = sha256(prev_hash || event bytes)), with every other column unchanged. The UPDATE may
-- leave hash NULL: the trigger then stores the hash it computed itself (so the bytes are
-- computed once per event, not once by the sealer and again here); a hash given must be
-- exactly that one. Every other UPDATE, every DELETE and TRUNCATE are refused, whoever
-- connects. With the UNIQUE seq, this is what keeps the chain one line whatever the
-- interleaving of sealers (migrations/0020_audit_chain_seal_order.sql, points 1 and 2): a link
-- goes only after the head this trigger sees, and two links can never share a seq.
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    v_head_seq bigint;
    v_head_hash bytea;
    v_hash bytea;
BEGIN
    IF TG_OP = 'UPDATE' AND TG_LEVEL = 'ROW' THEN
        IF OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL
           AND (to_jsonb(OLD) - '{seq,prev_hash,hash}'::text[])::text
               = (to_jsonb(NEW) - '{seq,prev_hash,hash}'::text[])::text THEN
            SELECT e.seq, e.hash INTO v_head_seq, v_head_hash FROM audit_events e
                WHERE e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                v_head_seq := 0;
                v_head_hash := decode(repeat('00', 32), 'hex');
            END IF;
            IF NEW.seq = v_head_seq + 1 AND NEW.prev_hash = v_head_hash THEN
                v_hash := sha256(NEW.prev_hash || audit_event_bytes(NEW.seq, NEW.id,
                    NEW.occurred_at, NEW.actor, NEW.action, NEW.forum, NEW.draft_id,
                    NEW.details));
                IF NEW.hash IS NULL OR NEW.hash = v_hash THEN
                    NEW.hash := v_hash;
                    RETURN NEW;
                END IF;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
