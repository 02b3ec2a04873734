-- `p_text` with the secret spans that `p_flags` (a draft's flags) marks in `p_field` masked as
-- the draft page masks them: the first 4 bytes kept, every later byte of the span replaced by
-- '*', widened to whole UTF-8 characters. Spans running past the end of `p_text` (an excerpt)
-- are cut there.
CREATE OR REPLACE FUNCTION history_masked(p_text text, p_flags jsonb, p_field text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_bytes bytea;
    v_flag jsonb;
    v_start integer;
    v_end integer;
BEGIN
    IF p_text IS NULL OR jsonb_typeof(p_flags) IS DISTINCT FROM 'array' THEN
        RETURN p_text;
    END IF;
    v_bytes := convert_to(p_text, 'UTF8');
    FOR v_flag IN SELECT f.value FROM jsonb_array_elements(p_flags) f LOOP
        CONTINUE WHEN v_flag->>'field' IS DISTINCT FROM p_field
            OR coalesce(v_flag->>'code', '') NOT LIKE 'secret.%'
            OR jsonb_typeof(v_flag->'start') IS DISTINCT FROM 'number'
            OR jsonb_typeof(v_flag->'end') IS DISTINCT FROM 'number'
            OR (v_flag->>'end')::numeric - (v_flag->>'start')::numeric <= 4;
        v_start := greatest(0, least((v_flag->>'start')::numeric + 4, length(v_bytes)))::integer;
        v_end := greatest(0, least((v_flag->>'end')::numeric, length(v_bytes)))::integer;
        WHILE v_start > 0 AND v_start < length(v_bytes)
                AND get_byte(v_bytes, v_start) BETWEEN 128 AND 191 LOOP
            v_start := v_start - 1;
        END LOOP;
        WHILE v_end < length(v_bytes) AND get_byte(v_bytes, v_end) BETWEEN 128 AND 191 LOOP
            v_end := v_end + 1;
        END LOOP;
        FOR v_i IN v_start .. v_end - 1 LOOP
            v_bytes := set_byte(v_bytes, v_i, 42);
        END LOOP;
    END LOOP;
    RETURN convert_from(v_bytes, 'UTF8');
END $$;
