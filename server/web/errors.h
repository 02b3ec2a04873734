/*
 * Every error agentgate answers with, declared once: (identifier, HTTP status,
 * snake_case code, message). Messages follow PostgreSQL's style: short,
 * factual, lower case, no period. Replies go through http_reply_error() only.
 */
#ifndef AGENTGATE_ERRORS_H
#define AGENTGATE_ERRORS_H

#include "db/db.h"

#define AGENTGATE_ERRORS(X)                                                                        \
    X(ERR_MALFORMED_JSON, 400, "malformed_json", "request body is not valid JSON")                 \
    X(ERR_INVALID_UTF8, 400, "invalid_utf8", "request body is not valid UTF-8")                    \
    X(ERR_DUPLICATE_KEY, 400, "duplicate_key", "request body repeats a key in one object")         \
    X(ERR_NESTING_TOO_DEEP, 400, "nesting_too_deep", "request body is nested too deeply")          \
    X(ERR_MISSING_FIELD, 400, "missing_field", "a required field is missing")                      \
    X(ERR_INVALID_FIELD, 400, "invalid_field", "a field has an invalid value")                     \
    X(ERR_INVALID_WEBHOOK_ID, 400, "invalid_webhook_id",                                           \
      "webhook-id must be 1 to 256 printable ASCII characters")                                    \
    X(ERR_MISSING_SIGNATURE, 401, "missing_signature",                                             \
      "webhook-id, webhook-timestamp and webhook-signature headers are required")                  \
    X(ERR_STALE_TIMESTAMP, 401, "stale_timestamp",                                                 \
      "webhook-timestamp is missing, malformed or more than 5 minutes off")                        \
    X(ERR_BAD_SIGNATURE, 401, "bad_signature", "no valid signature for this request")              \
    X(ERR_CATEGORY_NOT_ALLOWED, 403, "category_not_allowed",                                       \
      "agents may not post in this category")                                                      \
    X(ERR_AGENT_IS_INVOKER, 403, "agent_is_invoker", "an agent cannot be its own invoker")         \
    X(ERR_FLAGS_NOT_ACKNOWLEDGED, 400, "flags_not_acknowledged",                                   \
      "every flag of the draft must be acknowledged to approve it")                                \
    X(ERR_FORBIDDEN, 403, "forbidden", "this actor may not decide this draft")                     \
    X(ERR_UNKNOWN_DRAFT, 404, "unknown_draft", "no such draft in this forum")                      \
    X(ERR_NOT_PENDING, 409, "not_pending", "the draft is no longer pending")                       \
    X(ERR_REVISION_CHANGED, 409, "revision_changed", "the draft changed since that revision")      \
    X(ERR_NOT_FOUND, 404, "not_found", "no such resource")                                         \
    X(ERR_UNKNOWN_FORUM, 404, "unknown_forum", "no forum of that name is configured")              \
    X(ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed", "method not allowed on this resource")    \
    X(ERR_REQUEST_TIMEOUT, 408, "request_timeout", "request took too long to arrive")              \
    X(ERR_LENGTH_REQUIRED, 411, "length_required", "request body length is required")              \
    X(ERR_BODY_TOO_LARGE, 413, "body_too_large", "request body exceeds the limit")                 \
    X(ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",                                   \
      "content type must be application/json")                                                     \
    X(ERR_AGENT_PAUSED, 423, "agent_paused", "this agent is paused")                               \
    X(ERR_KILL_SWITCH_ON, 423, "kill_switch_on", "the kill switch is on: all agents are stopped")  \
    X(ERR_RATE_LIMITED, 429, "rate_limited", "agent is over its rate limit")                       \
    X(ERR_FOREIGN_ORIGIN, 403, "foreign_origin",                                                   \
      "the form was not sent from agentgate's own page")                                           \
    X(ERR_CSRF_INVALID, 403, "csrf_invalid", "the form's security token is missing or stale")      \
    X(ERR_BAD_FORM, 400, "bad_form", "the form could not be read")                                 \
    X(ERR_REASON_REQUIRED, 400, "reason_required", "a reason is required")                         \
    X(ERR_CONFIRMATION_REQUIRED, 400, "confirmation_required", "the confirmation is required")     \
    X(ERR_NOTHING_SELECTED, 400, "nothing_selected", "nothing was selected")                       \
    X(ERR_INVALID_FILTER, 400, "invalid_filter", "a filter has an invalid value")                  \
    X(ERR_BAD_SELECTION, 400, "bad_selection",                                                     \
      "the selection names something that is not a draft")                                         \
    X(ERR_MODERATORS_ONLY, 403, "moderators_only", "only a moderator of this forum may do this")   \
    X(ERR_NOT_COAPPROVER, 403, "not_coapprover", "this user may not co-approve this draft")        \
    X(ERR_NOTHING_TO_COAPPROVE, 409, "nothing_to_coapprove",                                       \
      "the draft does not await a co-approval")                                                    \
    X(ERR_UNKNOWN_COLLEAGUE, 400, "unknown_colleague",                                             \
      "no colleague of that username has signed in to this forum")                                 \
    X(ERR_MISSING_REVISION, 400, "missing_revision", "the form did not name the revision shown")   \
    X(ERR_NOT_A_SECRET, 400, "not_a_secret", "that flag is not a secret of this revision")         \
    X(ERR_TOO_MANY_FIELDS, 400, "too_many_fields", "the form has too many fields")                 \
    X(ERR_NOTHING_TO_RETRY, 409, "nothing_to_retry", "the draft's release has not failed")         \
    X(ERR_SIGN_IN_REFUSED, 403, "sign_in_refused", "the sign-in answer was not valid")             \
    X(ERR_IDENTITY_REFUSED, 403, "identity_refused",                                               \
      "an identity field is longer than agentgate keeps or is not valid text")                     \
    X(ERR_SIGN_IN_RATE_LIMITED, 429, "sign_in_rate_limited",                                       \
      "too many sign-ins started from this address")                                               \
    X(ERR_PROXY_SIGN_IN, 401, "proxy_sign_in", "sign in through the authenticating proxy")         \
    X(ERR_INTERNAL, 500, "internal_error", "internal error")                                       \
    X(ERR_DATABASE_UNAVAILABLE, 503, "database_unavailable",                                       \
      "database is unreachable, retry later")                                                      \
    X(ERR_SHUTTING_DOWN, 503, "shutting_down", "agentgate is stopping, retry later")

enum agentgate_error {
    ERR_NONE = 0,
#define AGENTGATE_ERROR_ENUM(id, status, code, message) id,
    AGENTGATE_ERRORS(AGENTGATE_ERROR_ENUM)
#undef AGENTGATE_ERROR_ENUM
        ERR_COUNT
};

/* The error whose snake_case code is `code` (as an adapter reports it in a failure), or
 * ERR_INTERNAL when the registry has no such code. */
enum agentgate_error error_from_code(const char *code);

/* The answer to a failed database call (status is not DB_OK): 503 when the database could not
 * be reached or the connection broke, whatever the call was for; 500 when a statement failed. */
enum agentgate_error error_from_db_status(enum db_status status);

/* The HTTP status, code and message of an error; never NULL. */
unsigned error_http_status(enum agentgate_error error);
const char *error_code(enum agentgate_error error);
const char *error_message(enum agentgate_error error);

#endif
