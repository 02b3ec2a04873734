-- Allowed state changes (CONTRACT §1). Everything else is refused by the database itself.
CREATE OR REPLACE FUNCTION draft_state_transition_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = NEW.state THEN
        RETURN NEW;
    END IF;
    IF (OLD.state, NEW.state) IN (('pending', 'approved'), ('pending', 'rejected'),
            ('pending', 'expired'), ('pending', 'revoked'), ('approved', 'released'),
            ('approved', 'release_failed'), ('approved', 'revoked'),
            ('release_failed', 'approved'), ('release_failed', 'revoked')) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'draft % cannot go from % to %', OLD.id, OLD.state, NEW.state
        USING ERRCODE = 'check_violation';
END $$;
