/*
 * POST /v1/forums/{forum}/posts (CONTRACT §4.1): a forum hands over an agent's
 * post; agentgate holds it as a pending draft.
 *
 * Order of checks, cheapest and least revealing first: forum and content type
 * and size from the headers (before the body is read), then the signature over
 * the raw bytes (nothing of the body is interpreted before it is proven to come
 * from the forum), then shape, policy and finally one database transaction.
 * A 202 is sent only once that transaction has committed; any database failure
 * answers 503 and, being one transaction, leaves nothing half-stored. Replays
 * of a webhook-id get the first answer byte for byte.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/drafts.h"
#include "flags.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "log.h"
#include "release/plugin_loader.h"

#define WEBHOOK_ID_MAX 256

/* application/json, with optional parameters (charset=utf-8). */
static bool media_type_is_json(const char *content_type)
{
    size_t length = strlen("application/json");
    if (!content_type || strncasecmp(content_type, "application/json", length) != 0)
        return false;
    content_type += length;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    return *content_type == '\0' || *content_type == ';';
}

enum agentgate_error intake_prepare(struct request *request)
{
    const struct forum_config *forum = config_forum(request->server->config, request->params[0]);

    if (!forum)
        return ERR_UNKNOWN_FORUM;
    request->forum = forum;
    request->body_limit = forum->max_body_bytes;
    if (!media_type_is_json(http_header(request, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return ERR_UNSUPPORTED_MEDIA_TYPE;
    return ERR_NONE;
}

static bool webhook_id_valid(const char *id)
{
    size_t length = strlen(id);
    if (length == 0 || length > WEBHOOK_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

static void uuid_generate(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[16];
    size_t o = 0;

    randombytes_buf(bytes, sizeof bytes);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (size_t i = 0; i < sizeof bytes; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[bytes[i] >> 4];
        out[o++] = hex[bytes[i] & 15];
    }
    out[o] = '\0';
}

static bool category_allowed(const struct forum_config *forum, const char *category)
{
    if (forum->all_categories_allowed || !category)
        return true;
    for (size_t i = 0; i < forum->allowed_categories.count; i++)
        if (strcmp(forum->allowed_categories.items[i], category) == 0)
            return true;
    return false;
}

/* Audits a refusal of a request whose signature was valid. A failure to audit is logged; the
 * refusal stands either way. */
static void intake_audit_refused(struct request *request, const char *webhook_id,
                                 const char *agent_id, const char *reason, const char *field)
{
    struct db_connection *db = db_thread_connection();
    if (!db || drafts_audit_refused(db, request->forum->name, webhook_id, agent_id, reason,
                                    field) != DB_OK)
        log_warn(request->id, "could not audit refused intake (%s)", reason);
}

static enum MHD_Result intake_reply_failure(struct request *request, const char *webhook_id,
                                            const char *agent_id,
                                            const struct agentgate_failure *failure)
{
    json_t *detail = json_pack("{s:s, s:s}", "code", failure->code, "message", failure->message);
    json_t *body;
    unsigned status = failure->status ? (unsigned)failure->status : 400;

    intake_audit_refused(request, webhook_id, agent_id, failure->code, failure->field);
    if (detail && failure->field[0])
        json_object_set_new(detail, "field", json_string(failure->field));
    body = json_pack("{s:o}", "error", detail);
    if (body && failure->field[0])
        json_object_set_new(body, "field", json_string(failure->field));
    return http_reply_json(request, status, body);
}

/* Flags of the title and body (CONTRACT §8), as a JSON array; NULL when memory runs out. */
static json_t *intake_flags(const struct agentgate_intake *post)
{
    json_t *flags = json_array();
    if (!flags)
        return NULL;
    if (post->title && flags_scan("title", post->title, strlen(post->title), flags) != 0)
        goto fail;
    if (flags_scan("body", post->body, strlen(post->body), flags) != 0)
        goto fail;
    return flags;
fail:
    json_decref(flags);
    return NULL;
}

/* The stored answer, byte for byte: a replay gets exactly what the first request got. */
static enum MHD_Result intake_reply_held(struct request *request, const char *response)
{
    if (!response)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    return http_reply_text(request, 202, "application/json", response, strlen(response));
}

enum MHD_Result intake_handle(struct request *request)
{
    const struct forum_config *forum = request->forum;
    const char *webhook_id = http_header(request, "webhook-id");
    struct agentgate_failure failure = {0};
    struct agentgate_intake post;
    struct draft_hold_result held = {0};
    struct db_connection *db;
    json_t *root = NULL, *flags = NULL, *response = NULL;
    char *response_text = NULL, *context_text = NULL;
    char draft_id[37], review_url[512];
    enum MHD_Result result;
    enum db_status status;

    enum agentgate_error signature = forum_signature_check(request);

    if (signature != ERR_NONE)
        return http_reply_error(request, signature, NULL, NULL);
    if (!webhook_id_valid(webhook_id))
        return http_reply_error(request, ERR_INVALID_WEBHOOK_ID, "webhook-id", NULL);

    if (json_request_parse(request->body, request->body_length, &root, &failure) != ERR_NONE)
        return intake_reply_failure(request, webhook_id, NULL, &failure);
    if (!forum->plugin->decode_intake(&plugin_host, root, &post, &failure)) {
        result = intake_reply_failure(request, webhook_id, NULL, &failure);
        goto done;
    }
    if (strcmp(post.agent_id, post.invoker_id) == 0) {
        intake_audit_refused(request, webhook_id, post.agent_id, "agent_is_invoker", NULL);
        result = http_reply_error(request, ERR_AGENT_IS_INVOKER, "invoker.id", NULL);
        goto done;
    }
    if (!category_allowed(forum, post.category)) {
        intake_audit_refused(request, webhook_id, post.agent_id, "category_not_allowed",
                             "post.category");
        result = http_reply_error(request, ERR_CATEGORY_NOT_ALLOWED, "post.category", NULL);
        goto done;
    }

    flags = intake_flags(&post);
    uuid_generate(draft_id);
    snprintf(review_url, sizeof review_url, "%s/drafts/%s", request->server->config->public_url,
             draft_id);
    response = json_pack("{s:s, s:s, s:s, s:O}", "draft_id", draft_id, "status", "held",
                         "review_url", review_url, "flags", flags ? flags : json_null());
    response_text = response ? json_dumps(response, JSON_COMPACT) : NULL;
    context_text = post.context ? json_dumps(post.context, JSON_COMPACT) : NULL;
    {
        char *flags_text = flags ? json_dumps(flags, JSON_COMPACT) : NULL;
        struct draft_hold hold = {
            .forum = forum->name,
            .webhook_id = webhook_id,
            .draft_id = draft_id,
            .post = &post,
            .context_json = context_text,
            .flags_json = flags_text,
            .response = response_text,
            .rate_count = forum->rate_limit_count,
            .rate_window_seconds = forum->rate_limit_window_seconds,
            .ttl_seconds = forum->pending_ttl_seconds,
        };
        if (!flags_text || !response_text || (post.context && !context_text)) {
            free(flags_text);
            result = http_reply_error(request, ERR_INTERNAL, NULL, NULL);
            goto done;
        }
        db = db_thread_connection();
        status = db ? drafts_hold(db, &hold, &held) : DB_UNAVAILABLE;
        free(flags_text);
    }
    if (status == DB_UNAVAILABLE) {
        result = http_reply_error(request, ERR_DATABASE_UNAVAILABLE, NULL, NULL);
        goto done;
    }
    if (status != DB_OK) {
        result = http_reply_error(request, ERR_INTERNAL, NULL, NULL);
        goto done;
    }
    switch (held.outcome) {
    case DRAFT_HELD:
        log_info(request->id, "held draft %s forum=%s flags=%zu", draft_id, forum->name,
                 json_array_size(flags));
        result = intake_reply_held(request, held.response);
        break;
    case DRAFT_DUPLICATE:
        log_info(request->id, "replayed webhook-id for forum %s: first answer repeated",
                 forum->name);
        result = intake_reply_held(request, held.response);
        break;
    case DRAFT_REFUSED_KILL_SWITCH:
        result = http_reply_error(request, ERR_KILL_SWITCH_ON, NULL, NULL);
        break;
    case DRAFT_REFUSED_AGENT_PAUSED:
        result = http_reply_error(request, ERR_AGENT_PAUSED, NULL, NULL);
        break;
    case DRAFT_REFUSED_RATE_LIMIT: {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", held.retry_after_seconds);
        http_reply_header(request, "Retry-After", seconds);
        result = http_reply_error(request, ERR_RATE_LIMITED, NULL, NULL);
        break;
    }
    default:
        result = http_reply_error(request, ERR_INTERNAL, NULL, NULL);
        break;
    }
done:
    free(held.response);
    free(response_text);
    free(context_text);
    json_decref(response);
    json_decref(flags);
    json_decref(root);
    return result;
}
