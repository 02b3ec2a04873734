-- The audit chain's order is the order in which the sealer seals, no longer the id order.
--
-- Why: 0004 and 0009 sealed in id order and had to prove that no event with a smaller id could
-- still commit after a larger one was sealed. That proof rested on waiting for the right
-- transactions, and 0009's wait missed some: a snapshot lists as in progress only the
-- transactions whose xid is below its xmax (latest completed xid + 1), so a writer that had
-- drawn a small id, whose xid was newer than every completed one, was not waited for. Under
-- load (32-96 connections) the next seal skipped its event, and the event sealed later with its
-- smaller id made `audit verify` report "out of order" with nothing tampered with.
--
-- Now the sealer (sql/audit_seal.sql) takes whatever committed events are unsealed when it
-- runs, in id order within the batch, and appends them to the chain: seq = head + 1, prev_hash
-- = the head's hash. Nothing waits for anything. The argument that no interleaving of writers,
-- sealers, crashes and restarts can break the chain:
--
-- 1. Links only ever go to the head. The row trigger audit_events_refuse_change() accepts an
--    UPDATE only when it turns an unsealed event (seq, prev_hash, hash NULL) into
--    seq = H + 1, prev_hash = hash of H, where H is the largest seq it can see, with every
--    other column unchanged and hash = SHA-256(prev_hash || event bytes) computed by itself.
--    A committed seq is never removed or changed (UPDATE of a sealed row, DELETE and TRUNCATE
--    are refused), so the sealed events always form 1..H with no gap.
-- 2. Two links can never share a place. seq is UNIQUE: if two transactions (two sealers, or
--    one that bypassed the seal lock) both try seq H + 1, the unique index makes the second
--    wait for the first and then fail (or, had the first rolled back, succeed alone). An
--    unsealed event is only ever sealed once: the second sealer's UPDATE re-checks
--    `seq IS NULL` and the trigger refuses a row already sealed.
-- 3. Every committed event is sealed eventually. The sealer seals every unsealed event visible
--    to it; an event that commits after the sealer's snapshot is visible to the next run. Runs
--    never wait for writers, so a writer's long transaction delays only its own events. The
--    advisory lock (1095188821, 2) only avoids wasted work; correctness does not depend on it.
--    Within a run the order is by id, so the oldest pending events are sealed first and no
--    event waits behind a stream of newer ones.
-- 4. No event can make sealing fail. The BEFORE INSERT trigger audit_events_assign_id() sets
--    id and occurred_at itself (clock_timestamp(): no inserter chooses the time, and it is
--    always finite) and refuses what the canonical encoding could not take or what is not an
--    event agentgate writes: details must be a JSON object at most 32 levels deep and 64 MiB
--    as text, actor `agentgate`, `user:<id>`, `agent:<id>`, `forum:<name>` or `cli:<name>`
--    (at most 200 characters), action `word.word` (at most 64 characters), forum a forum name
--    or NULL. Rows written before this migration keep what they had; should one still unsealed
--    be beyond those bounds (only an attack on the old schema writes one), this migration
--    refuses to run and names it, rather than leave a sealer that fails forever.
--
-- Nothing depends on timing: not when writers commit, nor how long they take, nor whether
-- PostgreSQL restarts between an insert and its commit (an unfinished transaction is rolled
-- back; its event never existed) or between sealing batches (a batch commits whole or not at
-- all). `agentgate audit verify` walks the chain by seq and checks each link and hash in C; it
-- no longer requires ids to grow along the chain. An event inserted into the history, removed
-- from it, changed or moved still breaks a hash or a link, as before. What cannot be detected
-- is what no chain detects: a superuser bypassing the triggers can append an event at the head
-- with any time, or rewrite everything after a point together with its hashes (a checkpoint
-- kept outside the database catches the latter).
--
-- This migration changes only the column default (the trigger overrides it anyway); the
-- functions themselves are in sql/.

ALTER TABLE audit_events ALTER COLUMN occurred_at SET DEFAULT clock_timestamp();

DO $$
DECLARE
    v_id bigint;
BEGIN
    SELECT e.id INTO v_id FROM audit_events e
        WHERE e.seq IS NULL AND (NOT isfinite(e.occurred_at)
            OR jsonb_path_exists(e.details, 'strict $.**{33}')
            OR octet_length(e.details::text) > 67108864)
        ORDER BY e.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'audit event id % cannot be sealed (infinite time, or details deeper than 32 levels or over 64 MiB); it was written by an attack on the old schema: keep a copy, remove it as the table owner with its triggers disabled, and migrate again', v_id;
    END IF;
END $$;
