/*
 * SQL for the moderators' history (CONTRACT §7): one page of a forum's drafts under a filter,
 * the chart's figures, the audit event of an export, and exports that stream every matching
 * row through a server-side cursor.
 *
 * Invariants: the filtered query is built inside PostgreSQL from fixed fragments
 * (history_where() in sql/); every value given here travels as a parameter. Pages are
 * keyset-paginated on (created_at, id), newest first. An export owns a PostgreSQL connection of its
 * own, opened for it and closed by history_export_close(): it is read from libmicrohttpd's threads
 * between requests of other clients, so it can never be a worker's connection
 * (db_thread_connection()).
 */
#ifndef AGENTGATE_DB_HISTORY_H
#define AGENTGATE_DB_HISTORY_H

#include <libpq-fe.h>

#include "db/db.h"

/* Filters, already validated by the caller; NULL means "not filtered". */
struct history_filter {
    const char *forum;    /* required: the moderator's own forum */
    const char *state;    /* one of the draft states */
    const char *agent;    /* an agent's id or name, exact */
    const char *invoker;  /* an invoker's id or name, exact */
    const char *decider;  /* decided_by_id or decided_by_name, exact */
    const char *from;     /* timestamptz text, inclusive */
    const char *to;       /* timestamptz text, exclusive */
    const char *q;        /* search text in websearch_to_tsquery syntax */
    const char *after_us; /* cursor: created_at in microseconds since the epoch (decimal) ... */
    const char *after_id; /* ... and the draft id of the last row shown; both or neither */
};

/* Up to `limit` drafts matching `filter`, newest first, as a JSON array text (malloc'd into
 * *json): id, forum, state, created_at, decided_at, agent_id, agent_name, invoker_id,
 * invoker_name, decided_by, decided_by_id, topic_id, category, title, body (the first 600
 * characters, for drafts without a title), flags, flags_count, post_url and cursor
 * ("created_us:id", for the next page's after_us/after_id). Title and body are as stored: the
 * caller masks their secrets before showing anything. */
enum db_status history_page(struct db_connection *db, const struct history_filter *filter,
                            int limit, char **json) __attribute__((warn_unused_result));

/* The chart's figures for `forum` over the last 30 days (UTC) as a JSON object text (malloc'd
 * into *json): {"as_of" (ISO 8601 UTC), "days": [{"day", "held", "approved", "rejected"}] (30,
 * oldest first), "agents": [{"id", "name", "decisions", "median_seconds"}] (at most 10, the most
 * decisions)}. "approved" counts drafts approved that day that were not revoked since. */
enum db_status history_chart_data(struct db_connection *db, const char *forum, char **json)
    __attribute__((warn_unused_result));

/* Audits that a moderator exported history: action history.export with the format and the
 * filters (`filters_json`, a JSON object text). */
enum db_status history_audit_export(struct db_connection *db, const char *forum,
                                    const char *actor_id, const char *actor_name,
                                    const char *format, const char *filters_json)
    __attribute__((warn_unused_result));

struct history_export;

/* Opens a connection with `conninfo`, starts a read-only repeatable-read transaction and opens
 * a cursor over every row matching `filter` (its cursor fields are ignored), newest first.
 * Columns: draft_id (uuid), forum, state, created_at, decided_at (timestamptz), agent_id,
 * agent_name, invoker_id, invoker_name, decided_by, decided_by_id, topic_id, category, title
 * (secrets masked), flags (integer), post_url (the others text). Returns NULL with *status on
 * failure. */
struct history_export *history_export_open(const char *conninfo,
                                           const struct history_filter *filter,
                                           enum db_status *status)
    __attribute__((warn_unused_result));

/* The next at most `count` rows in PostgreSQL's binary format (a PGresult the caller
 * PQclear()s; no rows at the end), or NULL with *status when the connection or the query
 * failed. After a full batch the next one is already asked for (pass the same `count`). */
PGresult *history_export_fetch(struct history_export *export, int count, enum db_status *status)
    __attribute__((warn_unused_result));

/* Ends the transaction and closes the connection; NULL is allowed. */
void history_export_close(struct history_export *export);

#endif
