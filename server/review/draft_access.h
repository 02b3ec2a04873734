/*
 * Who may do what with a draft: the one place these rules live, used by the
 * pages and by the forum's decision API alike (the SQL transactions re-check
 * the decide rule under the row lock, against races with a delegation).
 *
 *  - Only a user of the draft's own forum is considered at all.
 *  - The invoker, or the colleague the draft was delegated to, decides and edits.
 *  - The agent's own account never decides, edits or delegates, whoever else it is.
 *  - Only the invoker delegates, and only while the draft is pending.
 *  - Moderators of the forum read every draft of it; reading alone changes nothing. They
 *    retry a failed release (it was approved already; a retry decides nothing new).
 *  - A flagged approval may need a second approver (second_approver_for): a moderator who
 *    is not the invoker, the delegate, the first approver or the agent.
 *  - Anyone else learns nothing: the caller answers 404 as for a draft that does not exist.
 */
#ifndef AGENTGATE_DRAFT_ACCESS_H
#define AGENTGATE_DRAFT_ACCESS_H

#include <jansson.h>
#include <stdbool.h>

struct draft_parties {
    const char *forum;
    const char *agent_id;
    const char *invoker_id;
    const char *delegate_id; /* or NULL */
    const char *approver_id; /* who approved, or NULL */
    bool pending;
    bool awaiting_coapproval; /* approved, waiting for a moderator's co-approval */
};

struct draft_actor {
    const char *forum;
    const char *user_id;
    bool is_moderator;
};

struct draft_access {
    bool read;
    bool decide;         /* approve, reject, edit (when pending) */
    bool delegate;       /* when pending */
    bool as_moderator;   /* reads only because of moderation: audited */
    bool retry_delivery; /* moderators retry a failed release */
    bool coapprove;      /* a moderator other than the invoker, delegate, approver and agent */
};

struct draft_access draft_access_for(const struct draft_actor *actor,
                                     const struct draft_parties *draft);

/* The parties of a draft loaded by drafts_load(); pointers borrow from `draft`. */
struct draft_parties draft_parties_from_json(const json_t *draft);

struct forum_config;
/* Whether an approval of a draft with these flags needs a moderator's co-approval under the
 * forum's second_approver_for. */
bool draft_needs_coapproval(const struct forum_config *forum, const json_t *flags);

/* True when `text` is a UUID in canonical 8-4-4-4-12 hex form. */
bool draft_id_valid(const char *text);

#endif
