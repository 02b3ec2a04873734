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
#include "hex.h"
#include "intake/intake_refusals.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "log.h"
#include "release/plugin_loader.h"

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

static void uuid_generate(char out[37])
{
    unsigned char bytes[16];

    randombytes_buf(bytes, sizeof bytes);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    hex_uuid(bytes, out);
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

/* Flags of the title and body (CONTRACT §8), as a JSON array; NULL when memory runs out. */
static json_t *intake_flags(const struct forum_config *forum, const struct agentgate_intake *post)
{
    json_t *flags = json_array();
    if (!flags)
        return NULL;
    if (post->title &&
        flags_scan_with(forum->flag_ruleset, "title", post->title, strlen(post->title), flags) != 0)
        goto fail;
    if (flags_scan_with(forum->flag_ruleset, "body", post->body, strlen(post->body), flags) != 0)
        goto fail;
    return flags;
fail:
    json_decref(flags);
    return NULL;
}

/* What one intake request allocates, freed once when the request completes. */
struct intake_state {
    json_t *root;  /* the parsed body; `post` borrows from it */
    json_t *flags; /* the flags found */
    char *response_text, *context_text, *flags_text;
    struct draft_hold_result held;
};

static void intake_state_free(void *data)
{
    struct intake_state *state = data;
    json_decref(state->root);
    json_decref(state->flags);
    free(state->response_text);
    free(state->context_text);
    free(state->flags_text);
    free(state->held.response);
    free(state);
}

/* The 202 body, written before the transaction so that the stored answer is the one sent. */
static char *intake_response_text(const struct request *request, const char *draft_id,
                                  json_t *flags)
{
    char review_url[512];
    json_t *response;
    char *text;

    snprintf(review_url, sizeof review_url, "%s/drafts/%s", request->server->config->public_url,
             draft_id);
    response = json_pack("{s:s, s:s, s:s, s:O}", "draft_id", draft_id, "status", "held",
                         "review_url", review_url, "flags", flags);
    text = response ? json_dumps(response, JSON_COMPACT) : NULL;
    json_decref(response);
    return text;
}

/* The answer to a committed intake transaction; a replay gets the stored answer byte for
 * byte. */
static enum MHD_Result intake_reply_outcome(struct request *request, const char *draft_id,
                                            const struct intake_state *state)
{
    const struct draft_hold_result *held = &state->held;
    char seconds[16];

    switch (held->outcome) {
    case DRAFT_HELD:
    case DRAFT_DUPLICATE:
        if (held->outcome == DRAFT_HELD)
            log_info(request->id, "held draft %s forum=%s flags=%zu", draft_id,
                     request->forum->name, json_array_size(state->flags));
        else
            log_info(request->id, "replayed webhook-id for forum %s: first answer repeated",
                     request->forum->name);
        request->intake_duplicate = held->outcome == DRAFT_DUPLICATE;
        if (!held->response)
            return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
        return http_reply_text(request, 202, "application/json", held->response,
                               strlen(held->response));
    case DRAFT_REFUSED_KILL_SWITCH:
        return http_reply_error(request, ERR_KILL_SWITCH_ON, NULL, NULL);
    case DRAFT_REFUSED_AGENT_PAUSED:
        return http_reply_error(request, ERR_AGENT_PAUSED, NULL, NULL);
    case DRAFT_REFUSED_RATE_LIMIT:
        snprintf(seconds, sizeof seconds, "%d", held->retry_after_seconds);
        http_reply_header(request, "Retry-After", seconds);
        return http_reply_error(request, ERR_RATE_LIMITED, NULL, NULL);
    default:
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    }
}

enum MHD_Result intake_handle(struct request *request)
{
    const struct forum_config *forum = request->forum;
    const char *webhook_id = http_header(request, "webhook-id");
    struct intake_state *state =
        http_request_state(request, calloc(1, sizeof *state), intake_state_free);
    struct agentgate_failure failure = {0};
    struct agentgate_intake post;
    struct db_connection *db;
    enum agentgate_error error;
    enum db_status status;
    char draft_id[37];
    int retry_after = 0;

    if (!state)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    error = forum_signature_check(request);
    if (error != ERR_NONE)
        return http_reply_error(request, error, NULL, NULL);
    if (!forum_webhook_id_valid(webhook_id))
        return http_reply_error(request, ERR_INVALID_WEBHOOK_ID, "webhook-id", NULL);

    /* Refusals after a valid signature are audited: the forum did send them. */
    if (json_request_parse(request->body, request->body_length, &state->root, &failure) !=
            ERR_NONE ||
        !forum->plugin->decode_intake(&plugin_host, state->root, &post, &failure)) {
        intake_audit_refused(request, webhook_id, NULL, failure.code, failure.field);
        return http_reply_failure(request, &failure);
    }
    if (strcmp(post.agent_id, post.invoker_id) == 0) {
        intake_audit_refused(request, webhook_id, post.agent_id, "agent_is_invoker", NULL);
        return http_reply_error(request, ERR_AGENT_IS_INVOKER, "invoker.id", NULL);
    }
    if (!category_allowed(forum, post.category)) {
        intake_audit_refused(request, webhook_id, post.agent_id, "category_not_allowed",
                             "post.category");
        return http_reply_error(request, ERR_CATEGORY_NOT_ALLOWED, "post.category", NULL);
    }

    /* An agent known to be over its rate limit is refused without a transaction, a second
     * later (its flood must not slow other agents down); a replayed webhook-id still gets its
     * first answer. */
    if (intake_refusals_limited(forum->name, post.agent_id, webhook_id, &retry_after)) {
        bool seen = false;
        db = db_thread_connection();
        status = db ? drafts_webhook_seen(db, forum->name, webhook_id, &seen) : DB_UNAVAILABLE;
        if (status != DB_OK)
            return http_reply_error(request, error_from_db_status(status), NULL, NULL);
        if (!seen) {
            char seconds[16];
            snprintf(seconds, sizeof seconds, "%d", retry_after);
            http_reply_header(request, "Retry-After", seconds);
            http_reply_delay(request, INTAKE_REFUSAL_DELAY_MS);
            return http_reply_error(request, ERR_RATE_LIMITED, NULL, NULL);
        }
    }

    uuid_generate(draft_id);
    state->flags = intake_flags(forum, &post);
    state->flags_text = state->flags ? json_dumps(state->flags, JSON_COMPACT) : NULL;
    state->response_text =
        state->flags ? intake_response_text(request, draft_id, state->flags) : NULL;
    state->context_text = post.context ? json_dumps(post.context, JSON_COMPACT) : NULL;
    if (!state->flags_text || !state->response_text || (post.context && !state->context_text))
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);

    db = db_thread_connection();
    status = db ? drafts_hold(db,
                              &(struct draft_hold){
                                  .forum = forum->name,
                                  .webhook_id = webhook_id,
                                  .draft_id = draft_id,
                                  .post = &post,
                                  .context_json = state->context_text,
                                  .flags_json = state->flags_text,
                                  .response = state->response_text,
                                  .rate_count = forum->rate_limit_count,
                                  .rate_window_seconds = forum->rate_limit_window_seconds,
                                  .ttl_seconds = forum->pending_ttl_seconds,
                              },
                              &state->held)
                : DB_UNAVAILABLE;
    if (status != DB_OK)
        return http_reply_error(request, error_from_db_status(status), NULL, NULL);
    if (state->held.outcome == DRAFT_REFUSED_RATE_LIMIT)
        intake_refusals_note(forum->name, post.agent_id, state->held.retry_after_seconds);
    return intake_reply_outcome(request, draft_id, state);
}
