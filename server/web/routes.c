/* The routing table: every URL agentgate answers, its method, handler and body limit.
 * Who may call is decided in the handler: forum routes by signature, pages by session and
 * draft_access_for(). */
#include "web/handlers.h"
#include "web/page.h"

#define FORM_BODY_LIMIT (512 * 1024)

const struct route routes[] = {
    /* method, pattern, prepare, handle, body limit (forum routes take the forum's) */
    {"POST", "/v1/forums/{}/posts", intake_prepare, intake_handle, 65536},
    {"POST", "/v1/forums/{}/drafts/{}/decision", intake_prepare, draft_api_decide, 65536},
    {"GET", "/v1/forums/{}/drafts/{}", forum_prepare_signed_get, draft_api_read, 0},
    {"GET", "/", NULL, draft_pages_index, 0},
    {"GET", "/drafts/{}", NULL, draft_pages_show, 0},
    {"POST", "/drafts/{}/approve", page_prepare_form, draft_pages_approve, FORM_BODY_LIMIT},
    {"POST", "/drafts/{}/reject", page_prepare_form, draft_pages_reject, FORM_BODY_LIMIT},
    {"POST", "/drafts/{}/edit", page_prepare_form, draft_pages_edit, FORM_BODY_LIMIT},
    {"POST", "/drafts/{}/delegate", page_prepare_form, draft_pages_delegate, FORM_BODY_LIMIT},
    {"POST", "/drafts/{}/retry", page_prepare_form, draft_pages_retry, 16384},
    {"POST", "/drafts/{}/coapprove", page_prepare_form, draft_pages_coapprove, FORM_BODY_LIMIT},
    {"POST", "/drafts/{}/redact", page_prepare_form, draft_pages_redact, 16384},
    {"GET", "/auth/login", NULL, auth_pages_login, 0},
    {"GET", "/auth/sso", NULL, auth_pages_sso, 0},
    {"GET", "/auth/dev", NULL, auth_pages_dev_form, 0},
    {"POST", "/auth/dev", page_prepare_form, auth_pages_dev_sign_in, 16384},
    {"POST", "/auth/logout", page_prepare_form, auth_pages_logout, 16384},
    /* audit routes (audit_pages.c) */
    {"GET", "/audit", NULL, audit_pages_show, 0},
    /* history routes (history_pages.c) */
    {"GET", "/history", NULL, history_pages_list, 0},
    {"GET", "/history.csv", NULL, history_pages_export_csv, 0},
    {"GET", "/history.ndjson", NULL, history_pages_export_ndjson, 0},
    /* moderation routes (moderation_pages.c) */
    {"GET", "/agents", NULL, moderation_agents_page, 0},
    {"POST", "/agents/pause", page_prepare_form, moderation_pause, 16384},
    {"POST", "/agents/resume", page_prepare_form, moderation_resume, 16384},
    {"POST", "/killswitch", page_prepare_form, moderation_killswitch_change, 16384},
    {"POST", "/moderation/bulk", page_prepare_form, moderation_bulk_action, 65536},
    {"GET", "/static/{}", NULL, static_files_serve, 0},
    {"GET", "/healthz", NULL, health_handle_live, 0},
    {"GET", "/readyz", NULL, health_handle_ready, 0},
    {"GET", "/metrics", NULL, metrics_serve, 0},
};

const size_t routes_count_total = sizeof routes / sizeof routes[0];
