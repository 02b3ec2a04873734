/*
 * The invoker's pages (CONTRACT §7): `/` lists the drafts a user invoked or was handed,
 * `/drafts/{id}` shows one (reloading itself while an approval is being released). The forms are in
 * draft_actions.c; they answer with a redirect (303) back to the draft page carrying what happened
 * (`done`, `revision`) or why not (`error`, and `echo`, what the person typed), so a reload never
 * resubmits. The page shows those from fixed tables: nothing of the address is echoed into it, and
 * an error answers with its own status (409 for a stale revision, as CONTRACT §7 says).
 *
 * Handler state hangs on the request (http_request_state); error paths free nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/drafts.h"
#include "form.h"
#include "log.h"
#include "review/draft_pages.h"
#include "review/draft_view.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "web/page.h"

static void draft_request_free(void *data)
{
    struct draft_request *state = data;
    json_decref(state->draft);
    json_decref(state->fields);
    if (state->form) {
        form_free(state->form);
        free(state->form);
    }
    free(state->text_1);
    free(state->text_2);
    free(state);
}

struct draft_request *draft_request_new(struct request *request)
{
    return http_request_state(request, calloc(1, sizeof(struct draft_request)), draft_request_free);
}

enum agentgate_error draft_request_load(struct request *request, struct draft_request *state)
{
    struct db_connection *db = db_thread_connection();
    const char *id = request->params[0];
    enum db_status status;
    char *text = NULL;
    struct draft_actor actor;

    if (!draft_id_valid(id))
        return ERR_NOT_FOUND;
    if (!db)
        return ERR_DATABASE_UNAVAILABLE;
    status = drafts_load(db, id, &text);
    if (status != DB_OK)
        return error_from_db_status(status);
    if (!text)
        return ERR_NOT_FOUND;
    state->draft = json_loads(text, 0, NULL);
    free(text);
    if (!state->draft)
        return ERR_INTERNAL;
    state->parties = draft_parties_from_json(state->draft);
    actor =
        (struct draft_actor){state->user->forum, state->user->user_id, state->user->is_moderator};
    state->access = draft_access_for(&actor, &state->parties);
    return state->access.read ? ERR_NONE : ERR_NOT_FOUND;
}

enum MHD_Result draft_request_fail(struct request *request, enum agentgate_error error)
{
    if (error == ERR_NOT_FOUND)
        return page_reply_not_found(request);
    return page_reply_db_failure(request,
                                 error == ERR_DATABASE_UNAVAILABLE ? DB_UNAVAILABLE : DB_FAILED);
}

enum MHD_Result draft_redirect(struct request *request, const struct draft_request *state,
                               const char *done, int revision, const char *error, const char *echo)
{
    char location[1024];
    char *from = state->from ? form_url_encode(state->from) : NULL;
    int length = snprintf(location, sizeof location, "/drafts/%s", request->params[0]);
    const char *separator = "?";

#define LOCATION_ADD(...)                                                                          \
    length += snprintf(location + length, sizeof location - (size_t)length, __VA_ARGS__)
    if (done) {
        LOCATION_ADD("%sdone=%s", separator, done);
        separator = "&";
    }
    if (revision > 0) {
        LOCATION_ADD("%srevision=%d", separator, revision);
        separator = "&";
    }
    if (error) {
        LOCATION_ADD("%serror=%s", separator, error);
        separator = "&";
    }
    if (echo) {
        LOCATION_ADD("%secho=%s", separator, echo);
        separator = "&";
    }
    if (from && length + strlen(from) + 8 < sizeof location)
        LOCATION_ADD("%sfrom=%s", separator, from);
#undef LOCATION_ADD
    free(from);
    return http_reply_redirect(request, 303, location);
}

/* The message after a successful action, by its name in `done`. */
static const char *done_message(const char *done, const json_t *draft)
{
    static const char *const messages[][2] = {
        {"rejected", "Rejected. The forum is told, with your reason."},
        {"delegated", "Handed over. Your colleague decides in your place now."},
        {"coapproved", "Co-approved. It is being released to the forum."},
        {"retried", "Delivery retried."},
        {"unchanged", "Nothing changed, so no new revision was saved."},
    };
    if (!done)
        return NULL;
    if (strcmp(done, "approved") == 0)
        return json_is_true(json_object_get(draft, "coapproval_pending"))
                   ? "Approved. A moderator's co-approval is needed before it is released."
                   : "Approved. It is released to the forum now.";
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (strcmp(messages[i][0], done) == 0)
            return messages[i][1];
    return NULL;
}

