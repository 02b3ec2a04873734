/* Formatted strings, a growing buffer and trimming; see text.h. */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_BUFFER_INITIAL 256

char *text_format(const char *format, ...)
{
    va_list arguments;
    char *text;
    int length;

    va_start(arguments, format);
    length = vasprintf(&text, format, arguments);
    va_end(arguments);
    return length < 0 ? NULL : text;
}

bool text_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void text_trim_span(const char **text, size_t *length)
{
    while (*length > 0 && text_is_space(**text)) {
        (*text)++;
        (*length)--;
    }
    while (*length > 0 && text_is_space((*text)[*length - 1]))
        (*length)--;
}

char *text_trim(char *text)
{
    size_t length = strlen(text);
    const char *start = text;

    text_trim_span(&start, &length);
    text += start - text;
    text[length] = '\0';
    return text;
}

bool text_buffer_reserve(struct text_buffer *buffer, size_t extra)
{
    size_t need, capacity;
    char *grown;

    if (buffer->failed)
        return false;
    if (extra > SIZE_MAX / 2 - buffer->length - 1) {
        buffer->failed = true;
        return false;
    }
    need = buffer->length + extra + 1;
    if (buffer->data && need <= buffer->capacity)
        return true;
    capacity = buffer->capacity ? buffer->capacity : TEXT_BUFFER_INITIAL;
    while (capacity < need)
        capacity *= 2;
    grown = realloc(buffer->data, capacity);
    if (!grown) {
        buffer->failed = true;
        return false;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return true;
}

void text_buffer_append(struct text_buffer *buffer, const void *bytes, size_t length)
{
    if (!text_buffer_reserve(buffer, length))
        return;
    if (length > 0)
        memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
}

void text_buffer_append_string(struct text_buffer *buffer, const char *text)
{
    text_buffer_append(buffer, text, strlen(text));
}

void text_buffer_vprintf(struct text_buffer *buffer, const char *format, va_list arguments)
{
    va_list again;
    int needed;

    va_copy(again, arguments);
    needed = vsnprintf(NULL, 0, format, again);
    va_end(again);
    if (needed < 0) {
        buffer->failed = true;
        return;
    }
    if (!text_buffer_reserve(buffer, (size_t)needed))
        return;
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, arguments);
    buffer->length += (size_t)needed;
}

void text_buffer_printf(struct text_buffer *buffer, const char *format, ...)
{
    va_list arguments;

    va_start(arguments, format);
    text_buffer_vprintf(buffer, format, arguments);
    va_end(arguments);
}

void text_buffer_reset(struct text_buffer *buffer)
{
    buffer->length = 0;
    buffer->failed = false;
    if (buffer->data)
        buffer->data[0] = '\0';
}

char *text_buffer_finish(struct text_buffer *buffer)
{
    char *text;

    text_buffer_append(buffer, "", 0);
    text = buffer->failed ? NULL : buffer->data;
    if (!text)
        free(buffer->data);
    memset(buffer, 0, sizeof *buffer);
    return text;
}

void text_buffer_free(struct text_buffer *buffer)
{
    free(buffer->data);
    memset(buffer, 0, sizeof *buffer);
}
