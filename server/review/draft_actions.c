/*
 * The draft page's forms (CONTRACT §7): /drafts/{id}/approve, /reject, /edit, /redact,
 * /delegate, /coapprove and /retry.
 *
 * Every form is a POST carrying the `csrf` field from agentgate's own page (refused without it
 * and from another Origin). Who may do what comes from draft_access_for() only; the SQL
 * functions re-check it under the draft's row lock. Decisions and edits are bound to the
 * revision the page showed. Every answer about the draft is a redirect (303) back to its page,
 * saying what was done or why not (draft_pages.c shows it), so a reload never resubmits; what
 * the person typed into a refused form is kept as an echo for that page.
 *
 * Secrets: the edit box shows masked text with numbered placeholders; saving maps each
 * placeholder left as shown back to its secret (draft_secrets_unmask), and the audit's diff is
 * computed on masked text. Redact replaces one secret flag's value by [REDACTED].
 *
 * Handler state hangs on the request (http_request_state); error paths free nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/drafts.h"
#include "db/outbox.h"
#include "flags.h"
#include "form.h"
#include "log.h"
#include "review/draft_pages.h"
#include "review/draft_secrets.h"
#include "review/draft_view.h"
#include "text.h"
#include "text_diff.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "web/page.h"

#define REASON_MAX 2000
#define TITLE_MAX  300

enum draft_action {
    ACTION_APPROVE,
    ACTION_REJECT,
    ACTION_EDIT,
    ACTION_REDACT,
    ACTION_DELEGATE,
    ACTION_RETRY,
    ACTION_COAPPROVE
};

static const struct form *form_of(const struct draft_request *state)
{
    return state->form;
}

/* Parses a positive revision number; 0 when absent or malformed. */
static int revision_parse(const char *text)
{
    long value;
    char *end;
    if (!text || !*text)
        return 0;
    value = strtol(text, &end, 10);
    if (*end || value < 1 || value > 1000000)
        return 0;
    return (int)value;
}

static bool flags_all_acknowledged(const json_t *draft, const struct form *form)
{
    size_t count = json_array_size(json_object_get(draft, "flags"));
    for (size_t i = 0; i < count; i++) {
        char index[24];
        snprintf(index, sizeof index, "%zu", i);
        if (!form_has_value(form, "ack", index))
            return false;
    }
    return true;
}

/* Answers a refused action: back to the draft page with the error, keeping what was typed. */
static enum MHD_Result draft_refuse(struct request *request, struct draft_request *state,
                                    enum agentgate_error error)
{
    struct db_connection *db = db_thread_connection();
    char echo[37] = "";
    char *fields = state->fields && json_object_size(state->fields)
                       ? json_dumps(state->fields, JSON_COMPACT)
                       : NULL;

    if (fields && db &&
        drafts_form_echo_save(db, request->params[0], state->user->forum, state->user->user_id,
                              fields, echo) != DB_OK)
        echo[0] = '\0'; /* the refusal stands; only the typed text is not kept */
    free(fields);
    return draft_redirect(request, state, NULL, 0, error_code(error), echo[0] ? echo : NULL);
}

/* Answers the outcome of a change: the page with `done`, or why not. */
static enum MHD_Result draft_outcome(struct request *request, struct draft_request *state,
                                     enum db_status status,
                                     const struct draft_change_result *result, const char *done)
{
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    switch (result->outcome) {
    case DRAFT_CHANGED:
        log_info(request->id, "draft %s: %s by %s", request->params[0], done, state->user->user_id);
        /* "saved as revision N" after an edit; a decision's page needs no number */
        return draft_redirect(
            request, state, done,
            strcmp(done, "edited") == 0 || strcmp(done, "redacted") == 0 ? result->revision : 0,
            NULL, NULL);
    case DRAFT_REVISION_CHANGED:
        return draft_refuse(request, state, ERR_REVISION_CHANGED);
    case DRAFT_NOT_PENDING:
        return draft_refuse(request, state, ERR_NOT_PENDING);
    case DRAFT_UNKNOWN_USER:
        return draft_refuse(request, state, ERR_UNKNOWN_COLLEAGUE);
    case DRAFT_KILL_SWITCH_ON:
        return draft_refuse(request, state, ERR_KILL_SWITCH_ON);
    case DRAFT_AGENT_PAUSED:
        return draft_refuse(request, state, ERR_AGENT_PAUSED);
    case DRAFT_FORBIDDEN:
        return page_reply_error(request, ERR_FORBIDDEN,
                                "Only the invoker, or the colleague they handed it to, decides.");
    default:
        return page_reply_not_found(request);
    }
}

