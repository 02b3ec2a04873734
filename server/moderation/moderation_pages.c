/*
 * Moderators' controls (CONTRACT §7): /agents lists a forum's agents with their counts and
 * effective state (paused, stopped by the kill switch, active); its forms pause or resume one
 * agent (reason required, optionally revoking its pending drafts) and turn the kill switch for
 * all agents of all forums on or off (a reason and a ticked confirmation either way). POST
 * /moderation/bulk rejects or revokes many drafts at once; deliberately there is no bulk
 * approve.
 *
 * Who: moderators of the forum (any moderator may pull the global kill switch: it is the
 * emergency stop). Anyone else signed in gets 404; the forms need the csrf field and
 * agentgate's own Origin. Every change is one transaction with its audit events (db/agents.c,
 * db/moderation.c); the effect on intake is immediate on every `serve` process because intake
 * checks the switch and pauses inside its own transaction.
 *
 * Lifecycle: each handler hangs its state (the parsed form, query results) on the request
 * with http_request_state(), so nothing is freed on an error path; every refusal leaves
 * through the handler's one `fail:` exit. After a change the browser is redirected (303) to
 * the page it came from with a `done` code naming a fixed notice, so a reload never repeats
 * the change and no request text is echoed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "db/agents.h"
#include "db/moderation.h"
#include "form.h"
#include "log.h"
#include "review/draft_access.h"
#include "text.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "web/page.h"

#define REASON_MAX      500
#define BULK_MAX        500
#define AGENT_ID_MAX    128
#define BULK_BACK_MAX   400 /* the History query a bulk form returns to (fits a Location) */
#define DRAFT_ID_LENGTH 36
#define ACTOR_BYTES     (AGENT_ID_MAX * 4 + 8)

/* What a moderator handler holds until the request completes (moderation_state_free). */
struct moderation_state {
    struct form form;
    char *agents_json;
    char *killswitch_json;
    char *draft_ids; /* a PostgreSQL array literal of the ticked drafts */
    char *location;
};

static void moderation_state_free(void *pointer)
{
    struct moderation_state *state = pointer;

    form_free(&state->form);
    free(state->agents_json);
    free(state->killswitch_json);
    free(state->draft_ids);
    free(state->location);
    free(state);
}

/* Why a request is refused: a registry error with a sentence for people, or a database
 * status. Each handler's one failure exit answers it through refusal_reply(). */
struct refusal {
    enum agentgate_error error;
    const char *detail;
    enum db_status db;
};

static enum MHD_Result refusal_reply(struct request *request, const struct refusal *refusal)
{
    if (refusal->db != DB_OK)
        return page_reply_db_failure(request, refusal->db);
    if (refusal->error == ERR_NOT_FOUND)
        return page_reply_not_found(request);
    return page_reply_error(request, refusal->error, refusal->detail);
}

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

/* A person from an audit actor (`user:<id>` or `cli:<unix user>`) and the name kept with it. */
static json_t *actor_person(const char *actor, const char *name)
{
    if (actor && strncmp(actor, "user:", 5) == 0)
        return page_person_json(name, actor + 5);
    return page_person_json(actor, NULL);
}

/* The kill switch for the template: engaged, reason, by (a person), at (a time). */
static json_t *killswitch_view(const char *text)
{
    json_t *stored = json_loads(text ? text : "", 0, NULL), *view;

    if (!json_is_object(stored)) {
        json_decref(stored);
        return NULL;
    }
    view = json_pack("{s:b, s:o, s:o, s:o}", "engaged",
                     json_is_true(json_object_get(stored, "engaged")), "by",
                     actor_person(json_string_at(stored, "changed_by"),
                                  json_string_at(stored, "changed_by_name")),
                     "at", page_time(json_string_at(stored, "changed_at"), time(NULL)), "changed",
                     json_boolean(json_string_at(stored, "changed_at") != NULL));
    if (view && json_string_at(stored, "reason"))
        json_object_set(view, "reason", json_object_get(stored, "reason"));
    json_decref(stored);
    return view;
}

/*
 * Adds what the template shows to each agent: the person (name and id), the effective state
 * (paused wins over the kill switch, which wins over active) with its label, who paused it
 * and when, and the last post's time.
 */
