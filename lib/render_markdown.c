/* render_markdown.c — CommonMark preview that is safe to embed in a page.
 *
 * The source goes through libcmark (0.30) in its default safe mode: CMARK_OPT_UNSAFE is never
 * passed, so raw HTML blocks and inline HTML become "<!-- raw HTML omitted -->" and unsafe link
 * and image URLs become empty. CMARK_OPT_VALIDATE_UTF8 replaces invalid UTF-8 with U+FFFD.
 *
 * Defence in depth: the rendered HTML is then tokenised by html_is_safe() and must consist of
 * escaped text plus only the tags and attributes cmark's renderer emits, with quoted attribute
 * values and no dangerous URL scheme in href/src (checked after decoding character references
 * and dropping whitespace/control characters, the way a browser reads them). If that check ever
 * fails, the caller gets the HTML-escaped source inside <pre> instead of the rendering.
 *
 * Invariants:
 *  - Every read of the rendered HTML is bounded by its length (at() answers 0 past the end).
 *  - cmark's buffer is released with the allocator that made it (the default cmark_mem); the
 *    caller always gets a buffer from our malloc(), so free() is the right way to release it.
 *  - No global mutable state: all tables are static const, all memory is per call.
 */
#include "render_markdown.h"

#include <cmark.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest decoded URL prefix that matters for the scheme check ("data:image/jpeg" is 15). */
#define SCHEME_PREFIX_MAX 32

static const char *const allowed_tags[] = {
    "a",  "blockquote", "br",  "code", "em", "h1", "h2",  "h3",     "h4", "h5",
    "h6", "hr",         "img", "li",   "ol", "p",  "pre", "strong", "ul",
};

static const char *const allowed_attributes[] = {"alt", "class", "href", "src", "start", "title"};

/* The only comment cmark's safe mode writes (in place of raw HTML). */
static const char omitted_comment[] = "<!-- raw HTML omitted -->";

static char at(const char *s, size_t length, size_t i)
{
    return i < length ? s[i] : '\0';
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Case-insensitive: does `s` (n bytes) equal the lowercase NUL-terminated `word`? */
static bool equals_lower(const char *s, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (word[i] == '\0' || ascii_lower(s[i]) != word[i])
            return false;
    }
    return word[i] == '\0';
}

static bool in_list(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (equals_lower(s, n, list[i]))
            return true;
    }
    return false;
}

/* Case-insensitive search for the lowercase `needle` in `s` (n bytes). */
static bool contains_lower(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (equals_lower(s + i, k, needle))
            return true;
    }
    return false;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* Decodes one character reference starting at v[*i] == '&'. Stores the code point in *cp (or
 * leaves a bare '&' as itself) and advances *i past it. Returns false for a named reference it
 * does not know, which the caller treats as unsafe (cmark never writes one into a URL). */
static bool decode_reference(const char *v, size_t n, size_t *i, uint32_t *cp)
{
    static const struct {
        const char *name;
        uint32_t cp;
    } named[] = {
        {"amp", '&'},    {"lt", '<'},     {"gt", '>'},   {"quot", '"'},     {"apos", '\''},
        {"colon", ':'},  {"sol", '/'},    {"Tab", '\t'}, {"NewLine", '\n'}, {"nbsp", 0xA0},
        {"period", '.'}, {"lpar", '('},   {"rpar", ')'}, {"num", '#'},      {"quest", '?'},
        {"semi", ';'},   {"equals", '='},
    };
    size_t j = *i + 1;

    if (at(v, n, j) == '#') {
        bool hex = at(v, n, j + 1) == 'x' || at(v, n, j + 1) == 'X';
        uint32_t value = 0;
        size_t digits = 0;
        j += hex ? 2 : 1;
        for (;; j++, digits++) {
            char c = at(v, n, j);
            uint32_t d;
            if (is_digit(c))
                d = (uint32_t)(c - '0');
            else if (hex && ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f')
                d = (uint32_t)(ascii_lower(c) - 'a' + 10);
            else
                break;
            value = value * (hex ? 16u : 10u) + d;
            if (value > 0x10FFFF)
                value = 0x110000; /* saturate: out of range, never ASCII */
        }
        if (digits == 0) {
            *cp = '&';
            *i += 1;
            return true;
        }
        if (at(v, n, j) == ';')
            j++;
        *cp = value;
        *i = j;
        return true;
    }

    size_t start = j;
    while (is_alpha(at(v, n, j)) || is_digit(at(v, n, j)))
        j++;
    if (j == start) {
        *cp = '&';
        *i += 1;
        return true;
    }
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        size_t len = strlen(named[k].name);
        if (len == j - start && memcmp(v + start, named[k].name, len) == 0) {
            if (at(v, n, j) == ';')
                j++;
            *cp = named[k].cp;
            *i = j;
            return true;
        }
    }
    return false;
}

/* Is the URL in attribute value `v` (n bytes, still entity-encoded) one with a dangerous
 * scheme? Decodes references, drops whitespace and control characters anywhere, lowercases,
 * and compares the start against the schemes cmark's safe mode refuses. */
static bool url_is_unsafe(const char *v, size_t n)
{
    char prefix[SCHEME_PREFIX_MAX];
    size_t k = 0;

    for (size_t i = 0; i < n && k < sizeof prefix;) {
        uint32_t cp;
        if (v[i] == '&') {
            if (!decode_reference(v, n, &i, &cp))
                return true;
        } else {
            cp = (unsigned char)v[i];
            i++;
        }
        if (cp <= 0x20 || cp == 0x7F)
            continue; /* browsers strip these; so do we before comparing */
        prefix[k++] = cp < 0x80 ? ascii_lower((char)cp) : '?';
    }

    if (starts_with(prefix, k, "javascript:") || starts_with(prefix, k, "vbscript:") ||
        starts_with(prefix, k, "file:"))
        return true;
    if (starts_with(prefix, k, "data:")) {
        return !(
            starts_with(prefix, k, "data:image/png") || starts_with(prefix, k, "data:image/gif") ||
            starts_with(prefix, k, "data:image/jpeg") || starts_with(prefix, k, "data:image/webp"));
    }
    return false;
}

