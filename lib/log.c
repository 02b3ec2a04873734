/* Line-oriented logging to stderr; each line is written with one write() so lines from
 * several threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_threshold = LOG_INFO;

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

void log_event(enum log_level level, const char *request_id, const char *format, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "notice"};
    char line[2048];
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
    n = snprintf(line + used, sizeof line - used, ".%03ldZ %s rid=%s ", now.tv_nsec / 1000000L,
                 names[level], request_id ? request_id : "-");
    if (n > 0)
        used += (size_t)n < sizeof line - used ? (size_t)n : sizeof line - used - 1;
    va_start(args, format);
    n = vsnprintf(line + used, sizeof line - used, format, args);
    va_end(args);
    if (n > 0)
        used += (size_t)n < sizeof line - used ? (size_t)n : sizeof line - used - 1;
    if (used >= sizeof line - 1)
        used = sizeof line - 2;
    line[used++] = '\n';
    if (write(STDERR_FILENO, line, used) < 0) {
        /* nowhere left to report a failing stderr */
    }
}

void log_value_safe(const char *value, char *out, size_t out_size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (out_size == 0)
        return;
    if (!value)
        value = "-";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char buf[4];
        size_t len = 0;
        if (*p < 0x20 || *p == 0x7f) {
            buf[0] = '\\';
            buf[1] = 'x';
            buf[2] = hex[*p >> 4];
            buf[3] = hex[*p & 15];
            len = 4;
        } else if (*p == '"' || *p == '\\') {
            buf[0] = '\\';
            buf[1] = (char)*p;
            len = 2;
        } else {
            buf[0] = (char)*p;
            len = 1;
        }
        if (o + len + 4 > out_size) {
            if (o + 4 <= out_size) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, buf, len);
        o += len;
    }
    out[o] = '\0';
}
