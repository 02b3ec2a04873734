/* The HTTP handlers, one file per resource, and the routing table that names them (routes.c). */
#ifndef AGENTGATE_HANDLERS_H
#define AGENTGATE_HANDLERS_H

#include "http.h"

/* intake.c: POST /v1/forums/{forum}/posts (CONTRACT §4.1) */
enum agentgate_error intake_prepare(struct request *request);
enum MHD_Result intake_handle(struct request *request);

/* health.c: GET /healthz, GET /readyz (CONTRACT §10) */
enum MHD_Result health_handle_live(struct request *request);
enum MHD_Result health_handle_ready(struct request *request);

extern const struct route routes[];
extern const size_t routes_count_total;

#endif
