/* SQL for the audit chain; see audit.h. */
#include "db/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_BATCH "1000"

DB_STATEMENT(audit_seal_statement, "SELECT public.audit_seal($1::integer)", 1, true);
DB_STATEMENT(audit_head_statement,
             "SELECT (SELECT e.seq::text || ':' || pg_catalog.encode(e.hash, 'hex') "
             "          FROM public.audit_events e WHERE e.seq IS NOT NULL "
             "          ORDER BY e.seq DESC LIMIT 1), "
             "       u.count, coalesce((EXTRACT(epoch FROM pg_catalog.clock_timestamp() "
             "         OPERATOR(pg_catalog.-) u.oldest) OPERATOR(pg_catalog.*) 1000)::bigint, 0) "
             "FROM (SELECT pg_catalog.count(*) AS count, pg_catalog.min(o.occurred_at) AS oldest "
             "      FROM public.audit_events o WHERE o.seq IS NULL) u",
             0, true);
DB_STATEMENT(audit_unsealed_ids_statement,
             "SELECT coalesce(pg_catalog.array_agg(e.id ORDER BY e.id)::text, '{}') "
             "FROM public.audit_events e WHERE e.seq IS NULL",
             0, true);
DB_STATEMENT(audit_unsealed_among_statement,
             "SELECT coalesce(pg_catalog.min(e.id), 0) FROM public.audit_events e "
             "WHERE e.seq IS NULL AND e.id OPERATOR(pg_catalog.=) ANY ($1::bigint[])",
             1, true);
/* Built-ins only, schema-qualified, so no function an attacker could replace takes part. */
DB_STATEMENT(audit_scan_declare_statement,
             "DECLARE agentgate_audit_scan NO SCROLL CURSOR FOR "
             "SELECT e.seq, e.id, "
             "  (EXTRACT(epoch FROM e.occurred_at) OPERATOR(pg_catalog.*) 1000000)::bigint, "
             "  e.actor, e.action, e.forum, e.draft_id::text, e.details::text, "
             "  pg_catalog.encode(e.prev_hash, 'hex'), pg_catalog.encode(e.hash, 'hex') "
             "FROM public.audit_events e WHERE e.seq OPERATOR(pg_catalog.>=) $1::bigint "
             "ORDER BY e.seq, e.id",
             1, false);
DB_STATEMENT(audit_scan_fetch_statement, "FETCH FORWARD " SCAN_BATCH " FROM agentgate_audit_scan",
             0, false);
DB_STATEMENT(audit_page_statement,
             "SELECT audit_page($1, $2, $3, $4::uuid, $5::timestamptz, $6::timestamptz, "
             "timestamptz 'epoch' + $7::bigint * interval '1 microsecond', $8::bigint, "
             "$9::integer)",
             9, true);

enum db_status audit_events_seal(struct db_connection *db, int limit, int *sealed)
{
    char limit_text[16];
    const char *params[1] = {limit_text};
    enum db_status status;
    PGresult *rows;

    *sealed = 0;
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    rows = db_execute(db, &audit_seal_statement, params, &status);
    if (status != DB_OK)
        return status;
    *sealed = PQntuples(rows) == 1 ? atoi(PQgetvalue(rows, 0, 0)) : 0;
    PQclear(rows);
    return DB_OK;
}

/* Decodes 64 hex digits into 32 bytes; false when `hex` is anything else. */
static bool hash_from_hex(const char *hex, unsigned char out[AUDIT_HASH_BYTES])
{
    size_t length = 0;

    if (!hex || strlen(hex) != 2 * AUDIT_HASH_BYTES)
        return false;
    return sodium_hex2bin(out, AUDIT_HASH_BYTES, hex, 2 * AUDIT_HASH_BYTES, NULL, &length, NULL) ==
               0 &&
           length == AUDIT_HASH_BYTES;
}

enum db_status audit_events_head(struct db_connection *db, long long *head_seq,
                                 unsigned char head_hash[AUDIT_HASH_BYTES], long long *unsealed,
                                 long long *oldest_unsealed_ms)
{
    enum db_status status;
    PGresult *rows = db_execute(db, &audit_head_statement, NULL, &status);

    *head_seq = 0;
    memset(head_hash, 0, AUDIT_HASH_BYTES);
    *unsealed = 0;
    *oldest_unsealed_ms = 0;
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) != 1) {
        PQclear(rows);
        return DB_FAILED;
    }
    if (!PQgetisnull(rows, 0, 0)) {
        const char *head = PQgetvalue(rows, 0, 0);
        const char *colon = strchr(head, ':');
        *head_seq = strtoll(head, NULL, 10);
        if (!colon || !hash_from_hex(colon + 1, head_hash))
            memset(head_hash, 0xff, AUDIT_HASH_BYTES); /* not a hash: cannot match anything */
    }
    *unsealed = strtoll(PQgetvalue(rows, 0, 1), NULL, 10);
    *oldest_unsealed_ms = strtoll(PQgetvalue(rows, 0, 2), NULL, 10);
    PQclear(rows);
    return DB_OK;
}

