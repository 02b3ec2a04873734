/* render_markdown.c — GitHub-flavoured Markdown preview that is safe to embed in a page.
 *
 * The source goes through libcmark-gfm with the extensions the forums render (tables,
 * strikethrough, autolinks, task lists), in its default safe mode: CMARK_OPT_UNSAFE is never
 * passed, so raw HTML blocks and inline HTML become "<!-- raw HTML omitted -->" and unsafe link
 * and image URLs become empty. CMARK_OPT_VALIDATE_UTF8 replaces invalid UTF-8 with U+FFFD. The
 * extensions are registered once per process (pthread_once: cmark-gfm's own registration is not
 * thread-safe).
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

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest decoded URL prefix that matters for the scheme check ("data:image/jpeg" is 15). */
#define SCHEME_PREFIX_MAX 32

static const char *const allowed_tags[] = {
    "a",   "blockquote", "br",    "code",  "del", "em",    "h1",    "h2", "h3",
    "h4",  "h5",         "h6",    "hr",    "img", "input", "li",    "ol", "p",
    "pre", "strong",     "table", "tbody", "td",  "th",    "thead", "tr", "ul",
};

static const char *const allowed_attributes[] = {
    "align", "alt", "checked", "class", "dir", "disabled", "href", "src", "start", "title", "type"};

/* Blocks of reader's text: each gets dir="auto", so a right-to-left paragraph reads right to
 * left whatever its neighbours are. */
static const char *const text_blocks[] = {"blockquote", "h1", "h2", "h3", "h4", "h5",
                                          "h6",         "li", "p",  "td", "th"};

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

/* The first position from `p` on that is not white space. */
static size_t skip_space(const char *html, size_t length, size_t p)
{
    while (is_space(at(html, length, p)))
        p++;
    return p;
}

/* Whether an allowed attribute's value (n bytes, still entity-encoded) is one cmark writes
 * safely: dir only "auto", type only "checkbox" (task lists), href and src no dangerous URL. */
static bool attribute_value_is_safe(const char *name, size_t name_length, const char *value,
                                    size_t value_length)
{
    if (equals_lower(name, name_length, "dir"))
        return equals_lower(value, value_length, "auto");
    if (equals_lower(name, name_length, "type"))
        return equals_lower(value, value_length, "checkbox");
    if (equals_lower(name, name_length, "href") || equals_lower(name, name_length, "src"))
        return !url_is_unsafe(value, value_length);
    return true;
}

/* Parses one attribute, name="value" or name='value', starting at html[*p] and advances *p
 * past its closing quote. False unless the name is allowed and the value safe. */
static bool attribute_is_safe(const char *html, size_t length, size_t *p)
{
    size_t name = *p, name_length, value, end;
    char quote;

    while (is_alpha(at(html, length, *p)) || at(html, length, *p) == '-')
        (*p)++;
    name_length = *p - name;
    if (name_length == 0 || !in_list(html + name, name_length, allowed_attributes,
                                     sizeof allowed_attributes / sizeof allowed_attributes[0]))
        return false;
    *p = skip_space(html, length, *p);
    if (at(html, length, *p) != '=')
        return false; /* cmark writes no bare attributes */
    *p = skip_space(html, length, *p + 1);
    quote = at(html, length, *p);
    if (quote != '"' && quote != '\'')
        return false;
    value = end = *p + 1;
    while (end < length && html[end] != quote) {
        if (html[end] == '<')
            return false; /* cmark escapes '<' in attributes */
        end++;
    }
    if (end >= length ||
        !attribute_value_is_safe(html + name, name_length, html + value, end - value))
        return false;
    *p = end + 1;
    return true;
}

/* Parses the tag starting at html[*i] == '<' and advances *i past its '>'. Returns false when
 * the tag is not one cmark emits or cannot be parsed. */
