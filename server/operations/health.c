/* Liveness and readiness (CONTRACT §10): /healthz answers while the process runs; /readyz
 * only when the database answers and its schema is the one this binary expects. */
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/migrate.h"
#include "web/handlers.h"

DB_STATEMENT(health_schema_statement,
             "SELECT count(*), coalesce(max(version), 0) FROM schema_migrations", 0, true);

enum MHD_Result health_handle_live(struct request *request)
{
    return http_reply_json(request, 200, json_pack("{s:s}", "status", "ok"));
}

enum MHD_Result health_handle_ready(struct request *request)
{
    struct db_connection *db = db_thread_connection();
    enum db_status status;
    PGresult *rows;
    unsigned applied, newest;
    unsigned expected_newest =
        migrations_embedded_count ? migrations_embedded[migrations_embedded_count - 1].version : 0;

    if (!db)
        return http_reply_json(
            request, 503,
            json_pack("{s:s, s:s}", "status", "unavailable", "reason", "database unreachable"));
    rows = db_execute(db, &health_schema_statement, NULL, &status);
    if (status != DB_OK)
        return http_reply_json(
            request, 503,
            json_pack("{s:s, s:s}", "status", "unavailable", "reason",
                      status == DB_UNAVAILABLE ? "database unreachable" : "schema not migrated"));
    applied = (unsigned)strtoul(PQgetvalue(rows, 0, 0), NULL, 10);
    newest = (unsigned)strtoul(PQgetvalue(rows, 0, 1), NULL, 10);
    PQclear(rows);
    if (applied != migrations_embedded_count || newest != expected_newest)
        return http_reply_json(request, 503,
                               json_pack("{s:s, s:s, s:i, s:i}", "status", "unavailable", "reason",
                                         "schema out of date", "schema_version", (int)newest,
                                         "expected_version", (int)expected_newest));
    return http_reply_json(request, 200,
                           json_pack("{s:s, s:i}", "status", "ok", "schema_version", (int)newest));
}
