/*
 * The forum's view of a draft, signed like intake (CONTRACT §4.2, §4.3):
 *   POST /v1/forums/{forum}/drafts/{id}/decision  decide from inside the forum
 *   GET  /v1/forums/{forum}/drafts/{id}           read the current revision
 * The forum vouches for the actor by signing; who may decide is judged by
 * draft_access_for(), the same rules as the pages. A draft of another forum
 * is unknown here (404), so one forum's secret reveals nothing of another's.
 *
 * A captured request acts on nothing else: a decision's body names its draft
 * (draft_id, 400 when it is not the path's) and its webhook-id is single use
 * (the same id again gets the first answer, remembered in the database; only
 * answers worth retrying, 423 and 5xx, are not remembered); a read's signature
 * covers its method and path. Handler state hangs on the request
 * (http_request_state); error paths free nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/drafts.h"
#include "log.h"
#include "review/draft_access.h"
#include "web/handlers.h"
#include "web/json_spec.h"

static const struct agentgate_json_field decision_fields[] = {
    {"draft_id", AGENTGATE_JSON_STRING, true, 1, 64},
    {"actor", AGENTGATE_JSON_OBJECT, true, 0, 0},
    {"actor.id", AGENTGATE_JSON_STRING, true, 1, 128},
    {"actor.name", AGENTGATE_JSON_STRING, true, 1, 128},
    {"decision", AGENTGATE_JSON_STRING, true, 1, 16},
    {"reason", AGENTGATE_JSON_STRING, false, 0, 2000},
    {"acknowledged_flags", AGENTGATE_JSON_STRING_ARRAY, false, 0, 128},
    {"revision", AGENTGATE_JSON_INTEGER, false, 1, 1000000},
};

/* What one forum request allocates, freed once when it completes. */
struct draft_api_state {
    json_t *root;  /* the decision's body */
    json_t *draft; /* the draft, loaded */
    struct draft_forum_answer answer;
};

static void draft_api_state_free(void *data)
{
    struct draft_api_state *state = data;
    json_decref(state->root);
    json_decref(state->draft);
    free(state->answer.response);
    free(state);
}

/* Loads the draft if it belongs to the request's forum; NULL otherwise (and *status). The
 * reference is the caller's. */
static json_t *draft_of_forum(struct request *request, enum db_status *status)
{
    struct db_connection *db = db_thread_connection();
    char *text = NULL;
    json_t *draft;

    *status = DB_OK;
    if (!draft_id_valid(request->params[1]))
        return NULL;
    if (!db) {
        *status = DB_UNAVAILABLE;
        return NULL;
    }
    *status = drafts_load(db, request->params[1], &text);
    if (*status != DB_OK || !text)
        return NULL;
    draft = json_loads(text, 0, NULL);
    free(text);
    if (!draft) {
        *status = DB_FAILED;
        return NULL;
    }
    if (!json_string_at(draft, "forum") ||
        strcmp(json_string_at(draft, "forum"), request->forum->name)) {
        json_decref(draft);
        return NULL;
    }
    return draft;
}

static enum agentgate_error missing_error(enum db_status status)
{
    return status == DB_OK ? ERR_UNKNOWN_DRAFT : error_from_db_status(status);
}

