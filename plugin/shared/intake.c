/*
 * Shared by every adapter in this tree (compiled into each): the intake body
 * of CONTRACT §4.1, and the generic reading of a forum's answer. A forum-side
 * plugin of any platform sends this JSON; what differs between platforms is
 * how an approved post is published (see each adapter's prepare_release).
 *
 * Shape rules beyond the declared fields: a reply names post.topic_id and no
 * title, and may name its topic's title and link (post.topic_title, post.topic_url, shown to
 * the approver); a new topic names post.category and post.title.
 */
#include "plugin_shared.h"

#include <stdio.h>
#include <string.h>

static const struct agentgate_json_field intake_fields[] = {
    {"agent", AGENTGATE_JSON_OBJECT, true, 0, 0},
    {"agent.id", AGENTGATE_JSON_STRING, true, 1, 128},
    {"agent.name", AGENTGATE_JSON_STRING, true, 1, 128},
    {"invoker", AGENTGATE_JSON_OBJECT, true, 0, 0},
    {"invoker.id", AGENTGATE_JSON_STRING, true, 1, 128},
    {"invoker.name", AGENTGATE_JSON_STRING, true, 1, 128},
    {"post", AGENTGATE_JSON_OBJECT, true, 0, 0},
    {"post.topic_id", AGENTGATE_JSON_STRING, false, 1, 64},
    {"post.reply_to_post_id", AGENTGATE_JSON_STRING, false, 1, 64},
    {"post.category", AGENTGATE_JSON_STRING, false, 1, 128},
    {"post.title", AGENTGATE_JSON_STRING, false, 1, 300},
    {"post.body", AGENTGATE_JSON_STRING, true, 1, 0},
    {"post.forum_ref", AGENTGATE_JSON_STRING, false, 0, 1024},
    {"post.topic_title", AGENTGATE_JSON_STRING, false, 1, 300},
    {"post.topic_url", AGENTGATE_JSON_STRING, false, 1, 2048},
    {"context", AGENTGATE_JSON_OBJECT, false, 0, 0},
    {"context.question_url", AGENTGATE_JSON_STRING, false, 0, 2048},
    {"context.agent_run_url", AGENTGATE_JSON_STRING, false, 0, 2048},
    {"context.prompt_excerpt", AGENTGATE_JSON_STRING, false, 0, 8192},
};

static void failure_fill(struct agentgate_failure *failure, const char *code, const char *field,
                         const char *message)
{
    failure->status = 400;
    agentgate_shared_fail(failure, code, field, "%s", message);
}

bool agentgate_shared_decode_intake(const struct agentgate_host *host, const json_t *root,
                                    struct agentgate_intake *out, struct agentgate_failure *failure)
{
    const json_t *agent, *invoker, *post, *context;

    if (!host->json_check(root, intake_fields, sizeof intake_fields / sizeof intake_fields[0],
                          failure))
        return false;
    agent = json_object_get(root, "agent");
    invoker = json_object_get(root, "invoker");
    post = json_object_get(root, "post");
    context = json_object_get(root, "context");

    memset(out, 0, sizeof *out);
    out->agent_id = agentgate_shared_string(agent, "id");
    out->agent_name = agentgate_shared_string(agent, "name");
    out->invoker_id = agentgate_shared_string(invoker, "id");
    out->invoker_name = agentgate_shared_string(invoker, "name");
    out->topic_id = agentgate_shared_string(post, "topic_id");
    out->reply_to_post_id = agentgate_shared_string(post, "reply_to_post_id");
    out->category = agentgate_shared_string(post, "category");
    out->title = agentgate_shared_string(post, "title");
    out->body = agentgate_shared_string(post, "body");
    out->forum_ref = agentgate_shared_string(post, "forum_ref");
    out->topic_title = agentgate_shared_string(post, "topic_title");
    out->topic_url = agentgate_shared_string(post, "topic_url");
    out->context = json_is_object(context) ? (json_t *)context : NULL;

    if (out->topic_id) {
        if (out->title) {
            failure_fill(failure, "invalid_field", "post.title",
                         "a reply (post.topic_id) takes no title");
            return false;
        }
    } else {
        if (!out->category) {
            failure_fill(failure, "missing_field", "post.category",
                         "a new topic needs post.category and post.title; a reply needs "
                         "post.topic_id");
            return false;
        }
        if (!out->title) {
            failure_fill(failure, "missing_field", "post.title",
                         "a new topic needs post.category and post.title");
            return false;
        }
        if (out->topic_title || out->topic_url) {
            failure_fill(failure, "invalid_field",
                         out->topic_title ? "post.topic_title" : "post.topic_url",
                         "a new topic has no topic title or link yet; they describe a reply's "
                         "topic");
            return false;
        }
        if (out->reply_to_post_id) {
            failure_fill(failure, "invalid_field", "post.reply_to_post_id",
                         "reply_to_post_id needs post.topic_id");
            return false;
        }
    }
    return true;
}

bool agentgate_shared_read_answer(const struct agentgate_forum_settings *forum,
                                  const struct agentgate_event *event, long status,
                                  const char *body, size_t body_length, char *post_id,
                                  size_t post_id_size, char *post_url, size_t post_url_size)
{
    json_t *answer = body_length ? json_loadb(body, body_length, 0, NULL) : NULL;
    const json_t *id = json_object_get(answer, "post_id");
    const json_t *url = json_object_get(answer, "post_url");
    (void)forum;
    (void)event;
    (void)status;

    post_id[0] = post_url[0] = '\0';
    if (json_is_string(id))
        snprintf(post_id, post_id_size, "%s", json_string_value(id));
    else if (json_is_integer(id))
        snprintf(post_id, post_id_size, "%lld", (long long)json_integer_value(id));
    if (json_is_string(url))
        snprintf(post_url, post_url_size, "%s", json_string_value(url));
    json_decref(answer);
    return true;
}

const char *agentgate_shared_string(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}
