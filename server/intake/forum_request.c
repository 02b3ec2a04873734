/* What every route a forum calls shares (CONTRACT §4): the forum named in the path and the
 * Standard Webhooks signature of the request. */
#include <time.h>

#include "log.h"
#include "web/handlers.h"

enum agentgate_error forum_prepare_signed_get(struct request *request)
{
    const struct forum_config *forum = config_forum(request->server->config, request->params[0]);

    if (!forum)
        return ERR_UNKNOWN_FORUM;
    request->forum = forum;
    request->body_limit = 0;
    return ERR_NONE;
}

enum agentgate_error forum_signature_check(struct request *request)
{
    switch (webhook_verify(&request->forum->inbound_key, http_header(request, "webhook-id"),
                           http_header(request, "webhook-timestamp"),
                           http_header(request, "webhook-signature"), request->body,
                           request->body_length, time(NULL))) {
    case WEBHOOK_VALID:
        return ERR_NONE;
    case WEBHOOK_MISSING_HEADER:
        return ERR_MISSING_SIGNATURE;
    case WEBHOOK_STALE_TIMESTAMP:
        return ERR_STALE_TIMESTAMP;
    case WEBHOOK_BAD_SIGNATURE:
    default:
        log_warn(request->id, "request for forum %s: bad signature", request->forum->name);
        return ERR_BAD_SIGNATURE;
    }
}
