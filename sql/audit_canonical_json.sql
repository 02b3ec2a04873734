-- J(json): canonical JSON text of a jsonb value.
CREATE OR REPLACE FUNCTION audit_canonical_json(p_value jsonb) RETURNS text
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
