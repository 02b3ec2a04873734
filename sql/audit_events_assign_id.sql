-- Sealing without the write lock. With 0004 every writer took a shared advisory lock and the
-- sealer briefly took it exclusively to wait for writers in flight. Under load that exclusive
-- request queued ahead of new writers' shared requests, and a writer holding the lock while
-- waiting for a row lock of one queued behind it formed a wait cycle that PostgreSQL only
-- breaks after deadlock_timeout (1 s): p99 intake latency above a second.
--
-- Now a writer takes no lock: it makes sure its transaction has an xid BEFORE it draws an id.
-- The sealer reads the last id drawn, then takes a snapshot: every transaction that drew an id
-- up to that one had its xid before the snapshot, so it is either finished or listed as in
-- progress in the snapshot. The sealer waits (polling, at most 5 s, then tries again later)
-- until each transaction listed as in progress has finished, and only then seals ids up to the
-- one it read. Writers never wait for the sealer or for each other.
CREATE OR REPLACE FUNCTION audit_events_assign_id() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.pg_current_xact_id(); -- assigns this transaction's xid if it has none
    NEW.id := nextval('audit_events_id_seq_v2');
    NEW.seq := NULL;
    NEW.prev_hash := NULL;
    NEW.hash := NULL;
    RETURN NEW;
END $$;