/* The sentence for an action's refusal, by its registry code; NULL for codes not from here. */
static const char *error_sentence(enum agentgate_error error)
{
    switch (error) {
    case ERR_REVISION_CHANGED:
        return "This draft changed since you opened it. Review the new revision below before "
               "deciding.";
    case ERR_NOT_PENDING:
        return "This draft was already decided.";
    case ERR_FLAGS_NOT_ACKNOWLEDGED:
        return "Tick the acknowledgement of every flag first.";
    case ERR_REASON_REQUIRED:
        return "Give a reason for rejecting (at most 2000 characters).";
    case ERR_INVALID_FIELD:
        return "Not saved: the body must not be empty or longer than the forum allows, and a "
               "new topic needs a title of at most 300 characters.";
    case ERR_MISSING_FIELD:
        return "Name the colleague (their forum username) to hand this draft to.";
    case ERR_UNKNOWN_COLLEAGUE:
        return "No colleague of that username has signed in to agentgate in this forum (nor "
               "may the agent or you be chosen).";
    case ERR_MISSING_REVISION:
        return "The form did not say which revision you saw; reload the page.";
    case ERR_NOT_A_SECRET:
        return "That flag is not a secret of this revision.";
    case ERR_TOO_MANY_FIELDS:
        return "The form has more fields than agentgate reads (10000). Nothing was done.";
    case ERR_KILL_SWITCH_ON:
        return "Not approved: the kill switch is on and every agent is stopped. The draft "
               "stays pending; approve it once a moderator turns the kill switch off.";
    case ERR_AGENT_PAUSED:
        return "Not approved: this draft's agent is paused. The draft stays pending; approve "
               "it once a moderator resumes the agent.";
    case ERR_NOTHING_TO_COAPPROVE:
        return "This draft does not await a co-approval.";
    case ERR_NOTHING_TO_RETRY:
        return "This draft's release has not failed.";
    default:
        return NULL;
    }
}

/* The notice the address asks for: {"message", "is_error"}; *status becomes the error's. */
static json_t *notice_build(struct request *request, const json_t *draft, unsigned *status)
{
    const char *error = page_query(request, "error");
    const char *revision = page_query(request, "revision");
    enum agentgate_error code = error ? error_from_code(error) : ERR_NONE;
    const char *sentence = code != ERR_NONE ? error_sentence(code) : NULL;
    const char *done = page_query(request, "done");
    char saved[96];

    if (sentence) {
        *status = error_http_status(code);
        return json_pack("{s:s, s:b}", "message", sentence, "is_error", true);
    }
    if (done && (strcmp(done, "edited") == 0 || strcmp(done, "redacted") == 0) && revision &&
        strspn(revision, "0123456789") == strlen(revision) && strlen(revision) < 8) {
        snprintf(saved, sizeof saved,
                 strcmp(done, "edited") == 0 ? "Saved as revision %s."
                                             : "The secret was redacted: saved as revision %s.",
                 revision);
        return json_pack("{s:s, s:b}", "message", saved, "is_error", false);
    }
    sentence = done_message(done, draft);
    return sentence ? json_pack("{s:s, s:b}", "message", sentence, "is_error", false) : json_null();
}