static void agents_decorate(json_t *agents, bool killswitch_on)
{
    time_t now = time(NULL);
    json_t *agent;
    size_t index;

    json_array_foreach(agents, index, agent)
    {
        bool paused = json_is_true(json_object_get(agent, "paused"));
        const char *effective = paused ? "paused" : killswitch_on ? "killswitch" : "active";
        const char *label = paused          ? "paused"
                            : killswitch_on ? "stopped by the kill switch"
                                            : "active";

        json_object_set_new(agent, "index", json_integer((json_int_t)index));
        json_object_set_new(
            agent, "person",
            page_person_json(json_string_at(agent, "name"), json_string_at(agent, "agent_id")));
        json_object_set_new(agent, "effective", json_string(effective));
        json_object_set_new(agent, "effective_label", json_string(label));
        json_object_set_new(agent, "is_active", json_boolean(!paused && !killswitch_on));
        json_object_set_new(agent, "also_killswitch", json_boolean(paused && killswitch_on));
        json_object_set_new(agent, "paused_by_person",
                            actor_person(json_string_at(agent, "paused_by"),
                                         json_string_at(agent, "paused_by_name")));
        json_object_set_new(agent, "paused_when",
                            page_time(json_string_at(agent, "paused_at"), now));
        json_object_set_new(agent, "last_post",
                            page_time(json_string_at(agent, "last_post_at"), now));
    }
}

enum MHD_Result moderation_agents_page(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct moderation_state *state =
        http_request_state(request, calloc(1, sizeof *state), moderation_state_free);
    struct refusal refusal = {ERR_INTERNAL, NULL, DB_FAILED};
    struct db_connection *db;
    json_t *agents, *killswitch, *data;
    const char *notice;

    if (!user)
        return page_reply_sign_in(request);
    if (!user->is_moderator)
        return page_reply_not_found(request);
    if (!state)
        goto fail;
    db = db_thread_connection();
    refusal.db = db ? moderation_agents(db, user->forum, &state->agents_json) : DB_UNAVAILABLE;
    if (refusal.db == DB_OK)
        refusal.db = moderation_killswitch(db, &state->killswitch_json);
    if (refusal.db != DB_OK)
        goto fail;
    killswitch = killswitch_view(state->killswitch_json);
    agents = json_loads(state->agents_json, 0, NULL);
    if (!killswitch || !json_is_array(agents)) {
        json_decref(killswitch);
        json_decref(agents);
        refusal.db = DB_FAILED;
        goto fail;
    }
    agents_decorate(agents, json_is_true(json_object_get(killswitch, "engaged")));
    data = json_pack("{s:s, s:s, s:b, s:o, s:o}", "title", "Agents", "forum", user->forum,
                     "has_agents", json_array_size(agents) > 0, "agents", agents, "killswitch",
                     killswitch);
    notice = notice_text(page_query(request, "done"));
    if (data && notice)
        json_object_set_new(data, "notice", json_string(notice));
    return page_reply(request, 200, "agents.html", data);
fail:
    return refusal_reply(request, &refusal);
}

/*
 * What every moderator form handler starts with: its state, hung on the request (*state, NULL
 * when out of memory), and the checks every form passes: same Origin, readable form (into
 * (*state)->form), a signed-in user with this session's CSRF token, a moderator. Returns the
 * user, or NULL with *refusal set.
 */
static const struct session_identity *moderator_form(struct request *request,
                                                     struct moderation_state **state_out,
                                                     struct refusal *refusal)
{
    struct moderation_state *state = *state_out =
        http_request_state(request, calloc(1, sizeof *state), moderation_state_free);
    const struct session_identity *user;

    *refusal = (struct refusal){ERR_INTERNAL, NULL, DB_OK};
    if (!state)
        return NULL;
    if (!auth_origin_valid(request)) {
        *refusal = (struct refusal){ERR_FOREIGN_ORIGIN,
                                    "This form was not sent from agentgate's own page.", DB_OK};
        return NULL;
    }
    if (!form_parse(request->body, request->body_length, &state->form)) {
        *refusal = (struct refusal){ERR_BAD_FORM, "The form could not be read.", DB_OK};
        return NULL;
    }
    user = auth_user(request);
    if (!user || !auth_csrf_valid(request, form_get(&state->form, "csrf"))) {
        *refusal = (struct refusal){ERR_CSRF_INVALID,
                                    "The form's security token is missing or stale. Reload the "
                                    "page and try again.",
                                    DB_OK};
        return NULL;
    }
    if (!user->is_moderator) {
        *refusal = (struct refusal){ERR_NOT_FOUND, NULL, DB_OK};
        return NULL;
    }
    return user;
}

