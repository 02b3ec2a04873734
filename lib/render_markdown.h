/*
 * Safe GitHub-flavoured Markdown preview (tables, strikethrough, autolinks, task lists, as the
 * forums render): renders a draft's Markdown to an HTML fragment that can be embedded
 * in a page without letting the draft run script or smuggle markup.
 *
 * Invariants: raw HTML in the source is never rendered (cmark's safe mode replaces it with a
 * comment); links and images with a javascript:, vbscript:, file: or non-image data: URL get an
 * empty href/src; the rendered HTML is re-checked against a whitelist of the tags and attributes
 * cmark emits before it is returned, and anything unexpected makes the function return the
 * escaped source in a <pre> instead. No global mutable state: safe to call from any thread.
 */
#ifndef AGENTGATE_RENDER_MARKDOWN_H
#define AGENTGATE_RENDER_MARKDOWN_H

#include <stdbool.h>
#include <stddef.h>

/* Renders CommonMark `text` (length bytes, valid UTF-8; invalid sequences become U+FFFD; NULL is
 * taken as empty) to HTML that is safe to embed in a page: raw HTML is dropped (never rendered),
 * and links/images whose URL is javascript:, vbscript:, file: or data: (except
 * data:image/png|gif|jpeg|webp) lose their URL. Returns a malloc'd NUL-terminated HTML string the
 * caller frees with free(), or NULL on allocation failure. (libcmark's own allocator aborts the
 * process when it runs out of memory; only this module's allocations can yield NULL.) */
char *render_markdown_safe(const char *text, size_t length) __attribute__((warn_unused_result));

/* The defence-in-depth check render_markdown_safe() runs on cmark's output, exposed for tests.
 * Returns true when `html` (length bytes) consists of text plus only the tags and attributes
 * cmark's HTML renderer emits (p, em, strong, code, pre, a, img, lists, headings, ...; href,
 * src, alt, title, class, start), every attribute value quoted, no "<script" anywhere, and no
 * href/src whose scheme, after decoding character references and removing whitespace and
 * control characters, is javascript:, vbscript:, file: or non-image data:. Anything it cannot
 * parse counts as unsafe. Does not keep or free `html`. */
bool render_markdown_html_is_safe(const char *html, size_t length);

/* The text a reader sees of Markdown `text` (length bytes), for one-line excerpts: no markup, no
 * raw HTML, white space collapsed to single spaces, at most `max_characters` characters (cut at
 * a character boundary and ended with "…" when longer). Returns a malloc'd string the caller
 * frees, or NULL when memory runs out. */
char *render_markdown_plain_excerpt(const char *text, size_t length, size_t max_characters)
    __attribute__((warn_unused_result));

#endif
