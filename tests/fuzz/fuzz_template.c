/* Fuzz target: the page template renderer (lib/template) with fuzzed template text and fuzzed
 * data. Input: TEMPLATE RS JSON (RS = 0x1e). A TEMPLATE of "@name" renders that page template
 * of the binary (partials resolve among them) with the fuzzed data instead.
 *
 * Nested sections over arrays multiply output (n^depth); the templates are trusted files, so
 * that is not a defect, but it would make the fuzzer time out. Inputs whose worst-case
 * repetition exceeds 4096 are skipped (see too_repetitive).
 *
 * Checks: escaping by default. A fuzzed template with no '<', no raw tag and no partial yields
 * no '<' whatever the data holds. A result, when there is one, has no NUL inside; a refusal
 * has a one-line reason. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "fuzz_input.h"
#include "template.h"
#include "web/assets.h"

/* The longest array anywhere in `value`. */
static size_t longest_array(const json_t *value)
{
    size_t longest = 0, index;
    const char *key;
    json_t *item;

    if (json_is_array(value)) {
        longest = json_array_size(value);
        json_array_foreach(value, index, item)
        {
            size_t inner = longest_array(item);
            if (inner > longest)
                longest = inner;
        }
    } else if (json_is_object(value)) {
        json_object_foreach((json_t *)value, key, item)
        {
            size_t inner = longest_array(item);
            if (inner > longest)
                longest = inner;
        }
    }
    return longest;
}

/* How many tags open with `sigil` ('#', '^', '>', '{'): "{{", any white space (the engine
 * allows it), then the sigil. */
static size_t count_tags(const char *text, char sigil)
{
    size_t count = 0;
    for (const char *p = strstr(text, "{{"); p; p = strstr(p + 2, "{{")) {
        const char *q = p + 2;
        if (sigil != '{')
            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\f' || *q == '\v')
                q++;
        count += *q == sigil;
    }
    return count;
}

/* Whether longest^sections could exceed 4096 repetitions. Partials bring sections of their
 * own, counted as 64. */
static bool too_repetitive(const char *text, const json_t *data)
{
    size_t longest = longest_array(data), sections, repetitions = 1;

    if (longest <= 1)
        return false;
    sections = count_tags(text, '#') + count_tags(text, '^') + 64 * count_tags(text, '>');
    for (size_t i = 0; i < sections; i++)
        if ((repetitions *= longest) > 4096)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *parts[2];
    size_t lengths[2];
    char error[256] = "";
    json_t *value, *object;
    char *out;

    fuzz_split(data, size, 2, parts, lengths);
    value = json_loadb(parts[1], lengths[1], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!value)
        value = json_stringn(parts[1], lengths[1]); /* NULL when not UTF-8: then no data */
    if (json_is_object(value)) {
        object = value;
    } else {
        object = json_object();
        if (value)
            json_object_set_new(object, "v", value);
    }

    if (parts[0][0] == '@') {
        const struct embedded_file *file = embedded_find(templates_embedded, parts[0] + 1);
        if (file && !too_repetitive((const char *)file->bytes, object)) {
            out = template_render(templates_embedded, parts[0] + 1, object, error, sizeof error);
            if (out)
                free(out);
            else if (!error[0] || strchr(error, '\n'))
                abort();
        }
    } else if (strlen(parts[0]) == lengths[0] && !too_repetitive(parts[0], object)) {
        out = template_render_text(templates_embedded, parts[0], object, error, sizeof error);
        if (out) {
            if (!strchr(parts[0], '<') && !count_tags(parts[0], '{') &&
                !count_tags(parts[0], '>') && strchr(out, '<'))
                abort(); /* a data value reached the page unescaped */
            free(out);
        } else if (!error[0] || strchr(error, '\n')) {
            abort();
        }
    }
    json_decref(object);
    fuzz_parts_free(2, parts);
    return 0;
}
