/* Declared-shape validation of JSON request bodies; see json_spec.h. */
#include "web/json_spec.h"

#include <stdio.h>
#include <string.h>

void failure_set(struct agentgate_failure *failure, int status, const char *code, const char *field,
                 const char *message)
{
    failure->status = status;
    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->field, sizeof failure->field, "%s", field ? field : "");
    snprintf(failure->message, sizeof failure->message, "%s", message);
}

static void failure_from_error(struct agentgate_failure *failure, enum agentgate_error error,
                               const char *field, const char *message)
{
    failure_set(failure, (int)error_http_status(error), error_code(error), field,
                message ? message : error_message(error));
}

unsigned json_nesting_depth(const char *body, size_t length, unsigned limit)
{
    unsigned depth = 0, deepest = 0;
    bool in_string = false;

    for (size_t i = 0; i < length; i++) {
        char c = body[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit)
                    return limit + 1;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

enum agentgate_error json_request_parse(const char *body, size_t length, json_t **root,
                                        struct agentgate_failure *failure)
{
    json_error_t error;
    json_t *parsed;

    *root = NULL;
    if (json_nesting_depth(body, length, JSON_REQUEST_MAX_DEPTH) > JSON_REQUEST_MAX_DEPTH) {
        failure_from_error(failure, ERR_NESTING_TOO_DEEP, NULL, NULL);
        return ERR_NESTING_TOO_DEEP;
    }
    parsed = json_loadb(body, length, JSON_REJECT_DUPLICATES, &error);
    if (!parsed) {
        enum agentgate_error code;
        char message[160];
        switch (json_error_code(&error)) {
        case json_error_invalid_utf8:
            code = ERR_INVALID_UTF8;
            break;
        case json_error_duplicate_key:
            code = ERR_DUPLICATE_KEY;
            break;
        default:
            code = ERR_MALFORMED_JSON;
            break;
        }
        /* jansson's text names the problem and position, never more than a short excerpt. */
        snprintf(message, sizeof message, "%s: %s at byte %d", error_message(code), error.text,
                 error.position);
        for (char *p = message; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        failure_from_error(failure, code, NULL, message);
        return code;
    }
    if (!json_is_object(parsed)) {
        json_decref(parsed);
        failure_from_error(failure, ERR_INVALID_FIELD, NULL, "request body must be a JSON object");
        return ERR_INVALID_FIELD;
    }
    *root = parsed;
    return ERR_NONE;
}

size_t utf8_length(const char *text)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if ((*p & 0xC0) != 0x80)
            count++;
    return count;
}

/* Finds the value at a dotted path, or NULL when it or a parent is absent or not an object. */
static const json_t *json_at_path(const json_t *root, const char *path)
{
    const json_t *node = root;
    char key[96];

    while (node && *path) {
        size_t length = strcspn(path, ".");
        if (length >= sizeof key || !json_is_object(node))
            return NULL;
        memcpy(key, path, length);
        key[length] = '\0';
        node = json_object_get(node, key);
        path += length;
        if (*path == '.')
            path++;
    }
    return node;
}

/* The parent path of "a.b.c" is "a.b"; of "a" it is "". */
static void path_parent(const char *path, char *out, size_t out_size)
{
    const char *dot = strrchr(path, '.');
    size_t length = dot ? (size_t)(dot - path) : 0;
    if (length >= out_size)
        length = out_size - 1;
    memcpy(out, path, length);
    out[length] = '\0';
}

/* Whether the spec declares `key` directly under the object at `parent` ("" for the root). A key
 * holding a dot is never declared: "agent.id" at the top level is not agent.id, and accepting it
 * would let a typo or a smuggled field pass as known. */
static bool spec_declares(const struct agentgate_json_field *fields, size_t n, const char *parent,
                          const char *key)
{
    size_t parent_length = strlen(parent);
    if (strchr(key, '.'))
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *path = fields[i].path;
        if (parent_length == 0) {
            if (strcmp(path, key) == 0)
                return true;
        } else if (strncmp(path, parent, parent_length) == 0 && path[parent_length] == '.' &&
                   strcmp(path + parent_length + 1, key) == 0) {
            return true;
        }
    }
    return false;
}

/* Refuses keys of the object at `path` that the spec does not declare. */
static bool object_check_keys(const json_t *object, const char *path,
                              const struct agentgate_json_field *fields, size_t n,
                              struct agentgate_failure *failure)
{
    const char *key;
    json_t *value;

    json_object_foreach((json_t *)object, key, value)
    {
        (void)value;
        if (!spec_declares(fields, n, path, key)) {
            char field[96];
            if (*path)
                snprintf(field, sizeof field, "%s.%s", path, key);
            else
                snprintf(field, sizeof field, "%s", key);
            failure_from_error(failure, ERR_INVALID_FIELD, field, "unknown field");
            return false;
        }
    }
    return true;
}

/* An array of at most 64 strings, each no longer than spec->max_length (when set). */
static bool string_array_check(const json_t *value, const struct agentgate_json_field *spec,
                               struct agentgate_failure *failure)
{
    size_t index;
    const json_t *item;

    if (!json_is_array(value) || json_array_size(value) > 64) {
        failure_from_error(failure, ERR_INVALID_FIELD, spec->path,
                           "field must be an array of at most 64 strings");
        return false;
    }
    json_array_foreach((json_t *)value, index, item)
    {
        if (!json_is_string(item) ||
            (spec->max_length && utf8_length(json_string_value(item)) > spec->max_length)) {
            failure_from_error(failure, ERR_INVALID_FIELD, spec->path,
                               "field must be an array of short strings");
            return false;
        }
    }
    return true;
}

/* A string of min_length to max_length (when set) characters. */
static bool string_check(const json_t *value, const struct agentgate_json_field *spec,
                         struct agentgate_failure *failure)
{
    char message[160];
    size_t length;

    if (!json_is_string(value)) {
        failure_from_error(failure, ERR_INVALID_FIELD, spec->path, "field must be a string");
        return false;
    }
    length = utf8_length(json_string_value(value));
    if (length < spec->min_length) {
        failure_from_error(failure, ERR_INVALID_FIELD, spec->path,
                           spec->min_length == 1 ? "field must not be empty"
                                                 : "field is too short");
        return false;
    }
    if (spec->max_length && length > spec->max_length) {
        snprintf(message, sizeof message, "field is longer than %zu characters", spec->max_length);
        failure_from_error(failure, ERR_INVALID_FIELD, spec->path, message);
        return false;
    }
    return true;
}

/* A present value against its field's declared type (an object's keys against the spec). */
static bool value_check(const json_t *value, const struct agentgate_json_field *spec,
                        const struct agentgate_json_field *fields, size_t n,
                        struct agentgate_failure *failure)
{
    switch (spec->type) {
    case AGENTGATE_JSON_OBJECT:
        if (!json_is_object(value)) {
            failure_from_error(failure, ERR_INVALID_FIELD, spec->path, "field must be an object");
            return false;
        }
        return object_check_keys(value, spec->path, fields, n, failure);
    case AGENTGATE_JSON_STRING_ARRAY:
        return string_array_check(value, spec, failure);
    case AGENTGATE_JSON_INTEGER:
        if (!json_is_integer(value) || json_integer_value(value) < (json_int_t)spec->min_length ||
            (spec->max_length && json_integer_value(value) > (json_int_t)spec->max_length)) {
            failure_from_error(failure, ERR_INVALID_FIELD, spec->path,
                               "field must be an integer in range");
            return false;
        }
        return true;
    case AGENTGATE_JSON_STRING:
        return string_check(value, spec, failure);
    }
    return true;
}

bool json_spec_check(const json_t *root, const struct agentgate_json_field *fields, size_t n,
                     struct agentgate_failure *failure)
{
    if (!json_is_object(root)) {
        failure_from_error(failure, ERR_INVALID_FIELD, NULL, "request body must be a JSON object");
        return false;
    }
    if (!object_check_keys(root, "", fields, n, failure))
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct agentgate_json_field *spec = &fields[i];
        const json_t *value;
        char parent[96];

        path_parent(spec->path, parent, sizeof parent);
        if (*parent && !json_at_path(root, parent))
            continue; /* an absent optional parent was already judged */
        value = json_at_path(root, spec->path);
        if (!value || json_is_null(value)) {
            if (spec->required) {
                failure_from_error(failure, ERR_MISSING_FIELD, spec->path, "field is required");
                return false;
            }
            continue;
        }
        if (!value_check(value, spec, fields, n, failure))
            return false;
    }
    return true;
}

const char *json_string_at(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}
