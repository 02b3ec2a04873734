-- Full text over a revision's title and body with the 'simple' configuration: no stemming and
-- no stop words, so a word of any language is found as written. Capped at the first 100,000
-- characters so a tsvector stays far below its 1 MB limit whatever max_body_bytes allows;
-- words longer than 2047 characters are skipped by PostgreSQL.
CREATE OR REPLACE FUNCTION history_tsvector(p_title text, p_body text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_tsvector('simple'::regconfig, left(coalesce(p_title, '') || ' ' || p_body, 100000))
$$;
