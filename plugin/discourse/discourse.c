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

#include <stdio.h>
#include <string.h>

/* An id as Discourse types it: a JSON integer when it is all digits (and fits in 64 bits), else
 * the string. */
static json_t *id_value(const char *text)
{
    return agentgate_shared_id_value(text, 18);
}

/* What of an approved draft's event a Discourse post needs. */
struct discourse_post {
    const char *agent_name;
    struct agentgate_shared_post post;
};

/* Reads the event's post; false with `failure` filled when Discourse could not take it. */
static bool discourse_post_read(const struct agentgate_event *event,
                                struct discourse_post *discourse, struct agentgate_failure *failure)
{
    const struct agentgate_shared_post *post = &discourse->post;

    discourse->agent_name = agentgate_shared_string(
        json_object_get(json_object_get(event->payload, "data"), "agent"), "name");
    if (!discourse->agent_name || !*discourse->agent_name) {
        agentgate_shared_fail(failure, "invalid_event", "agent.name",
                              "the event names no agent to post as (Api-Username)");
        return false;
    }
    /*
     * Discourse topic ids are integers ("topic_id": integer in the API schema). The id travels
     * in the JSON body, so it cannot inject anything into the URL, but a non-numeric one can
     * never succeed: refuse it now rather than retry a doomed request for a day.
     */
    if (!agentgate_shared_post_read(event, &discourse->post,
                                    "Discourse topic ids are numbers; this one is not", failure))
        return false;
    if (!post->topic_id && (!post->title || !*post->title)) {
        agentgate_shared_fail(failure, "invalid_event", "post.title", "a new topic needs a title");
        return false;
    }
    return true;
}

/*
 * The request body. A reply names its topic only. The draft's reply_to_post_id is deliberately
 * not sent: Discourse threads a reply with "reply_to_post_number", the post's position inside
 * the topic (1, 2, 3...), not its id, and the documented request schema does not even list
 * that field any more. Sending the id there would thread the reply under the wrong post; the
 * reply still lands in the right topic without it.
 */
static json_t *discourse_post_json(const struct agentgate_shared_post *post)
{
    json_t *json = json_object();

    if (post->topic_id) {
        json_object_set_new(json, "raw", json_string(post->body));
        json_object_set_new(json, "topic_id", id_value(post->topic_id));
    } else {
        json_object_set_new(json, "title", json_string(post->title));
        json_object_set_new(json, "raw", json_string(post->body));
        if (post->category && *post->category)
            json_object_set_new(json, "category", id_value(post->category));
    }
    return json;
}

static enum agentgate_release_route
discourse_prepare_release(const struct agentgate_host *host,
                          const struct agentgate_forum_settings *forum,
                          const struct agentgate_event *event,
                          struct agentgate_http_request *request, struct agentgate_failure *failure)
{
    struct discourse_post discourse;
    char base[sizeof request->url];
    (void)host;

    if (!agentgate_shared_approved(event))
        return forum->release_url ? AGENTGATE_RELEASE_WEBHOOK : AGENTGATE_RELEASE_SKIP;
    if (!agentgate_shared_api_base(forum, "Discourse", base, sizeof base, failure) ||
        !discourse_post_read(event, &discourse, failure) ||
        !agentgate_shared_set_url(request, forum, failure, "%s/posts.json", base))
        return AGENTGATE_RELEASE_ERROR;
    snprintf(request->method, sizeof request->method, "POST");
    request->header_count = 0;
    if (!agentgate_shared_add_header(request, "Api-Key", forum->release_api_key, failure) ||
        !agentgate_shared_add_header(request, "Api-Username", discourse.agent_name, failure))
        return AGENTGATE_RELEASE_ERROR;
    request->body = discourse_post_json(&discourse.post);
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
    if (!agentgate_shared_approved(event))
        return agentgate_shared_read_answer(forum, event, status, body, body_length, post_id,
                                            post_id_size, post_url, post_url_size);

    answer = agentgate_shared_answer_object(body, body_length, post_id, post_id_size, post_url,
                                            post_url_size);
    if (!answer)
        return true; /* a 2xx without a readable post: published, id unknown */

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
