/*
 * Every SQL statement that touches drafts (and their revisions) lives in
 * db/drafts.c. The writes are PL/pgSQL functions from migrations/, so one
 * round trip is one transaction: state, revision and audit event commit
 * together or not at all.
 */
#ifndef AGENTGATE_DB_DRAFTS_H
#define AGENTGATE_DB_DRAFTS_H

#include <agentgate/plugin.h>

#include "db/db.h"

struct draft_hold {
    const char *forum;
    const char *webhook_id;
    const char *draft_id;
    const struct agentgate_intake *post;
    const char *context_json; /* or NULL */
    const char *flags_json;
    const char *response; /* the 202 body, stored for replays */
    unsigned rate_count;  /* 0: unlimited */
    long rate_window_seconds;
    long ttl_seconds;
};

enum draft_hold_outcome {
    DRAFT_HELD,
    DRAFT_DUPLICATE,
    DRAFT_REFUSED_KILL_SWITCH,
    DRAFT_REFUSED_AGENT_PAUSED,
    DRAFT_REFUSED_RATE_LIMIT,
};

struct draft_hold_result {
    enum draft_hold_outcome outcome;
    char *response; /* malloc'd body for HELD and DUPLICATE; the caller frees it */
    int retry_after_seconds;
};

/* Holds one post (intake_hold in SQL). On DB_OK fills *result. */
enum db_status drafts_hold(struct db_connection *db, const struct draft_hold *hold,
                           struct draft_hold_result *result) __attribute__((warn_unused_result));

/* Audits an intake refused before drafts_hold (policy, invalid body). agent_id and field may
 * be NULL. */
enum db_status drafts_audit_refused(struct db_connection *db, const char *forum,
                                    const char *webhook_id, const char *agent_id,
                                    const char *reason, const char *field)
    __attribute__((warn_unused_result));

#endif
