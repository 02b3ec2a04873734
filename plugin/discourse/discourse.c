/*
 * The discourse forum adapter: intake is the §4.1 body (as generic), and an approved draft is
 * published through Discourse's own API as the agent's account (CONTRACT §5), not through a
 * webhook. Based on the Discourse API documentation (docs.discourse.org, "Creates a new topic, a
 * new post, or a private message", operationId createTopicPostPM; request schema
 * spec/requests/api/schemas/json/topic_create_request.json and answer schema
 * topic_create_response.json of discourse/discourse).
 *
 * The one request it makes, for draft.approved:
 *
 *   POST {forum_url}/posts.json                  (trailing slashes of forum_url stripped)
 *   Api-Key: {release_api_key}
 *   Api-Username: {agent.name}                   (Discourse acts as this user)
 *   Content-Type: application/json               (set by agentgate)
 *
 *   a reply:      {"raw": body, "topic_id": 5531}
 *   a new topic:  {"title": title, "raw": body, "category": 7}
 *                 ("category" is an integer when the category is all digits, else the string as
 *                 given; omitted when the draft names none, Discourse then uses its default)
 *
 * Discourse answers 200 with the created post: {"id", "topic_id", "topic_slug", "post_number",
 * "raw", "username", ...}. post_id = id, post_url = {forum_url}/t/{topic_slug}/{topic_id}/
 * {post_number} ({forum_url}/p/{id} when slug or numbers are missing). When the post went to
 * Discourse's review queue instead, the answer is {"action": "enqueued", "pending_post": ...}:
 * the post is not published, and read_release_answer says so (false).
 *
 * Every other event (rejected, revoked, expired, expiring) goes to release_url as the signed
 * webhook when one is set, and is skipped otherwise.
 */
#include "../shared/plugin_shared.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCOURSE_APPROVED "draft.approved"

static void discourse_fail(struct agentgate_failure *failure, const char *code, const char *field,
                           const char *format, ...) __attribute__((format(printf, 4, 5)));

static void discourse_fail(struct agentgate_failure *failure, const char *code, const char *field,
                           const char *format, ...)
{
    va_list args;

    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->field, sizeof failure->field, "%s", field);
    va_start(args, format);
    vsnprintf(failure->message, sizeof failure->message, format, args);
    va_end(args);
}

/* An id as Discourse types it: a JSON integer when it is all digits (and fits), else the string. */
static json_t *id_value(const char *text)
{
    if (agentgate_shared_all_digits(text) && strlen(text) <= 18)
        return json_integer(strtoll(text, NULL, 10));
    return json_string(text);
}

static bool add_header(struct agentgate_http_request *request, const char *name, const char *value,
                       struct agentgate_failure *failure)
{
    int written;

    if (!agentgate_shared_header_value_safe(value)) {
        discourse_fail(failure, "invalid_header_value", "",
                       "the %s header value has control characters", name);
        return false;
    }
    if (request->header_count >= AGENTGATE_HTTP_HEADERS_MAX) {
        discourse_fail(failure, "too_many_headers", "", "no room for the %s header", name);
        return false;
    }
    snprintf(request->headers[request->header_count][0], sizeof request->headers[0][0], "%s", name);
    written = snprintf(request->headers[request->header_count][1], sizeof request->headers[0][1],
                       "%s", value);
    if (written < 0 || (size_t)written >= sizeof request->headers[0][1]) {
        discourse_fail(failure, "header_too_long", "", "the %s header value is too long", name);
        return false;
    }
    request->header_count++;
    return true;
}

static enum agentgate_release_route
discourse_prepare_release(const struct agentgate_host *host,
                          const struct agentgate_forum_settings *forum,
                          const struct agentgate_event *event,
                          struct agentgate_http_request *request, struct agentgate_failure *failure)
{
    const json_t *data, *post;
    const char *agent_name, *topic_id, *category, *title, *body;
    char base[sizeof request->url];
    json_t *json;
    int written;
    (void)host;