/* Every flag code of the draft appears in `acknowledged`. */
static bool flags_acknowledged(const json_t *draft, const json_t *acknowledged)
{
    const json_t *flag, *code;
    size_t index, seen;

    json_array_foreach(json_object_get(draft, "flags"), index, flag)
    {
        bool found = false;
        json_array_foreach((json_t *)acknowledged, seen, code)
        {
            if (json_is_string(code) && json_string_at(flag, "code") &&
                strcmp(json_string_value(code), json_string_at(flag, "code")) == 0)
                found = true;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Sends a stored (or just made) forum answer. */
static enum MHD_Result answer_send(struct request *request, const struct draft_forum_answer *answer)
{
    if (answer->response)
        return http_reply_text(request, answer->status, "application/json", answer->response,
                               strlen(answer->response));
    return http_reply_error(request, error_from_code(answer->error_code), answer->error_field,
                            answer->error_message[0] ? answer->error_message : NULL);
}

/*
 * Answers a decision with `error`, remembered as the answer to its webhook-id unless that is
 * worth retrying (423: agents stopped, 5xx). A request with the same id answered first wins:
 * its answer is sent instead.
 */
static enum MHD_Result decision_refuse(struct request *request, struct draft_api_state *state,
                                       enum agentgate_error error, const char *field,
                                       const char *message)
{
    struct draft_forum_answer *answer = &state->answer;
    unsigned http_status = error_http_status(error);
    struct db_connection *db;
    enum db_status status;

    if (http_status == 423 || http_status >= 500)
        return http_reply_error(request, error, field, message);
    answer->status = http_status;
    snprintf(answer->error_code, sizeof answer->error_code, "%s", error_code(error));
    snprintf(answer->error_field, sizeof answer->error_field, "%s", field ? field : "");
    snprintf(answer->error_message, sizeof answer->error_message, "%s",
             message ? message : error_message(error));
    db = db_thread_connection();
    status =
        db ? drafts_decision_remember(db, request->forum->name, http_header(request, "webhook-id"),
                                      request->params[1], answer)
           : DB_UNAVAILABLE;
    if (status != DB_OK)
        return http_reply_error(request, error_from_db_status(status), NULL, NULL);
    return answer_send(request, answer);
}

/* The checks that need only the body and the draft: NULL-free ERR_NONE when it may go on. */
static enum agentgate_error decision_check(struct request *request,
                                           const struct draft_api_state *state, const char **field,
                                           const char **message)
{
    const json_t *root = state->root;
    const char *decision = json_string_at(root, "decision");
    const char *reason = json_string_at(root, "reason");
    struct draft_parties parties = draft_parties_from_json(state->draft);
    struct draft_actor actor = {request->forum->name,
                                json_string_at(json_object_get(root, "actor"), "id"), false};
    struct draft_access access = draft_access_for(&actor, &parties);

    *field = NULL;
    *message = NULL;
    if (!parties.pending)
        return ERR_NOT_PENDING;
    if (!access.decide) {
        *field = "actor.id";
        return ERR_FORBIDDEN;
    }
    if (strcmp(decision, "reject") == 0 && (!reason || !*reason)) {
        *field = "reason";
        *message = "a reason is required to reject";
        return ERR_MISSING_FIELD;
    }
    if (strcmp(decision, "approve") == 0 &&
        !flags_acknowledged(state->draft, json_object_get(root, "acknowledged_flags"))) {
        *field = "acknowledged_flags";
        return ERR_FLAGS_NOT_ACKNOWLEDGED;
    }
    return ERR_NONE;
}

/* Decides once per webhook-id and answers. */
static enum MHD_Result decision_apply(struct request *request, struct draft_api_state *state)
{
    struct db_connection *db = db_thread_connection();
    const json_t *root = state->root;
    const json_t *actor = json_object_get(root, "actor");
    const char *decision = json_string_at(root, "decision");
    struct draft_change_result result;
    enum db_status status;

    status =
        db ? drafts_decide_once(
                 db, request->forum->name, http_header(request, "webhook-id"), request->params[1],
                 decision, (int)json_integer_value(json_object_get(root, "revision")),
                 json_string_at(actor, "id"), json_string_at(actor, "name"),
                 strcmp(decision, "reject") == 0 ? json_string_at(root, "reason") : NULL,
                 draft_needs_coapproval(request->forum, json_object_get(state->draft, "flags")),
                 &result, &state->answer)
           : DB_UNAVAILABLE;
    if (status != DB_OK)
        return http_reply_error(request, missing_error(status), NULL, NULL);
    switch (result.outcome) {
    case DRAFT_CHANGED:
        log_info(request->id, "draft %s: %s from the forum by %s", request->params[1], decision,
                 json_string_at(actor, "id"));
        return answer_send(request, &state->answer);
    case DRAFT_REPLAYED:
        log_info(request->id, "draft %s: decision webhook-id seen before, first answer repeated",
                 request->params[1]);
        return answer_send(request, &state->answer);
    case DRAFT_KILL_SWITCH_ON:
        return http_reply_error(request, ERR_KILL_SWITCH_ON, NULL, NULL);
    case DRAFT_AGENT_PAUSED:
        return http_reply_error(request, ERR_AGENT_PAUSED, NULL, NULL);
    case DRAFT_NOT_PENDING:
        return decision_refuse(request, state, ERR_NOT_PENDING, NULL, NULL);
    case DRAFT_REVISION_CHANGED:
        return decision_refuse(request, state, ERR_REVISION_CHANGED, "revision", NULL);
    case DRAFT_FORBIDDEN:
        return decision_refuse(request, state, ERR_FORBIDDEN, "actor.id", NULL);
    default:
        return decision_refuse(request, state, ERR_UNKNOWN_DRAFT, NULL, NULL);
    }
}

enum MHD_Result draft_api_decide(struct request *request)
{
    struct draft_api_state *state =
        http_request_state(request, calloc(1, sizeof *state), draft_api_state_free);
    struct agentgate_failure failure = {0};
    enum agentgate_error error;
    enum db_status status;
    const char *field, *message, *decision;

    if (!state)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    error = forum_signature_check(request);
    if (error != ERR_NONE)
        return http_reply_error(request, error, NULL, NULL);
    if (!forum_webhook_id_valid(http_header(request, "webhook-id")))
        return http_reply_error(request, ERR_INVALID_WEBHOOK_ID, "webhook-id", NULL);
    if (json_request_parse(request->body, request->body_length, &state->root, &failure) !=
            ERR_NONE ||
        !json_spec_check(state->root, decision_fields,
                         sizeof decision_fields / sizeof decision_fields[0], &failure))
        return decision_refuse(request, state, error_from_code(failure.code), failure.field,
                               failure.message);
    if (strcmp(json_string_at(state->root, "draft_id"), request->params[1]) != 0)
        return decision_refuse(request, state, ERR_INVALID_FIELD, "draft_id",
                               "draft_id must be the draft the path names");
    decision = json_string_at(state->root, "decision");
    if (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)
        return decision_refuse(request, state, ERR_INVALID_FIELD, "decision",
                               "decision must be approve or reject");
    state->draft = draft_of_forum(request, &status);
    if (!state->draft)
        return status == DB_OK ? decision_refuse(request, state, ERR_UNKNOWN_DRAFT, NULL, NULL)
                               : http_reply_error(request, missing_error(status), NULL, NULL);
    error = decision_check(request, state, &field, &message);
    if (error != ERR_NONE)
        return decision_refuse(request, state, error, field, message);
    return decision_apply(request, state);
}

enum MHD_Result draft_api_read(struct request *request)
{
    struct draft_api_state *state =
        http_request_state(request, calloc(1, sizeof *state), draft_api_state_free);
    enum agentgate_error signature;
    enum db_status status;
    const json_t *draft;
    json_t *post;

    if (!state)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    signature = forum_signature_check_read(request);
    if (signature != ERR_NONE)
        return http_reply_error(request, signature, NULL, NULL);
    state->draft = draft_of_forum(request, &status);
    if (!state->draft)
        return http_reply_error(request, missing_error(status), NULL, NULL);
    draft = state->draft;
    post = json_pack(
        "{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "topic_id",
        json_object_get(draft, "topic_id"), "reply_to_post_id",
        json_object_get(draft, "reply_to_post_id"), "topic_title",
        json_object_get(draft, "topic_title"), "topic_url", json_object_get(draft, "topic_url"),
        "category", json_object_get(draft, "category"), "title", json_object_get(draft, "title"),
        "body", json_object_get(draft, "body"), "forum_ref", json_object_get(draft, "forum_ref"));
    return http_reply_json(request, 200,
                           json_pack("{s:O?, s:O?, s:O?, s:O?, s:o, s:O?, s:O?}", "draft_id",
                                     json_object_get(draft, "id"), "state",
                                     json_object_get(draft, "state"), "revision",
                                     json_object_get(draft, "revision"), "flags",
                                     json_object_get(draft, "flags"), "post", post, "post_id",
                                     json_object_get(draft, "post_id"), "post_url",
                                     json_object_get(draft, "post_url")));
}
