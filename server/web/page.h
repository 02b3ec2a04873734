/*
 * HTML pages: every page is a template from server/templates rendered with
 * the page's own data plus the layout's (who is signed in, the CSRF token,
 * the dev-mode warning). Escaping is the template engine's default; the only
 * raw value is the CommonMark preview, which render_markdown_safe() produced.
 */
#ifndef AGENTGATE_PAGE_H
#define AGENTGATE_PAGE_H

#include <jansson.h>
#include <time.h>

#include "web/http.h"

/* Renders `template_name` with `data` (stolen) and the layout fields, and replies. The layout
 * includes the kill switch's state (`layout_killswitch`: page_killswitch(), unless `data` has it
 * already), so that every page says when agents are stopped. */
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

/* The kill switch while it is on ({"engaged", "reason", "changed_by", "changed_at": a page_time
 * object}), else JSON null; null too when the database cannot say (the page itself then
 * reports the database). A new reference. */
json_t *page_killswitch(void);

/* How people read a time (CONTRACT §7): for an ISO 8601 UTC time as the database writes it
 * ("2026-12-01T12:18:05Z") and `now`, a new object {"iso", "relative", "absolute"} with
 * relative "just now", "3 min ago", "2 h ago", "4 days ago", "3 weeks ago", "5 months ago",
 * "2 years ago", "in 5 min" and absolute
 * "1 Dec 2026 12:18 UTC"; JSON null when `iso` is NULL or not such a time. Templates show it as
 * <time datetime="{{iso}}" title="{{absolute}}">{{relative}}</time> or both forms. */
json_t *page_time(const char *iso, time_t now);

/* A person for a template (CONTRACT §7: names beside ids): {"name", "id", "show_id"} (new
 * reference), shown as `{{name}} ({{id}})` (server/templates/person.html); show_id is false when
 * there is no id or it equals the name (an actor such as "cli:root"). JSON null when both are
 * NULL or empty. */
json_t *page_person_json(const char *name, const char *id);

/* Replaces the ISO time string at each of `keys` (NULL-terminated) of `object` by page_time()'s
 * object, in place. */
void page_times(json_t *object, time_t now, const char *const *keys);

/* A query-string argument of the request, or NULL. */
const char *page_query(struct request *request, const char *name);

/* Whether `path` is a path on this site that a "back" link may point to: it starts with one '/'
 * (not "//" nor "/\\"), is at most 400 bytes of printable ASCII, and has no fragment. */
bool page_local_path_valid(const char *path);

/* The prepare step of every route that takes an HTML form: the body must be
 * application/x-www-form-urlencoded (415 otherwise), before any of it is read. */
enum agentgate_error page_prepare_form(struct request *request);

#endif
