/*
 * Small text helpers written once for the whole tree: formatted strings, a growing text
 * buffer, and trimming the white space people type around a value.
 *
 * Invariants: no global state; safe from any thread. A text_buffer that holds data is always
 * NUL-terminated after its `length` bytes (which may themselves contain NUL bytes), and once an
 * allocation failed it stays `failed` and ignores appends until text_buffer_reset(), so a writer
 * appends freely and checks once at the end.
 */
#ifndef AGENTGATE_TEXT_H
#define AGENTGATE_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* A new formatted string (the caller frees it), or NULL when memory runs out. */
char *text_format(const char *format, ...)
    __attribute__((format(printf, 1, 2), warn_unused_result));

/* White space as people type it around a value: space, tab, CR, LF. */
bool text_is_space(char c);

/* Narrows the `*length` bytes at `*text` to leave out white space at both ends. */
void text_trim_span(const char **text, size_t *length);

/* Trims white space at both ends of `text` in place; returns where the trimmed text starts
 * (inside `text`). */
char *text_trim(char *text) __attribute__((warn_unused_result));

/* Zero-initialise; free with text_buffer_free() or take the text with text_buffer_finish(). */
struct text_buffer {
    char *data; /* NULL until the first append */
    size_t length;
    size_t capacity;
    bool failed; /* memory ran out: appends are ignored */
};

/* Makes room for `extra` more bytes and a NUL after them, for a writer that stores them at
 * data + length itself and then adds to length (keeping the NUL is then its business); false
 * (and `failed`) when memory ran out. */
bool text_buffer_reserve(struct text_buffer *buffer, size_t extra)
    __attribute__((warn_unused_result));

/* Appends `length` bytes. */
void text_buffer_append(struct text_buffer *buffer, const void *bytes, size_t length);

/* Appends a NUL-terminated string. */
void text_buffer_append_string(struct text_buffer *buffer, const char *text);

/* Appends formatted text. */
void text_buffer_printf(struct text_buffer *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void text_buffer_vprintf(struct text_buffer *buffer, const char *format, va_list arguments)
    __attribute__((format(printf, 2, 0)));

/* Empties the buffer (keeping its memory) and clears `failed`. */
void text_buffer_reset(struct text_buffer *buffer);

/* The buffer's text, NUL-terminated ("" when nothing was appended), now the caller's to free;
 * NULL when memory ran out (the buffer's memory is freed then). The buffer is left empty. */
char *text_buffer_finish(struct text_buffer *buffer) __attribute__((warn_unused_result));

void text_buffer_free(struct text_buffer *buffer);

#endif
