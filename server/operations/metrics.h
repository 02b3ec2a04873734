/*
 * Prometheus metrics (CONTRACT §10), served at GET /metrics to the addresses in
 * [server] metrics_from. Counters and the request-duration histogram live in
 * this process (lock-free atomics, one slot per forum, outcome, route and
 * bucket, sized once at start); the draft and outbox gauges are read from
 * PostgreSQL at scrape time, so every `serve` process reports the same values
 * for them.
 */
#ifndef AGENTGATE_METRICS_H
#define AGENTGATE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "db/outbox.h"

struct route;
struct request;

/* Sizes the counters for `config`'s forums and the routing table. Returns 0 or -1. */
int metrics_init(const struct config *config, const struct route *table, size_t route_count)
    __attribute__((warn_unused_result));
void metrics_free(void);

/* A request is complete: its route's duration histogram, and for intake its outcome. */
void metrics_observe_request(const struct request *request, double seconds);

/* A delivery attempt was recorded with `result`. */
void metrics_count_delivery(const char *forum, enum delivery_result result);

/* Whether `request`'s client may read /metrics. */
bool metrics_client_allowed(const struct request *request);

#endif
