/* SQL for the outbox; see outbox.h. */
#include "db/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/outcome.h"

/* outbox_finish's p_result words, one per delivery_result. */
static const char *const delivery_result_words[DELIVERY_RESULT_COUNT] = {
    [DELIVERY_DELIVERED] = "delivered", [DELIVERY_RETRY] = "retry",
    [DELIVERY_FAILED] = "failed",       [DELIVERY_ABORTED] = "aborted",
    [DELIVERY_SKIPPED] = "skipped",     [DELIVERY_REVOKED] = "revoked",
};

/* delivery_retry's outcome words. */
static const struct db_outcome_word outbox_retry_words[] = {
    {"retried", OUTBOX_RETRIED},
    {"not_failed", OUTBOX_RETRY_NOT_FAILED},
    {"not_found", OUTBOX_RETRY_NOT_FOUND},
};

const char *delivery_result_word(enum delivery_result result)
{
    return (unsigned)result < DELIVERY_RESULT_COUNT ? delivery_result_words[result] : "failed";
}

DB_STATEMENT(outbox_claim_statement,
             "SELECT id, draft_id, forum, event_type, webhook_id, payload->'data'->'agent'->>'id', "
             "payload::text, attempts FROM outbox_claim()",
             0, false);
DB_STATEMENT(outbox_blocked_statement, "SELECT coalesce(delivery_recheck($1::uuid, $2, $3), '')", 3,
             false);
DB_STATEMENT(outbox_finish_statement,
             "SELECT outbox_finish($1::bigint, $2, $3::integer, $4::integer, $5, $6, "
             "now() + make_interval(secs => $7::float8), $8, $9, $10)",
             10, false);
DB_STATEMENT(outbox_next_due_statement,
             "SELECT CASE WHEN min(due_at) IS NULL THEN -1 "
             "ELSE greatest(0, extract(epoch FROM min(due_at) - now())) END FROM outbox",
             0, true);
DB_STATEMENT(outbox_expire_statement, "SELECT drafts_expire_due(100)", 0, false);
DB_STATEMENT(outbox_remind_statement,
             "SELECT drafts_remind_expiring($1, make_interval(secs => $2::float8), 100)", 2, false);
DB_STATEMENT(outbox_retry_statement, "SELECT delivery_retry($1::uuid, $2, $3)", 3, false);

void outbox_event_clear(struct outbox_event *event)
{
    free(event->payload);
    memset(event, 0, sizeof *event);
}

enum db_status outbox_claim(struct db_connection *db, struct outbox_event *event, bool *found)
{
    enum db_status status;
    PGresult *rows = db_execute(db, &outbox_claim_statement, NULL, &status);

    *found = false;
    memset(event, 0, sizeof *event);
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) == 1) {
        event->id = strtoll(PQgetvalue(rows, 0, 0), NULL, 10);
        snprintf(event->draft_id, sizeof event->draft_id, "%s", PQgetvalue(rows, 0, 1));
        snprintf(event->forum, sizeof event->forum, "%s", PQgetvalue(rows, 0, 2));
        snprintf(event->type, sizeof event->type, "%s", PQgetvalue(rows, 0, 3));
        snprintf(event->webhook_id, sizeof event->webhook_id, "%s", PQgetvalue(rows, 0, 4));
        snprintf(event->agent_id, sizeof event->agent_id, "%s", PQgetvalue(rows, 0, 5));
        event->payload = strdup(PQgetvalue(rows, 0, 6));
        event->attempts = atoi(PQgetvalue(rows, 0, 7));
        if (!event->payload)
            status = DB_FAILED;
        else
            *found = true;
    }
    PQclear(rows);
    return status;
}

enum db_status outbox_blocked_reason(struct db_connection *db, const char *draft_id,
                                     const char *forum, const char *agent_id, char *reason,
                                     size_t reason_size)
{
    const char *params[3] = {draft_id, forum, agent_id};
    enum db_status status;
    PGresult *rows = db_execute(db, &outbox_blocked_statement, params, &status);

    reason[0] = '\0';
    if (status != DB_OK)
        return status;
    snprintf(reason, reason_size, "%s", PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return DB_OK;
}

enum db_status outbox_finish(struct db_connection *db, long long id,
                             const struct outbox_outcome *outcome)
{
    char id_text[32], status_text[16], duration[16], retry_in[32];
    const char *params[10];
    enum db_status status;
    PGresult *rows;

    snprintf(id_text, sizeof id_text, "%lld", id);
    snprintf(status_text, sizeof status_text, "%ld", outcome->http_status);
    snprintf(duration, sizeof duration, "%ld", outcome->duration_ms);
    snprintf(retry_in, sizeof retry_in, "%.3f", outcome->retry_in_seconds);
    params[0] = id_text;
    params[1] = delivery_result_word(outcome->result);
    params[2] = outcome->http_status ? status_text : NULL;
    params[3] = duration;
    params[4] = outcome->error && *outcome->error ? outcome->error : NULL;
    params[5] = outcome->worker;
    params[6] = retry_in;
    params[7] = outcome->post_id;
    params[8] = outcome->post_url;
    params[9] = outcome->revoke_reason;
    rows = db_execute(db, &outbox_finish_statement, params, &status);
    PQclear(rows);
    return status;
}

enum db_status outbox_next_due(struct db_connection *db, double *seconds)
{
    enum db_status status;
    PGresult *rows = db_execute(db, &outbox_next_due_statement, NULL, &status);

    *seconds = -1;
    if (status != DB_OK)
        return status;
    *seconds = atof(PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return DB_OK;
}

enum db_status outbox_expire_due(struct db_connection *db, int *expired)
{
    enum db_status status;
    PGresult *rows = db_execute(db, &outbox_expire_statement, NULL, &status);

    *expired = 0;
    if (status != DB_OK)
        return status;
    *expired = atoi(PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return DB_OK;
}

enum db_status outbox_remind_expiring(struct db_connection *db, const char *forum,
                                      long before_seconds, int *reminded)
{
    char before[32];
    const char *params[2] = {forum, before};
    enum db_status status;
    PGresult *rows;

    snprintf(before, sizeof before, "%ld", before_seconds);
    rows = db_execute(db, &outbox_remind_statement, params, &status);
    *reminded = 0;
    if (status != DB_OK)
        return status;
    *reminded = atoi(PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return DB_OK;
}

enum db_status outbox_retry_draft(struct db_connection *db, const char *draft_id, const char *actor,
                                  const char *actor_name, enum outbox_retry_outcome *outcome)
{
    const char *params[3] = {draft_id, actor, actor_name};
    enum db_status status;
    PGresult *rows = db_execute(db, &outbox_retry_statement, params, &status);
    int value;

    if (status != DB_OK)
        return status;
    status = db_outcome_read(outbox_retry_words, DB_OUTCOME_COUNT(outbox_retry_words),
                             "delivery_retry", PQgetvalue(rows, 0, 0), &value);
    if (status == DB_OK)
        *outcome = (enum outbox_retry_outcome)value;
    PQclear(rows);
    return status;
}
