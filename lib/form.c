/* Form and query-string decoding; see form.h. */
#include "form.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "text.h"

bool utf8_valid(const char *text, size_t length)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + length;

    while (p < end) {
        unsigned char c = *p;
        size_t need;
        unsigned long point;
        if (c == 0)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            point = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            point = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            point = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= need)
            return false;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            point = (point << 6) | (p[i] & 0x3F);
        }
        if ((need == 2 && point < 0x800) || (need == 3 && point < 0x10000) || point > 0x10FFFF ||
            (point >= 0xD800 && point <= 0xDFFF))
            return false;
        p += need + 1;
    }
    return true;
}

/* Decodes one component; NULL when malformed. */
static char *component_decode(const char *text, size_t length)
{
    char *out = malloc(length + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '+') {
            out[o++] = ' ';
        } else if (text[i] == '%') {
            int high, low;
            if (i + 2 >= length) {
                free(out);
                return NULL;
            }
            high = hex_value(text[i + 1]);
            low = hex_value(text[i + 2]);
            if (high < 0 || low < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(high * 16 + low);
            i += 2;
        } else {
            out[o++] = text[i];
        }
    }
    out[o] = '\0';
    if (!utf8_valid(out, o)) {
        free(out);
        return NULL;
    }
    return out;
}

/* Makes room for one more field. */
static bool form_grow(struct form *form)
{
    size_t capacity = form->capacity ? form->capacity * 2 : 16;
    char **names, **values;

    if (form->count < form->capacity)
        return true;
    if (capacity > FORM_FIELDS_MAX)
        capacity = FORM_FIELDS_MAX;
    names = realloc(form->names, capacity * sizeof *names);
    if (!names)
        return false;
    form->names = names;
    values = realloc(form->values, capacity * sizeof *values);
    if (!values)
        return false;
    form->values = values;
    form->capacity = capacity;
    return true;
}

bool form_parse(const char *text, size_t length, struct form *form)
{
    size_t i = 0;

    memset(form, 0, sizeof *form);
    while (i < length) {
        size_t end = i, equals;
        while (end < length && text[end] != '&')
            end++;
        if (end > i) {
            if (form->count == FORM_FIELDS_MAX) {
                form->too_many = true;
                return false;
            }
            if (!form_grow(form))
                return false;
            equals = i;
            while (equals < end && text[equals] != '=')
                equals++;
            form->names[form->count] = component_decode(text + i, equals - i);
            form->values[form->count] = equals < end
                                            ? component_decode(text + equals + 1, end - equals - 1)
                                            : component_decode("", 0);
            form->count++;
            if (!form->names[form->count - 1] || !form->values[form->count - 1])
                return false;
        }
        i = end + 1;
    }
    return true;
}

void form_free(struct form *form)
{
    for (size_t i = 0; i < form->count; i++) {
        free(form->names[i]);
        free(form->values[i]);
    }
    free(form->names);
    free(form->values);
    memset(form, 0, sizeof *form);
}

const char *form_get(const struct form *form, const char *name)
{
    for (size_t i = 0; i < form->count; i++)
        if (form->names[i] && strcmp(form->names[i], name) == 0)
            return form->values[i];
    return NULL;
}

bool form_has_value(const struct form *form, const char *name, const char *value)
{
    for (size_t i = 0; i < form->count; i++)
        if (form->names[i] && form->values[i] && strcmp(form->names[i], name) == 0 &&
            strcmp(form->values[i], value) == 0)
            return true;
    return false;
}

char *form_url_encode(const char *text)
{
    size_t length = strlen(text);
    char *out = malloc(3 * length + 1), *o = out;

    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex_digit_upper(*p >> 4);
            *o++ = hex_digit_upper(*p);
        }
    }
    *o = '\0';
    return out;
}

char *form_query_string(const char *const (*pairs)[2], size_t count)
{
    struct text_buffer text = {0};

    for (size_t i = 0; i < count; i++) {
        char *encoded;
        if (!pairs[i][1] || !*pairs[i][1])
            continue;
        encoded = form_url_encode(pairs[i][1]);
        if (!encoded) {
            text_buffer_free(&text);
            return NULL;
        }
        text_buffer_printf(&text, "%s%s=%s", text.length ? "&" : "", pairs[i][0], encoded);
        free(encoded);
    }
    return text_buffer_finish(&text);
}
