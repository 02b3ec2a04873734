/*
 * SQL for the outbox of events to the forum (db/outbox.c): claiming the next
 * due event under a row lock, the re-check before an approval goes out,
 * recording each attempt's outcome, expiry, and a moderator's retry. The
 * caller brackets claim .. finish in one transaction (db_command BEGIN/COMMIT)
 * so the row stays locked while the forum is called.
 */
#ifndef AGENTGATE_DB_OUTBOX_H
#define AGENTGATE_DB_OUTBOX_H

#include <stdbool.h>

#include "db/db.h"

struct outbox_event {
    long long id;
    char draft_id[40];
    char forum[40];
    char type[24];
    char webhook_id[80];
    char agent_id[130];
    char *payload; /* JSON text, malloc'd: outbox_event_clear() frees it */
    int attempts;  /* made before this one */
};

void outbox_event_clear(struct outbox_event *event);

/* Claims the next due event; *found tells whether there was one. */
enum db_status outbox_claim(struct db_connection *db, struct outbox_event *event, bool *found)
    __attribute__((warn_unused_result));

/* Why the approval of this draft must not go out now ("" when it may): the draft is no longer
 * approved, the kill switch is on or the agent paused. Locks the draft's row until the
 * transaction ends. */
enum db_status outbox_blocked_reason(struct db_connection *db, const char *draft_id,
                                     const char *forum, const char *agent_id, char *reason,
                                     size_t reason_size) __attribute__((warn_unused_result));

/* What became of one delivery attempt (outbox_finish's p_result, the deliveries_total label). */
enum delivery_result {
    DELIVERY_DELIVERED, /* the forum took it */
    DELIVERY_RETRY,     /* it failed; another attempt is due later */
    DELIVERY_FAILED,    /* it failed and no attempt is left */
    DELIVERY_ABORTED,   /* the forum refused it for good (410, abort, not published) */
    DELIVERY_SKIPPED,   /* the adapter had nothing to send */
    DELIVERY_REVOKED,   /* the re-check turned an approval into a revocation */
    DELIVERY_RESULT_COUNT
};

/* The word for `result` as SQL and /metrics spell it ("delivered", "retry", ...); the one
 * table of them is in outbox.c. */
const char *delivery_result_word(enum delivery_result result);

struct outbox_outcome {
    enum delivery_result result;
    long http_status; /* 0: none */
    long duration_ms;
    const char *error; /* or NULL */
    const char *worker;
    double retry_in_seconds;
    const char *post_id;
    const char *post_url;
    const char *revoke_reason;
};

enum db_status outbox_finish(struct db_connection *db, long long id,
                             const struct outbox_outcome *outcome)
    __attribute__((warn_unused_result));

/* Seconds until the next event is due (0 when one is due now, -1 when none is queued). */
enum db_status outbox_next_due(struct db_connection *db, double *seconds)
    __attribute__((warn_unused_result));

/* Expires pending drafts past their time and queues reminders; *changed counts both. */
enum db_status outbox_expire_due(struct db_connection *db, int *expired)
    __attribute__((warn_unused_result));
enum db_status outbox_remind_expiring(struct db_connection *db, const char *forum,
                                      long before_seconds, int *reminded)
    __attribute__((warn_unused_result));

enum outbox_retry_outcome {
    OUTBOX_RETRIED,          /* the approval is queued again */
    OUTBOX_RETRY_NOT_FAILED, /* the draft is not release_failed: nothing to retry */
    OUTBOX_RETRY_NOT_FOUND,  /* there is no such draft */
};

/* A retry of a release_failed draft by `actor` ("user:<id>" for a moderator, "cli:<user>"),
 * with the person's name when known (else NULL). On DB_OK sets *outcome. */
enum db_status outbox_retry_draft(struct db_connection *db, const char *draft_id, const char *actor,
                                  const char *actor_name, enum outbox_retry_outcome *outcome)
    __attribute__((warn_unused_result));

#endif
