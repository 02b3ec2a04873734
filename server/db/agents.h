/* SQL for agents and the kill switch (db/agents.c): pausing, resuming, the global switch. */
#ifndef AGENTGATE_DB_AGENTS_H
#define AGENTGATE_DB_AGENTS_H

#include <stdbool.h>

#include "db/db.h"

/* Sets the kill switch; *was_engaged tells its previous state. `actor` is the audit actor
 * (`user:<id>`, `cli:<unix user>`), `actor_name` the person's name (NULL for the CLI). */
enum db_status agents_killswitch_set(struct db_connection *db, bool engaged, const char *reason,
                                     const char *actor, const char *actor_name, bool *was_engaged)
    __attribute__((warn_unused_result));

/* Pauses or resumes one agent; *revoked counts pending drafts revoked (revoke_pending). `actor`
 * and `actor_name` as for agents_killswitch_set(). */
enum db_status agents_set_paused(struct db_connection *db, const char *forum, const char *agent_id,
                                 bool paused, const char *reason, const char *actor,
                                 const char *actor_name, bool revoke_pending, int *revoked)
    __attribute__((warn_unused_result));

#endif
