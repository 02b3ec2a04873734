/*
 * application/x-www-form-urlencoded bodies and query strings. Values are
 * percent-decoded and must be valid UTF-8 without NUL, so nothing malformed
 * reaches the database or a page.
 */
#ifndef AGENTGATE_FORM_H
#define AGENTGATE_FORM_H

#include <stdbool.h>
#include <stddef.h>

/* Most fields one form may hold. The draft page sends one acknowledgement per flag, so a
 * form holds as many fields as a draft has flags and a few more; beyond this a form is refused
 * (form.too_many says so) rather than read in part. */
#define FORM_FIELDS_MAX 10000

struct form {
    size_t count;
    size_t capacity;
    char **names; /* count entries each, percent-decoded, valid UTF-8 */
    char **values;
    bool too_many; /* form_parse refused it for holding more than FORM_FIELDS_MAX fields */
};

/* Parses `length` bytes into `form`. Returns false on malformed encoding, invalid UTF-8, NUL,
 * more than FORM_FIELDS_MAX fields (too_many set) or when memory runs out. form_free() is
 * needed either way. */
bool form_parse(const char *text, size_t length, struct form *form)
    __attribute__((warn_unused_result));
void form_free(struct form *form);

/* The first value of `name`, or NULL. */
const char *form_get(const struct form *form, const char *name);
/* Whether `name` was given with exactly `value` (for repeated checkbox fields). */
bool form_has_value(const struct form *form, const char *name, const char *value);

/* True when `text` (length bytes) is valid UTF-8 with no NUL and no overlong forms or
 * surrogates. */
bool utf8_valid(const char *text, size_t length);

/* Percent-encodes `text` for a URL query value into a new string (caller frees). */
char *form_url_encode(const char *text) __attribute__((warn_unused_result));

/* The query string "name=value&name=value" of the `count` pairs {name, value} whose value is
 * not empty, values percent-encoded (names are fixed words, used as they are): a new string
 * (caller frees; "" when every value is empty), or NULL when memory runs out. */
char *form_query_string(const char *const (*pairs)[2], size_t count)
    __attribute__((warn_unused_result));

#endif
