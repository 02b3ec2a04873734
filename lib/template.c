/* HTML template engine (a Mustache subset) for the pages agentgate serves.
 *
 * Invariants (see template.h for the syntax):
 *  - Escaping by default: values reach the output through template_put_escaped unless the tag
 *    used triple braces ({{{name}}}), the only raw path. Template text itself is trusted and
 *    copied verbatim.
 *  - A template is parsed into a flat node list in full before rendering, so malformed input
 *    (unclosed tag or section, mismatched close, bad name, unknown partial, nesting deeper than
 *    TEMPLATE_SECTION_DEPTH_MAX) is reported whatever the data, and no partial output escapes.
 *  - Nodes point into the template text (embedded or the caller's), never copy it; the text
 *    outlives the parse and render of one call.
 *  - The context stack is a linked list of frames on the C stack; rendering recursion is bounded
 *    by section depth (32) times partial depth (8 + 1).
 *  - No global mutable state; every allocation belongs to one call and is freed before it returns
 *    (except the result, which the caller frees). */
#include "template.h"

#include "embedded.h"
#include "text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMPLATE_SECTION_DEPTH_MAX 32
#define TEMPLATE_PARTIAL_DEPTH_MAX 8
#define TEMPLATE_NAME_MAX          128 /* bytes in a tag's name */
#define TEMPLATE_QUOTE_MAX         40  /* bytes of a tag quoted in an error message */
#define TEMPLATE_PARTIAL_SUFFIX    ".html"

enum template_node_kind {
    TEMPLATE_NODE_TEXT,     /* literal template text, copied verbatim */
    TEMPLATE_NODE_ESCAPED,  /* {{name}} */
    TEMPLATE_NODE_RAW,      /* {{{name}}} */
    TEMPLATE_NODE_SECTION,  /* {{#name}} */
    TEMPLATE_NODE_INVERTED, /* {{^name}} */
    TEMPLATE_NODE_PARTIAL,  /* {{> name}} */
};

struct template_node {
    enum template_node_kind kind;
    const char *text; /* literal text, or the tag's name; points into the template */
    size_t length;
    size_t at;  /* offset of the tag in the template, for error messages */
    size_t end; /* sections: index of the first node after the section's body */
};

struct template_program {
    const struct embedded_file *files; /* where partials are found; not owned */
    const char *text;                  /* the template; not owned */
    size_t length;
    const char *label; /* names the template in error messages */
    struct template_node *nodes;
    size_t count, capacity;
};

/* One entry of the context stack; parent is the next one out. */
struct template_frame {
    const json_t *value;
    const struct template_frame *parent;
};

struct template_error {
    char *text; /* may be NULL */
    size_t size;
};

