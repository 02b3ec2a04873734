/* SQL for drafts; see drafts.h. */
#include "db/drafts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STATEMENT(draft_hold_statement,
             "SELECT outcome, response, retry_after FROM intake_hold($1, $2, $3::uuid, $4, $5, $6, "
             "$7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17::integer, "
             "$18::interval, $19::interval)",
             19, true);

DB_STATEMENT(draft_refuse_statement, "SELECT intake_refuse($1, $2, $3, $4, $5)", 5, false);

enum db_status drafts_hold(struct db_connection *db, const struct draft_hold *hold,
                           struct draft_hold_result *result)
{
    char rate_count[16], rate_window[32], ttl[32];
    const struct agentgate_intake *post = hold->post;
    const char *params[19];
    enum db_status status;
    PGresult *rows;
    const char *outcome;

    memset(result, 0, sizeof *result);
    snprintf(rate_count, sizeof rate_count, "%u", hold->rate_count);
    snprintf(rate_window, sizeof rate_window, "%ld seconds", hold->rate_window_seconds);
    snprintf(ttl, sizeof ttl, "%ld seconds", hold->ttl_seconds);
    params[0] = hold->forum;
    params[1] = hold->webhook_id;
    params[2] = hold->draft_id;
    params[3] = post->agent_id;
    params[4] = post->agent_name;
    params[5] = post->invoker_id;
    params[6] = post->invoker_name;
    params[7] = post->topic_id;
    params[8] = post->reply_to_post_id;
    params[9] = post->category;
    params[10] = post->title;
    params[11] = post->body;
    params[12] = post->forum_ref;
    params[13] = hold->context_json;
    params[14] = hold->flags_json;
    params[15] = hold->response;
    params[16] = rate_count;
    params[17] = rate_window;
    params[18] = ttl;

    rows = db_execute(db, &draft_hold_statement, params, &status);
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) != 1) {
        PQclear(rows);
        return DB_FAILED;
    }
    outcome = PQgetvalue(rows, 0, 0);
    if (strcmp(outcome, "held") == 0)
        result->outcome = DRAFT_HELD;
    else if (strcmp(outcome, "duplicate") == 0)
        result->outcome = DRAFT_DUPLICATE;
    else if (strcmp(outcome, "kill_switch_on") == 0)
        result->outcome = DRAFT_REFUSED_KILL_SWITCH;
    else if (strcmp(outcome, "agent_paused") == 0)
        result->outcome = DRAFT_REFUSED_AGENT_PAUSED;
    else if (strcmp(outcome, "rate_limited") == 0)
        result->outcome = DRAFT_REFUSED_RATE_LIMIT;
    else {
        PQclear(rows);
        return DB_FAILED;
    }
    if (!PQgetisnull(rows, 0, 1)) {
        result->response = strdup(PQgetvalue(rows, 0, 1));
        if (!result->response) {
            PQclear(rows);
            return DB_FAILED;
        }
    }
    if (!PQgetisnull(rows, 0, 2))
        result->retry_after_seconds = atoi(PQgetvalue(rows, 0, 2));
    PQclear(rows);
    return DB_OK;
}

enum db_status drafts_audit_refused(struct db_connection *db, const char *forum,
                                    const char *webhook_id, const char *agent_id,
                                    const char *reason, const char *field)
{
    const char *params[5] = {forum, webhook_id, agent_id, reason, field && *field ? field : NULL};
    enum db_status status;
    PGresult *rows = db_execute(db, &draft_refuse_statement, params, &status);
    PQclear(rows);
    return status;
}
