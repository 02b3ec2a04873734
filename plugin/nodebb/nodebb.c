/*
 * The nodebb forum adapter: intake is the §4.1 body (as generic), and an approved draft is
 * published through NodeBB's write API v3 as the agent's account (CONTRACT §5), not through a
 * webhook. Based on NodeBB's OpenAPI description of the write API (public/openapi/write.yaml of
 * NodeBB/NodeBB: write/topics.yaml "create a new topic", write/topics/tid.yaml "reply to a
 * topic", components/schemas/Status.yaml) and on its authentication middleware: a master token
 * acts as the user named by `_uid` in the request body; a user token ignores `_uid`.
 *
 * The one request it makes, for draft.approved (forum_url without trailing slashes):
 *
 *   a reply:      POST {forum_url}/api/v3/topics/{topic_id}
 *                 {"content": body, "_uid": 42, "toPid": 88120}   (toPid only when the draft
 *                 names reply_to_post_id: an integer when all digits, else the string)
 *   a new topic:  POST {forum_url}/api/v3/topics
 *                 {"cid": 7, "title": title, "content": body, "_uid": 42}
 *                 (cid an integer when the category is all digits, else the string)
 *
 *   Authorization: Bearer {release_api_key}
 *   Content-Type: application/json               (set by agentgate)
 *
 * `_uid` is the agent's id, a NodeBB user id (a number). topic_id goes into the URL path and must
 * be all digits (see nodebb_prepare_release).
 *
 * NodeBB answers {"status": {"code": "ok", "message": "OK"}, "response": {...}}: for a reply the
 * post ({"pid", "tid", ...}), for a new topic the topic ({"tid", "mainPid", "slug", ...,
 * "mainPost": {"pid", ...}}). post_id = that pid, post_url = {forum_url}/post/{pid}. A post that
 * went to NodeBB's post queue instead is answered {"status": {"code": "accepted"}, ...} (202,
 * new topics) or {"response": {"queued": true, ...}} (replies): not published, and
 * read_release_answer says so (false).
 *
 * Every other event (rejected, revoked, expired, expiring) goes to release_url as the signed
 * webhook when one is set, and is skipped otherwise.
 */
#include "../shared/plugin_shared.h"

#include <stdio.h>
#include <string.h>

/* An id as NodeBB types it: a JSON number when it is all digits (and exact in a JavaScript
 * number), else the string. */
static json_t *id_value(const char *text)
{
    return agentgate_shared_id_value(text, 15);
}

/* What of an approved draft's event a NodeBB post needs. */
struct nodebb_post {
    const char *agent_id;
    struct agentgate_shared_post post;
};

/* Reads the event's post; false with `failure` filled when NodeBB could not take it. */
static bool nodebb_post_read(const struct agentgate_event *event, struct nodebb_post *nodebb,
                             struct agentgate_failure *failure)
{
    const struct agentgate_shared_post *post = &nodebb->post;

    nodebb->agent_id = agentgate_shared_string(
        json_object_get(json_object_get(event->payload, "data"), "agent"), "id");
    /*
     * `_uid` picks the account a master token posts as; NodeBB reads it with parseInt, so an
     * id that is not a number would post as nobody. Refuse it here instead.
     */
    if (!agentgate_shared_all_digits(nodebb->agent_id) || strlen(nodebb->agent_id) > 15) {
        agentgate_shared_fail(failure, "invalid_event", "agent.id",
                              "the agent's id must be its NodeBB user id (a number) for _uid");
        return false;
    }
    /*
     * The topic id becomes a path segment. Only plain digits are let through: anything else
     * ("../users/1", "5?x=", "%2e%2e") could point the request, with the agent's credentials,
     * at another API route (path injection). NodeBB tids are numbers anyway.
     */
    if (!agentgate_shared_post_read(event, &nodebb->post,
                                    "NodeBB topic ids are numbers; refusing to put this one in "
                                    "the URL path",
                                    failure))
        return false;
    if (!post->topic_id && (!post->category || !*post->category)) {
        agentgate_shared_fail(failure, "invalid_event", "post.category",
                              "a new NodeBB topic needs a category (cid)");
        return false;
    }
    if (!post->topic_id && (!post->title || !*post->title)) {
        agentgate_shared_fail(failure, "invalid_event", "post.title", "a new topic needs a title");
        return false;
    }
    return true;
}

/* The request body: a reply to topic_id, or a new topic in the category. */
static json_t *nodebb_post_json(const struct nodebb_post *nodebb)
{
    const struct agentgate_shared_post *post = &nodebb->post;
    json_t *json = json_object();

    if (post->topic_id) {
        json_object_set_new(json, "content", json_string(post->body));
        json_object_set_new(json, "_uid", id_value(nodebb->agent_id));
        if (post->reply_to && *post->reply_to)
            json_object_set_new(json, "toPid", id_value(post->reply_to));
    } else {
        json_object_set_new(json, "cid", id_value(post->category));
        json_object_set_new(json, "title", json_string(post->title));
        json_object_set_new(json, "content", json_string(post->body));
        json_object_set_new(json, "_uid", id_value(nodebb->agent_id));
    }
    return json;
}

/* Authorization: Bearer {release_api_key}; false (header_too_long) when it does not fit. */
static bool nodebb_authorize(struct agentgate_http_request *request,
                             const struct agentgate_forum_settings *forum,
                             struct agentgate_failure *failure)
{
    char authorization[sizeof request->headers[0][1] + 1];
    int written =
        snprintf(authorization, sizeof authorization, "Bearer %s", forum->release_api_key);