enum db_status audit_events_unsealed_ids(struct db_connection *db, char **ids)
{
    enum db_status status = db_query_text(db, &audit_unsealed_ids_statement, NULL, ids);
    return status == DB_OK && !*ids ? DB_FAILED : status;
}

enum db_status audit_events_unsealed_among(struct db_connection *db, const char *ids,
                                           long long *first)
{
    const char *params[1] = {ids};
    enum db_status status;
    PGresult *rows = db_execute(db, &audit_unsealed_among_statement, params, &status);

    *first = 0;
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) == 1)
        *first = strtoll(PQgetvalue(rows, 0, 0), NULL, 10);
    PQclear(rows);
    return DB_OK;
}

static const char *text_or_null(const PGresult *rows, int row, int column)
{
    return PQgetisnull(rows, row, column) ? NULL : PQgetvalue(rows, row, column);
}

/* Hands one fetched batch to `fn`. Returns false when the callback stopped the scan. */
static bool scan_batch(const PGresult *rows, audit_scan_fn fn, void *context)
{
    for (int row = 0; row < PQntuples(rows); row++) {
        struct audit_sealed_event sealed;

        memset(&sealed, 0, sizeof sealed);
        sealed.event.seq = strtoll(PQgetvalue(rows, row, 0), NULL, 10);
        sealed.event.id = strtoll(PQgetvalue(rows, row, 1), NULL, 10);
        sealed.event.occurred_us = strtoll(PQgetvalue(rows, row, 2), NULL, 10);
        sealed.event.actor = text_or_null(rows, row, 3);
        sealed.event.action = text_or_null(rows, row, 4);
        sealed.event.forum = text_or_null(rows, row, 5);
        sealed.event.draft_id = text_or_null(rows, row, 6);
        sealed.event.details = text_or_null(rows, row, 7);
        sealed.event.details_length = (size_t)PQgetlength(rows, row, 7);
        sealed.has_hashes = hash_from_hex(text_or_null(rows, row, 8), sealed.prev_hash) &&
                            hash_from_hex(text_or_null(rows, row, 9), sealed.hash);
        if (!fn(&sealed, context))
            return false;
    }
    return true;
}

enum db_status audit_events_scan(struct db_connection *db, long long from_seq, audit_scan_fn fn,
                                 void *context, bool *stopped)
{
    char seq_text[24];
    const char *params[1] = {seq_text};
    enum db_status status;
    PGresult *rows;

    *stopped = false;
    snprintf(seq_text, sizeof seq_text, "%lld", from_seq);
    status = db_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (status != DB_OK)
        return status;
    status = db_command(db, "SET LOCAL search_path = pg_catalog, pg_temp");
    if (status != DB_OK)
        goto fail;
    rows = db_execute(db, &audit_scan_declare_statement, params, &status);
    if (status != DB_OK)
        goto fail;
    PQclear(rows);
    for (;;) {
        bool more;

        rows = db_execute(db, &audit_scan_fetch_statement, NULL, &status);
        if (status != DB_OK)
            goto fail;
        more = PQntuples(rows) > 0;
        if (more && !scan_batch(rows, fn, context)) {
            *stopped = true;
            more = false;
        }
        PQclear(rows);
        if (!more)
            break;
    }
    return db_command(db, "COMMIT");
fail:
    if (db_command(db, "ROLLBACK") != DB_OK) {
        /* the connection is gone: the server ended the transaction itself */
    }
    return status;
}

enum db_status audit_events_page(struct db_connection *db, const struct audit_filter *filter,
                                 int limit, char **json)
{
    char limit_text[16];
    const char *params[9] = {filter->forum,     filter->actor,     filter->action,
                             filter->draft_id,  filter->from,      filter->to,
                             filter->before_us, filter->before_id, limit_text};
    enum db_status status;

    if (!filter->before_us || !filter->before_id)
        params[6] = params[7] = NULL;
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    status = db_query_text(db, &audit_page_statement, params, json);
    return status == DB_OK && !*json ? DB_FAILED : status;
}
