/* SQL for agents and the kill switch (db/agents.c): pausing, resuming, the global switch. */
#ifndef AGENTGATE_DB_AGENTS_H
#define AGENTGATE_DB_AGENTS_H

#include <stdbool.h>

#include "db/db.h"

/* Sets the kill switch; *was_engaged tells its previous state. */
enum db_status agents_killswitch_set(struct db_connection *db, bool engaged, const char *reason,
                                     const char *actor, bool *was_engaged)
    __attribute__((warn_unused_result));

/* Pauses or resumes one agent; *revoked counts pending drafts revoked (revoke_pending). */
enum db_status agents_set_paused(struct db_connection *db, const char *forum, const char *agent_id,
                                 bool paused, const char *reason, const char *actor,
                                 bool revoke_pending, int *revoked)
    __attribute__((warn_unused_result));

#endif
