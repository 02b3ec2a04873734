/*
 * One line per event on stderr: time, level, request id (or "-"), message.
 * Callers never pass secrets or post bodies; log_value_safe() makes an
 * untrusted value printable (control characters escaped, length capped) so a
 * request cannot forge log lines.
 */
#ifndef AGENTGATE_LOG_H
#define AGENTGATE_LOG_H

#include <stddef.h>

/* LOG_NOTICE is above every threshold: lines an operator always needs (where we listen). */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NOTICE };

void log_set_level(enum log_level level);
void log_event(enum log_level level, const char *request_id, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies at most out_size-1 bytes of `value` into `out`, escaping bytes < 0x20, 0x7f, '"' and
 * '\\'; truncates with "..." when too long. NULL becomes "-". */
void log_value_safe(const char *value, char *out, size_t out_size);

#define log_info(rid, ...)   log_event(LOG_INFO, rid, __VA_ARGS__)
#define log_warn(rid, ...)   log_event(LOG_WARN, rid, __VA_ARGS__)
#define log_error(rid, ...)  log_event(LOG_ERROR, rid, __VA_ARGS__)
#define log_debug(rid, ...)  log_event(LOG_DEBUG, rid, __VA_ARGS__)
#define log_notice(rid, ...) log_event(LOG_NOTICE, rid, __VA_ARGS__)

#endif
