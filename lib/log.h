/*
 * One line per event on stderr: time, level, request id (or "-"), message.
 * Callers never pass secrets or post bodies. Every line passes through
 * log_escape() before it is written, so whatever a client sent cannot end the
 * line or start a terminal sequence: bytes below 0x20, 0x7f, C1 control
 * characters and invalid UTF-8 are written as \xNN. log_value_safe() also
 * quotes-escapes a value meant to stand between double quotes.
 */
#ifndef AGENTGATE_LOG_H
#define AGENTGATE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* LOG_NOTICE is above every threshold: lines an operator always needs (where we listen). */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NOTICE };

void log_set_level(enum log_level level);
void log_event(enum log_level level, const char *request_id, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* The one escaping function: writes `length` bytes of `value` into `out` (NUL-terminated, at
 * most out_size-1 bytes), with control bytes, C1 controls and invalid UTF-8 as \xNN and, when
 * `quote`, '"' and '\\' backslash-escaped; ends with "..." when it does not fit. Returns the
 * length written. */
size_t log_escape(const char *value, size_t length, char *out, size_t out_size, bool quote);

/* log_escape() of a NUL-terminated value for use between double quotes; NULL becomes "-". */
void log_value_safe(const char *value, char *out, size_t out_size);

#define log_info(rid, ...)   log_event(LOG_INFO, rid, __VA_ARGS__)
#define log_warn(rid, ...)   log_event(LOG_WARN, rid, __VA_ARGS__)
#define log_error(rid, ...)  log_event(LOG_ERROR, rid, __VA_ARGS__)
#define log_debug(rid, ...)  log_event(LOG_DEBUG, rid, __VA_ARGS__)
#define log_notice(rid, ...) log_event(LOG_NOTICE, rid, __VA_ARGS__)

#endif