static enum MHD_Result action_approve(struct request *request, struct draft_request *state)
{
    const struct session_identity *user = state->user;
    struct db_connection *db = db_thread_connection();
    int revision = revision_parse(form_get(form_of(state), "revision"));
    struct draft_change_result result = {0};
    enum db_status status;

    if (revision == 0)
        return draft_refuse(request, state, ERR_MISSING_REVISION);
    if (!flags_all_acknowledged(state->draft, form_of(state)))
        return draft_refuse(request, state, ERR_FLAGS_NOT_ACKNOWLEDGED);
    status = db ? drafts_decide(
                      db, request->params[0], user->forum, "approve", revision, user->user_id,
                      user->username, NULL, "page",
                      draft_needs_coapproval(config_forum(request->server->config, user->forum),
                                             json_object_get(state->draft, "flags")),
                      &result)
                : DB_UNAVAILABLE;
    return draft_outcome(request, state, status, &result, "approved");
}

static enum MHD_Result action_reject(struct request *request, struct draft_request *state)
{
    const struct session_identity *user = state->user;
    struct db_connection *db = db_thread_connection();
    int revision = revision_parse(form_get(form_of(state), "revision"));
    struct draft_change_result result = {0};
    const char *typed = form_get(form_of(state), "reason");
    enum db_status status;
    char *reason;

    state->text_1 = strdup(typed ? typed : "");
    if (!state->text_1)
        return page_reply_db_failure(request, DB_FAILED);
    reason = text_trim(state->text_1);
    state->fields = json_pack("{s:s}", "reason", typed ? typed : "");
    if (!*reason || utf8_length(reason) > REASON_MAX)
        return draft_refuse(request, state, ERR_REASON_REQUIRED);
    status = db ? drafts_decide(db, request->params[0], user->forum, "reject", revision,
                                user->user_id, user->username, reason, "page", false, &result)
                : DB_UNAVAILABLE;
    return draft_outcome(request, state, status, &result, "rejected");
}

/* Saves `title` (new topics only) and `body` as the revision after `revision`: flags scanned
 * again, the audited diff computed on masked text. `details_extra` names a redaction. */
static enum MHD_Result revision_save(struct request *request, struct draft_request *state,
                                     int revision, const char *title, const char *body,
                                     const char *done)
{
    const struct session_identity *user = state->user;
    struct db_connection *db = db_thread_connection();
    struct draft_secrets secrets = {0};
    struct draft_change_result result = {0};
    json_t *masked = draft_secrets_collect(state->draft, &secrets), *flags = json_array();
    char *old_masked = NULL, *new_masked = NULL, *old_title = NULL, *new_title = NULL;
    char *diff_text = NULL, *flags_text = NULL;
    json_t *diff = NULL, *summary = NULL;
    enum db_status status = DB_FAILED;
    size_t added = 0, deleted = 0;

    /* the draft's forum is its invoker's: the rules of that forum scan the new revision */
    const struct forum_config *forum = config_forum(request->server->config, user->forum);
    const struct flags_ruleset *rules = forum ? forum->flag_ruleset : NULL;

    if (masked && flags &&
        (!title || flags_scan_with(rules, "title", title, strlen(title), flags) == 0) &&
        flags_scan_with(rules, "body", body, strlen(body), flags) == 0) {
        const json_t *current = json_array_get(masked, json_array_size(masked) - 1);
        old_masked = strdup(json_string_at(current, "body") ? json_string_at(current, "body") : "");
        new_masked = draft_secrets_mask_scanned(&secrets, "body", body);
        old_title =
            json_string_at(current, "title") ? strdup(json_string_at(current, "title")) : NULL;
        new_title = title ? draft_secrets_mask_scanned(&secrets, "title", title) : NULL;
        diff = old_masked && new_masked ? text_diff_lines(old_masked, new_masked) : NULL;
        text_diff_count(diff, &added, &deleted);
        summary = json_pack("{s:I, s:I, s:o, s:b}", "added", (json_int_t)added, "deleted",
                            (json_int_t)deleted, "lines", diff ? diff : json_array(), "redacted",
                            strcmp(done, "redacted") == 0);
        if (summary && new_title && old_title && strcmp(old_title, new_title) != 0)
            json_object_set_new(summary, "title",
                                json_pack("{s:s, s:s}", "from", old_title, "to", new_title));
        diff_text = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
        flags_text = json_dumps(flags, JSON_COMPACT);
    }
    if (!db)
        status = DB_UNAVAILABLE;
    else if (diff_text && flags_text)
        status = drafts_edit(db, request->params[0], user->forum, revision, title, body, flags_text,
                             user->user_id, user->username, diff_text, &result);
    json_decref(summary);
    json_decref(flags);
    json_decref(masked);
    free(old_masked);
    free(new_masked);
    free(old_title);
    free(new_title);
    free(diff_text);
    free(flags_text);
    draft_secrets_free(&secrets);
    return draft_outcome(request, state, status, &result, done);
}

