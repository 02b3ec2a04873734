/* SQL for moderators (db/moderation.c): the agents overview, the kill switch's state, bulk
 * reject/revoke. Pausing and the switch itself are in db/agents.c. */
#ifndef AGENTGATE_DB_MODERATION_H
#define AGENTGATE_DB_MODERATION_H

#include <stddef.h>

#include "db/db.h"

/* The agents of a forum with their counts and status, as a JSON array text (malloc'd): agent_id,
 * name, paused, pause_reason, paused_by (an audit actor), paused_by_name, paused_at, the
 * counts pending, approved, released, rejected, other, total, and last_post_at (times as ISO
 * 8601 UTC text). */
enum db_status moderation_agents(struct db_connection *db, const char *forum, char **json)
    __attribute__((warn_unused_result));

/* The kill switch: {"engaged", "reason", "changed_by" (an audit actor), "changed_by_name",
 * "changed_at"} as JSON text (malloc'd). */
enum db_status moderation_killswitch(struct db_connection *db, char **json)
    __attribute__((warn_unused_result));

/* Rejects or revokes the drafts `ids` (a PostgreSQL array literal of UUIDs) of `forum`. */
enum db_status moderation_bulk(struct db_connection *db, const char *forum, const char *ids,
                               const char *action, const char *reason, const char *actor_id,
                               const char *actor_name, int *changed)
    __attribute__((warn_unused_result));

#endif
