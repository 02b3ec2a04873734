-- Tamper-evident audit trail (CONTRACT §9): every audit event is SEALED into one hash chain.
--
-- Writers never wait for each other. An INSERT only takes a shared advisory lock and an id;
-- the event starts unsealed (seq, prev_hash and hash NULL). A sealer, audit_seal(), later gives
-- unsealed events, in id order, the next sequence number, the previous event's hash and their
-- own hash. Only one sealer runs at a time (a try-lock); every `serve` process runs one in the
-- background, and `agentgate audit verify` / `audit checkpoint` run it before they read.
--
-- Why the order is safe without serialising writers: the BEFORE INSERT trigger takes the
-- shared lock AUDIT_WRITE = (1095188821, 1) *before* it draws the id. The sealer reads the id
-- sequence's last value v_last, then acquires and at once releases AUDIT_WRITE exclusively,
-- which waits until every transaction that held it shared has ended. Every id <= v_last was
-- drawn by such a transaction, so afterwards each of those events is either committed
-- (visible) or gone forever, and no event with an id <= v_last can appear later. The sealer
-- seals only ids <= v_last, in id order: seq order is id order, and the chain is one line
-- however many `serve` processes write at once.
--
-- Canonical encoding (version 1), also implemented independently in C (server/audit.c), which
-- `agentgate audit verify` uses without trusting any function of this file:
--   event bytes = "agentgate-audit-v1" LF seq LF id LF micros LF F(actor) LF F(action) LF
--                 F(forum) LF F(draft_id) LF J(details)
--   seq, id      decimal, no sign, no leading zeros
--   micros       occurred_at as integer microseconds since 1970-01-01 00:00:00 UTC, decimal
--                (exact: extract(epoch ...) is numeric in PostgreSQL 14+), "-" when negative
--   F(text)      "<byte length>:<UTF-8 bytes>", or "~" for NULL; draft_id as lower-case
--                canonical UUID text (36 bytes)
--   J(json)      canonical JSON: no whitespace; object keys sorted by their UTF-8 bytes
--                (COLLATE "C"), each key once; array elements in order; strings escape only
--                '"' as \" and '\' as \\ and U+0000..U+001F as \u00xx (lower-case hex), all
--                else raw UTF-8; numbers as PostgreSQL prints the jsonb number (numeric
--                text, e.g. 1.50 stays 1.50, 1e3 becomes 1000); true, false, null.
--   hash         sha256(prev_hash || event bytes); the first event's prev_hash is 32 zero bytes.
--
-- Append-only: the row trigger refuses every UPDATE except sealing (seq, prev_hash, hash from
-- NULL to the one correct next link, nothing else changed) and every DELETE; the statement
-- trigger refuses TRUNCATE. The serving role keeps SELECT and INSERT only: it seals through
-- audit_seal(), SECURITY DEFINER, and never holds UPDATE.

DO $$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the audit chain needs a UTF8 database (this one is %)',
            current_setting('server_encoding');
    END IF;
END $$;

-- Ids come from a sequence drawn by the trigger below, under the shared write lock, instead
-- of an identity column (whose value is drawn before any trigger could take a lock).
ALTER TABLE audit_events ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE audit_events_id_seq_v2 AS bigint OWNED BY audit_events.id;
SELECT setval('audit_events_id_seq_v2', coalesce(max(id), 0) + 1, false) FROM audit_events;

ALTER TABLE audit_events
    ADD COLUMN seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea,
    ADD CONSTRAINT audit_events_seq_once UNIQUE (seq),
    ADD CONSTRAINT audit_events_sealed_whole CHECK (
        (seq IS NULL AND prev_hash IS NULL AND hash IS NULL)
        OR (seq >= 1 AND octet_length(prev_hash) = 32 AND octet_length(hash) = 32));
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE seq IS NULL;

-- Gives a new event its id under the shared write lock, and makes it unsealed whatever the
-- inserter said. SECURITY DEFINER so that inserting roles need no privilege on the sequence
-- (a role holding USAGE could draw ids, harmless but needless; this way it has none).
CREATE FUNCTION audit_events_assign_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1095188821, 1);
    NEW.id := nextval('audit_events_id_seq_v2');
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_assign_id BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_assign_id();

