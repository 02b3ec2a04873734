/* Fuzz target: intake JSON decoding, as POST /v1/forums/{forum}/posts runs it: the raw body
 * through json_request_parse() (server/web/json_spec.c: duplicate keys, NUL, nesting), then the
 * shared §4.1 decoder every adapter uses (plugin/shared/intake.c) with the host's declared-shape
 * check. Checks that a body it accepts names every required field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_shared.h"
#include "release/plugin_loader.h"
#include "web/json_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agentgate_failure failure = {0};
    struct agentgate_intake post;
    json_t *root = NULL;

    (void)json_nesting_depth((const char *)data, size, JSON_REQUEST_MAX_DEPTH);
    if (json_request_parse((const char *)data, size, &root, &failure) != ERR_NONE)
        return 0;
    if (agentgate_shared_decode_intake(&plugin_host, root, &post, &failure)) {
        if (!post.agent_id || !post.agent_name || !post.invoker_id || !post.invoker_name ||
            !post.body || (!post.topic_id && (!post.category || !post.title)))
            abort(); /* accepted without a field the contract requires */
        if (utf8_length(post.body) == 0)
            abort();
    } else if (!failure.code[0]) {
        abort(); /* refused without saying why */
    }
    json_decref(root);
    return 0;
}
