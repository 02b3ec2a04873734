/*
 * The forum's view of a draft, signed like intake (CONTRACT §4.2, §4.3):
 *   POST /v1/forums/{forum}/drafts/{id}/decision  decide from inside the forum
 *   GET  /v1/forums/{forum}/drafts/{id}           read the current revision
 * The forum vouches for the actor by signing; who may decide is judged by
 * draft_access_for(), the same rules as the pages. A draft of another forum
 * is unknown here (404), so one forum's secret reveals nothing of another's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/drafts.h"
#include "review/draft_access.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "log.h"

static const struct agentgate_json_field decision_fields[] = {
    {"actor", AGENTGATE_JSON_OBJECT, true, 0, 0},
    {"actor.id", AGENTGATE_JSON_STRING, true, 1, 128},
    {"actor.name", AGENTGATE_JSON_STRING, true, 1, 128},
    {"decision", AGENTGATE_JSON_STRING, true, 1, 16},
    {"reason", AGENTGATE_JSON_STRING, false, 0, 2000},
    {"acknowledged_flags", AGENTGATE_JSON_STRING_ARRAY, false, 0, 128},
    {"revision", AGENTGATE_JSON_INTEGER, false, 1, 1000000},
};

/* Loads the draft if it belongs to the request's forum; NULL otherwise (and *status). */
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

static enum MHD_Result reply_missing(struct request *request, enum db_status status)
{
    if (status == DB_UNAVAILABLE)
        return http_reply_error(request, ERR_DATABASE_UNAVAILABLE, NULL, NULL);
    if (status != DB_OK)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    return http_reply_error(request, ERR_UNKNOWN_DRAFT, NULL, NULL);
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

enum MHD_Result draft_api_decide(struct request *request)
{
    struct agentgate_failure failure = {0};
    enum agentgate_error signature = forum_signature_check(request);
    struct draft_change_result result;
    struct draft_parties parties;
    struct draft_access access;
    struct draft_actor actor;
    enum db_status status;
    json_t *root = NULL, *draft = NULL;
    const char *decision, *reason, *actor_id, *actor_name;
    enum MHD_Result reply;
    int revision;

    if (signature != ERR_NONE)
        return http_reply_error(request, signature, NULL, NULL);
    if (json_request_parse(request->body, request->body_length, &root, &failure) != ERR_NONE ||
        !json_spec_check(root, decision_fields, sizeof decision_fields / sizeof decision_fields[0],
                         &failure)) {
        json_decref(root);
        return http_reply_failure(request, &failure);
    }
    decision = json_string_at(root, "decision");
    reason = json_string_at(root, "reason");
    actor_id = json_string_at(json_object_get(root, "actor"), "id");
    actor_name = json_string_at(json_object_get(root, "actor"), "name");
    revision = (int)json_integer_value(json_object_get(root, "revision"));
    if (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0) {
        reply = http_reply_error(request, ERR_INVALID_FIELD, "decision",
                                 "decision must be approve or reject");
        goto done;
    }
    draft = draft_of_forum(request, &status);
    if (!draft) {
        reply = reply_missing(request, status);
        goto done;
    }
    parties = draft_parties_from_json(draft);
    actor.forum = request->forum->name;
    actor.user_id = actor_id;
    actor.is_moderator = false;
    access = draft_access_for(&actor, &parties);
    if (!parties.pending) {
        reply = http_reply_error(request, ERR_NOT_PENDING, NULL, NULL);
        goto done;
    }
    if (!access.decide) {
        reply = http_reply_error(request, ERR_FORBIDDEN, "actor.id", NULL);
        goto done;
    }
    if (strcmp(decision, "reject") == 0 && (!reason || !*reason)) {
        reply = http_reply_error(request, ERR_MISSING_FIELD, "reason",
                                 "a reason is required to reject");
        goto done;
    }
    if (strcmp(decision, "approve") == 0 &&
        !flags_acknowledged(draft, json_object_get(root, "acknowledged_flags"))) {
        reply = http_reply_error(request, ERR_FLAGS_NOT_ACKNOWLEDGED, "acknowledged_flags", NULL);
        goto done;
    }
    {
        struct db_connection *db = db_thread_connection();
        status =
            db ? drafts_decide(
                     db, request->params[1], request->forum->name, decision, revision, actor_id,
                     actor_name, strcmp(decision, "reject") == 0 ? reason : NULL, "forum",
                     draft_needs_coapproval(request->forum, json_object_get(draft, "flags")),
                     &result)
               : DB_UNAVAILABLE;
    }
    if (status != DB_OK) {
        reply = reply_missing(request, status);
        goto done;
    }
    switch (result.outcome) {
    case DRAFT_CHANGED:
        log_info(request->id, "draft %s: %s from the forum by %s", request->params[1], decision,
                 actor_id);
        reply = http_reply_json(request, 200,
                                json_pack("{s:s, s:s, s:i}", "draft_id", request->params[1],
                                          "state", result.state, "revision", result.revision));
        break;
    case DRAFT_NOT_PENDING:
        reply = http_reply_error(request, ERR_NOT_PENDING, NULL, NULL);
        break;
    case DRAFT_REVISION_CHANGED:
        reply = http_reply_error(request, ERR_REVISION_CHANGED, "revision", NULL);
        break;
    case DRAFT_FORBIDDEN:
        reply = http_reply_error(request, ERR_FORBIDDEN, "actor.id", NULL);
        break;
    default:
        reply = http_reply_error(request, ERR_UNKNOWN_DRAFT, NULL, NULL);
        break;
    }
done:
    json_decref(draft);
    json_decref(root);
    return reply;
}

enum MHD_Result draft_api_read(struct request *request)
{
    enum agentgate_error signature = forum_signature_check(request);
    enum db_status status;
    json_t *draft, *post;
    enum MHD_Result reply;

    if (signature != ERR_NONE)
        return http_reply_error(request, signature, NULL, NULL);
    draft = draft_of_forum(request, &status);
    if (!draft)
        return reply_missing(request, status);
    post = json_pack(
        "{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "topic_id", json_object_get(draft, "topic_id"),
        "reply_to_post_id", json_object_get(draft, "reply_to_post_id"), "category",
        json_object_get(draft, "category"), "title", json_object_get(draft, "title"), "body",
        json_object_get(draft, "body"), "forum_ref", json_object_get(draft, "forum_ref"));
    reply = http_reply_json(request, 200,
                            json_pack("{s:O?, s:O?, s:O?, s:O?, s:o, s:O?, s:O?}", "draft_id",
                                      json_object_get(draft, "id"), "state",
                                      json_object_get(draft, "state"), "revision",
                                      json_object_get(draft, "revision"), "flags",
                                      json_object_get(draft, "flags"), "post", post, "post_id",
                                      json_object_get(draft, "post_id"), "post_url",
                                      json_object_get(draft, "post_url")));
    json_decref(draft);
    return reply;
}
