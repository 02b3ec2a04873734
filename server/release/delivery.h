/* The delivery workers of `serve` (delivery.c): outbox to forum, with retries, expiry and the
 * re-check of approvals. */
#ifndef AGENTGATE_DELIVERY_H
#define AGENTGATE_DELIVERY_H

#include <stddef.h>

#include "config.h"
#include "release/plugin_loader.h"

/* Starts config->delivery.workers threads. Returns 0, or -1 with a message. */
int delivery_start(const struct config *config, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Stops and joins the workers; an event being delivered finishes first. */
void delivery_stop(void);

#endif
