/* HTML page templates: a small Mustache subset rendered from JSON data.
 *
 * Invariants:
 *  - Escaping by default: every {{name}} and {{.}} is HTML-escaped (& < > " ' ` = become entities).
 *    Raw output only with triple braces, {{{name}}} / {{{.}}}, for text that is already safe HTML
 *    (e.g. sanitised CommonMark output). {{& name}} is deliberately not supported.
 *  - Escaping is about HTML syntax only: non-ASCII text, including Unicode bidi controls such as
 *    U+202E, passes through unchanged; callers that care about those must filter them first.
 *  - A template is parsed completely before anything is rendered, so a malformed template is an
 *    error whatever the data; nothing half-rendered is ever returned.
 *  - No global mutable state: safe to call from many threads at once.
 *
 * Syntax: {{name}} {{a.b.c}} {{.}} {{{name}}} {{#name}}..{{/name}} {{^name}}..{{/name}}
 *         {{> partial}} (embedded "partial.html", depth <= 8) {{! comment }}.
 * Names are letters, digits, '_' and '-', joined by '.'. Section nesting is limited to 32.
 * Text outside tags, including whitespace around section tags, is output verbatim. */
#ifndef AGENTGATE_TEMPLATE_H
#define AGENTGATE_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

#include "embedded.h"

/* Renders the template `name` (e.g. "draft.html") of the file table `files` with `data` (a JSON
 * object); partials are looked up in `files` too.
 * Returns a malloc'd NUL-terminated string the caller frees, or NULL with a one-line reason in
 * `error` (unknown template, unclosed section, nesting too deep, unknown partial). */
char *template_render(const struct embedded_file *files, const char *name, const json_t *data,
                      char *error, size_t error_size) __attribute__((warn_unused_result));

/* Same, from template text instead of a file name (for tests); partials resolve in `files`. */
char *template_render_text(const struct embedded_file *files, const char *text, const json_t *data,
                           char *error, size_t error_size) __attribute__((warn_unused_result));

/* `text` HTML-escaped: & < > " ' ` = become entities (&amp; &lt; &gt; &quot; &#39; &#96;
 * &#61;). Exposed for tests and for code that builds HTML. */
char *template_escape_html(const char *text) __attribute__((warn_unused_result));
/* Contract: returns a malloc'd NUL-terminated string the caller frees ("" for ""), or NULL when
 * `text` is NULL or memory runs out. */

#endif
