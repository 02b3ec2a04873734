/* What every route a forum calls shares (CONTRACT §4): the forum named in the path and the
 * Standard Webhooks signature of the request: over the body for POSTs, over the method and path
 * for a read (§4.3), so that a captured request cannot act on another draft. */
#include <string.h>
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

bool forum_webhook_id_valid(const char *id)
{
    size_t length = id ? strlen(id) : 0;
    if (length == 0 || length > 256)
        return false;
    for (const char *p = id; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

/* The Standard Webhooks check of `payload` as the signed content. */
static enum agentgate_error forum_signature_check_payload(struct request *request,
                                                          const char *payload, size_t length)
{
    switch (webhook_verify(&request->forum->inbound_key, http_header(request, "webhook-id"),
                           http_header(request, "webhook-timestamp"),
                           http_header(request, "webhook-signature"), payload, length,
                           time(NULL))) {
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

enum agentgate_error forum_signature_check(struct request *request)
{
    return forum_signature_check_payload(request, request->body, request->body_length);
}

enum agentgate_error forum_signature_check_read(struct request *request)
{
    char payload[HTTP_PATH_PARAM_MAX * 2 + 32];
    int length = snprintf(payload, sizeof payload, "GET /v1/forums/%s/drafts/%s",
                          request->params[0], request->params[1]);

    if (length < 0 || (size_t)length >= sizeof payload)
        return ERR_BAD_SIGNATURE;
    return forum_signature_check_payload(request, payload, (size_t)length);
}
