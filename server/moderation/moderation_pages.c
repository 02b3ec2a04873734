/*
 * Moderators' controls (CONTRACT §7): /agents lists a forum's agents with their
 * counts and status; its forms pause or resume one agent (reason required,
 * optionally revoking its pending drafts) and turn the kill switch for all
 * agents of all forums on or off (behind a confirmation). POST
 * /moderation/bulk rejects or revokes many drafts at once; deliberately there
 * is no bulk approve.
 *
 * Who: moderators of the forum (any moderator may pull the global kill
 * switch: it is the emergency stop). Anyone else signed in gets 404; the
 * forms need the csrf field and agentgate's own Origin. Every change is one
 * transaction with its audit events (db/agents.c, db/moderation.c); the
 * effect on intake is immediate on every `serve` process because intake
 * checks the switch and pauses inside its own transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "db/agents.h"
#include "db/moderation.h"
#include "review/draft_access.h"
#include "form.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "log.h"
#include "web/page.h"

#define REASON_MAX 500
#define BULK_MAX   500

/* Notices shown after a change: fixed texts chosen by a code, never echoing the request. */
static const char *notice_text(const char *code)
{
    static const char *const notices[][2] = {
        {"paused", "Agent paused. Its new posts are refused."},
        {"resumed", "Agent resumed."},
        {"killswitch-on", "Kill switch on: every agent is stopped."},
        {"killswitch-off", "Kill switch off: agents may post again."},
    };
    for (size_t i = 0; code && i < sizeof notices / sizeof notices[0]; i++)
        if (strcmp(notices[i][0], code) == 0)
            return notices[i][1];
    return NULL;
}

enum MHD_Result moderation_agents_page(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct db_connection *db;
    enum db_status status;
    char *agents_text = NULL, *switch_text = NULL;
    json_t *agents, *killswitch, *agent, *data;
    const char *notice;
    size_t index;

    if (!user)
        return page_reply_sign_in(request);
    if (!user->is_moderator)
        return page_reply_not_found(request);
    db = db_thread_connection();
    status = db ? moderation_agents(db, user->forum, &agents_text) : DB_UNAVAILABLE;
    if (status == DB_OK)
        status = moderation_killswitch(db, &switch_text);
    if (status != DB_OK) {
        free(agents_text);
        return page_reply_db_failure(request, status);
    }
    agents = json_loads(agents_text, 0, NULL);
    killswitch = json_loads(switch_text, 0, NULL);
    free(agents_text);
    free(switch_text);
    json_array_foreach(agents, index, agent)
        json_object_set_new(agent, "index", json_integer((json_int_t)index));
    data = json_pack("{s:s, s:s, s:o, s:o, s:b}", "title", "Agents", "forum", user->forum, "agents",
                     agents ? agents : json_array(), "killswitch",
                     killswitch ? killswitch : json_object(), "has_agents",
                     json_array_size(agents) > 0);
    notice = notice_text(
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "done"));
    if (data && notice)
        json_object_set_new(data, "notice", json_string(notice));
    return page_reply(request, 200, "agents.html", data);
}

/*
 * The checks every moderator form passes: same Origin, readable form, a signed-in user with
 * this session's CSRF token, a moderator. On failure replies and returns NULL (form freed).
 */
static const struct session_identity *moderator_form(struct request *request, struct form *form,
                                                     enum MHD_Result *reply)
{
    const struct session_identity *user;

    memset(form, 0, sizeof *form);
    if (!auth_origin_valid(request)) {
        *reply = page_reply_error(request, ERR_FOREIGN_ORIGIN,
                                  "This form was not sent from agentgate's own page.");
        return NULL;
    }
    if (!form_parse(request->body, request->body_length, form)) {
        form_free(form);
        *reply = page_reply_error(request, ERR_BAD_FORM, "The form could not be read.");
        return NULL;
    }
    user = auth_user(request);
    if (!user || !auth_csrf_valid(request, form_get(form, "csrf"))) {
        form_free(form);
        *reply = page_reply_error(request, ERR_CSRF_INVALID,
                                  "The form's security token is missing or stale. Reload the "
                                  "page and try again.");
        return NULL;
    }
    if (!user->is_moderator) {
        form_free(form);
        *reply = page_reply_not_found(request);
        return NULL;
    }
    return user;
}

/* The trimmed reason, or NULL when empty or too long. Points into the form. */
static const char *reason_of(const struct form *form)
{
    char *reason = (char *)form_get(form, "reason");
    size_t length;

    if (!reason)
        return NULL;
    while (*reason == ' ' || *reason == '\t')
        reason++;
    length = strlen(reason);
    while (length > 0 && (reason[length - 1] == ' ' || reason[length - 1] == '\t'))
        reason[--length] = '\0';
    if (length == 0 || utf8_length(reason) > REASON_MAX)
        return NULL;
    return reason;
}

static enum MHD_Result agent_change(struct request *request, bool pause)
{
    const struct session_identity *user;
    struct form form;
    enum MHD_Result reply;
    const char *agent, *reason;
    char actor[160];
    int revoked = 0;
    struct db_connection *db;
    enum db_status status;

