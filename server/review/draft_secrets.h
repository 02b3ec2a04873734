/*
 * Secrets in a draft are never shown in clear, and an edit never changes a secret its editor did
 * not touch (CONTRACT §7).
 *
 * A secret span (a `secret.` flag, or what the scanner finds as one now) splits into what stays
 * visible, the key name of an assignment (`aws_secret_access_key = `), the user of a URL's
 * credentials, a private key's BEGIN and END lines or a token's first four characters, and the
 * hidden value. The value is shown as a placeholder, DRAFT_SECRET_MASK followed by its number in
 * angle brackets: `aws_secret_access_key = ••••••⟨1⟩`. Numbers belong to distinct values across
 * all revisions of a draft, in order of first appearance (revision 1's title, body, then
 * revision 2's, ...), so they are stable from one revision to the next and the same value always
 * has the same number (a changed secret shows as a changed placeholder in a diff).
 *
 * On saving an edit, each placeholder left as shown is replaced by its value again
 * (draft_secrets_unmask); a placeholder changed or removed is an explicit change of the text.
 */
#ifndef AGENTGATE_DRAFT_SECRETS_H
#define AGENTGATE_DRAFT_SECRETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define DRAFT_SECRET_MASK     "\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2\xE2\x80\xA2"
#define DRAFT_SECRET_REDACTED "[REDACTED]"

/* The distinct secret values seen in a draft, numbered from 1. */
struct draft_secrets {
    size_t count, capacity;
    char **values;
};

void draft_secrets_free(struct draft_secrets *secrets);

/* The secret spans of `text` (field `field`): the `secret.` flags of `flags` for that field
 * (may be NULL) and what the scanner finds now, merged where they overlap, sorted, as a new
 * array of [start, end] byte offsets. NULL when memory runs out. */
json_t *draft_secrets_spans(const char *field, const char *text, const json_t *flags);

/* Where the hidden value of the secret span [start, end) of `text` lies: [*hidden_start,
 * *hidden_end), never cutting a UTF-8 character. An empty range means nothing to hide. */
void draft_secret_hidden(const char *text, size_t start, size_t end, size_t *hidden_start,
                         size_t *hidden_end);

/* `text` with each span of `spans` masked, numbering values in `secrets` (new values are
 * added). When `marks` is an array, each mask's [start, end) in the result is appended to it.
 * Returns a malloc'd string (the caller frees), NULL when memory runs out. */
char *draft_secrets_mask(struct draft_secrets *secrets, const char *text, const json_t *spans,
                         json_t *marks);

/* The masked form of the one span [start, end) of `text` (the span as is when it hides
 * nothing). malloc'd; NULL when memory runs out or the span is not inside the text. */
char *draft_secrets_mask_span(struct draft_secrets *secrets, const char *text, size_t start,
                              size_t end);

/* Masks every secret of `text` the scanner finds: draft_secrets_spans + draft_secrets_mask. */
char *draft_secrets_mask_scanned(struct draft_secrets *secrets, const char *field,
                                 const char *text);

/* `text` with each placeholder of a known value replaced by that value. malloc'd; NULL when
 * memory runs out. */
char *draft_secrets_unmask(const struct draft_secrets *secrets, const char *text);

/* `text` with the hidden value of the span [start, end) replaced by DRAFT_SECRET_REDACTED.
 * malloc'd; NULL when memory runs out or the span is not inside the text. */
char *draft_secret_redact(const char *text, size_t start, size_t end);

#endif
