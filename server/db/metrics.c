/* SQL for /metrics; see metrics.h. */
#include "db/metrics.h"

DB_STATEMENT(metrics_drafts_statement,
             "SELECT forum, state, count(*) FROM drafts GROUP BY forum, state", 0, true);
DB_STATEMENT(metrics_outbox_statement,
             "SELECT count(*), coalesce(extract(epoch FROM now() - "
             "min(due_at) FILTER (WHERE due_at <= now())), 0) FROM outbox",
             0, true);

enum db_status metrics_read_drafts(struct db_connection *db, PGresult **rows)
{
    enum db_status status;
    *rows = db_execute(db, &metrics_drafts_statement, NULL, &status);
    return status;
}

enum db_status metrics_read_outbox(struct db_connection *db, PGresult **rows)
{
    enum db_status status;
    *rows = db_execute(db, &metrics_outbox_statement, NULL, &status);
    return status;
}