/* What the person typed into a refused form, when the address names an echo of theirs. */
static json_t *echo_load(struct request *request, const struct draft_request *state)
{
    const char *echo = page_query(request, "echo");
    struct db_connection *db = db_thread_connection();
    char *text = NULL;
    json_t *fields;

    if (!echo || !draft_id_valid(echo) || !db ||
        drafts_form_echo_load(db, echo, request->params[0], state->user->user_id, &text) != DB_OK ||
        !text) {
        free(text);
        return json_object();
    }
    fields = json_loads(text, 0, NULL);
    free(text);
    return json_is_object(fields) ? fields : (json_decref(fields), json_object());
}

/* Where the back link goes: where the viewer came from, else their natural home. */
static json_t *back_link(const struct draft_request *state)
{
    static const char *const pages[][2] = {
        {"/history", "History"}, {"/agents", "Agents"}, {"/audit", "Audit"}};
    const char *from = state->from;

    for (size_t i = 0; from && i < sizeof pages / sizeof pages[0]; i++)
        if (strncmp(from, pages[i][0], strlen(pages[i][0])) == 0)
            return json_pack("{s:s, s:s}", "href", from, "label", pages[i][1]);
    if (state->access.as_moderator)
        return json_pack("{s:s, s:s}", "href", "/history", "label", "History");
    return json_pack("{s:s, s:s}", "href", "/", "label", "Your drafts");
}

enum MHD_Result draft_pages_show(struct request *request)
{
    struct draft_request *state = draft_request_new(request);
    struct db_connection *db;
    enum agentgate_error error;
    unsigned status = 200;
    enum db_status viewed;
    json_t *data, *killswitch;

    if (!state)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    state->user = auth_user(request);
    if (!state->user)
        return page_reply_sign_in(request);
    error = draft_request_load(request, state);
    if (error != ERR_NONE)
        return draft_request_fail(request, error);
    if (state->access.as_moderator) {
        db = db_thread_connection();
        viewed = db ? drafts_audit_view(db, request->params[0], state->user->forum,
                                        state->user->user_id, state->user->username)
                    : DB_UNAVAILABLE;
        if (viewed != DB_OK)
            return page_reply_db_failure(request, viewed);
    }
    state->from =
        page_local_path_valid(page_query(request, "from")) ? page_query(request, "from") : NULL;
    killswitch = page_killswitch();
    data = draft_view_build(state->draft, &(struct draft_view_input){
                                              .access = &state->access,
                                              .killswitch = killswitch,
                                              .from = state->from,
                                              .now = time(NULL),
                                          });
    json_decref(killswitch);
    if (!data)
        return page_reply_error(request, ERR_INTERNAL, "The page could not be built.");
    json_object_set_new(data, "notice", notice_build(request, state->draft, &status));
    json_object_set_new(data, "form", echo_load(request, state));
    json_object_set_new(data, "back", back_link(state));
    json_object_set_new(data, "from", state->from ? json_string(state->from) : json_null());
    json_object_set_new(
        data, "can_retry",
        json_boolean(state->access.retry_delivery &&
                     strcmp(json_string_at(state->draft, "state"), "release_failed") == 0));
    return page_reply(request, status, "draft.html", data);
}

enum MHD_Result draft_pages_index(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct db_connection *db = db_thread_connection();
    json_t *drafts, *pending, *decided, *item;
    time_t now = time(NULL);
    enum db_status status;
    char *text = NULL;
    size_t index;

    if (!user)
        return page_reply_sign_in(request);
    status = db ? drafts_list_for_user(db, user->forum, user->user_id, &text) : DB_UNAVAILABLE;
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    drafts = json_loads(text ? text : "[]", 0, NULL);
    free(text);
    pending = json_array();
    decided = json_array();
    json_array_foreach(drafts, index, item)
    {
        const char *state = json_string_at(item, "state");
        draft_view_list_item(item, now);
        json_array_append(state && strcmp(state, "pending") == 0 ? pending : decided, item);
    }
    json_decref(drafts);
    return page_reply(request, 200, "index.html",
                      json_pack("{s:s, s:o, s:o, s:b, s:b}", "title", "Your agents' drafts",
                                "pending", pending, "decided", decided, "has_pending",
                                json_array_size(pending) > 0, "has_decided",
                                json_array_size(decided) > 0));
}
