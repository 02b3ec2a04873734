/*
 * HTML pages: every page is a template from server/templates rendered with
 * the page's own data plus the layout's (who is signed in, the CSRF token,
 * the dev-mode warning). Escaping is the template engine's default; the only
 * raw value is the CommonMark preview, which render_markdown_safe() produced.
 */
#ifndef AGENTGATE_PAGE_H
#define AGENTGATE_PAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

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

/*
 * How people read a time (CONTRACT §7): `relative` as "just now", "3 min ago", "5 h ago",
 * "2 days ago", "3 weeks ago", "4 months ago", "2 years ago" (or "in 3 min" for a time after
 * `now`), and `absolute` as "1 Dec 2026 12:18 UTC". `iso` is a UTC time as the queries return
 * it, "YYYY-MM-DDTHH:MM:SSZ". Returns false (both outputs "") when `iso` is NULL or not that.
 */
bool page_time_human(const char *iso, time_t now, char *relative, size_t relative_size,
                     char *absolute, size_t absolute_size);

/* The same for a template: {"iso", "relative", "absolute"} (new reference), or JSON null when
 * `iso` is NULL or unreadable. A template shows it as
 * <time datetime="{{x.iso}}" title="{{x.absolute}}">{{x.relative}}</time>. */
json_t *page_time_json(const char *iso);

/* A person for a template (CONTRACT §7: names beside ids): {"name", "id", "show_id"} (new
 * reference), shown as `{{name}} ({{id}})`; show_id is false when there is no id or it equals
 * the name (an actor such as "cli:root"). JSON null when both are NULL or empty. */
json_t *page_person_json(const char *name, const char *id);

#endif
