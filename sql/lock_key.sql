-- The advisory lock classes agentgate's functions take, by name, so that no file carries a bare
-- number. Each is the first key of a two-key advisory lock: pg_advisory_xact_lock(lock_key(name),
-- second key). An unknown name is an error, never NULL (a NULL key would lock nothing).
--   kill_switch (second key 0): intake and the delivery re-check take it shared, killswitch_set
--     exclusive, so a post that passed the check commits before the switch is seen as on;
--   agent (second key hashtext(forum || '/' || agent id)): the same, for one agent's pause;
--   audit_seal (second key 2): one sealer at a time.
-- `migrate` takes its own lock (1095191881, server/db/migrate.c) before this function exists.
CREATE OR REPLACE FUNCTION lock_key(p_name text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    CASE p_name
        WHEN 'kill_switch' THEN RETURN 1095189319;
        WHEN 'agent' THEN RETURN 1095189320;
        WHEN 'audit_seal' THEN RETURN 1095188821;
        ELSE RAISE EXCEPTION 'lock_key: unknown lock %', p_name;
    END CASE;
END
$$;
