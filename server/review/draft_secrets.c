/* Masks and placeholders for secrets in drafts; see draft_secrets.h. */
#include "review/draft_secrets.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "text.h"
#include "web/json_spec.h"

#define PLACEHOLDER_OPEN  "\xE2\x9F\xA8" /* ⟨ */
#define PLACEHOLDER_CLOSE "\xE2\x9F\xA9" /* ⟩ */

void draft_secrets_free(struct draft_secrets *secrets)
{
    for (size_t i = 0; i < secrets->count; i++)
        free(secrets->values[i]);
    free(secrets->values);
    memset(secrets, 0, sizeof *secrets);
}

/* The number of `value` (length bytes), added when new; 0 when memory runs out. */
static size_t secrets_number(struct draft_secrets *secrets, const char *value, size_t length)
{
    for (size_t i = 0; i < secrets->count; i++)
        if (strlen(secrets->values[i]) == length && memcmp(secrets->values[i], value, length) == 0)
            return i + 1;
    if (secrets->count == secrets->capacity) {
        size_t capacity = secrets->capacity ? secrets->capacity * 2 : 8;
        char **values = realloc(secrets->values, capacity * sizeof *values);
        if (!values)
            return 0;
        secrets->values = values;
        secrets->capacity = capacity;
    }
    secrets->values[secrets->count] = strndup(value, length);
    if (!secrets->values[secrets->count])
        return 0;
    return ++secrets->count;
}

/* Appends [start, end) to `spans`, merged with the last span when they overlap (spans arrive
 * sorted by start). */
static void spans_add(json_t *spans, json_int_t start, json_int_t end)
{
    json_t *last = json_array_get(spans, json_array_size(spans) - 1);
    if (last && start < json_integer_value(json_array_get(last, 1))) {
        if (end > json_integer_value(json_array_get(last, 1)))
            json_array_set_new(last, 1, json_integer(end));
        return;
    }
    json_array_append_new(spans, json_pack("[I, I]", start, end));
}

static int span_compare(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_array_get(*(json_t *const *)a, 0));
    json_int_t y = json_integer_value(json_array_get(*(json_t *const *)b, 0));
    return (x > y) - (x < y);
}

/* Appends the secret spans of `flags` for `field` that lie inside a text of `length` bytes. */
static void spans_collect(json_t *found, const json_t *flags, const char *field, size_t length)
{
    const json_t *flag;
    size_t index;

    json_array_foreach((json_t *)flags, index, flag)
    {
        const char *code = json_string_at(flag, "code");
        const char *flag_field = json_string_at(flag, "field");
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));
        /* a span cut by the end of a shortened text (a list's excerpt) is masked up to the cut */
        if (end > (json_int_t)length)
            end = (json_int_t)length;
        if (flags_code_marks_secret(code) && flag_field && strcmp(flag_field, field) == 0 &&
            start >= 0 && end > start)
            json_array_append_new(found, json_pack("[I, I]", start, end));
    }
}

json_t *draft_secrets_spans(const char *field, const char *text, const json_t *flags)
{
    size_t length = text ? strlen(text) : 0, count;
    json_t *scanned = json_array(), *found = json_array(), *spans = json_array();
    json_t **sorted = NULL;

    if (!scanned || !found || !spans || (text && flags_scan(field, text, length, scanned) != 0))
        goto fail;
    spans_collect(found, flags, field, length);
    spans_collect(found, scanned, field, length);
    count = json_array_size(found);
    sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!sorted)
        goto fail;
    for (size_t i = 0; i < count; i++)
        sorted[i] = json_array_get(found, i);
    qsort(sorted, count, sizeof *sorted, span_compare);
    for (size_t i = 0; i < count; i++)
        spans_add(spans, json_integer_value(json_array_get(sorted[i], 0)),
                  json_integer_value(json_array_get(sorted[i], 1)));
    free(sorted);
    json_decref(scanned);
    json_decref(found);
    return spans;
fail:
    free(sorted);
    json_decref(scanned);
    json_decref(found);
    json_decref(spans);
    return NULL;
}

/* Moves `at` back to the start of the UTF-8 character it points into. */
static size_t character_start(const char *text, size_t at, size_t floor)
{
    while (at > floor && ((unsigned char)text[at] & 0xC0) == 0x80)
        at--;
    return at;
}

/* The end of the first `count` characters from `at`, within `end`. */
static size_t characters_after(const char *text, size_t at, size_t end, size_t count)
{
    while (at < end && count > 0) {
        at++;
        while (at < end && ((unsigned char)text[at] & 0xC0) == 0x80)
            at++;
        count--;
    }
    return at;
}

static bool is_key_character(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ' ' || c == '\t' || c == '"' || c == '\'';
}

void draft_secret_hidden(const char *text, size_t start, size_t end, size_t *hidden_start,
                         size_t *hidden_end)
{
    size_t at = start;

    *hidden_start = start;
    *hidden_end = end;
    if (end - start > 10 && strncmp(text + start, "-----BEGIN", 10) == 0) {
        /* a private key: its BEGIN and END lines stay, the key material goes */
        const char *newline = memchr(text + start, '\n', end - start);
        size_t last = end;
        *hidden_start = newline ? (size_t)(newline - text) + 1 : end;
        while (last > *hidden_start && text[last - 1] != '\n')
            last--;
        *hidden_end = last > *hidden_start ? last : end;
        return;
    }
    while (at < end && is_key_character(text[at]))
        at++;
    if (at > start && at < end && (text[at] == '=' || text[at] == ':')) {
        /* key = value, key: "value", user:password: the key stays */
        at++;
        while (at < end && (text[at] == ' ' || text[at] == '\t' || text[at] == '"' ||
                            text[at] == '\'' || text[at] == '='))
            at++;
        *hidden_start = at;
        if (*hidden_end > at && (text[*hidden_end - 1] == '"' || text[*hidden_end - 1] == '\''))
            (*hidden_end)--;
        return;
    }
    /* a token: its first four characters name its kind (AKIA, ghp_, eyJh) */
    if (end - start >= 16)
        *hidden_start = characters_after(text, start, end, 4);
    *hidden_start = character_start(text, *hidden_start, start);
}

