/* text_diff.c — line-based longest-common-subsequence diff between two revisions of a text.
 *
 * Both texts are split into lines that point into the caller's strings (no copies). The common
 * prefix and suffix are trimmed first, so a typical small edit costs time linear in the text.
 * For the differing middle, an LCS table is computed bottom-up keeping only two rows of lengths
 * (O(m) integers) plus one decision bit per cell (O(n*m) bits): the bit says whether, when the
 * two lines differ, dropping the `before` line keeps at least as long a common subsequence as
 * dropping the `after` line. A forward walk then emits "same" for equal lines, "del" when the
 * bit is set, "add" otherwise, which puts deletions before additions inside a changed run.
 *
 * Invariants:
 *  - Lines exclude their '\n' and one trailing '\r'; a text with n '\n' and a non-empty tail has
 *    n + 1 lines, otherwise n; the empty text has none.
 *  - Line equality is length + bytes (a 64-bit hash only speeds up the negative case).
 *  - The table is bounded: at most (TEXT_DIFF_MAX_LINES + 1)^2 cells, so at most ~2 MB of bits;
 *    larger middles fall back to "all deleted, then all added".
 *  - No global mutable state; all memory is per call and released on every path.
 */
#include "text_diff.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct line {
    const char *text;
    size_t length;
    uint64_t hash;
};