-- F(text): a length-prefixed text field, "~" for NULL.
CREATE FUNCTION audit_canonical_field(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_value IS NULL THEN '~' ELSE octet_length(p_value) || ':' || p_value END
$$;

-- A JSON string in canonical form (quotes included).
CREATE FUNCTION audit_canonical_string(p_value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    v_text text := replace(replace(p_value, '\', '\\'), '"', '\"');
BEGIN
    IF v_text ~ '[\x01-\x1f]' THEN
        FOR i IN 1..31 LOOP
            v_text := replace(v_text, chr(i), '\u00' || lpad(to_hex(i), 2, '0'));
        END LOOP;
    END IF;
    RETURN '"' || v_text || '"';
END $$;

-- J(json): canonical JSON text of a jsonb value.
CREATE FUNCTION audit_canonical_json(p_value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    CASE jsonb_typeof(p_value)
    WHEN 'object' THEN
        RETURN '{' || coalesce((SELECT string_agg(audit_canonical_string(e.key) || ':'
                || audit_canonical_json(e.value), ',' ORDER BY e.key COLLATE "C")
            FROM jsonb_each(p_value) e), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || coalesce((SELECT string_agg(audit_canonical_json(e.value), ','
                ORDER BY e.position)
            FROM jsonb_array_elements(p_value) WITH ORDINALITY e(value, position)), '') || ']';
    WHEN 'string' THEN
        RETURN audit_canonical_string(p_value #>> '{}');
    WHEN 'null' THEN
        RETURN 'null';
    ELSE
        RETURN p_value #>> '{}'; -- numbers as numeric text; true, false
    END CASE;
END $$;

-- The event bytes of one event (see the top of this file).
CREATE FUNCTION audit_event_bytes(p_seq bigint, p_id bigint, p_occurred_at timestamptz,
    p_actor text, p_action text, p_forum text, p_draft_id uuid, p_details jsonb)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT convert_to('agentgate-audit-v1' || E'\n' || p_seq || E'\n' || p_id || E'\n'
        || (extract(epoch FROM p_occurred_at) * 1000000)::bigint || E'\n'
        || audit_canonical_field(p_actor) || E'\n' || audit_canonical_field(p_action) || E'\n'
        || audit_canonical_field(p_forum) || E'\n' || audit_canonical_field(p_draft_id::text)
        || E'\n' || audit_canonical_json(p_details), 'UTF8')
$$;

-- The only change an event ever accepts is its seal: seq, prev_hash and hash go from NULL to
-- the next link of the chain (seq = head + 1, prev_hash = the head's hash or 32 zero bytes,
-- hash = sha256(prev_hash || event bytes)), with every other column unchanged. The UPDATE may
-- leave hash NULL: the trigger then stores the hash it computed itself (so the bytes are
-- computed once per event, not once by the sealer and again here); a hash given must be
-- exactly that one. Every other UPDATE, every DELETE and TRUNCATE are refused, whoever
-- connects.
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

-- Seals up to p_limit unsealed events, in id order, as the next links of the chain (each
-- event's hash is computed by the trigger above as it accepts the seal). Returns
-- how many it sealed; 0 when there was nothing to seal or another sealer is at work (it never
-- waits for one). Run it outside an explicit transaction (READ COMMITTED, autocommit): it
-- must see what committed while it waited for writers.
CREATE FUNCTION audit_seal(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_last bigint;
    v_seq bigint;
    v_hash bytea;
    v_id bigint;
    v_count integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(1095188821, 2) THEN
        RETURN 0;
    END IF;
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END INTO v_last
        FROM audit_events_id_seq_v2 s;
    -- Nothing committed to seal: do not make writers wait for nothing.
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq IS NULL AND id <= v_last) THEN
        RETURN 0;
    END IF;
    -- Wait until every writer that may hold an id <= v_last has committed or rolled back.
    -- Session-level, so it can be released at once rather than at the end of this transaction.
    PERFORM pg_advisory_lock(1095188821, 1);
    PERFORM pg_advisory_unlock(1095188821, 1);

    SELECT e.seq, e.hash INTO v_seq, v_hash FROM audit_events e
        WHERE e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_hash := decode(repeat('00', 32), 'hex');
    END IF;
    FOR v_id IN SELECT e.id FROM audit_events e WHERE e.seq IS NULL AND e.id <= v_last
            ORDER BY e.id LIMIT p_limit LOOP
        v_seq := v_seq + 1;
        UPDATE audit_events SET seq = v_seq, prev_hash = v_hash WHERE id = v_id
            RETURNING hash INTO v_hash;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
REVOKE ALL ON FUNCTION audit_seal(integer) FROM PUBLIC;

-- Least privilege for the serving role (see README.md): it may seal through audit_seal() and
-- compute the encoding, and keeps SELECT, INSERT on audit_events (granted in 0001) and nothing
-- more: no UPDATE, no privilege on the id sequence.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN
        GRANT EXECUTE ON FUNCTION audit_seal(integer), audit_event_bytes, audit_canonical_field,
            audit_canonical_string, audit_canonical_json TO agentgate_app;
    END IF;
END $$;
