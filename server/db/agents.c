/* SQL for agents and the kill switch; see agents.h. */
#include "db/agents.h"

#include <stdlib.h>
#include <string.h>

DB_STATEMENT(killswitch_set_statement, "SELECT killswitch_set($1::boolean, $2, $3, $4)", 4, false);
DB_STATEMENT(agent_set_paused_statement,
             "SELECT agent_set_paused($1, $2, $3::boolean, $4, $5, $6, $7::boolean)", 7, false);

enum db_status agents_killswitch_set(struct db_connection *db, bool engaged, const char *reason,
                                     const char *actor, const char *actor_name, bool *was_engaged)
{
    const char *params[4] = {engaged ? "true" : "false", reason, actor, actor_name};
    enum db_status status;
    PGresult *rows = db_execute(db, &killswitch_set_statement, params, &status);

    if (status != DB_OK)
        return status;
    *was_engaged = strcmp(PQgetvalue(rows, 0, 0), "t") == 0;
    PQclear(rows);
    return DB_OK;
}

enum db_status agents_set_paused(struct db_connection *db, const char *forum, const char *agent_id,
                                 bool paused, const char *reason, const char *actor,
                                 const char *actor_name, bool revoke_pending, int *revoked)
{
    const char *params[7] = {forum, agent_id,   paused ? "true" : "false",        reason,
                             actor, actor_name, revoke_pending ? "true" : "false"};
    enum db_status status;
    PGresult *rows = db_execute(db, &agent_set_paused_statement, params, &status);

    if (status != DB_OK)
        return status;
    *revoked = atoi(PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return DB_OK;
}