    if (!event->type || strcmp(event->type, DISCOURSE_APPROVED) != 0)
        return forum->release_url ? AGENTGATE_RELEASE_WEBHOOK : AGENTGATE_RELEASE_SKIP;

    if (!forum->forum_url || !*forum->forum_url) {
        discourse_fail(failure, "no_forum_url", "",
                       "forum %s has no forum_url to publish to Discourse", forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!forum->release_api_key || !*forum->release_api_key) {
        discourse_fail(failure, "no_release_api_key", "",
                       "forum %s has no release_api_key for the Discourse API", forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!agentgate_shared_base_url(forum->forum_url, base, sizeof base)) {
        discourse_fail(failure, "invalid_forum_url", "",
                       "forum %s: forum_url is not an absolute http(s) URL without query",
                       forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }

    data = json_object_get(event->payload, "data");
    post = json_object_get(data, "post");
    agent_name = agentgate_shared_string(json_object_get(data, "agent"), "name");
    topic_id = agentgate_shared_string(post, "topic_id");
    category = agentgate_shared_string(post, "category");
    title = agentgate_shared_string(post, "title");
    body = agentgate_shared_string(post, "body");
    if (!agent_name || !*agent_name) {
        discourse_fail(failure, "invalid_event", "agent.name",
                       "the event names no agent to post as (Api-Username)");
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!body || !*body) {
        discourse_fail(failure, "invalid_event", "post.body", "the event has no post body");
        return AGENTGATE_RELEASE_ERROR;
    }
    /*
     * Discourse topic ids are integers ("topic_id": integer in the API schema). The id travels
     * in the JSON body, so it cannot inject anything into the URL, but a non-numeric one can
     * never succeed: refuse it now rather than retry a doomed request for a day.
     */
    if (topic_id && !agentgate_shared_all_digits(topic_id)) {
        discourse_fail(failure, "invalid_topic_id", "post.topic_id",
                       "Discourse topic ids are numbers; this one is not");
        return AGENTGATE_RELEASE_ERROR;
    }
    if (!topic_id && (!title || !*title)) {
        discourse_fail(failure, "invalid_event", "post.title", "a new topic needs a title");
        return AGENTGATE_RELEASE_ERROR;
    }

    written = snprintf(request->url, sizeof request->url, "%s/posts.json", base);
    if (written < 0 || (size_t)written >= sizeof request->url) {
        discourse_fail(failure, "url_too_long", "", "forum %s: the API URL does not fit",
                       forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    snprintf(request->method, sizeof request->method, "POST");
    request->header_count = 0;
    if (!add_header(request, "Api-Key", forum->release_api_key, failure) ||
        !add_header(request, "Api-Username", agent_name, failure))
        return AGENTGATE_RELEASE_ERROR;

    /*
     * A reply names its topic only. The draft's reply_to_post_id is deliberately not sent:
     * Discourse threads a reply with "reply_to_post_number", the post's position inside the
     * topic (1, 2, 3...), not its id, and the documented request schema does not even list
     * that field any more. Sending the id there would thread the reply under the wrong post;
     * the reply still lands in the right topic without it.
     */
    json = json_object();
    if (topic_id) {
        json_object_set_new(json, "raw", json_string(body));
        json_object_set_new(json, "topic_id", id_value(topic_id));
    } else {
        json_object_set_new(json, "title", json_string(title));
        json_object_set_new(json, "raw", json_string(body));
        if (category && *category)
            json_object_set_new(json, "category", id_value(category));
    }
    request->body = json;
    return AGENTGATE_RELEASE_REQUEST;
}

/* A non-negative id or number of the answer as text (an integer, or a string of digits). */
static bool answer_number(const json_t *object, const char *key, char *out, size_t size)
{
    const json_t *value = json_object_get(object, key);
    int written;

    if (json_is_integer(value) && json_integer_value(value) >= 0)
        written = snprintf(out, size, "%lld", (long long)json_integer_value(value));
    else if (json_is_string(value) && agentgate_shared_all_digits(json_string_value(value)))
        written = snprintf(out, size, "%s", json_string_value(value));
    else
        return false;
    return written > 0 && (size_t)written < size;
}

/* Percent-encodes a slug into one path segment, leaving existing %XX escapes alone. */
static bool encode_segment(const char *text, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t used = 0;

    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' || *c == '~' ||
                     *c == '%';
        if (used + (plain ? 1 : 3) >= size)
            return false;
        if (plain) {
            out[used++] = (char)*c;
        } else {
            out[used++] = '%';
            out[used++] = hex[*c >> 4];
            out[used++] = hex[*c & 15];
        }
    }
    out[used] = '\0';
    return used > 0;
}

static bool discourse_read_release_answer(const struct agentgate_forum_settings *forum,
                                          const struct agentgate_event *event, long status,
                                          const char *body, size_t body_length, char *post_id,
                                          size_t post_id_size, char *post_url, size_t post_url_size)
{
    char id[32], topic[32], number[32], slug[768], base[2048];
    const char *action, *topic_slug;
    const json_t *errors;
    json_t *answer;
    bool published = true;
    int written = -1;

    /* Events other than draft.approved went to release_url as the generic webhook. */
    if (!event || !event->type || strcmp(event->type, DISCOURSE_APPROVED) != 0)
        return agentgate_shared_read_answer(forum, event, status, body, body_length, post_id,
                                            post_id_size, post_url, post_url_size);

    if (post_id_size)
        post_id[0] = '\0';
    if (post_url_size)
        post_url[0] = '\0';
    answer = body && body_length ? json_loadb(body, body_length, 0, NULL) : NULL;
    if (!json_is_object(answer)) {
        json_decref(answer);
        return true; /* a 2xx without a readable post: published, id unknown */
    }

    action = agentgate_shared_string(answer, "action");
    errors = json_object_get(answer, "errors");
    if (action && strcmp(action, "enqueued") == 0) {
        /* Discourse queued the post for its own moderators: it is not published (yet). */
        published = false;
    } else if (json_is_array(errors) && json_array_size(errors) > 0 &&
               !json_object_get(answer, "id")) {
        published = false;
    } else if (answer_number(answer, "id", id, sizeof id)) {
        if (post_id_size)
            snprintf(post_id, post_id_size, "%s", id);
        topic_slug = agentgate_shared_string(answer, "topic_slug");
        if (post_url_size && agentgate_shared_base_url(forum->forum_url, base, sizeof base)) {
            if (topic_slug && encode_segment(topic_slug, slug, sizeof slug) &&
                answer_number(answer, "topic_id", topic, sizeof topic) &&
                answer_number(answer, "post_number", number, sizeof number))
                written =
                    snprintf(post_url, post_url_size, "%s/t/%s/%s/%s", base, slug, topic, number);
            else
                written = snprintf(post_url, post_url_size, "%s/p/%s", base, id);
            if (written < 0 || (size_t)written >= post_url_size)
                post_url[0] = '\0'; /* never hand on a cut URL */
        }
        if (post_id_size && strlen(id) >= post_id_size)
            post_id[0] = '\0';
    }
    json_decref(answer);
    return published;
}

static const struct agentgate_plugin discourse_plugin = {
    .abi_version = AGENTGATE_PLUGIN_ABI_VERSION,
    .name = "discourse",
    .decode_intake = agentgate_shared_decode_intake,
    .prepare_release = discourse_prepare_release,
    .read_release_answer = discourse_read_release_answer,
};

__attribute__((visibility("default"))) const struct agentgate_plugin *agentgate_plugin_entry(void);

const struct agentgate_plugin *agentgate_plugin_entry(void)
{
    return &discourse_plugin;
}