/* Appends the masked form of the span [start, end) of `text`; false when it hides nothing. */
static bool mask_span_add(struct draft_secrets *secrets, struct text_buffer *out, const char *text,
                          size_t start, size_t end)
{
    size_t hidden_start, hidden_end, number;
    char placeholder[64];

    draft_secret_hidden(text, start, end, &hidden_start, &hidden_end);
    if (hidden_end <= hidden_start)
        return false;
    number = secrets_number(secrets, text + hidden_start, hidden_end - hidden_start);
    if (number == 0)
        out->failed = true;
    text_buffer_append(out, text + start, hidden_start - start);
    snprintf(placeholder, sizeof placeholder,
             DRAFT_SECRET_MASK PLACEHOLDER_OPEN "%zu" PLACEHOLDER_CLOSE, number);
    text_buffer_append(out, placeholder, strlen(placeholder));
    text_buffer_append(out, text + hidden_end, end - hidden_end);
    return true;
}

char *draft_secrets_mask_span(struct draft_secrets *secrets, const char *text, size_t start,
                              size_t end)
{
    struct text_buffer out = {0};
    if (!text || end > strlen(text) || end < start)
        return NULL;
    if (!mask_span_add(secrets, &out, text, start, end))
        text_buffer_append(&out, text + start, end - start);
    return text_buffer_finish(&out);
}

char *draft_secrets_mask(struct draft_secrets *secrets, const char *text, const json_t *spans,
                         json_t *marks)
{
    struct text_buffer out = {0};
    size_t at = 0, length = text ? strlen(text) : 0, index;
    const json_t *span;

    json_array_foreach((json_t *)spans, index, span)
    {
        size_t start = (size_t)json_integer_value(json_array_get(span, 0));
        size_t end = (size_t)json_integer_value(json_array_get(span, 1));
        size_t mark_start;

        if (start < at || end > length || end <= start)
            continue;
        text_buffer_append(&out, text + at, start - at);
        mark_start = out.length;
        if (!mask_span_add(secrets, &out, text, start, end))
            text_buffer_append(&out, text + start, end - start);
        else if (json_is_array(marks))
            json_array_append_new(
                marks, json_pack("[I, I]", (json_int_t)mark_start, (json_int_t)out.length));
        at = end;
    }
    text_buffer_append(&out, text ? text + at : "", length - at);
    return text_buffer_finish(&out);
}

char *draft_secrets_mask_scanned(struct draft_secrets *secrets, const char *field, const char *text)
{
    json_t *spans = draft_secrets_spans(field, text, NULL);
    char *masked = spans ? draft_secrets_mask(secrets, text, spans, NULL) : NULL;
    json_decref(spans);
    return masked;
}

/* The number of the placeholder at `text`, or 0 when none starts there; *length its bytes. */
static size_t placeholder_at(const char *text, size_t *length)
{
    size_t mask = strlen(DRAFT_SECRET_MASK), open = strlen(PLACEHOLDER_OPEN);
    size_t number = 0, digits = 0;
    const char *p;

    if (strncmp(text, DRAFT_SECRET_MASK PLACEHOLDER_OPEN, mask + open) != 0)
        return 0;
    for (p = text + mask + open; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
        number = number * 10 + (size_t)(*p - '0');
    if (digits == 0 || strncmp(p, PLACEHOLDER_CLOSE, strlen(PLACEHOLDER_CLOSE)) != 0)
        return 0;
    *length = (size_t)(p - text) + strlen(PLACEHOLDER_CLOSE);
    return number;
}

char *draft_secrets_unmask(const struct draft_secrets *secrets, const char *text)
{
    struct text_buffer out = {0};
    const char *at = text ? text : "";

    for (;;) {
        const char *next = strstr(at, DRAFT_SECRET_MASK PLACEHOLDER_OPEN);
        size_t length = 0, number;
        if (!next) {
            text_buffer_append(&out, at, strlen(at));
            break;
        }
        text_buffer_append(&out, at, (size_t)(next - at));
        number = placeholder_at(next, &length);
        if (number >= 1 && number <= secrets->count) {
            text_buffer_append(&out, secrets->values[number - 1],
                               strlen(secrets->values[number - 1]));
            at = next + length;
        } else {
            /* not one of ours: the text stays as typed */
            text_buffer_append(&out, next, strlen(DRAFT_SECRET_MASK));
            at = next + strlen(DRAFT_SECRET_MASK);
        }
    }
    return text_buffer_finish(&out);
}

char *draft_secret_redact(const char *text, size_t start, size_t end)
{
    struct text_buffer out = {0};
    size_t hidden_start, hidden_end, length = text ? strlen(text) : 0;

    if (!text || end > length || end <= start)
        return NULL;
    draft_secret_hidden(text, start, end, &hidden_start, &hidden_end);
    if (hidden_end <= hidden_start) {
        hidden_start = start;
        hidden_end = end;
    }
    text_buffer_append(&out, text, hidden_start);
    text_buffer_append(&out, DRAFT_SECRET_REDACTED, strlen(DRAFT_SECRET_REDACTED));
    text_buffer_append(&out, text + hidden_end, length - hidden_end);
    return text_buffer_finish(&out);
}
