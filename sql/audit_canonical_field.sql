-- F(text): a length-prefixed text field, "~" for NULL.
CREATE OR REPLACE FUNCTION audit_canonical_field(p_value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_value IS NULL THEN '~' ELSE octet_length(p_value) || ':' || p_value END
$$;
