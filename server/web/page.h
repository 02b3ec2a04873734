/*
 * HTML pages: every page is a template from server/templates rendered with
 * the page's own data plus the layout's (who is signed in, the CSRF token,
 * the dev-mode warning). Escaping is the template engine's default; the only
 * raw value is the CommonMark preview, which render_markdown_safe() produced.
 */
#ifndef AGENTGATE_PAGE_H
#define AGENTGATE_PAGE_H

#include <jansson.h>

#include "web/http.h"

/* Renders `template_name` with `data` (stolen) and the layout fields, and replies. */
enum MHD_Result page_reply(struct request *request, unsigned status, const char *template_name,
                           json_t *data);

/* An error page for `error` of the registry: its status, a heading for that status, and
 * `detail` (one or two sentences for people) or else the registry's message. */
enum MHD_Result page_reply_error(struct request *request, enum agentgate_error error,
                                 const char *detail);

/* The 404 page: the same whether a thing does not exist or the user may not see it. */
enum MHD_Result page_reply_not_found(struct request *request);

/* The page for a failed database call: 503 with Retry-After when unreachable, else 500. */
enum MHD_Result page_reply_db_failure(struct request *request, enum db_status status);

/* Redirects an anonymous visitor to sign in, returning afterwards to this page. */
enum MHD_Result page_reply_sign_in(struct request *request);

/* The prepare step of every route that takes an HTML form: the body must be
 * application/x-www-form-urlencoded (415 otherwise), before any of it is read. */
enum agentgate_error page_prepare_form(struct request *request);

#endif
