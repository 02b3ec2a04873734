/* Line-oriented logging to stderr; each line is written with one write() so lines from
 * several threads never interleave. Every line goes through log_escape(), so no value a
 * client sent (a path, a header, a form field) can end a line or start a terminal sequence. */
#include "log.h"

#include "hex.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static enum log_level log_threshold = LOG_INFO;

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

/* The length of the valid UTF-8 sequence at `p` (at most `left` bytes) that is not a C1
 * control character (U+0080..U+009F, which terminals read as escapes), or 0. */
static size_t log_utf8_printable(const unsigned char *p, size_t left)
{
    size_t length;
    unsigned code;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        length = 2, code = p[0] & 0x1fu;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        length = 3, code = p[0] & 0x0fu;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        length = 4, code = p[0] & 0x07u;
    else
        return 0;
    if (length > left)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (p[i] & 0x3fu);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10ffff)) ||
        (code >= 0xd800 && code <= 0xdfff) || (code >= 0x80 && code <= 0x9f))
        return 0;
    return length;
}

size_t log_escape(const char *value, size_t length, char *out, size_t out_size, bool quote)
{
    const unsigned char *p = (const unsigned char *)value;
    size_t o = 0;

    if (out_size == 0)
        return 0;
    for (size_t i = 0; i < length;) {
        char buf[4];
        size_t n = 0, take = 1;
        if (p[i] >= 0x20 && p[i] < 0x7f) {
            if (quote && (p[i] == '"' || p[i] == '\\'))
                buf[n++] = '\\';
            buf[n++] = (char)p[i];
        } else if (p[i] >= 0x80 && (take = log_utf8_printable(p + i, length - i)) > 0) {
            memcpy(buf, p + i, take);
            n = take;
        } else {
            take = 1;
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex_digit(p[i] >> 4);
            buf[n++] = hex_digit(p[i]);
        }
        if (o + n + 4 > out_size) { /* room for "..." and the NUL */
            if (o + 4 <= out_size) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, buf, n);
        o += n;
        i += take;
    }
    out[o] = '\0';
    return o;
}

void log_event(enum log_level level, const char *request_id, const char *format, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "notice"};
    char line[LOG_LINE_MAX], message[LOG_LINE_MAX];
    struct timespec now;
    struct tm tm;
    size_t used;
    va_list args;
    int n;

    if (level < log_threshold)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    used = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line + used, sizeof line - used, ".%03ldZ %s rid=", now.tv_nsec / 1000000L,
                 names[level]);
    if (n > 0)
        used += (size_t)n;
    used += log_escape(request_id ? request_id : "-", strlen(request_id ? request_id : "-"),
                       line + used, 40, false);
    line[used++] = ' ';
    va_start(args, format);
    n = vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof message)
        n = sizeof message - 1;
    used += log_escape(message, (size_t)n, line + used, sizeof line - used - 1, false);
    line[used++] = '\n';
    if (write(STDERR_FILENO, line, used) < 0) {
        /* nowhere left to report a failing stderr */
    }
}

void log_value_safe(const char *value, char *out, size_t out_size)
{
    if (!value)
        value = "-";
    log_escape(value, strlen(value), out, out_size, true);
}
