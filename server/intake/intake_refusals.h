/*
 * Rate-limited agents, remembered in this process so that a flood from an agent far over its
 * limit is refused without a database transaction per post, and the refusals counted and
 * audited in aggregate (at most one intake.refused event per agent and second, with the count
 * and the first and last webhook-id; README "Intake").
 *
 * Exactness: an agent is remembered only after intake_hold() refused it, for the time it said
 * to wait less one second (its Retry-After is rounded up). No slot of the agent's window can
 * open before then, whichever process admits posts, so a refusal from memory is one the
 * database would have given too. Nothing admits from memory.
 *
 * Its refusals are answered after INTAKE_REFUSAL_DELAY_MS (http_reply_delay: no worker is held
 * meanwhile). A client posting in a loop then sends a post a second per connection instead of
 * thousands, and the other agents' intakes keep their latency (tests/bench/intake.sh (d)); a
 * well-behaved client waits for Retry-After, which is longer, anyway.
 *
 * Thread-safe: one mutex around a small fixed table; no database I/O under it.
 */
#ifndef AGENTGATE_INTAKE_REFUSALS_H
#define AGENTGATE_INTAKE_REFUSALS_H

#include <stdbool.h>
#include <stddef.h>

#define INTAKE_REFUSAL_DELAY_MS 1000

/* Whether `agent_id` of `forum` is known to be over its limit now. If so, counts this post
 * (webhook_id) for the aggregated audit event and sets *retry_after_seconds. */
bool intake_refusals_limited(const char *forum, const char *agent_id, const char *webhook_id,
                             int *retry_after_seconds) __attribute__((warn_unused_result));

/* intake_hold() refused the agent for its rate limit and said to retry after this long. */
void intake_refusals_note(const char *forum, const char *agent_id, int retry_after_seconds);

/* Starts the thread that writes the counted refusals to the audit trail once a second.
 * Returns 0, or -1 with a message. */
int intake_refusals_start(char *error, size_t error_size) __attribute__((warn_unused_result));

/* Stops that thread after a last write of everything counted (graceful stop). */
void intake_refusals_stop(void);

#endif
