/*
 * Every SQL statement that touches drafts (and their revisions) lives in
 * db/drafts.c. The writes are PL/pgSQL functions (sql/, one file each), so
 * one round trip is one transaction: state, revision and audit event commit
 * together or not at all. Their outcome words become the enums below here,
 * once (db/outcome.h).
 */
#ifndef AGENTGATE_DB_DRAFTS_H
#define AGENTGATE_DB_DRAFTS_H

#include <agentgate/plugin.h>
#include <stdbool.h>

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

/* Audits `count` identical refusals of one agent answered without a transaction (see
 * intake/intake_refusals.h) as one intake.refused event with the count, the first and last
 * webhook-id and when they came (Unix times). */
enum db_status drafts_audit_refusals_counted(struct db_connection *db, const char *forum,
                                             const char *agent_id, const char *reason,
                                             unsigned long count, const char *first_webhook_id,
                                             const char *last_webhook_id, long long first_at,
                                             long long last_at) __attribute__((warn_unused_result));

/* Whether a draft with this webhook-id exists in the forum (*seen); a read, no transaction to
 * commit. */
enum db_status drafts_webhook_seen(struct db_connection *db, const char *forum,
                                   const char *webhook_id, bool *seen)
    __attribute__((warn_unused_result));

/* --- review (pages and the forum's decision API) --- */

/* The draft with its current revision, all revisions and its audit timeline, as one JSON text
 * (malloc'd into *json; NULL when there is no such draft). `id` must be a UUID. */
enum db_status drafts_load(struct db_connection *db, const char *id, char **json)
    __attribute__((warn_unused_result));

/* The drafts a user invoked or was delegated in a forum, pending first, as a JSON array text. */
enum db_status drafts_list_for_user(struct db_connection *db, const char *forum,
                                    const char *user_id, char **json)
    __attribute__((warn_unused_result));

enum draft_change_outcome {
    DRAFT_CHANGED, /* decided, edited or delegated */
    DRAFT_NOT_FOUND,
    DRAFT_FORBIDDEN,
    DRAFT_NOT_PENDING,
    DRAFT_REVISION_CHANGED,
    DRAFT_UNKNOWN_USER,   /* delegate: no such colleague has signed in */
    DRAFT_KILL_SWITCH_ON, /* approve, co-approve: refused while agents are stopped */
    DRAFT_AGENT_PAUSED,
    DRAFT_REPLAYED, /* a forum decision's webhook-id seen before: its first answer */
};

struct draft_change_result {
    enum draft_change_outcome outcome;
    char state[20];
    int revision;
};

/* Approves or rejects (decision "approve"/"reject"); revision < 1 means "the current one".
 * With needs_coapproval an approval waits for a moderator's co-approval before release. */
enum db_status drafts_decide(struct db_connection *db, const char *id, const char *forum,
                             const char *decision, int revision, const char *actor_id,
                             const char *actor_name, const char *reason, const char *source,
                             bool needs_coapproval, struct draft_change_result *result)
    __attribute__((warn_unused_result));

/* A forum decision's answer (CONTRACT §4.2): either the 200 body, or an error by its registry
 * code, field and message. */
struct draft_forum_answer {
    unsigned status;
    char *response; /* the 200 body as sent (malloc'd; the caller frees), or NULL */
    char error_code[48];
    char error_field[96];
    char error_message[160];
};

/* A forum's decision, done once per (forum, webhook_id): outcome DRAFT_CHANGED with the 200
 * answer in *answer, DRAFT_REPLAYED with the first answer to that id, or the outcome of
 * drafts_decide (nothing remembered: the caller answers and calls drafts_decision_remember). */
enum db_status
drafts_decide_once(struct db_connection *db, const char *forum, const char *webhook_id,
                   const char *id, const char *decision, int revision, const char *actor_id,
                   const char *actor_name, const char *reason, bool needs_coapproval,
                   struct draft_change_result *result, struct draft_forum_answer *answer)
    __attribute__((warn_unused_result));

/* Remembers the error `answer` (status, code, field, message) as the answer to a forum
 * decision's webhook-id; when that id was answered first, *answer becomes that first answer
 * (the caller sends it instead). `id` is the draft the path names. */
enum db_status drafts_decision_remember(struct db_connection *db, const char *forum,
                                        const char *webhook_id, const char *id,
                                        struct draft_forum_answer *answer)
    __attribute__((warn_unused_result));

/* A moderator's co-approval of an approval that awaits one (DRAFT_CHANGED when done,
 * DRAFT_NOT_PENDING when none awaits, DRAFT_FORBIDDEN for the invoker, delegate, first
 * approver or agent). */
enum db_status drafts_coapprove(struct db_connection *db, const char *id, const char *forum,
                                const char *actor_id, const char *actor_name,
                                struct draft_change_result *result)
    __attribute__((warn_unused_result));

/* Saves title and body as a new revision after `revision` with its flags, auditing `diff_json`. */
enum db_status drafts_edit(struct db_connection *db, const char *id, const char *forum,
                           int revision, const char *title, const char *body,
                           const char *flags_json, const char *actor_id, const char *actor_name,
                           const char *diff_json, struct draft_change_result *result)
    __attribute__((warn_unused_result));

/* Keeps what a person typed into a refused draft form (`fields_json`, an object of strings) for
 * the page the refusal redirects to; writes the new echo's id (a UUID) into `echo_id`. Echoes
 * older than a day are purged here. */
enum db_status drafts_form_echo_save(struct db_connection *db, const char *id, const char *forum,
                                     const char *user_id, const char *fields_json, char echo_id[37])
    __attribute__((warn_unused_result));

/* The fields of an echo kept for this draft and user, as JSON text (malloc'd into *json; NULL
 * when there is none). */
enum db_status drafts_form_echo_load(struct db_connection *db, const char *echo_id, const char *id,
                                     const char *user_id, char **json)
    __attribute__((warn_unused_result));

/* The draft's state and whether an approval awaits a co-approval, for the page's refresh:
 * {"state", "coapproval_pending", "forum", "agent_id", "invoker_id", "delegate_id",
 * "decided_by_id"} as JSON text (malloc'd; NULL when there is no such draft). */
enum db_status drafts_state(struct db_connection *db, const char *id, char **json)
    __attribute__((warn_unused_result));

/* Hands the draft to the colleague with `username`. */
enum db_status drafts_delegate(struct db_connection *db, const char *id, const char *forum,
                               const char *actor_id, const char *actor_name, const char *username,
                               struct draft_change_result *result)
    __attribute__((warn_unused_result));

/* Audits that a moderator read a draft that is not theirs. */
enum db_status drafts_audit_view(struct db_connection *db, const char *id, const char *forum,
                                 const char *actor_id, const char *actor_name)
    __attribute__((warn_unused_result));

#endif