/* True when `text` holds nothing but ASCII white space. */
static bool blank(const char *text)
{
    return strspn(text, " \t\r\n") == strlen(text);
}

static enum MHD_Result action_edit(struct request *request, struct draft_request *state)
{
    const struct forum_config *forum = config_forum(request->server->config, state->user->forum);
    const struct form *form = form_of(state);
    int revision = revision_parse(form_get(form, "revision"));
    bool new_topic = !json_string_at(state->draft, "topic_id");
    const char *typed_body = form_get(form, "body"), *typed_title = form_get(form, "title");
    const char *old_title = json_string_at(state->draft, "title");
    struct draft_secrets secrets = {0};
    json_t *masked;

    state->fields = json_pack("{s:s, s:s}", "body", typed_body ? typed_body : "", "title",
                              typed_title ? typed_title : "");
    if (revision == 0)
        return draft_refuse(request, state, ERR_MISSING_REVISION);
    if (revision != json_integer_value(json_object_get(state->draft, "revision")))
        return draft_refuse(request, state, ERR_REVISION_CHANGED);
    /* each placeholder left as shown keeps its secret; the text is saved as typed otherwise */
    masked = draft_secrets_collect(state->draft, &secrets);
    state->text_1 = masked ? draft_secrets_unmask(&secrets, typed_body ? typed_body : "") : NULL;
    state->text_2 =
        masked && new_topic ? draft_secrets_unmask(&secrets, typed_title ? typed_title : "") : NULL;
    json_decref(masked);
    draft_secrets_free(&secrets);
    if (!state->text_1 || (new_topic && !state->text_2))
        return page_reply_db_failure(request, DB_FAILED);
    if (blank(state->text_1) || (forum && strlen(state->text_1) > forum->max_body_bytes) ||
        (new_topic && (blank(state->text_2) || utf8_length(state->text_2) > TITLE_MAX)))
        return draft_refuse(request, state, ERR_INVALID_FIELD);
    if (strcmp(state->text_1, json_string_at(state->draft, "body")) == 0 &&
        (!new_topic || (old_title && strcmp(state->text_2, old_title) == 0)))
        return draft_redirect(request, state, "unchanged", 0, NULL, NULL);
    return revision_save(request, state, revision, state->text_2, state->text_1, "edited");
}

static enum MHD_Result action_redact(struct request *request, struct draft_request *state)
{
    const struct form *form = form_of(state);
    int revision = revision_parse(form_get(form, "revision"));
    const char *index_text = form_get(form, "flag");
    const json_t *flags = json_object_get(state->draft, "flags");
    const json_t *flag;
    const char *field, *code;
    char *end = NULL;
    long index;

