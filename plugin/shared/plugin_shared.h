/*
 * Code shared by the adapters in plugin/ (compiled into each shared object, hidden from the
 * others): intake decoding of CONTRACT §4.1, reading a generic forum answer, and the pieces of
 * a platform API request (settings, URL, headers, failures) that every API adapter builds.
 */
#ifndef AGENTGATE_PLUGIN_SHARED_H
#define AGENTGATE_PLUGIN_SHARED_H

#include <agentgate/plugin.h>

#define AGENTGATE_HIDDEN __attribute__((visibility("hidden")))

/* decode_intake for the §4.1 body. */
AGENTGATE_HIDDEN bool agentgate_shared_decode_intake(const struct agentgate_host *host,
                                                     const json_t *root,
                                                     struct agentgate_intake *out,
                                                     struct agentgate_failure *failure);

/* read_release_answer for an answer of {"post_id", "post_url"} (both optional). */
AGENTGATE_HIDDEN bool agentgate_shared_read_answer(const struct agentgate_forum_settings *forum,
                                                   const struct agentgate_event *event, long status,
                                                   const char *body, size_t body_length,
                                                   char *post_id, size_t post_id_size,
                                                   char *post_url, size_t post_url_size);

/* The string at `key` of `object`, or NULL. */
AGENTGATE_HIDDEN const char *agentgate_shared_string(const json_t *object, const char *key);

/* True when `text` is one or more ASCII digits (safe in a URL path). */
AGENTGATE_HIDDEN bool agentgate_shared_all_digits(const char *text);

/* An id for a platform's JSON: an integer when `text` is all digits and at most `max_digits`
 * long, else the string as given. */
AGENTGATE_HIDDEN json_t *agentgate_shared_id_value(const char *text, size_t max_digits);

/* Copies forum_url without trailing slashes into `out`; false unless it is an absolute http(s)
 * URL without query, fragment, spaces or control characters that fits. */
AGENTGATE_HIDDEN bool agentgate_shared_base_url(const char *forum_url, char *out, size_t size);

/* False when a header value carries CR, LF or another control character (header injection). */
AGENTGATE_HIDDEN bool agentgate_shared_header_value_safe(const char *value);

/* Fills `failure` with a code, a field ("" for none) and a formatted message. */
AGENTGATE_HIDDEN void agentgate_shared_fail(struct agentgate_failure *failure, const char *code,
                                            const char *field, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks what publishing through `platform`'s API (a name for messages, e.g. "NodeBB") needs of
 * the forum's settings: a forum_url that agentgate_shared_base_url() accepts (copied into
 * `base`) and a release_api_key without control characters. False with `failure` filled
 * (no_forum_url, no_release_api_key, invalid_release_api_key, invalid_forum_url) otherwise. */
AGENTGATE_HIDDEN bool agentgate_shared_api_base(const struct agentgate_forum_settings *forum,
                                                const char *platform, char *base, size_t size,
                                                struct agentgate_failure *failure);

/* Writes the request's URL; false with failure url_too_long when it does not fit (never cut). */
AGENTGATE_HIDDEN bool agentgate_shared_set_url(struct agentgate_http_request *request,
                                               const struct agentgate_forum_settings *forum,
                                               struct agentgate_failure *failure,
                                               const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds a header to the request; false with failure invalid_header_value (control characters),
 * too_many_headers or header_too_long (never cut). */
AGENTGATE_HIDDEN bool agentgate_shared_add_header(struct agentgate_http_request *request,
                                                  const char *name, const char *value,
                                                  struct agentgate_failure *failure);

/* True for draft.approved, the one event an API adapter publishes through its platform's API;
 * every other event goes to release_url as the generic webhook (or is skipped without one). */
AGENTGATE_HIDDEN bool agentgate_shared_approved(const struct agentgate_event *event);

/* What an approved draft's event says of its post (data.post): strings borrowed from the event,
 * NULL where absent. */
struct agentgate_shared_post {
    const char *topic_id, *reply_to, *category, *title, *body;
};

/* Reads data.post of `event` into `post` and checks what every platform needs of it: a body,
 * and a topic_id of digits only when there is one (`topic_id_refusal` is the message
 * otherwise). False with `failure` filled (invalid_event, invalid_topic_id). */
AGENTGATE_HIDDEN bool agentgate_shared_post_read(const struct agentgate_event *event,
                                                 struct agentgate_shared_post *post,
                                                 const char *topic_id_refusal,
                                                 struct agentgate_failure *failure);

/* Starts reading a platform's answer to draft.approved: empties post_id and post_url and
 * returns the answer's JSON object (the caller decrefs it), or NULL when the body is not one. */
AGENTGATE_HIDDEN json_t *agentgate_shared_answer_object(const char *body, size_t body_length,
                                                        char *post_id, size_t post_id_size,
                                                        char *post_url, size_t post_url_size);

#endif