static void template_fail(const struct template_error *error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void template_fail(const struct template_error *error, const char *format, ...)
{
    va_list args;

    if (!error->text || error->size == 0)
        return;
    va_start(args, format);
    vsnprintf(error->text, error->size, format, args);
    va_end(args);
}

/* 1-based line number of byte `at` of the template. */
static size_t template_line(const struct template_program *program, size_t at)
{
    size_t line = 1;

    for (size_t i = 0; i < at && i < program->length; i++)
        if (program->text[i] == '\n')
            line++;
    return line;
}

/* How much of `text` may be quoted in a one-line error message. */
static int template_quotable(const char *text, size_t length)
{
    size_t n = 0;

    while (n < length && n < TEMPLATE_QUOTE_MAX && (unsigned char)text[n] >= 0x20 &&
           text[n] != 0x7f)
        n++;
    return (int)n;
}

/* Error at byte `at` of the template: "label:line: reason". */
static void template_fail_at(const struct template_error *error,
                             const struct template_program *program, size_t at, const char *format,
                             ...) __attribute__((format(printf, 4, 5)));

static void template_fail_at(const struct template_error *error,
                             const struct template_program *program, size_t at, const char *format,
                             ...)
{
    va_list args;
    int prefix;

    if (!error->text || error->size == 0)
        return;
    prefix =
        snprintf(error->text, error->size, "%s:%zu: ", program->label, template_line(program, at));
    if (prefix < 0 || (size_t)prefix >= error->size)
        return;
    va_start(args, format);
    vsnprintf(error->text + prefix, error->size - (size_t)prefix, format, args);
    va_end(args);
}

/* ---- output buffer ---- */

/* Appends to the output; false once memory ran out. */
static bool template_append(struct text_buffer *buffer, const char *bytes, size_t length)
{
    text_buffer_append(buffer, bytes, length);
    return !buffer->failed;
}

/* Copies bytes verbatim, except NUL bytes (possible in JSON strings), which are dropped since
 * the result is a C string. */
static bool template_put_raw(struct text_buffer *buffer, const char *text, size_t length)
{
    while (length > 0) {
        const char *nul = memchr(text, '\0', length);
        size_t run = nul ? (size_t)(nul - text) : length;

        if (!template_append(buffer, text, run))
            return false;
        if (!nul)
            break;
        text += run + 1;
        length -= run + 1;
    }
    return true;
}

/* The entity for an HTML-special byte, or NULL for bytes copied as they are. Only ASCII is
 * special: UTF-8 sequences (bidi controls included) and control characters pass through. */
static const char *template_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    case '`':
        return "&#96;";
    case '=':
        return "&#61;";
    case '\0':
        return ""; /* dropped, as in template_put_raw */
    default:
        return NULL;
    }
}

static bool template_put_escaped(struct text_buffer *buffer, const char *text, size_t length)
{
    size_t start = 0;

    for (size_t i = 0; i < length; i++) {
        const char *entity = template_entity(text[i]);

        if (!entity)
            continue;
        if (!template_append(buffer, text + start, i - start) ||
            !template_append(buffer, entity, strlen(entity)))
            return false;
        start = i + 1;
    }
    return template_append(buffer, text + start, length - start);
}

char *template_escape_html(const char *text)
{
    struct text_buffer buffer = {0};

    if (!text)
        return NULL;
    if (!template_put_escaped(&buffer, text, strlen(text))) {
        text_buffer_free(&buffer);
        return NULL;
    }
    return text_buffer_finish(&buffer);
}

/* ---- parsing ---- */

static bool template_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* "." or segments of [A-Za-z0-9_-] joined by single dots. */
static bool template_name_valid(const char *name, size_t length)
{
    bool segment_empty = true;

    if (length == 1 && name[0] == '.')
        return true;
    if (length == 0 || length > TEMPLATE_NAME_MAX)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (name[i] == '.') {
            if (segment_empty)
                return false;
            segment_empty = true;
        } else if (template_is_name_char(name[i])) {
            segment_empty = false;
        } else {
            return false;
        }
    }
    return !segment_empty;
}

/* Partial names may also contain '.' and '/' (sub-folders of server/templates). */
static bool template_partial_name_valid(const char *name, size_t length)
{
    if (length == 0 || length > TEMPLATE_NAME_MAX)
        return false;
    for (size_t i = 0; i < length; i++)
        if (!template_is_name_char(name[i]) && name[i] != '.' && name[i] != '/')
            return false;
    return true;
}

/* The template file for partial `name` in `files`, or NULL. */
static const struct embedded_file *template_find_partial(const struct embedded_file *files,
                                                         const char *name, size_t length)
{
    char file[TEMPLATE_NAME_MAX + sizeof TEMPLATE_PARTIAL_SUFFIX];

    if (length > TEMPLATE_NAME_MAX)
        return NULL;
    memcpy(file, name, length);
    memcpy(file + length, TEMPLATE_PARTIAL_SUFFIX, sizeof TEMPLATE_PARTIAL_SUFFIX);
    return embedded_find(files, file);
}

