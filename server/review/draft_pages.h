/*
 * What the draft pages (draft_pages.c: GET) and their forms (draft_actions.c: POST) share: how a
 * draft is loaded and judged for the signed-in user, and where an action's answer redirects.
 */
#ifndef AGENTGATE_DRAFT_PAGES_H
#define AGENTGATE_DRAFT_PAGES_H

#include <jansson.h>

#include "auth/auth.h"
#include "review/draft_access.h"
#include "web/http.h"

/* The state of one draft page or form request, hung on the request (http_request_state) and
 * freed once when it completes. */
struct draft_request {
    const struct session_identity *user;
    json_t *draft; /* as drafts_load() wrote it */
    struct draft_parties parties;
    struct draft_access access;
    const char *from;      /* a valid local "back" path, or NULL */
    void *form;            /* struct form *, for the POST handlers */
    json_t *fields;        /* what the person typed, kept for a refused form */
    char *text_1, *text_2; /* working strings of an action */
};

/* Hangs a new draft_request on `request`; NULL when memory runs out. */
struct draft_request *draft_request_new(struct request *request);

/* Loads the draft of the path for the signed-in user into `state` and judges access. Returns
 * ERR_NONE; ERR_NOT_FOUND when there is no such draft or the user may not read it;
 * ERR_DATABASE_UNAVAILABLE / ERR_INTERNAL on a database failure. */
enum agentgate_error draft_request_load(struct request *request, struct draft_request *state);

/* Answers a draft request that failed before its page: 404, 503 or 500. */
enum MHD_Result draft_request_fail(struct request *request, enum agentgate_error error);

/* Redirects (303) to the draft page with `done` (a success message's name, or NULL), the
 * `revision` it produced (0 for none), an error code (or NULL), an echo id (or NULL) and the
 * back path. */
enum MHD_Result draft_redirect(struct request *request, const struct draft_request *state,
                               const char *done, int revision, const char *error, const char *echo);

#endif