    if (revision == 0)
        return draft_refuse(request, state, ERR_MISSING_REVISION);
    if (revision != json_integer_value(json_object_get(state->draft, "revision")))
        return draft_refuse(request, state, ERR_REVISION_CHANGED);
    index = index_text ? strtol(index_text, &end, 10) : -1;
    flag = index >= 0 && end && !*end ? json_array_get(flags, (size_t)index) : NULL;
    field = json_string_at(flag, "field");
    code = json_string_at(flag, "code");
    if (!flag || !flags_code_marks_secret(code) || !field ||
        (strcmp(field, "body") != 0 && strcmp(field, "title") != 0) ||
        !json_string_at(state->draft, field))
        return draft_refuse(request, state, ERR_NOT_A_SECRET);
    state->text_1 = draft_secret_redact(json_string_at(state->draft, field),
                                        (size_t)json_integer_value(json_object_get(flag, "start")),
                                        (size_t)json_integer_value(json_object_get(flag, "end")));
    if (!state->text_1)
        return draft_refuse(request, state, ERR_NOT_A_SECRET);
    if (strcmp(field, "title") == 0)
        return revision_save(request, state, revision, state->text_1,
                             json_string_at(state->draft, "body"), "redacted");
    return revision_save(
        request, state, revision,
        json_string_at(state->draft, "topic_id") ? NULL : json_string_at(state->draft, "title"),
        state->text_1, "redacted");
}

static enum MHD_Result action_delegate(struct request *request, struct draft_request *state)
{
    const struct session_identity *user = state->user;
    struct db_connection *db = db_thread_connection();
    const char *typed = form_get(form_of(state), "username");
    struct draft_change_result result = {0};
    enum db_status status;
    char *username;

    state->text_1 = strdup(typed ? typed : "");
    if (!state->text_1)
        return page_reply_db_failure(request, DB_FAILED);
    username = text_trim(state->text_1);
    state->fields = json_pack("{s:s}", "username", typed ? typed : "");
    if (!*username || strlen(username) > 128)
        return draft_refuse(request, state, ERR_MISSING_FIELD);
    status = db ? drafts_delegate(db, request->params[0], user->forum, user->user_id,
                                  user->username, username, &result)
                : DB_UNAVAILABLE;
    return draft_outcome(request, state, status, &result, "delegated");
}

static enum MHD_Result action_coapprove(struct request *request, struct draft_request *state)
{
    const struct session_identity *user = state->user;
    struct db_connection *db = db_thread_connection();
    struct draft_change_result result = {0};
    enum db_status status;

    if (!flags_all_acknowledged(state->draft, form_of(state)))
        return draft_refuse(request, state, ERR_FLAGS_NOT_ACKNOWLEDGED);
    status = db ? drafts_coapprove(db, request->params[0], user->forum, user->user_id,
                                   user->username, &result)
                : DB_UNAVAILABLE;
    if (status == DB_OK && result.outcome == DRAFT_NOT_PENDING)
        return draft_refuse(request, state, ERR_NOTHING_TO_COAPPROVE);
    if (status == DB_OK && result.outcome == DRAFT_FORBIDDEN)
        return page_reply_error(request, ERR_NOT_COAPPROVER,
                                "A second approver is a moderator other than the invoker, the "
                                "delegate and the first approver.");
    return draft_outcome(request, state, status, &result, "coapproved");
}

static enum MHD_Result action_retry(struct request *request, struct draft_request *state)
{
    struct db_connection *db = db_thread_connection();
    const struct session_identity *user = state->user;
    enum outbox_retry_outcome outcome = OUTBOX_RETRY_NOT_FOUND;
    enum db_status status;
    char actor[160];

    /* audited as the moderator's id, with their name beside it */
    snprintf(actor, sizeof actor, "user:%s", user->user_id);
    status = db ? outbox_retry_draft(db, request->params[0], actor,
                                     user->name[0] ? user->name : user->username, &outcome)
                : DB_UNAVAILABLE;
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    if (outcome != OUTBOX_RETRIED)
        return draft_refuse(request, state, ERR_NOTHING_TO_RETRY);
    log_info(request->id, "draft %s: delivery retried by moderator %s", request->params[0],
             user->user_id);
    return draft_redirect(request, state, "retried", 0, NULL, NULL);
}

