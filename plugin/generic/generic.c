/*
 * The generic forum adapter: the request body is exactly CONTRACT §4.1. Any
 * forum that can send that JSON (through a small forum-side plugin) uses it.
 *
 * Shape rules beyond the declared fields: a reply names post.topic_id and no
 * title; a new topic names post.category and post.title.
 */
#include <agentgate/plugin.h>
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
    {"context", AGENTGATE_JSON_OBJECT, false, 0, 0},
    {"context.question_url", AGENTGATE_JSON_STRING, false, 0, 2048},
    {"context.agent_run_url", AGENTGATE_JSON_STRING, false, 0, 2048},
    {"context.prompt_excerpt", AGENTGATE_JSON_STRING, false, 0, 8192},
};

static const char *string_at(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static void failure_fill(struct agentgate_failure *failure, const char *code, const char *field,
                         const char *message)
{
    failure->status = 400;
    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->field, sizeof failure->field, "%s", field);
    snprintf(failure->message, sizeof failure->message, "%s", message);
}

static bool generic_decode_intake(const struct agentgate_host *host, const json_t *root,
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
    out->agent_id = string_at(agent, "id");
    out->agent_name = string_at(agent, "name");
    out->invoker_id = string_at(invoker, "id");
    out->invoker_name = string_at(invoker, "name");
    out->topic_id = string_at(post, "topic_id");
    out->reply_to_post_id = string_at(post, "reply_to_post_id");
    out->category = string_at(post, "category");
    out->title = string_at(post, "title");
    out->body = string_at(post, "body");
    out->forum_ref = string_at(post, "forum_ref");
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
        if (out->reply_to_post_id) {
            failure_fill(failure, "invalid_field", "post.reply_to_post_id",
                         "reply_to_post_id needs post.topic_id");
            return false;
        }
    }
    return true;
}

static const struct agentgate_plugin generic_plugin = {
    .abi_version = AGENTGATE_PLUGIN_ABI_VERSION,
    .name = "generic",
    .decode_intake = generic_decode_intake,
};

__attribute__((visibility("default"))) const struct agentgate_plugin *agentgate_plugin_entry(void);

const struct agentgate_plugin *agentgate_plugin_entry(void)
{
    return &generic_plugin;
}
