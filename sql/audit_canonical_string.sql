-- A JSON string in canonical form (quotes included).
CREATE OR REPLACE FUNCTION audit_canonical_string(p_value text) RETURNS text
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
