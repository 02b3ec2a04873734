/*
 * GET arguments of pages' filters (/audit, /history and its exports): read, trimmed and checked
 * the same way everywhere, with a sentence for people when one is refused.
 *
 * Invariants: a value is valid UTF-8 of at most the given number of characters, or refused;
 * never cut. The text is the request's (libmicrohttpd decodes it); nothing is kept after the
 * call.
 */
#ifndef AGENTGATE_QUERY_ARG_H
#define AGENTGATE_QUERY_ARG_H

#include <stdbool.h>
#include <stddef.h>

#include "web/http.h"

/*
 * Copies the GET argument `name` (the first when repeated), trimmed of ASCII whitespace, into
 * `out` (`size` bytes). Returns true when it is absent (`out` is "") or fits. Returns false,
 * `out` "", with "<label> is not valid UTF-8 text." or "<label>: at most N characters." in
 * `error` when it is not UTF-8 or longer than `max_chars` characters (or `size` - 1 bytes).
 */
bool query_arg_copy(struct request *request, const char *name, const char *label, size_t max_chars,
                    char *out, size_t size, char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
