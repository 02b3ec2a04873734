/*
 * SQL for the audit chain (db/audit.c): sealing through audit_seal() (sql/audit_seal.sql,
 * migrations/0020_audit_chain_seal_order.sql), the chain's head, the unsealed events, streaming
 * sealed events in seq order for verification, and the latest events for /audit.
 *
 * Invariants: reading for verification uses no function of agentgate's schema (an attacker
 * who can replace those must not be able to fake a check): only built-in casts, qualified
 * names and a pinned search_path. Every function leaves the connection outside any
 * transaction, whatever happens.
 */
#ifndef AGENTGATE_DB_AUDIT_H
#define AGENTGATE_DB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

#define AUDIT_HASH_BYTES 32

/* One event as stored (and as the canonical encoding takes it). Text fields are NUL-terminated
 * UTF-8, NULL for SQL NULL; `details` is the jsonb column's text form (details::text), any
 * valid JSON text of details_length bytes. */
struct audit_event {
    long long seq;
    long long id;
    long long occurred_us; /* microseconds since 1970-01-01 00:00:00 UTC, exact */
    const char *actor;
    const char *action;
    const char *forum;
    const char *draft_id; /* lower-case canonical UUID text */
    const char *details;
    size_t details_length;
};

/* A sealed event with its stored links. has_hashes is false when a stored hash is not 32
 * bytes (the row was tampered with outside the triggers). */
struct audit_sealed_event {
    struct audit_event event;
    unsigned char prev_hash[AUDIT_HASH_BYTES];
    unsigned char hash[AUDIT_HASH_BYTES];
    bool has_hashes;
};

/* Called for each sealed event in order; returns false to stop the scan early. The event's
 * strings live until the callback returns. */
typedef bool (*audit_scan_fn)(const struct audit_sealed_event *event, void *context);

/* Runs audit_seal(limit) once; *sealed gets how many events it sealed (0 when nothing was
 * pending or another sealer was busy). */
enum db_status audit_events_seal(struct db_connection *db, int limit, int *sealed)
    __attribute__((warn_unused_result));

/* The head of the chain (seq 0 and 32 zero bytes when nothing is sealed), the number of
 * visible unsealed events, and how long ago the oldest of them was written, in milliseconds
 * (0 when none). */
enum db_status audit_events_head(struct db_connection *db, long long *head_seq,
                                 unsigned char head_hash[AUDIT_HASH_BYTES], long long *unsealed,
                                 long long *oldest_unsealed_ms) __attribute__((warn_unused_result));

/* The ids of the visible unsealed events, as a PostgreSQL array literal "{1,2,...}" (malloc'd;
 * "{}" when none). */
enum db_status audit_events_unsealed_ids(struct db_connection *db, char **ids)
    __attribute__((warn_unused_result));

/* *first gets the smallest id among `ids` (an array literal from audit_events_unsealed_ids)
 * of an event still unsealed, 0 when all of them are sealed. */
enum db_status audit_events_unsealed_among(struct db_connection *db, const char *ids,
                                           long long *first) __attribute__((warn_unused_result));

/* Streams every sealed event with seq >= from_seq, ordered by seq then id (duplicates of a seq
 * are shown, not hidden), in constant memory: a cursor in one REPEATABLE READ READ ONLY
 * transaction, fetched in batches. *stopped tells whether the callback ended the scan. */
enum db_status audit_events_scan(struct db_connection *db, long long from_seq, audit_scan_fn fn,
                                 void *context, bool *stopped) __attribute__((warn_unused_result));

/* What /audit lists: the events of `forum` and the global ones (forum NULL), under the filters
 * that are not NULL: exact actor, exact action, draft id, occurred_at >= from and < to
 * (timestamptz text), and before the keyset cursor (before_us: occurred_at in microseconds since
 * 1970, before_id; both or neither). */
struct audit_filter {
    const char *forum;
    const char *actor;
    const char *action;
    const char *draft_id;
    const char *from;
    const char *to;
    const char *before_us;
    const char *before_id;
};

/* At most `limit` events under `filter`, newest first by (occurred_at, id), as a JSON array text
 * (malloc'd) of {"id", "seq" (null while unsealed), "at", "at_label", "cursor", "actor",
 * "action", "forum", "draft_id", "details" (the jsonb's text form, as a string), "actor_name",
 * "draft_title"} (sql/audit_page.sql). */
enum db_status audit_events_page(struct db_connection *db, const struct audit_filter *filter,
                                 int limit, char **json) __attribute__((warn_unused_result));

#endif