static bool template_add_node(struct template_program *program, enum template_node_kind kind,
                              const char *text, size_t length, size_t at)
{
    struct template_node *node;

    if (program->count == program->capacity) {
        size_t capacity = program->capacity ? program->capacity * 2 : 16;
        struct template_node *grown;

        if (capacity > SIZE_MAX / sizeof *grown)
            return false;
        grown = realloc(program->nodes, capacity * sizeof *grown);
        if (!grown)
            return false;
        program->nodes = grown;
        program->capacity = capacity;
    }
    node = &program->nodes[program->count++];
    node->kind = kind;
    node->text = text;
    node->length = length;
    node->at = at;
    node->end = program->count;
    return true;
}

/* A parse in progress: the program being built and the sections open at this point. */
struct template_parser {
    struct template_program *program;
    const struct template_error *error;
    size_t open[TEMPLATE_SECTION_DEPTH_MAX]; /* node indexes of the open sections */
    size_t depth;
};

/* One tag as written: where it starts, its braces and its content without the white space. */
struct template_tag {
    size_t at;
    bool triple; /* {{{...}}} */
    const char *content;
    size_t content_length;
};

/* Adds a node; when memory runs out, says so and returns false. */
static bool template_parse_add(struct template_parser *parser, enum template_node_kind kind,
                               const char *text, size_t length, size_t at)
{
    if (template_add_node(parser->program, kind, text, length, at))
        return true;
    template_fail(parser->error, "%s: out of memory", parser->program->label);
    return false;
}

/* Reads the tag that starts at `at` into *tag and moves *position past its closing braces;
 * false when they never come. */
static bool template_tag_read(struct template_parser *parser, size_t at, struct template_tag *tag,
                              size_t *position)
{
    const struct template_program *program = parser->program;
    const char *text = program->text, *closer, *close;
    size_t length = program->length, inner;

    tag->at = at;
    tag->triple = at + 2 < length && text[at + 2] == '{';
    closer = tag->triple ? "}}}" : "}}";
    inner = at + (tag->triple ? 3 : 2);
    close = memmem(text + inner, length - inner, closer, strlen(closer));
    if (!close) {
        template_fail_at(parser->error, program, at, "unclosed tag '%s' (no '%s')",
                         tag->triple ? "{{{" : "{{", closer);
        return false;
    }
    *position = (size_t)(close - text) + strlen(closer);
    tag->content = text + inner;
    tag->content_length = (size_t)(close - tag->content);
    text_trim_span(&tag->content, &tag->content_length);
    return true;
}

/* {{name}} or {{{name}}}: a value, escaped or (triple braces) raw. */
static bool template_parse_value(struct template_parser *parser, const struct template_tag *tag)
{
    if (!template_name_valid(tag->content, tag->content_length)) {
        int quoted = template_quotable(tag->content, tag->content_length);
        if (tag->triple)
            template_fail_at(parser->error, parser->program, tag->at,
                             "invalid name in '{{{%.*s}}}'", quoted, tag->content);
        else
            template_fail_at(parser->error, parser->program, tag->at, "invalid name in '{{%.*s}}'",
                             quoted, tag->content);
        return false;
    }
    return template_parse_add(parser, tag->triple ? TEMPLATE_NODE_RAW : TEMPLATE_NODE_ESCAPED,
                              tag->content, tag->content_length, tag->at);
}

/* {{#name}} or {{^name}} (`sigil`): opens a section. */
static bool template_parse_open(struct template_parser *parser, const struct template_tag *tag,
                                char sigil, const char *name, size_t name_length)
{
    if (!template_name_valid(name, name_length)) {
        template_fail_at(parser->error, parser->program, tag->at,
                         "invalid section name in '{{%c%.*s}}'", sigil,
                         template_quotable(name, name_length), name);
        return false;
    }
    if (parser->depth == TEMPLATE_SECTION_DEPTH_MAX) {
        template_fail_at(parser->error, parser->program, tag->at, "sections nested deeper than %d",
                         TEMPLATE_SECTION_DEPTH_MAX);
        return false;
    }
    parser->open[parser->depth++] = parser->program->count;
    return template_parse_add(parser, sigil == '#' ? TEMPLATE_NODE_SECTION : TEMPLATE_NODE_INVERTED,
                              name, name_length, tag->at);
}

