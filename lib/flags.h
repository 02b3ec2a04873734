/* flags.h — the risk scanner that marks what a reviewer must look at in a draft (CONTRACT §8).
 *
 * agentgate scans every text field of a held post (title, body, …) for secrets, advice that
 * broadens access, destructive commands, personal data and mass mentions. Each finding is a
 * "flag": a code whose first part names its family (secret., access., destructive., pii.,
 * mention.), a severity and the byte span of the match inside the field. The draft page shows
 * flags highlighted and, for secrets, masked with flags_mask().
 *
 * Invariants: the scanner is pure (no I/O, no global mutable state, safe from any thread),
 * never reads outside [text, text + length), and is deterministic: the same input always
 * gives the same flags in the same order. The list of codes and severities is documented at
 * the top of flags.c.
 */
#ifndef AGENTGATE_FLAGS_H
#define AGENTGATE_FLAGS_H

#include <jansson.h>
#include <stddef.h>

/* Scans one text field for risks (CONTRACT §8) and appends every flag found to the JSON
 * array `flags` as {"code": "...", "severity": "info"|"warning"|"critical", "field": field,
 * "start": N, "end": N} where start/end are byte offsets into `text` (end exclusive).
 * `text` is valid UTF-8 of `length` bytes (not necessarily NUL-terminated). Flags appear in
 * order of start offset within one call. Returns 0, or -1 when memory runs out.
 * Thread-safe, no global mutable state.
 * Also returns -1, appending nothing, on invalid arguments (NULL field, `flags` not an array,
 * NULL text with a non-zero length). On -1 `flags` is left as it was. */
int flags_scan(const char *field, const char *text, size_t length, json_t *flags)
    __attribute__((warn_unused_result));

/* Writes into out (size out_size, NUL-terminated) the text of a span with secrets masked:
 * keeps the first 4 characters and replaces the rest by '*' (for display).
 * Characters are UTF-8 characters, one '*' per masked character. When out is too small the
 * result is cut at a character boundary; out_size 0 (or out NULL) writes nothing. */
void flags_mask(const char *text, size_t length, char *out, size_t out_size);

#endif /* AGENTGATE_FLAGS_H */
