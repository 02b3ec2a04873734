/* The routing table: every URL agentgate answers, its method, handler and body limit. */
#include "handlers.h"

const struct route routes[] = {
    /* method, pattern, prepare, handle, body limit (forum routes take the forum's) */
    {"POST", "/v1/forums/{}/posts", intake_prepare, intake_handle, 65536},
    {"GET", "/healthz", NULL, health_handle_live, 0},
    {"GET", "/readyz", NULL, health_handle_ready, 0},
};

const size_t routes_count_total = sizeof routes / sizeof routes[0];