/* {{/name}}: closes the innermost open section, which must bear that name. */
static bool template_parse_close(struct template_parser *parser, const struct template_tag *tag,
                                 const char *name, size_t name_length)
{
    struct template_program *program = parser->program;
    const struct template_node *section;

    if (parser->depth == 0) {
        template_fail_at(parser->error, program, tag->at, "'{{/%.*s}}' closes no open section",
                         template_quotable(name, name_length), name);
        return false;
    }
    section = &program->nodes[parser->open[parser->depth - 1]];
    if (section->length != name_length || memcmp(section->text, name, name_length) != 0) {
        template_fail_at(parser->error, program, tag->at,
                         "'{{/%.*s}}' does not close section '%.*s'",
                         template_quotable(name, name_length), name,
                         template_quotable(section->text, section->length), section->text);
        return false;
    }
    program->nodes[parser->open[--parser->depth]].end = program->count;
    return true;
}

/* {{>name}}: a partial, which must exist among the program's files. */
static bool template_parse_partial(struct template_parser *parser, const struct template_tag *tag,
                                   const char *name, size_t name_length)
{
    if (!template_partial_name_valid(name, name_length)) {
        template_fail_at(parser->error, parser->program, tag->at,
                         "invalid partial name in '{{>%.*s}}'",
                         template_quotable(name, name_length), name);
        return false;
    }
    if (!template_find_partial(parser->program->files, name, name_length)) {
        template_fail_at(parser->error, parser->program, tag->at, "unknown partial '%.*s'",
                         (int)name_length, name);
        return false;
    }
    return template_parse_add(parser, TEMPLATE_NODE_PARTIAL, name, name_length, tag->at);
}

/* A double-brace tag, by its sigil: comment, section open or close, partial, or a value. */
static bool template_parse_tag(struct template_parser *parser, const struct template_tag *tag)
{
    const char *name;
    size_t name_length;

    if (tag->content_length == 0) {
        template_fail_at(parser->error, parser->program, tag->at, "empty tag '{{}}'");
        return false;
    }
    name = tag->content + 1;
    name_length = tag->content_length - 1;
    text_trim_span(&name, &name_length);
    switch (tag->content[0]) {
    case '!':
        return true;
    case '#':
    case '^':
        return template_parse_open(parser, tag, tag->content[0], name, name_length);
    case '/':
        return template_parse_close(parser, tag, name, name_length);
    case '>':
        return template_parse_partial(parser, tag, name, name_length);
    case '&':
        template_fail_at(parser->error, parser->program, tag->at,
                         "'{{&name}}' is not supported; use '{{{name}}}'");
        return false;
    case '=':
        template_fail_at(parser->error, parser->program, tag->at,
                         "changing delimiters is not supported");
        return false;
    default:
        return template_parse_value(parser, tag);
    }
}

/* Parses program->text into program->nodes; on failure reports why and returns false (the
 * caller frees program->nodes either way). */
static bool template_parse(struct template_program *program, const struct template_error *error)
{
    struct template_parser parser = {.program = program, .error = error};
    const char *text = program->text;
    size_t length = program->length, position = 0;

    while (position < length) {
        const char *found = memmem(text + position, length - position, "{{", 2);
        size_t at = found ? (size_t)(found - text) : length;
        struct template_tag tag;

        if (at > position && !template_parse_add(&parser, TEMPLATE_NODE_TEXT, text + position,
                                                 at - position, position))
            return false;
        if (!found)
            break;
        if (!template_tag_read(&parser, at, &tag, &position))
            return false;
        if (!(tag.triple ? template_parse_value(&parser, &tag) : template_parse_tag(&parser, &tag)))
            return false;
    }
    if (parser.depth > 0) {
        const struct template_node *section = &program->nodes[parser.open[parser.depth - 1]];

        template_fail_at(error, program, section->at, "unclosed section '%.*s'",
                         (int)section->length, section->text);
        return false;
    }
    return true;
}

