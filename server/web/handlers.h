/* The HTTP handlers, one file per resource, and the routing table that names them (routes.c). */
#ifndef AGENTGATE_HANDLERS_H
#define AGENTGATE_HANDLERS_H

#include "web/http.h"

/* intake.c: POST /v1/forums/{forum}/posts (CONTRACT §4.1) */
enum agentgate_error intake_prepare(struct request *request);
enum MHD_Result intake_handle(struct request *request);

/* Shared by every route the forum calls (intake.c): forum lookup for signed GETs, and the
 * Standard Webhooks check of the request (ERR_NONE when valid). */
enum agentgate_error forum_prepare_signed_get(struct request *request);
enum agentgate_error forum_signature_check(struct request *request);
/* The check of a signed read (CONTRACT §4.3): the signed payload is the method and path,
 * "GET /v1/forums/{forum}/drafts/{id}", in place of the empty body. */
enum agentgate_error forum_signature_check_read(struct request *request);
/* A webhook-id agentgate keeps: 1 to 256 printable ASCII characters. */
bool forum_webhook_id_valid(const char *id);

/* draft_api.c: the forum's view of a draft (CONTRACT §4.2, §4.3) */
enum MHD_Result draft_api_decide(struct request *request);
enum MHD_Result draft_api_read(struct request *request);

/* draft_pages.c: /, /drafts/{id} and its forms (CONTRACT §7) */
enum MHD_Result draft_pages_index(struct request *request);
enum MHD_Result draft_pages_show(struct request *request);
enum MHD_Result draft_pages_approve(struct request *request);
enum MHD_Result draft_pages_reject(struct request *request);
enum MHD_Result draft_pages_edit(struct request *request);
enum MHD_Result draft_pages_delegate(struct request *request);
enum MHD_Result draft_pages_retry(struct request *request);
enum MHD_Result draft_pages_coapprove(struct request *request);
enum MHD_Result draft_pages_redact(struct request *request);

/* auth/auth_pages.c: sign-in and out (CONTRACT §6) */
enum MHD_Result auth_pages_login(struct request *request);
enum MHD_Result auth_pages_sso(struct request *request);
enum MHD_Result auth_pages_dev_form(struct request *request);
enum MHD_Result auth_pages_dev_sign_in(struct request *request);
enum MHD_Result auth_pages_logout(struct request *request);

/* web/static_files.c: GET /static/{name} */
enum MHD_Result static_files_serve(struct request *request);

/* audit_pages.c: /audit (CONTRACT §7, §9) */
enum MHD_Result audit_pages_show(struct request *request);

/* history_pages.c: /history, /history.csv, /history.ndjson (CONTRACT §7) */
enum MHD_Result history_pages_list(struct request *request);
enum MHD_Result history_pages_export_csv(struct request *request);
enum MHD_Result history_pages_export_ndjson(struct request *request);

/* moderation_pages.c: /agents, kill switch, pause, bulk actions (CONTRACT §7) */
enum MHD_Result moderation_agents_page(struct request *request);
enum MHD_Result moderation_pause(struct request *request);
enum MHD_Result moderation_resume(struct request *request);
enum MHD_Result moderation_killswitch_change(struct request *request);
enum MHD_Result moderation_bulk_action(struct request *request);

/* operations/health.c: GET /healthz, GET /readyz (CONTRACT §10) */
enum MHD_Result health_handle_live(struct request *request);
enum MHD_Result health_handle_ready(struct request *request);

/* operations/metrics.c: GET /metrics (CONTRACT §10), to [server] metrics_from only */
enum MHD_Result metrics_serve(struct request *request);

extern const struct route routes[];
extern const size_t routes_count_total;

#endif
