/*
 * Request bodies parsed by a declared shape. json_request_parse() refuses
 * what jansson alone would let through (excessive nesting, checked on the raw
 * bytes before any tree is built) and maps jansson's failures to our errors;
 * json_spec_check() applies a table of struct agentgate_json_field.
 */
#ifndef AGENTGATE_JSON_SPEC_H
#define AGENTGATE_JSON_SPEC_H

#include <agentgate/plugin.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "web/errors.h"

#define JSON_REQUEST_MAX_DEPTH 8

/* Parses `length` bytes as one JSON object, duplicate keys refused, NUL in strings refused,
 * at most JSON_REQUEST_MAX_DEPTH levels of nesting. On success returns ERR_NONE and a new
 * reference in *root (the caller json_decref()s it); otherwise fills `failure`. */
enum agentgate_error json_request_parse(const char *body, size_t length, json_t **root,
                                        struct agentgate_failure *failure)
    __attribute__((warn_unused_result));

/* The deepest nesting of arrays and objects in the raw text (strings are skipped). Stops
 * counting once past `limit` and returns limit + 1. */
unsigned json_nesting_depth(const char *body, size_t length, unsigned limit);

/* See struct agentgate_host.json_check. */
bool json_spec_check(const json_t *root, const struct agentgate_json_field *fields, size_t n,
                     struct agentgate_failure *failure) __attribute__((warn_unused_result));

/* Number of Unicode code points in a valid UTF-8 string. */
size_t utf8_length(const char *text);

/* The string at `key` of `object`, or NULL when absent or not a string (borrowed). */
const char *json_string_at(const json_t *object, const char *key);

/* Fills a failure record; `field` may be NULL. */
void failure_set(struct agentgate_failure *failure, int status, const char *code, const char *field,
                 const char *message);

#endif