/* ---- rendering ---- */

/* Member `key` (not NUL-terminated) of `object`, or NULL if absent or not an object. */
static const json_t *template_member(const json_t *object, const char *key, size_t length)
{
    char copy[TEMPLATE_NAME_MAX + 1];

    if (!json_is_object(object) || length > TEMPLATE_NAME_MAX)
        return NULL;
    memcpy(copy, key, length);
    copy[length] = '\0';
    return json_object_get(object, copy);
}

/* Resolves a validated name: "." is the innermost value; otherwise the first segment is searched
 * from the innermost frame outwards and the remaining segments inside what it found. */
static const json_t *template_lookup(const struct template_frame *frame, const char *name,
                                     size_t length)
{
    const json_t *value = NULL;
    const char *dot;
    size_t segment;

    if (length == 1 && name[0] == '.')
        return frame->value;
    dot = memchr(name, '.', length);
    segment = dot ? (size_t)(dot - name) : length;
    for (; frame && !value; frame = frame->parent)
        value = template_member(frame->value, name, segment);
    while (value && segment < length) {
        name += segment + 1;
        length -= segment + 1;
        dot = memchr(name, '.', length);
        segment = dot ? (size_t)(dot - name) : length;
        value = template_member(value, name, segment);
    }
    return value;
}

/* Whether a normal section over `value` renders its body at least once. */
static bool template_truthy(const json_t *value)
{
    if (!value)
        return false;
    switch (json_typeof(value)) {
    case JSON_OBJECT:
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(value) > 0;
    case JSON_STRING:
        return json_string_length(value) > 0;
    case JSON_INTEGER:
        return json_integer_value(value) != 0;
    case JSON_REAL:
        return json_real_value(value) != 0.0;
    case JSON_FALSE:
    case JSON_NULL:
    default:
        return false;
    }
}

static bool template_put_value(struct text_buffer *buffer, const json_t *value, bool escape)
{
    char number[64];
    const char *text = "";
    size_t length = 0;

    if (!value)
        return true;
    switch (json_typeof(value)) {
    case JSON_STRING:
        text = json_string_value(value);
        length = json_string_length(value);
        break;
    case JSON_INTEGER:
        snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        text = number;
        length = strlen(number);
        break;
    case JSON_REAL:
        snprintf(number, sizeof number, "%g", json_real_value(value));
        text = number;
        length = strlen(number);
        break;
    case JSON_TRUE:
        text = "true";
        length = 4;
        break;
    default: /* false, null, objects and arrays render as nothing */
        break;
    }
    return escape ? template_put_escaped(buffer, text, length)
                  : template_put_raw(buffer, text, length);
}

static bool template_run(const struct template_program *program, size_t begin, size_t end,
                         const struct template_frame *frame, unsigned partial_depth,
                         struct text_buffer *out, const struct template_error *error);

static bool template_run_partial(const struct template_program *program,
                                 const struct template_node *node,
                                 const struct template_frame *frame, unsigned partial_depth,
                                 struct text_buffer *out, const struct template_error *error)
{
    const struct embedded_file *file =
        template_find_partial(program->files, node->text, node->length);
    struct template_program partial = {0};
    bool ok = false;

    if (partial_depth >= TEMPLATE_PARTIAL_DEPTH_MAX) {
        template_fail_at(error, program, node->at, "partials nested deeper than %d at '%.*s'",
                         TEMPLATE_PARTIAL_DEPTH_MAX, (int)node->length, node->text);
        return false;
    }
    if (!file) { /* checked when parsing; the table is constant, so this cannot happen */
        template_fail_at(error, program, node->at, "unknown partial '%.*s'", (int)node->length,
                         node->text);
        return false;
    }
    partial.files = program->files;
    partial.text = (const char *)file->bytes;
    partial.length = file->length;
    partial.label = file->name;
    if (!template_parse(&partial, error))
        goto fail;
    if (!template_run(&partial, 0, partial.count, frame, partial_depth + 1, out, error))
        goto fail;
    ok = true;
fail:
    free(partial.nodes);
    return ok;
}

