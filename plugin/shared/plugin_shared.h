/*
 * Code shared by the adapters in plugin/ (compiled into each shared object, hidden from the
 * others): intake decoding of CONTRACT §4.1 and reading a generic forum answer.
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

/* Copies forum_url without trailing slashes into `out`; false unless it is an absolute http(s)
 * URL without query, fragment, spaces or control characters that fits. */
AGENTGATE_HIDDEN bool agentgate_shared_base_url(const char *forum_url, char *out, size_t size);

/* False when a header value carries CR, LF or another control character (header injection). */
AGENTGATE_HIDDEN bool agentgate_shared_header_value_safe(const char *value);

#endif
