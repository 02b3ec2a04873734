/* SQL for the moderators' history; see history.h. */
#include "db/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The cursor's microseconds become a timestamptz exactly (integer arithmetic, no float). */
DB_STATEMENT(history_page_statement,
             "SELECT history_page($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, "
             "timestamptz 'epoch' + $9::bigint * interval '1 microsecond', $10::uuid, "
             "$11::integer)",
             11, true);

/* clang-format off */
DB_STATEMENT(history_chart_statement,
    "WITH bounds AS (SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '29 days')"
    "    AT TIME ZONE 'UTC' AS since),"
    " days AS (SELECT generate_series(0, 29) AS n),"
    " held AS (SELECT date_trunc('day', d.created_at AT TIME ZONE 'UTC') AS day, count(*) AS n"
    "    FROM drafts d, bounds b WHERE d.forum = $1 AND d.created_at >= b.since GROUP BY 1),"
    " decided AS (SELECT date_trunc('day', d.decided_at AT TIME ZONE 'UTC') AS day,"
    "    count(*) FILTER (WHERE d.state IN ('approved', 'released', 'release_failed')) AS approved,"
    "    count(*) FILTER (WHERE d.state = 'rejected') AS rejected"
    "    FROM drafts d, bounds b WHERE d.forum = $1 AND d.decided_at >= b.since GROUP BY 1),"
    " agents AS (SELECT d.agent_id,"
    "    (array_agg(d.agent_name ORDER BY d.created_at DESC))[1] AS name, count(*) AS decisions,"
    "    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.decided_at - d.created_at))"
    "      AS median_seconds"
    "    FROM drafts d, bounds b WHERE d.forum = $1 AND d.decided_at >= b.since"
    "      AND d.state IN ('approved', 'released', 'release_failed', 'rejected')"
    "    GROUP BY d.agent_id ORDER BY count(*) DESC, d.agent_id LIMIT 10) "
    "SELECT json_build_object("
    "  'as_of', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "  'days', (SELECT json_agg(json_build_object("
    "      'day', to_char(x.day, 'YYYY-MM-DD'), 'held', coalesce(h.n, 0),"
    "      'approved', coalesce(c.approved, 0), 'rejected', coalesce(c.rejected, 0)) ORDER BY x.day)"
    "    FROM (SELECT (b.since AT TIME ZONE 'UTC') + n * interval '1 day' AS day"
    "          FROM days, bounds b) x"
    "    LEFT JOIN held h ON h.day = x.day LEFT JOIN decided c ON c.day = x.day),"
    "  'agents', (SELECT coalesce(json_agg(json_build_object('id', a.agent_id, 'name', a.name,"
    "      'decisions', a.decisions, 'median_seconds', a.median_seconds)"
    "      ORDER BY a.decisions DESC, a.agent_id), '[]') FROM agents a))::text",
    1, true);
/* clang-format on */

DB_STATEMENT(history_audit_export_statement,
             "INSERT INTO audit_events (actor, action, forum, details) "
             "VALUES ('user:' || $1, 'history.export', $2, jsonb_build_object('actor_name', "
             "$3::text, 'format', $4::text, 'filters', $5::jsonb))",
             5, false);

/* Run on the export's own connection (not through db_execute()): the cursor is opened inside
 * the transaction history_export_open() starts. */
DB_STATEMENT(history_open_statement,
             "SELECT history_open('history_export', $1, $2, $3, $4, $5, $6::timestamptz, "
             "$7::timestamptz, $8)",
             8, false);

struct history_export {
    PGconn *conn;
    int requested; /* rows of the FETCH sent ahead and not yet read, or 0 */
};

enum db_status history_page(struct db_connection *db, const struct history_filter *filter,
                            int limit, char **json)
{
    char limit_text[16];
    const char *params[11] = {filter->forum,    filter->state,    filter->agent, filter->invoker,
                              filter->decider,  filter->from,     filter->to,    filter->q,
                              filter->after_us, filter->after_id, limit_text};

    if (!filter->after_us || !filter->after_id)
        params[8] = params[9] = NULL;
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    return db_query_text(db, &history_page_statement, params, json);
}

enum db_status history_chart_data(struct db_connection *db, const char *forum, char **json)
{
    const char *params[1] = {forum};
    return db_query_text(db, &history_chart_statement, params, json);
}

enum db_status history_audit_export(struct db_connection *db, const char *forum,
                                    const char *actor_id, const char *actor_name,
                                    const char *format, const char *filters_json)
{
    const char *params[5] = {actor_id, forum, actor_name, format, filters_json};
    enum db_status status;
    PGresult *rows = db_execute(db, &history_audit_export_statement, params, &status);
    PQclear(rows);
    return status;
}

/* The export's connection prints nothing: notices would land on agentgate's stderr. */
static void notice_ignore(void *argument, const char *message)
{
    (void)argument;
    (void)message;
}

/* DB_UNAVAILABLE when the connection is gone, else DB_FAILED (logged). */
static enum db_status export_failure(PGconn *conn, const char *what)
{
    char error[256];

    if (PQstatus(conn) != CONNECTION_OK)
        return DB_UNAVAILABLE;
    db_error_line(PQerrorMessage(conn), error, sizeof error);
    log_error(NULL, "history export: %s failed: %s", what, error);
    return DB_FAILED;
}

/* Runs a command without parameters or rows; true when it succeeded. */
static bool export_command(PGconn *conn, const char *sql)
{
    PGresult *result = PQexec(conn, sql);
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok;
}

struct history_export *history_export_open(const char *conninfo,
                                           const struct history_filter *filter,
                                           enum db_status *status)
{
    const char *params[8] = {filter->forum,   filter->state, filter->agent, filter->invoker,
                             filter->decider, filter->from,  filter->to,    filter->q};
    struct history_export *export = calloc(1, sizeof *export);
    char error[256];
    PGresult *result;

    *status = DB_FAILED;
    if (!export)
        return NULL;
    export->conn = db_connect(conninfo, error, sizeof error);
    if (!export->conn) {
        log_warn(NULL, "history export: database unreachable: %s", error);
        *status = DB_UNAVAILABLE;
        goto fail;
    }
    PQsetNoticeProcessor(export->conn, notice_ignore, NULL);
    /* One snapshot for the whole file; an export left hanging cannot hold it for ever. JIT
     * would compile for a few hundred milliseconds before the first row of a plan that streams
     * two index ranges. The plan is a merge join of drafts and their titles, both read in page
     * order from their indexes (history_open()), whatever the statistics say (a fresh table has
     * none): a hash join would read a whole side before its first row, a nested loop could
     * scan one side once per row of the other, and a sort would hold every row. */
    if (!export_command(export->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") ||
        !export_command(export->conn, "SET LOCAL idle_in_transaction_session_timeout = '10min'") ||
        !export_command(export->conn, "SET LOCAL jit = off") ||
        !export_command(export->conn, "SET LOCAL enable_hashjoin = off") ||
        !export_command(export->conn, "SET LOCAL enable_nestloop = off") ||
        !export_command(export->conn, "SET LOCAL enable_sort = off")) {
        *status = export_failure(export->conn, "BEGIN");
        goto fail;
    }
    result = PQexecParams(export->conn, history_open_statement.sql,
                          history_open_statement.param_count, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        PQclear(result);
        *status = export_failure(export->conn, "opening the cursor");
        goto fail;
    }
    PQclear(result);
    *status = DB_OK;
    return export;
fail:
    history_export_close(export);
    return NULL;
}

/* Sends "FETCH FORWARD count" without waiting for its rows; false when it could not be sent. */
static bool export_request(struct history_export *export, int count)
{
    char sql[64];

    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM history_export", count);
    /* binary results: the server spends nothing on text output functions */
    if (PQsendQueryParams(export->conn, sql, 0, NULL, NULL, NULL, NULL, 1) != 1)
        return false;
    export->requested = count;
    return true;
}

PGresult *history_export_fetch(struct history_export *export, int count, enum db_status *status)
{
    PGresult *result, *extra;

    count = count > 0 ? count : 1;
    if (export->requested != count && !export_request(export, count))
        goto fail;
    result = PQgetResult(export->conn);
    while ((extra = PQgetResult(export->conn)))
        PQclear(extra);
    export->requested = 0;
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        PQclear(result);
        goto fail;
    }
    /* The next batch is asked for now, so PostgreSQL reads it while the caller writes this
     * one out; an export then uses both the database's CPU and agentgate's at once. A send
     * that fails shows at the next call. */
    if (PQntuples(result) == count)
        (void)export_request(export, count);
    *status = DB_OK;
    return result;
fail:
    *status = export_failure(export->conn, "FETCH");
    return NULL;
}

void history_export_close(struct history_export *export)
{
    if (!export)
        return;
    if (export->conn)
        PQfinish(export->conn); /* the server rolls the read-only transaction back */
    free(export);
}