/* Renders nodes [begin, end) of `program` with context stack `frame` onto `out`. */
static bool template_run(const struct template_program *program, size_t begin, size_t end,
                         const struct template_frame *frame, unsigned partial_depth,
                         struct text_buffer *out, const struct template_error *error)
{
    size_t i = begin;

    while (i < end) {
        const struct template_node *node = &program->nodes[i];
        const json_t *value;
        bool ok = true;

        switch (node->kind) {
        case TEMPLATE_NODE_TEXT:
            ok = template_put_raw(out, node->text, node->length);
            break;
        case TEMPLATE_NODE_ESCAPED:
        case TEMPLATE_NODE_RAW:
            value = template_lookup(frame, node->text, node->length);
            ok = template_put_value(out, value, node->kind == TEMPLATE_NODE_ESCAPED);
            break;
        case TEMPLATE_NODE_INVERTED:
            value = template_lookup(frame, node->text, node->length);
            if (!template_truthy(value) &&
                !template_run(program, i + 1, node->end, frame, partial_depth, out, error))
                return false;
            i = node->end;
            continue;
        case TEMPLATE_NODE_SECTION:
            value = template_lookup(frame, node->text, node->length);
            if (json_is_array(value)) {
                for (size_t k = 0; k < json_array_size(value); k++) {
                    struct template_frame item = {json_array_get(value, k), frame};

                    if (!template_run(program, i + 1, node->end, &item, partial_depth, out, error))
                        return false;
                }
            } else if (template_truthy(value)) {
                struct template_frame object = {value, frame};

                if (!template_run(program, i + 1, node->end,
                                  json_is_object(value) ? &object : frame, partial_depth, out,
                                  error))
                    return false;
            }
            i = node->end;
            continue;
        case TEMPLATE_NODE_PARTIAL:
            if (!template_run_partial(program, node, frame, partial_depth, out, error))
                return false;
            break;
        }
        if (!ok) {
            template_fail(error, "%s: out of memory", program->label);
            return false;
        }
        i++;
    }
    return true;
}

/* Parses and renders one template; the result is malloc'd for the caller, or NULL on error. */
static char *template_render_program(const struct embedded_file *files, const char *text,
                                     size_t length, const char *label, const json_t *data,
                                     char *error_text, size_t error_size)
{
    struct template_error error = {error_text, error_size};
    struct template_program program = {
        .files = files, .text = text, .length = length, .label = label};
    struct template_frame root = {data, NULL};
    struct text_buffer out = {0};
    char *result;

    if (!template_parse(&program, &error))
        goto fail;
    if (!template_run(&program, 0, program.count, &root, 0, &out, &error))
        goto fail;
    result = text_buffer_finish(&out);
    if (!result)
        template_fail(&error, "%s: out of memory", label);
    free(program.nodes);
    return result;

fail:
    free(program.nodes);
    text_buffer_free(&out);
    return NULL;
}

char *template_render(const struct embedded_file *files, const char *name, const json_t *data,
                      char *error, size_t error_size)
{
    struct template_error reason = {error, error_size};
    const struct embedded_file *file;

    if (error && error_size > 0)
        error[0] = '\0';
    if (!name) {
        template_fail(&reason, "no template name");
        return NULL;
    }
    file = embedded_find(files, name);
    if (!file) {
        template_fail(&reason, "unknown template '%.*s'", template_quotable(name, strlen(name)),
                      name);
        return NULL;
    }
    return template_render_program(files, (const char *)file->bytes, file->length, file->name, data,
                                   error, error_size);
}

char *template_render_text(const struct embedded_file *files, const char *text, const json_t *data,
                           char *error, size_t error_size)
{
    struct template_error reason = {error, error_size};

    if (error && error_size > 0)
        error[0] = '\0';
    if (!text) {
        template_fail(&reason, "no template text");
        return NULL;
    }
    return template_render_program(files, text, strlen(text), "template", data, error, error_size);
}
