-- audit_seal: see the comment below; first defined in 0009_audit_seal_without_lock.sql.
CREATE OR REPLACE FUNCTION audit_seal(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_last bigint;
    v_snapshot pg_snapshot;
    v_xid xid8;
    v_deadline timestamptz := clock_timestamp() + interval '5 seconds';
    v_seq bigint;
    v_hash bytea;
    v_id bigint;
    v_count integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(1095188821, 2) THEN
        RETURN 0; -- another sealer is at work
    END IF;
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END INTO v_last
        FROM audit_events_id_seq_v2 s;
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq IS NULL AND id <= v_last) THEN
        RETURN 0;
    END IF;
    -- Every writer that drew an id <= v_last had its xid before this snapshot. The snapshot
    -- lists the transactions of the whole cluster; only those of this database can have
    -- written here, so a long transaction in another database never holds sealing up.
    v_snapshot := pg_current_snapshot();
    PERFORM pg_stat_clear_snapshot(); -- pg_stat_activity as of now, after the snapshot
    FOR v_xid IN SELECT x FROM pg_snapshot_xip(v_snapshot) AS x
            WHERE EXISTS (SELECT 1 FROM pg_stat_activity a
                          WHERE a.datname = current_database() AND a.backend_xid = xid(x))
               OR EXISTS (SELECT 1 FROM pg_prepared_xacts p
                          WHERE p.database = current_database() AND p.transaction = xid(x)) LOOP
        WHILE pg_xact_status(v_xid) = 'in progress' LOOP
            IF clock_timestamp() > v_deadline THEN
                RETURN 0; -- a long transaction: seal later
            END IF;
            PERFORM pg_sleep(0.001);
        END LOOP;
    END LOOP;

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