/* The trimmed reason, or NULL when empty or too long. Points into the form. */
static const char *reason_of(const struct form *form)
{
    char *reason = (char *)form_get(form, "reason");

    if (!reason)
        return NULL;
    reason = text_trim(reason);
    if (!*reason || utf8_length(reason) > REASON_MAX)
        return NULL;
    return reason;
}

/* The audit actor of a signed-in user: `user:<id>`. */
static void user_actor(const struct session_identity *user, char *out, size_t size)
{
    snprintf(out, size, "user:%s", user->user_id);
}

static enum MHD_Result agent_change(struct request *request, bool pause)
{
    struct moderation_state *state;
    struct refusal refusal;
    const struct session_identity *user = moderator_form(request, &state, &refusal);
    const char *agent, *reason;
    char actor[ACTOR_BYTES];
    struct db_connection *db;
    int revoked = 0;

    if (!user)
        goto fail;
    agent = form_get(&state->form, "agent");
    reason = reason_of(&state->form);
    if (!agent || !*agent || utf8_length(agent) > AGENT_ID_MAX || !reason) {
        refusal =
            (struct refusal){ERR_REASON_REQUIRED,
                             "Name the agent and give a reason (at most 500 characters).", DB_OK};
        goto fail;
    }
    user_actor(user, actor, sizeof actor);
    db = db_thread_connection();
    refusal.db = db ? agents_set_paused(
                          db, user->forum, agent, pause, reason, actor, user->username,
                          pause && form_has_value(&state->form, "revoke_pending", "yes"), &revoked)
                    : DB_UNAVAILABLE;
    if (refusal.db != DB_OK)
        goto fail;
    log_info(request->id, "agent %s of forum %s %s by %s (%d revoked)", agent, user->forum,
             pause ? "paused" : "resumed", user->user_id, revoked);
    return http_reply_redirect(request, 303,
                               pause ? "/agents?done=paused" : "/agents?done=resumed");
fail:
    return refusal_reply(request, &refusal);
}

enum MHD_Result moderation_pause(struct request *request)
{
    return agent_change(request, true);
}

enum MHD_Result moderation_resume(struct request *request)
{
    return agent_change(request, false);
}

/*
 * POST /killswitch: state=on|off, a reason and the ticked confirmation, both ways (turning it
 * off lets every agent post again, which deserves a reason as much as stopping them). The
 * CLI's `killswitch off` keeps working without one (CONTRACT §2).
 */
enum MHD_Result moderation_killswitch_change(struct request *request)
{
    struct moderation_state *state;
    struct refusal refusal;
    const struct session_identity *user = moderator_form(request, &state, &refusal);
    const char *switch_state, *reason;
    char actor[ACTOR_BYTES];
    struct db_connection *db;
    bool engage, was = false;

    if (!user)
        goto fail;
    switch_state = form_get(&state->form, "state");
    engage = switch_state && strcmp(switch_state, "on") == 0;
    reason = reason_of(&state->form);
    if (!switch_state || (!engage && strcmp(switch_state, "off") != 0) || !reason) {
        refusal = (struct refusal){ERR_REASON_REQUIRED,
                                   engage ? "Give a reason to stop all agents."
                                          : "Give a reason to let agents post again.",
                                   DB_OK};
        goto fail;
    }
    if (!form_has_value(&state->form, "confirm", "yes")) {
        refusal = (struct refusal){ERR_CONFIRMATION_REQUIRED,
                                   "Tick the confirmation to change the kill switch.", DB_OK};
        goto fail;
    }
    user_actor(user, actor, sizeof actor);
    db = db_thread_connection();
    refusal.db = db ? agents_killswitch_set(db, engage, reason, actor, user->username, &was)
                    : DB_UNAVAILABLE;
    if (refusal.db != DB_OK)
        goto fail;
    log_warn(request->id, "kill switch turned %s by %s", engage ? "ON" : "off", user->user_id);
    return http_reply_redirect(
        request, 303, engage ? "/agents?done=killswitch-on" : "/agents?done=killswitch-off");
fail:
    return refusal_reply(request, &refusal);
}