struct lines {
    struct line *items;
    size_t count;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static bool lines_equal(const struct line *a, const struct line *b)
{
    return a->hash == b->hash && a->length == b->length &&
           (a->length == 0 || memcmp(a->text, b->text, a->length) == 0);
}

/* Splits `text` (may be NULL) into lines. Returns false on allocation failure. */
static bool split_lines(const char *text, struct lines *out)
{
    out->items = NULL;
    out->count = 0;
    if (text == NULL || text[0] == '\0')
        return true;

    size_t count = 0;
    const char *p = text;
    for (; *p != '\0'; p++) {
        if (*p == '\n')
            count++;
    }
    if (p[-1] != '\n')
        count++; /* final line without newline */

    out->items = malloc(count * sizeof out->items[0]);
    if (out->items == NULL)
        return false;

    const char *start = text;
    size_t k = 0;
    while (*start != '\0') {
        const char *end = strchr(start, '\n');
        const char *next;
        if (end == NULL) {
            end = start + strlen(start);
            next = end;
        } else {
            next = end + 1;
        }
        size_t length = (size_t)(end - start);
        if (length > 0 && start[length - 1] == '\r')
            length--;
        out->items[k].text = start;
        out->items[k].length = length;
        out->items[k].hash = hash_bytes(start, length);
        k++;
        start = next;
    }
    out->count = k;
    return true;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is invalid (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* A JSON string for the line; invalid UTF-8 bytes are replaced with U+FFFD. NULL on failure. */
static json_t *line_string(const struct line *line)
{
    json_t *s = json_stringn(line->text, line->length);
    if (s != NULL)
        return s;

    /* Either invalid UTF-8 or out of memory: retry with a repaired copy. */
    if (line->length > SIZE_MAX / 3)
        return NULL;
    char *copy = malloc(line->length * 3 + 1);
    if (copy == NULL)
        return NULL;
    const unsigned char *in = (const unsigned char *)line->text;
    size_t o = 0;
    for (size_t i = 0; i < line->length;) {
        size_t k = utf8_sequence(in + i, line->length - i);
        if (k == 0) {
            memcpy(copy + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(copy + o, in + i, k);
            o += k;
            i += k;
        }
    }
    s = json_stringn(copy, o);
    free(copy);
    return s;
}

/* Appends {"op": op, "text": line} to `diff`. Returns false on failure. */
static bool append(json_t *diff, const char *op, const struct line *line)
{
    json_t *entry = json_object();
    if (entry == NULL)
        return false;
    if (json_object_set_new(entry, "op", json_string(op)) != 0 ||
        json_object_set_new(entry, "text", line_string(line)) != 0) {
        json_decref(entry);
        return false;
    }
    return json_array_append_new(diff, entry) == 0;
}

static bool append_run(json_t *diff, const char *op, const struct line *lines, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!append(diff, op, &lines[i]))
            return false;
    }
    return true;
}

/* LCS diff of a[0..n) against b[0..m), both non-empty and within the cell budget. */
static bool diff_middle(json_t *diff, const struct line *a, size_t n, const struct line *b,
                        size_t m)
{
    bool ok = false;
    size_t cells = n * m;
    uint32_t *next = calloc(m + 1, sizeof *next);
    uint32_t *current = calloc(m + 1, sizeof *current);
    unsigned char *drop_before = calloc(cells / 8 + 1, 1);
    if (next == NULL || current == NULL || drop_before == NULL)
        goto done;

    /* next = row i+1, current = row i; entries are LCS lengths of a[i..) and b[j..). */
    for (size_t i = n; i-- > 0;) {
        current[m] = 0;
        for (size_t j = m; j-- > 0;) {
            if (lines_equal(&a[i], &b[j])) {
                current[j] = next[j + 1] + 1;
            } else if (next[j] >= current[j + 1]) {
                size_t cell = i * m + j;
                current[j] = next[j];
                drop_before[cell / 8] |= (unsigned char)(1u << (cell % 8));
            } else {
                current[j] = current[j + 1];
            }
        }
        uint32_t *swap = next;
        next = current;
        current = swap;
    }

    size_t i = 0, j = 0;
    while (i < n && j < m) {
        size_t cell = i * m + j;
        if (lines_equal(&a[i], &b[j])) {
            if (!append(diff, "same", &a[i]))
                goto done;
            i++;
            j++;
        } else if (drop_before[cell / 8] & (1u << (cell % 8))) {
            if (!append(diff, "del", &a[i]))
                goto done;
            i++;
        } else {
            if (!append(diff, "add", &b[j]))
                goto done;
            j++;
        }
    }
    ok = append_run(diff, "del", a + i, n - i) && append_run(diff, "add", b + j, m - j);

done:
    free(next);
    free(current);
    free(drop_before);
    return ok;
}

/* The diff of two split texts (see text_diff_lines). Returns NULL on failure. */
static json_t *diff_units(const struct lines *a, const struct lines *b)
{
    const size_t budget = (size_t)(TEXT_DIFF_MAX_LINES + 1) * (TEXT_DIFF_MAX_LINES + 1);
    json_t *diff = json_array();
    size_t prefix = 0, suffix = 0, n, m;

    if (diff == NULL)
        return NULL;
    while (prefix < a->count && prefix < b->count &&
           lines_equal(&a->items[prefix], &b->items[prefix]))
        prefix++;
    while (suffix < a->count - prefix && suffix < b->count - prefix &&
           lines_equal(&a->items[a->count - 1 - suffix], &b->items[b->count - 1 - suffix]))
        suffix++;
    n = a->count - prefix - suffix;
    m = b->count - prefix - suffix;
    if (!append_run(diff, "same", a->items, prefix))
        goto fail;
    if (n == 0 || m == 0 || n + 1 > budget / (m + 1)) {
        if (!append_run(diff, "del", a->items + prefix, n) ||
            !append_run(diff, "add", b->items + prefix, m))
            goto fail;
    } else if (!diff_middle(diff, a->items + prefix, n, b->items + prefix, m)) {
        goto fail;
    }
    if (!append_run(diff, "same", a->items + a->count - suffix, suffix))
        goto fail;
    return diff;
fail:
    json_decref(diff);
    return NULL;
}

json_t *text_diff_lines(const char *before, const char *after)
{
    struct lines a, b;
    json_t *diff = NULL;

    if (!split_lines(before, &a))
        return NULL;
    if (split_lines(after, &b))
        diff = diff_units(&a, &b);
    free(a.items);
    free(b.items);
    return diff;
}

/* Word characters: letters, digits, '_' and every byte of a non-ASCII character. */
static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

/* Splits `text` into words, runs of white space and single other characters. */
static bool split_words(const char *text, struct lines *out)
{
    size_t length = text ? strlen(text) : 0, k = 0;

    out->items = NULL;
    out->count = 0;
    if (length == 0)
        return true;
    out->items = malloc(length * sizeof out->items[0]);
    if (out->items == NULL)
        return false;
    for (size_t at = 0; at < length;) {
        size_t end = at + 1;
        unsigned char c = (unsigned char)text[at];
        if (is_word_byte(c)) {
            while (end < length && is_word_byte((unsigned char)text[end]))
                end++;
        } else if (c == ' ' || c == '\t') {
            while (end < length && (text[end] == ' ' || text[end] == '\t'))
                end++;
        }
        out->items[k].text = text + at;
        out->items[k].length = end - at;
        out->items[k].hash = hash_bytes(text + at, end - at);
        k++;
        at = end;
    }
    out->count = k;
    return true;
}

/* Joins neighbouring entries of the same op into one. */
static json_t *merge_runs(json_t *diff)
{
    json_t *merged = json_array();
    size_t index;
    json_t *entry;

    if (merged == NULL) {
        json_decref(diff);
        return NULL;
    }
    json_array_foreach(diff, index, entry)
    {
        json_t *last = json_array_get(merged, json_array_size(merged) - 1);
        const char *op = json_string_value(json_object_get(entry, "op"));
        const char *text = json_string_value(json_object_get(entry, "text"));
        if (last && strcmp(json_string_value(json_object_get(last, "op")), op) == 0) {
            const char *before = json_string_value(json_object_get(last, "text"));
            size_t a = strlen(before), b = strlen(text);
            char *joined = malloc(a + b + 1);
            if (joined == NULL)
                goto fail;
            memcpy(joined, before, a);
            memcpy(joined + a, text, b + 1);
            json_object_set_new(last, "text", json_string(joined));
            free(joined);
        } else if (json_array_append(merged, entry) != 0) {
            goto fail;
        }
    }
    json_decref(diff);
    return merged;
fail:
    json_decref(diff);
    json_decref(merged);
    return NULL;
}

json_t *text_diff_words(const char *before, const char *after)
{
    struct lines a, b;
    json_t *diff = NULL;

    if (!split_words(before, &a))
        return NULL;
    if (split_words(after, &b))
        diff = diff_units(&a, &b);
    free(a.items);
    free(b.items);
    return diff ? merge_runs(diff) : NULL;
}

void text_diff_count(const json_t *diff, size_t *added, size_t *deleted)
{
    size_t add = 0, del = 0;

    if (json_is_array(diff)) {
        for (size_t i = 0; i < json_array_size(diff); i++) {
            const char *op = json_string_value(json_object_get(json_array_get(diff, i), "op"));
            if (op == NULL)
                continue;
            if (strcmp(op, "add") == 0)
                add++;
            else if (strcmp(op, "del") == 0)
                del++;
        }
    }
    if (added != NULL)
        *added = add;
    if (deleted != NULL)
        *deleted = del;
}
