/* The queries behind /metrics' gauges (db/metrics.c). Each returns a PGresult the caller
 * clears. */
#ifndef AGENTGATE_DB_METRICS_H
#define AGENTGATE_DB_METRICS_H

#include "db/db.h"

/* Rows (forum, state, count) of drafts. */
enum db_status metrics_read_drafts(struct db_connection *db, PGresult **rows)
    __attribute__((warn_unused_result));

/* One row (events queued, seconds the oldest due one has waited or 0). */
enum db_status metrics_read_outbox(struct db_connection *db, PGresult **rows)
    __attribute__((warn_unused_result));

#endif