    if (written < 0 || (size_t)written >= sizeof authorization ||
        !agentgate_shared_add_header(request, "Authorization", authorization, failure)) {
        agentgate_shared_fail(failure, "header_too_long", "",
                              "forum %s: release_api_key is too long", forum->name);
        return false;
    }
    return true;
}

static enum agentgate_release_route
nodebb_prepare_release(const struct agentgate_host *host,
                       const struct agentgate_forum_settings *forum,
                       const struct agentgate_event *event, struct agentgate_http_request *request,
                       struct agentgate_failure *failure)
{
    struct nodebb_post nodebb;
    char base[sizeof request->url];
    bool url_set;
    (void)host;

    if (!agentgate_shared_approved(event))
        return forum->release_url ? AGENTGATE_RELEASE_WEBHOOK : AGENTGATE_RELEASE_SKIP;
    if (!agentgate_shared_api_base(forum, "NodeBB", base, sizeof base, failure) ||
        !nodebb_post_read(event, &nodebb, failure))
        return AGENTGATE_RELEASE_ERROR;
    url_set = nodebb.post.topic_id
                  ? agentgate_shared_set_url(request, forum, failure, "%s/api/v3/topics/%s", base,
                                             nodebb.post.topic_id)
                  : agentgate_shared_set_url(request, forum, failure, "%s/api/v3/topics", base);
    if (!url_set)
        return AGENTGATE_RELEASE_ERROR;
    snprintf(request->method, sizeof request->method, "POST");
    request->header_count = 0;
    if (!nodebb_authorize(request, forum, failure))
        return AGENTGATE_RELEASE_ERROR;
    request->body = nodebb_post_json(&nodebb);
    return AGENTGATE_RELEASE_REQUEST;
}

/* A pid of the answer as text: a non-negative integer, or a string (kept as given). */
static bool answer_pid(const json_t *value, char *out, size_t size)
{
    int written;

    if (json_is_integer(value) && json_integer_value(value) >= 0)
        written = snprintf(out, size, "%lld", (long long)json_integer_value(value));
    else if (json_is_string(value) && *json_string_value(value))
        written = snprintf(out, size, "%s", json_string_value(value));
    else
        return false;
    return written > 0 && (size_t)written < size;
}

static bool nodebb_read_release_answer(const struct agentgate_forum_settings *forum,
                                       const struct agentgate_event *event, long status,
                                       const char *body, size_t body_length, char *post_id,
                                       size_t post_id_size, char *post_url, size_t post_url_size)
{
    const json_t *response, *post;
    const char *code;
    char pid[256], base[2048];
    json_t *answer;
    bool reply, found = false;
    int written;

    /* Events other than draft.approved went to release_url as the generic webhook. */
    if (!agentgate_shared_approved(event))
        return agentgate_shared_read_answer(forum, event, status, body, body_length, post_id,
                                            post_id_size, post_url, post_url_size);

    answer = agentgate_shared_answer_object(body, body_length, post_id, post_id_size, post_url,
                                            post_url_size);
    if (!answer)
        return true; /* a 2xx without a readable answer: published, id unknown */

    code = agentgate_shared_string(json_object_get(answer, "status"), "code");
    response = json_object_get(answer, "response");
    if ((code && strcmp(code, "ok") != 0) || json_is_true(json_object_get(response, "queued"))) {
        /* an error, or "accepted"/queued: the post waits in NodeBB's post queue */
        json_decref(answer);
        return false;
    }

    post = json_object_get(json_object_get(event->payload, "data"), "post");
    reply = agentgate_shared_string(post, "topic_id") != NULL;
    if (reply) {
        found = answer_pid(json_object_get(response, "pid"), pid, sizeof pid);
    } else {
        found = answer_pid(json_object_get(response, "mainPid"), pid, sizeof pid) ||
                answer_pid(json_object_get(json_object_get(response, "mainPost"), "pid"), pid,
                           sizeof pid) ||
                answer_pid(json_object_get(response, "pid"), pid, sizeof pid);
    }
    if (found) {
        written = post_id_size ? snprintf(post_id, post_id_size, "%s", pid) : -1;
        if (post_id_size && (written < 0 || (size_t)written >= post_id_size))
            post_id[0] = '\0';
        /* Only a numeric pid names a local post that /post/{pid} can show. */
        if (post_url_size && agentgate_shared_all_digits(pid) &&
            agentgate_shared_base_url(forum->forum_url, base, sizeof base)) {
            written = snprintf(post_url, post_url_size, "%s/post/%s", base, pid);
            if (written < 0 || (size_t)written >= post_url_size)
                post_url[0] = '\0'; /* never hand on a cut URL */
        }
    }
    json_decref(answer);
    return true;
}

static const struct agentgate_plugin nodebb_plugin = {
    .abi_version = AGENTGATE_PLUGIN_ABI_VERSION,
    .name = "nodebb",
    .decode_intake = agentgate_shared_decode_intake,
    .prepare_release = nodebb_prepare_release,
    .read_release_answer = nodebb_read_release_answer,
};

__attribute__((visibility("default"))) const struct agentgate_plugin *agentgate_plugin_entry(void);

const struct agentgate_plugin *agentgate_plugin_entry(void)
{
    return &nodebb_plugin;
}
