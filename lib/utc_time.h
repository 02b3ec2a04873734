/*
 * Times typed by people in filters (the /audit page; CONTRACT §7): a UTC date or time in the
 * ISO 8601 forms people write, checked here so that a bad one gets a clear message and only a
 * canonical text reaches SQL.
 *
 * Invariants: pure, no locale or time zone state, safe from any thread; never reads past the
 * NUL; on failure `out` holds "".
 */
#ifndef AGENTGATE_UTC_TIME_H
#define AGENTGATE_UTC_TIME_H

#include <stdbool.h>
#include <stddef.h>

/* Size of the canonical text utc_time_parse writes, NUL included. */
#define UTC_TIME_TEXT_SIZE 33

/*
 * Parses YYYY-MM-DD, optionally followed by 'T' (or 't' or a space) and HH:MM, HH:MM:SS or
 * HH:MM:SS.f with 1 to 6 fraction digits, optionally ending in 'Z' (or 'z'). Years 1000 to 9999,
 * real calendar days (leap years included), hours 00-23, minutes and seconds 00-59. Writes it as
 * "YYYY-MM-DD HH:MM:SS.ffffff+00" into `out` (UTC_TIME_TEXT_SIZE bytes or more). Returns false
 * for anything else.
 */
bool utc_time_parse(const char *text, char *out, size_t out_size)
    __attribute__((warn_unused_result));

#endif