/* Parses the tag starting at html[*i] == '<' and advances *i past its '>'. Returns false when
 * the tag is not one cmark emits or cannot be parsed. */
static bool tag_is_safe(const char *html, size_t length, size_t *i)
{
    size_t p = *i + 1;
    bool closing = false;

    if (at(html, length, p) == '/') {
        closing = true;
        p++;
    }
    size_t name = p;
    while (is_alpha(at(html, length, p)) || is_digit(at(html, length, p)))
        p++;
    if (p == name ||
        !in_list(html + name, p - name, allowed_tags, sizeof allowed_tags / sizeof allowed_tags[0]))
        return false;

    if (closing) {
        while (is_space(at(html, length, p)))
            p++;
        if (at(html, length, p) != '>')
            return false;
        *i = p + 1;
        return true;
    }

    for (;;) {
        bool spaced = false;
        while (is_space(at(html, length, p))) {
            p++;
            spaced = true;
        }
        char c = at(html, length, p);
        if (c == '>') {
            *i = p + 1;
            return true;
        }
        if (c == '/' && at(html, length, p + 1) == '>') {
            *i = p + 2;
            return true;
        }
        if (!spaced)
            return false;

        size_t attribute = p;
        while (is_alpha(at(html, length, p)) || at(html, length, p) == '-')
            p++;
        size_t attribute_length = p - attribute;
        if (attribute_length == 0 ||
            !in_list(html + attribute, attribute_length, allowed_attributes,
                     sizeof allowed_attributes / sizeof allowed_attributes[0]))
            return false;

        while (is_space(at(html, length, p)))
            p++;
        if (at(html, length, p) != '=')
            return false; /* cmark writes no bare attributes */
        p++;
        while (is_space(at(html, length, p)))
            p++;
        char quote = at(html, length, p);
        if (quote != '"' && quote != '\'')
            return false;
        size_t value = ++p;
        while (p < length && html[p] != quote) {
            if (html[p] == '<')
                return false; /* cmark escapes '<' in attributes */
            p++;
        }
        if (p >= length)
            return false;
        bool is_url = equals_lower(html + attribute, attribute_length, "href") ||
                      equals_lower(html + attribute, attribute_length, "src");
        if (is_url && url_is_unsafe(html + value, p - value))
            return false;
        p++; /* closing quote */
    }
}

bool render_markdown_html_is_safe(const char *html, size_t length)
{
    if (html == NULL)
        return length == 0;
    if (contains_lower(html, length, "<script"))
        return false;

    for (size_t i = 0; i < length;) {
        if (html[i] != '<') {
            i++;
            continue;
        }
        if (at(html, length, i + 1) == '!') {
            size_t k = sizeof omitted_comment - 1;
            if (length - i < k || memcmp(html + i, omitted_comment, k) != 0)
                return false;
            i += k;
            continue;
        }
        if (!tag_is_safe(html, length, &i))
            return false;
    }
    return true;
}

/* The fallback: `text` HTML-escaped inside <pre>. NUL bytes become U+FFFD. Returns malloc'd
 * memory or NULL. */
static char *escaped_source(const char *text, size_t length)
{
    static const char open[] = "<pre>", close[] = "</pre>\n";
    const size_t worst = 6; /* "&quot;" is the longest replacement */

    if (length > (SIZE_MAX - sizeof open - sizeof close) / worst)
        return NULL;
    char *out = malloc(sizeof open + sizeof close + length * worst);
    if (out == NULL)
        return NULL;

    size_t o = 0;
    memcpy(out, open, sizeof open - 1);
    o += sizeof open - 1;
    for (size_t i = 0; i < length; i++) {
        const char *replacement;
        switch (text[i]) {
        case '&':
            replacement = "&amp;";
            break;
        case '<':
            replacement = "&lt;";
            break;
        case '>':
            replacement = "&gt;";
            break;
        case '"':
            replacement = "&quot;";
            break;
        case '\'':
            replacement = "&#39;";
            break;
        case '\0':
            replacement = "\xEF\xBF\xBD";
            break;
        default:
            out[o++] = text[i];
            continue;
        }
        size_t k = strlen(replacement);
        memcpy(out + o, replacement, k);
        o += k;
    }
    memcpy(out + o, close, sizeof close);
    return out;
}

char *render_markdown_safe(const char *text, size_t length)
{
    /* Safe mode is cmark 0.30's default; CMARK_OPT_UNSAFE must never be added here. */
    const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;

    if (text == NULL) {
        text = "";
        length = 0;
    }

    char *rendered = cmark_markdown_to_html(text, length, options);
    if (rendered == NULL)
        return NULL;

    size_t rendered_length = strlen(rendered);
    char *result = NULL;
    if (render_markdown_html_is_safe(rendered, rendered_length)) {
        result = malloc(rendered_length + 1);
        if (result != NULL)
            memcpy(result, rendered, rendered_length + 1);
    } else {
        result = escaped_source(text, length);
    }
    /* cmark_markdown_to_html allocates with the default cmark allocator. */
    cmark_get_default_mem_allocator()->free(rendered);
    return result;
}
