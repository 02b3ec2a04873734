-- Which column an "id or name" filter value matches in a forum: 'id', 'name', 'both' (say an
-- agent whose name is another agent's id), or 'id' when it matches nothing (the page is then
-- empty at once). Each probe is one index lookup, run in the same snapshot as the query.
CREATE OR REPLACE FUNCTION history_match(p_by_id boolean, p_by_name boolean)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_by_id AND p_by_name THEN 'both' WHEN p_by_name THEN 'name' ELSE 'id' END
$$;
