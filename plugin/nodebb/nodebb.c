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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODEBB_APPROVED "draft.approved"

static void nodebb_fail(struct agentgate_failure *failure, const char *code, const char *field,
                        const char *format, ...) __attribute__((format(printf, 4, 5)));

static void nodebb_fail(struct agentgate_failure *failure, const char *code, const char *field,
                        const char *format, ...)
{
    va_list args;

    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->field, sizeof failure->field, "%s", field);
    va_start(args, format);
    vsnprintf(failure->message, sizeof failure->message, format, args);
    va_end(args);
}

/* An id as NodeBB types it: a JSON number when it is all digits (and fits), else the string. */
static json_t *id_value(const char *text)
{
    if (agentgate_shared_all_digits(text) && strlen(text) <= 15) /* exact in a JavaScript number */
        return json_integer(strtoll(text, NULL, 10));
    return json_string(text);
}

static bool add_header(struct agentgate_http_request *request, const char *name, const char *value,
                       struct agentgate_failure *failure)
{
    int written;

    if (request->header_count >= AGENTGATE_HTTP_HEADERS_MAX) {
        nodebb_fail(failure, "too_many_headers", "", "no room for the %s header", name);
        return false;
    }
    snprintf(request->headers[request->header_count][0], sizeof request->headers[0][0], "%s", name);
    written = snprintf(request->headers[request->header_count][1], sizeof request->headers[0][1],
                       "%s", value);
    if (written < 0 || (size_t)written >= sizeof request->headers[0][1]) {
        nodebb_fail(failure, "header_too_long", "", "the %s header value is too long", name);
        return false;
    }
    request->header_count++;
    return true;
}

static enum agentgate_release_route
nodebb_prepare_release(const struct agentgate_host *host,
                       const struct agentgate_forum_settings *forum,
                       const struct agentgate_event *event, struct agentgate_http_request *request,
                       struct agentgate_failure *failure)
{
    const json_t *data, *post;
    const char *agent_id, *topic_id, *reply_to, *category, *title, *body;
    char base[sizeof request->url];
    json_t *json;
    int written;
    (void)host;

    if (!event->type || strcmp(event->type, NODEBB_APPROVED) != 0)
        return forum->release_url ? AGENTGATE_RELEASE_WEBHOOK : AGENTGATE_RELEASE_SKIP;

    if (!forum->forum_url || !*forum->forum_url) {
        nodebb_fail(failure, "no_forum_url", "", "forum %s has no forum_url to publish to NodeBB",
                    forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!forum->release_api_key || !*forum->release_api_key) {
        nodebb_fail(failure, "no_release_api_key", "",
                    "forum %s has no release_api_key (a NodeBB API token)", forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!agentgate_shared_header_value_safe(forum->release_api_key)) {
        nodebb_fail(failure, "invalid_release_api_key", "",
                    "forum %s: release_api_key has control characters", forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!agentgate_shared_base_url(forum->forum_url, base, sizeof base)) {
        nodebb_fail(failure, "invalid_forum_url", "",
                    "forum %s: forum_url is not an absolute http(s) URL without query",
                    forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }

    data = json_object_get(event->payload, "data");
    post = json_object_get(data, "post");
    agent_id = agentgate_shared_string(json_object_get(data, "agent"), "id");
    topic_id = agentgate_shared_string(post, "topic_id");
    reply_to = agentgate_shared_string(post, "reply_to_post_id");
    category = agentgate_shared_string(post, "category");
    title = agentgate_shared_string(post, "title");
    body = agentgate_shared_string(post, "body");
    /*
     * `_uid` picks the account a master token posts as; NodeBB reads it with parseInt, so an
     * id that is not a number would post as nobody. Refuse it here instead.
     */
    if (!agentgate_shared_all_digits(agent_id) || strlen(agent_id) > 15) {
        nodebb_fail(failure, "invalid_event", "agent.id",
                    "the agent's id must be its NodeBB user id (a number) for _uid");
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!body || !*body) {
        nodebb_fail(failure, "invalid_event", "post.body", "the event has no post body");
        return AGENTGATE_RELEASE_ERROR;
    }

    json = json_object();
    if (topic_id) {
        /*
         * The topic id becomes a path segment. Only plain digits are let through: anything
         * else ("../users/1", "5?x=", "%2e%2e") could point the request, with the agent's
         * credentials, at another API route (path injection). NodeBB tids are numbers anyway.
         */
        if (!agentgate_shared_all_digits(topic_id)) {
            json_decref(json);
            nodebb_fail(failure, "invalid_topic_id", "post.topic_id",
                        "NodeBB topic ids are numbers; refusing to put this one in the URL path");
            return AGENTGATE_RELEASE_ERROR;
        }
        written =
            snprintf(request->url, sizeof request->url, "%s/api/v3/topics/%s", base, topic_id);
        json_object_set_new(json, "content", json_string(body));
        json_object_set_new(json, "_uid", id_value(agent_id));
        if (reply_to && *reply_to)
            json_object_set_new(json, "toPid", id_value(reply_to));
    } else {
        if (!category || !*category) {
            json_decref(json);
            nodebb_fail(failure, "invalid_event", "post.category",
                        "a new NodeBB topic needs a category (cid)");
            return AGENTGATE_RELEASE_ERROR;
        }
        if (!title || !*title) {
            json_decref(json);
            nodebb_fail(failure, "invalid_event", "post.title", "a new topic needs a title");
            return AGENTGATE_RELEASE_ERROR;
        }
        written = snprintf(request->url, sizeof request->url, "%s/api/v3/topics", base);
        json_object_set_new(json, "cid", id_value(category));
        json_object_set_new(json, "title", json_string(title));
        json_object_set_new(json, "content", json_string(body));
        json_object_set_new(json, "_uid", id_value(agent_id));
    }
    if (written < 0 || (size_t)written >= sizeof request->url) {
        json_decref(json);
        nodebb_fail(failure, "url_too_long", "", "forum %s: the API URL does not fit", forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }

    snprintf(request->method, sizeof request->method, "POST");
    request->header_count = 0;
    {
        char authorization[sizeof request->headers[0][1] + 1];

        written =
            snprintf(authorization, sizeof authorization, "Bearer %s", forum->release_api_key);
        if (written < 0 || (size_t)written >= sizeof authorization ||
            !add_header(request, "Authorization", authorization, failure)) {
            json_decref(json);
            nodebb_fail(failure, "header_too_long", "", "forum %s: release_api_key is too long",
                        forum->name);
            return AGENTGATE_RELEASE_ERROR;
        }
    }
    request->body = json;
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
    if (!event || !event->type || strcmp(event->type, NODEBB_APPROVED) != 0)
        return agentgate_shared_read_answer(forum, event, status, body, body_length, post_id,
                                            post_id_size, post_url, post_url_size);

    if (post_id_size)
        post_id[0] = '\0';
    if (post_url_size)
        post_url[0] = '\0';
    answer = body && body_length ? json_loadb(body, body_length, 0, NULL) : NULL;
    if (!json_is_object(answer)) {
        json_decref(answer);
        return true; /* a 2xx without a readable answer: published, id unknown */
    }

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