static bool tag_is_safe(const char *html, size_t length, size_t *i)
{
    size_t p = *i + 1, name;
    bool closing = at(html, length, p) == '/';

    if (closing)
        p++;
    name = p;
    while (is_alpha(at(html, length, p)) || is_digit(at(html, length, p)))
        p++;
    if (p == name ||
        !in_list(html + name, p - name, allowed_tags, sizeof allowed_tags / sizeof allowed_tags[0]))
        return false;
    if (closing) {
        p = skip_space(html, length, p);
        if (at(html, length, p) != '>')
            return false;
        *i = p + 1;
        return true;
    }
    for (;;) {
        size_t spaced = skip_space(html, length, p);
        char c = at(html, length, spaced);

        if (c == '>') {
            *i = spaced + 1;
            return true;
        }
        if (c == '/' && at(html, length, spaced + 1) == '>') {
            *i = spaced + 2;
            return true;
        }
        if (spaced == p || !attribute_is_safe(html, length, &spaced))
            return false; /* attributes stand apart, after white space */
        p = spaced;
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

/* `html` with dir="auto" added to the opening tag of every text block. malloc'd, or NULL. Raw
 * HTML never reaches here as tags (safe mode), so every "<p>" is one cmark wrote. */
static char *text_blocks_directed(const char *html)
{
    static const char attribute[] = " dir=\"auto\"";
    size_t length = strlen(html), blocks = 0, o = 0;
    char *out;

    for (size_t i = 0; i < length; i++)
        if (html[i] == '<')
            blocks++;
    out = malloc(length + blocks * (sizeof attribute - 1) + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < length;) {
        out[o++] = html[i++];
        if (html[i - 1] != '<')
            continue;
        for (size_t k = 0; k < sizeof text_blocks / sizeof text_blocks[0]; k++) {
            size_t n = strlen(text_blocks[k]);
            if (strncmp(html + i, text_blocks[k], n) == 0 &&
                (html[i + n] == '>' || html[i + n] == ' ')) {
                memcpy(out + o, html + i, n);
                o += n;
                i += n;
                memcpy(out + o, attribute, sizeof attribute - 1);
                o += sizeof attribute - 1;
                break;
            }
        }
    }
    out[o] = '\0';
    return out;
}

static pthread_once_t extensions_once = PTHREAD_ONCE_INIT;

static void extensions_register(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

/* Parses `text` with the GitHub extensions; *parser holds them for rendering. Both are freed by
 * the caller (cmark_node_free, cmark_parser_free). */
static cmark_node *markdown_parse(const char *text, size_t length, int options,
                                  cmark_parser **parser)
{
    static const char *const extensions[] = {"table", "strikethrough", "autolink", "tasklist"};

    pthread_once(&extensions_once, extensions_register);
    *parser = cmark_parser_new(options);
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++) {
        cmark_syntax_extension *extension = cmark_find_syntax_extension(extensions[i]);
        if (extension)
            cmark_parser_attach_syntax_extension(*parser, extension);
    }
    cmark_parser_feed(*parser, text, length);
    return cmark_parser_finish(*parser);
}

char *render_markdown_safe(const char *text, size_t length)
{
    /* Safe mode is cmark's default; CMARK_OPT_UNSAFE must never be added here. */
    const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
    cmark_parser *parser;
    cmark_node *document;

    if (text == NULL) {
        text = "";
        length = 0;
    }
    document = markdown_parse(text, length, options, &parser);
    char *rendered =
        cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser));
    cmark_node_free(document);
    cmark_parser_free(parser);
    if (rendered == NULL)
        return NULL;

    char *result = text_blocks_directed(rendered);
    /* cmark_render_html allocates with the default cmark allocator. */
    cmark_get_default_mem_allocator()->free(rendered);
    if (result != NULL && !render_markdown_html_is_safe(result, strlen(result))) {
        free(result);
        result = escaped_source(text, length);
    }
    return result;
}

/* Appends `text` to out[*used..size), one space for any run of white space, never cutting a
 * UTF-8 character; returns false once `max_characters` are reached. */
static bool excerpt_add(char *out, size_t size, size_t *used, size_t *characters,
                        size_t max_characters, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        size_t length = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        bool space = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        for (size_t i = 1; i < length; i++)
            if (!p[i])
                length = i;
        if (space) {
            if (*used > 0 && out[*used - 1] != ' ' && *used + 1 < size) {
                out[(*used)++] = ' ';
                (*characters)++;
            }
            p++;
            continue;
        }
        if (*characters >= max_characters || *used + length + 1 > size)
            return false;
        memcpy(out + *used, p, length);
        *used += length;
        (*characters)++;
        p += length;
    }
    return true;
}

char *render_markdown_plain_excerpt(const char *text, size_t length, size_t max_characters)
{
    const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
    size_t size = max_characters * 4 + 8, used = 0, characters = 0;
    char *out = malloc(size);
    bool room = true;
    cmark_parser *parser;
    cmark_node *document;
    cmark_iter *iter;
    cmark_event_type event;

    if (out == NULL)
        return NULL;
    document = markdown_parse(text ? text : "", text ? length : 0, options, &parser);
    iter = cmark_iter_new(document);
    while (room && (event = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(iter);
        cmark_node_type type = cmark_node_get_type(node);
        const char *literal = NULL;
        if (event == CMARK_EVENT_ENTER &&
            (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE || type == CMARK_NODE_CODE_BLOCK))
            literal = cmark_node_get_literal(node);
        else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK ||
                 (event == CMARK_EVENT_EXIT &&
                  (type & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK))
            literal = " "; /* between blocks, cells and lines; inlines run on */
        if (literal)
            room = excerpt_add(out, size, &used, &characters, max_characters, literal);
    }
    cmark_iter_free(iter);
    cmark_node_free(document);
    cmark_parser_free(parser);
    while (used > 0 && out[used - 1] == ' ')
        used--;
    if (!room) {
        memcpy(out + used, "\xE2\x80\xA6", 3); /* … */
        used += 3;
    }
    out[used] = '\0';
    return out;
}