/* Refuses an action the user may not take on this draft, saying why. */
static enum MHD_Result action_forbidden(struct request *request, struct draft_request *state,
                                        enum draft_action action)
{
    if (action == ACTION_COAPPROVE && !state->parties.awaiting_coapproval &&
        state->user->is_moderator)
        return draft_refuse(request, state, ERR_NOTHING_TO_COAPPROVE);
    if (action == ACTION_COAPPROVE)
        return page_reply_error(request, ERR_NOT_COAPPROVER,
                                "A second approver is a moderator other than the invoker, the "
                                "delegate and the first approver, and only while an approval "
                                "awaits it.");
    if (action == ACTION_RETRY)
        return page_reply_error(request, ERR_MODERATORS_ONLY,
                                "Only a moderator of this forum retries a delivery.");
    if (!state->parties.pending && !state->access.as_moderator)
        return draft_refuse(request, state, ERR_NOT_PENDING);
    return page_reply_error(request, ERR_FORBIDDEN,
                            action == ACTION_DELEGATE
                                ? "Only the invoker hands a draft to a colleague."
                                : "Only the invoker, or the colleague they handed it to, "
                                  "decides.");
}

static bool action_allowed(const struct draft_access *access, enum draft_action action)
{
    switch (action) {
    case ACTION_RETRY:
        return access->retry_delivery;
    case ACTION_COAPPROVE:
        return access->coapprove;
    case ACTION_DELEGATE:
        return access->delegate;
    default:
        return access->decide;
    }
}

static enum MHD_Result draft_action(struct request *request, enum draft_action action)
{
    static enum MHD_Result (*const handlers[])(struct request *, struct draft_request *) = {
        [ACTION_APPROVE] = action_approve,     [ACTION_REJECT] = action_reject,
        [ACTION_EDIT] = action_edit,           [ACTION_REDACT] = action_redact,
        [ACTION_DELEGATE] = action_delegate,   [ACTION_RETRY] = action_retry,
        [ACTION_COAPPROVE] = action_coapprove,
    };
    struct draft_request *state = draft_request_new(request);
    enum agentgate_error error;

    if (!state || !(state->form = calloc(1, sizeof(struct form))))
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    if (!auth_origin_valid(request))
        return page_reply_error(request, ERR_FOREIGN_ORIGIN,
                                "This form was not sent from agentgate's own page.");
    state->user = auth_user(request);
    if (!form_parse(request->body, request->body_length, state->form))
        return ((struct form *)state->form)->too_many && state->user &&
                       draft_id_valid(request->params[0])
                   ? draft_redirect(request, state, NULL, 0, error_code(ERR_TOO_MANY_FIELDS), NULL)
                   : page_reply_error(request, ERR_BAD_FORM, "The form could not be read.");
    if (!state->user || !auth_csrf_valid(request, form_get(state->form, "csrf")))
        return page_reply_error(request, ERR_CSRF_INVALID,
                                "The form's security token is missing or stale. Reload the page "
                                "and try again.");
    error = draft_request_load(request, state);
    if (error != ERR_NONE)
        return draft_request_fail(request, error);
    state->from =
        page_local_path_valid(form_get(state->form, "from")) ? form_get(state->form, "from") : NULL;
    if (!action_allowed(&state->access, action))
        return action_forbidden(request, state, action);
    return handlers[action](request, state);
}

enum MHD_Result draft_pages_approve(struct request *request)
{
    return draft_action(request, ACTION_APPROVE);
}

enum MHD_Result draft_pages_reject(struct request *request)
{
    return draft_action(request, ACTION_REJECT);
}

enum MHD_Result draft_pages_edit(struct request *request)
{
    return draft_action(request, ACTION_EDIT);
}

enum MHD_Result draft_pages_redact(struct request *request)
{
    return draft_action(request, ACTION_REDACT);
}

enum MHD_Result draft_pages_delegate(struct request *request)
{
    return draft_action(request, ACTION_DELEGATE);
}

enum MHD_Result draft_pages_retry(struct request *request)
{
    return draft_action(request, ACTION_RETRY);
}

enum MHD_Result draft_pages_coapprove(struct request *request)
{
    return draft_action(request, ACTION_COAPPROVE);
}
