/*
 * Line diff between two revisions of a draft, for showing what changed.
 *
 * Invariants: lines are split on '\n' and a '\r' before it (or at the very end) is not part of
 * the line, so CRLF and LF texts compare equal line by line; a missing final newline does not
 * add or remove a line ("a" and "a\n" are both the single line "a"); the diff lists every line
 * of `before` as "same" or "del" and every line of `after` as "same" or "add", in order. No
 * global mutable state: safe to call from any thread.
 */
#ifndef AGENTGATE_TEXT_DIFF_H
#define AGENTGATE_TEXT_DIFF_H

#include <jansson.h>
#include <stddef.h>

/* Most lines (after trimming the common prefix and suffix) the LCS is computed for on both sides
 * at once; beyond (TEXT_DIFF_MAX_LINES+1)^2 table cells the diff is "all deleted, all added". */
#define TEXT_DIFF_MAX_LINES 4000

/* A line-based diff from `before` to `after` (NUL-terminated UTF-8; either may be NULL = empty) as
 * a new JSON array of {"op": "same"|"add"|"del", "text": line-without-newline}, in order,
 * computed as a longest-common-subsequence diff so unchanged lines show as "same"; within a
 * changed run, deletions come before additions. Invalid UTF-8 bytes are shown as U+FFFD. For
 * inputs over TEXT_DIFF_MAX_LINES lines each (after trimming the common prefix and suffix), it
 * may fall back to "all of before deleted, all of after added" for the differing middle.
 * Returns NULL on allocation failure. The caller owns the result and json_decref()s it. */
json_t *text_diff_lines(const char *before, const char *after) __attribute__((warn_unused_result));

/* A word diff of two lines (NUL-terminated UTF-8; NULL = empty), for showing what changed inside
 * a changed line: a new array of {"op": "same"|"add"|"del", "text"} where words (letters, digits,
 * '_', non-ASCII characters), runs of spaces and single other characters are the units compared,
 * and neighbouring units of one op are joined. Concatenating the "same" and "del" texts gives
 * `before`; the "same" and "add" texts give `after`. NULL on allocation failure. */
json_t *text_diff_words(const char *before, const char *after) __attribute__((warn_unused_result));

/* Counts of added and deleted lines in a diff produced above (elements whose "op" is "add" or
 * "del"). `diff` may be NULL or not an array (counts are 0); `added` or `deleted` may be NULL.
 * Does not take or release a reference to `diff`. */
void text_diff_count(const json_t *diff, size_t *added, size_t *deleted);

#endif