    user = moderator_form(request, &form, &reply);
    if (!user)
        return reply;
    agent = form_get(&form, "agent");
    reason = reason_of(&form);
    if (!agent || !*agent || strlen(agent) > 128 || !reason) {
        form_free(&form);
        return page_reply_error(request, ERR_REASON_REQUIRED,
                                "Name the agent and give a reason (at most 500 characters).");
    }
    snprintf(actor, sizeof actor, "user:%s", user->user_id);
    db = db_thread_connection();
    status =
        db ? agents_set_paused(db, user->forum, agent, pause, reason, actor,
                               pause && form_has_value(&form, "revoke_pending", "yes"), &revoked)
           : DB_UNAVAILABLE;
    log_info(request->id, "agent %s of forum %s %s by %s (%d revoked)", agent, user->forum,
             pause ? "paused" : "resumed", user->user_id, revoked);
    form_free(&form);
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    return http_reply_redirect(request, 303,
                               pause ? "/agents?done=paused" : "/agents?done=resumed");
}

enum MHD_Result moderation_pause(struct request *request)
{
    return agent_change(request, true);
}

enum MHD_Result moderation_resume(struct request *request)
{
    return agent_change(request, false);
}

enum MHD_Result moderation_killswitch_change(struct request *request)
{
    const struct session_identity *user;
    struct form form;
    enum MHD_Result reply;
    const char *state, *reason;
    char actor[160];
    bool engage, was = false;
    struct db_connection *db;
    enum db_status status;

    user = moderator_form(request, &form, &reply);
    if (!user)
        return reply;
    state = form_get(&form, "state");
    reason = reason_of(&form);
    engage = state && strcmp(state, "on") == 0;
    if (!state || (!engage && strcmp(state, "off") != 0) ||
        !form_has_value(&form, "confirm", "yes") || (engage && !reason)) {
        form_free(&form);
        return page_reply_error(request, ERR_CONFIRMATION_REQUIRED,
                                "Tick the confirmation, and give a reason to stop all agents.");
    }
    snprintf(actor, sizeof actor, "user:%s", user->user_id);
    db = db_thread_connection();
    status = db ? agents_killswitch_set(db, engage, reason, actor, &was) : DB_UNAVAILABLE;
    form_free(&form);
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    log_warn(request->id, "kill switch turned %s by %s", engage ? "ON" : "off", user->user_id);
    return http_reply_redirect(
        request, 303, engage ? "/agents?done=killswitch-on" : "/agents?done=killswitch-off");
}

enum MHD_Result moderation_bulk_action(struct request *request)
{
    const struct session_identity *user;
    struct form form;
    enum MHD_Result reply;
    const char *action, *reason;
    char *ids = NULL, message[200];
    size_t count = 0, used = 1;
    int changed = 0;
    struct db_connection *db;
    enum db_status status;

    user = moderator_form(request, &form, &reply);
    if (!user)
        return reply;
    action = form_get(&form, "action");
    reason = reason_of(&form);
    if (!action || (strcmp(action, "reject") != 0 && strcmp(action, "revoke") != 0) || !reason) {
        form_free(&form);
        return page_reply_error(request, ERR_REASON_REQUIRED,
                                "Choose reject or revoke and give a reason. (There is no bulk "
                                "approve: each draft is approved on its own page.)");
    }
    ids = malloc(FORM_FIELDS_MAX * 38 + 3);
    if (!ids) {
        form_free(&form);
        return MHD_NO;
    }
    ids[0] = '{';
    for (size_t i = 0; i < form.count; i++) {
        if (strcmp(form.names[i], "draft") != 0)
            continue;
        if (!draft_id_valid(form.values[i]) || count == BULK_MAX) {
            free(ids);
            form_free(&form);
            return page_reply_error(request, ERR_BAD_SELECTION,
                                    "The selection names something that is not a draft.");
        }
        used += (size_t)sprintf(ids + used, "%s%s", count ? "," : "", form.values[i]);
        count++;
    }
    ids[used++] = '}';
    ids[used] = '\0';
    if (count == 0) {
        free(ids);
        form_free(&form);
        return page_reply_error(request, ERR_NOTHING_SELECTED, "Tick the drafts to change.");
    }
    db = db_thread_connection();
    status = db ? moderation_bulk(db, user->forum, ids, action, reason, user->user_id,
                                  user->username, &changed)
                : DB_UNAVAILABLE;
    free(ids);
    if (status != DB_OK) {
        form_free(&form);
        return page_reply_db_failure(request, status);
    }
    log_info(request->id, "bulk %s by %s: %d of %zu draft(s) changed", action, user->user_id,
             changed, count);
    snprintf(message, sizeof message,
             "%d of the %zu selected draft(s) %s. Drafts already decided were left as they were.",
             changed, count, strcmp(action, "reject") == 0 ? "rejected" : "revoked");
    form_free(&form); /* `action` and `reason` point into it */
    return page_reply(request, 200, "error.html",
                      json_pack("{s:s, s:s}", "title", "Done", "message", message));
}