/*
 * The ticked drafts as a PostgreSQL array literal into state->draft_ids, and their count.
 * False when one is not a draft id or there are more than BULK_MAX.
 */
static bool bulk_ids(struct moderation_state *state, size_t *count)
{
    const struct form *form = &state->form;
    size_t used = 0;

    *count = 0;
    state->draft_ids = malloc(form->count * (DRAFT_ID_LENGTH + 1) + 3);
    if (!state->draft_ids)
        return false;
    state->draft_ids[used++] = '{';
    for (size_t i = 0; i < form->count; i++) {
        if (strcmp(form->names[i], "draft") != 0)
            continue;
        if (!draft_id_valid(form->values[i]) || *count == BULK_MAX)
            return false;
        if (*count)
            state->draft_ids[used++] = ',';
        memcpy(state->draft_ids + used, form->values[i], DRAFT_ID_LENGTH);
        used += DRAFT_ID_LENGTH;
        (*count)++;
    }
    state->draft_ids[used++] = '}';
    state->draft_ids[used] = '\0';
    return true;
}

/*
 * The History address a bulk form returns to: `back` is the query string of the filters the
 * page was showing, as history_pages.c wrote it (URL-encoded); it becomes part of a Location
 * header, so only the characters such a query string holds are accepted, and one too long
 * for a Location header leads back to the unfiltered list. The outcome comes first:
 * done=rejected|revoked, changed=N, selected=M (History words the notice from them).
 */
static char *bulk_location(const char *back, bool reject, int changed, size_t selected)
{
    size_t length = back ? strlen(back) : 0, size = length + 96;
    char *location;

    if (length > BULK_BACK_MAX ||
        (back && strspn(back, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                              "opqrstuvwxyz0123456789%&=._~+-") != length))
        length = 0; /* not a History query: back to the unfiltered list */
    location = malloc(size);
    if (location)
        snprintf(location, size, "/history?done=%s&changed=%d&selected=%zu%s%.*s",
                 reject ? "rejected" : "revoked", changed, selected, length ? "&" : "", (int)length,
                 back ? back : "");
    return location;
}

enum MHD_Result moderation_bulk_action(struct request *request)
{
    struct moderation_state *state;
    struct refusal refusal;
    const struct session_identity *user = moderator_form(request, &state, &refusal);
    const char *action, *reason;
    struct db_connection *db;
    size_t count = 0;
    int changed = 0;

    if (!user)
        goto fail;
    action = form_get(&state->form, "action");
    reason = reason_of(&state->form);
    if (!action || (strcmp(action, "reject") != 0 && strcmp(action, "revoke") != 0) || !reason) {
        refusal = (struct refusal){ERR_REASON_REQUIRED,
                                   "Choose reject or revoke and give a reason. (There is no bulk "
                                   "approve: each draft is approved on its own page.)",
                                   DB_OK};
        goto fail;
    }
    if (!bulk_ids(state, &count)) {
        refusal = (struct refusal){state->draft_ids ? ERR_BAD_SELECTION : ERR_INTERNAL,
                                   "The selection names something that is not a draft.", DB_OK};
        goto fail;
    }
    if (count == 0) {
        refusal = (struct refusal){ERR_NOTHING_SELECTED, "Tick the drafts to change.", DB_OK};
        goto fail;
    }
    db = db_thread_connection();
    refusal.db = db ? moderation_bulk(db, user->forum, state->draft_ids, action, reason,
                                      user->user_id, user->username, &changed)
                    : DB_UNAVAILABLE;
    if (refusal.db != DB_OK)
        goto fail;
    log_info(request->id, "bulk %s by %s: %d of %zu draft(s) changed", action, user->user_id,
             changed, count);
    state->location = bulk_location(form_get(&state->form, "back"), strcmp(action, "reject") == 0,
                                    changed, count);
    if (!state->location)
        goto fail;
    return http_reply_redirect(request, 303, state->location);
fail:
    return refusal_reply(request, &refusal);
}
