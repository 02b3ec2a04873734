/* SQL for moderators; see moderation.h. */
#include "db/moderation.h"

#include <stdlib.h>
#include <string.h>

#define SQL_TIME(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* clang-format off */
DB_STATEMENT(moderation_agents_statement,
    "SELECT coalesce(json_agg(json_build_object('agent_id', a.agent_id, 'name', a.name,"
    "  'paused', a.paused, 'pause_reason', a.pause_reason, 'paused_by', a.paused_by,"
    "  'paused_by_name', a.paused_by_name, 'paused_at', " SQL_TIME("a.paused_at") ","
    "  'pending', c.pending, 'approved', c.approved, 'released', c.released,"
    "  'rejected', c.rejected, 'other', c.other, 'total', c.total,"
    "  'last_post_at', " SQL_TIME("c.last_post_at") ")"
    "  ORDER BY c.last_post_at DESC NULLS LAST, a.agent_id), '[]')::text "
    "FROM agents a CROSS JOIN LATERAL (SELECT"
    "  count(*) FILTER (WHERE d.state = 'pending') AS pending,"
    "  count(*) FILTER (WHERE d.state = 'approved') AS approved,"
    "  count(*) FILTER (WHERE d.state = 'released') AS released,"
    "  count(*) FILTER (WHERE d.state = 'rejected') AS rejected,"
    "  count(*) FILTER (WHERE d.state IN ('expired', 'revoked', 'release_failed')) AS other,"
    "  count(*) AS total, max(d.created_at) AS last_post_at"
    "  FROM drafts d WHERE d.forum = a.forum AND d.agent_id = a.agent_id) c "
    "WHERE a.forum = $1",
    1, true);
DB_STATEMENT(moderation_killswitch_statement,
    "SELECT json_build_object('engaged', engaged, 'reason', reason, 'changed_by', changed_by,"
    "  'changed_by_name', changed_by_name, 'changed_at', " SQL_TIME("changed_at") ")::text "
    "FROM killswitch",
    0, true);
/* clang-format on */
DB_STATEMENT(moderation_bulk_statement, "SELECT moderation_bulk($1, $2::uuid[], $3, $4, $5, $6)", 6,
             false);

/* The statement's one text value; a missing one is a failure. */
static enum db_status json_query(struct db_connection *db, const struct db_statement *statement,
                                 const char *const *params, char **json)
{
    enum db_status status = db_query_text(db, statement, params, json);
    return status == DB_OK && !*json ? DB_FAILED : status;
}

enum db_status moderation_agents(struct db_connection *db, const char *forum, char **json)
{
    const char *params[1] = {forum};
    return json_query(db, &moderation_agents_statement, params, json);
}

enum db_status moderation_killswitch(struct db_connection *db, char **json)
{
    return json_query(db, &moderation_killswitch_statement, NULL, json);
}

enum db_status moderation_bulk(struct db_connection *db, const char *forum, const char *ids,
                               const char *action, const char *reason, const char *actor_id,
                               const char *actor_name, int *changed)
{
    const char *params[6] = {forum, ids, action, reason, actor_id, actor_name};
    enum db_status status;
    PGresult *rows = db_execute(db, &moderation_bulk_statement, params, &status);

    *changed = 0;
    if (status != DB_OK)
        return status;
    *changed = atoi(PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return DB_OK;
}
