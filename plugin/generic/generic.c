/*
 * The generic forum adapter: the forum sends the §4.1 body and receives every
 * event (CONTRACT §5) as a Standard Webhooks POST to release_url, answering a
 * draft.approved with {"post_id", "post_url"} once it has published.
 */
#include "../shared/plugin_shared.h"

static enum agentgate_release_route
generic_prepare_release(const struct agentgate_host *host,
                        const struct agentgate_forum_settings *forum,
                        const struct agentgate_event *event, struct agentgate_http_request *request,
                        struct agentgate_failure *failure)
{
    (void)host;
    (void)event;
    (void)request;
    if (!forum->release_url) {
        agentgate_shared_fail(failure, "no_release_url", "",
                              "forum %s has no release_url to deliver to", forum->name);
        return AGENTGATE_RELEASE_ERROR;
    }
    return AGENTGATE_RELEASE_WEBHOOK;
}

static const struct agentgate_plugin generic_plugin = {
    .abi_version = AGENTGATE_PLUGIN_ABI_VERSION,
    .name = "generic",
    .decode_intake = agentgate_shared_decode_intake,
    .prepare_release = generic_prepare_release,
    .read_release_answer = agentgate_shared_read_answer,
};

__attribute__((visibility("default"))) const struct agentgate_plugin *agentgate_plugin_entry(void);

const struct agentgate_plugin *agentgate_plugin_entry(void)
{
    return &generic_plugin;
}
