/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256
 * of "{webhook-id}.{webhook-timestamp}.{raw body}" under a key written as
 * "whsec_" + base64, sent as space-separated "v1,<base64>" entries.
 *
 * Invariants: verification works on the raw body bytes as received; every
 * candidate signature's length is checked before the constant-time compare,
 * so a bare "v1," or a truncated value can never match; unknown versions are
 * skipped, not errors; one matching entry is enough (key rotation).
 */
#ifndef AGENTGATE_WEBHOOK_SIGNATURE_H
#define AGENTGATE_WEBHOOK_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define WEBHOOK_KEY_MAX_BYTES 128
/* Shorter keys are refused by the configuration: 128 bits at least. */
#define WEBHOOK_KEY_MIN_BYTES     16
#define WEBHOOK_TOLERANCE_SECONDS 300
/* "v1," + base64 of 32 bytes + NUL */
#define WEBHOOK_SIGNATURE_TEXT_SIZE (3 + 44 + 1)

struct webhook_key {
    unsigned char bytes[WEBHOOK_KEY_MAX_BYTES];
    size_t length;
};

enum webhook_verdict {
    WEBHOOK_VALID,
    WEBHOOK_MISSING_HEADER,  /* a header is absent or empty */
    WEBHOOK_STALE_TIMESTAMP, /* not a Unix time, or more than the tolerance away from now */
    WEBHOOK_BAD_SIGNATURE,   /* no entry matches */
};

/* Parses "whsec_<base64>" (the prefix is optional) into `key`. Returns false when the text is
 * not base64 or decodes to 0 or more than WEBHOOK_KEY_MAX_BYTES bytes. */
bool webhook_key_parse(const char *secret, struct webhook_key *key)
    __attribute__((warn_unused_result));

/* Writes "v1,<base64 signature>" for the message into `out` (WEBHOOK_SIGNATURE_TEXT_SIZE). */
void webhook_sign(const struct webhook_key *key, const char *id, const char *timestamp,
                  const void *body, size_t body_length, char out[WEBHOOK_SIGNATURE_TEXT_SIZE]);

/* Verifies a request's three headers (any may be NULL) against `key` at time `now`. */
enum webhook_verdict webhook_verify(const struct webhook_key *key, const char *id,
                                    const char *timestamp, const char *signatures, const void *body,
                                    size_t body_length, time_t now)
    __attribute__((warn_unused_result));

/* Writes a fresh random "whsec_..." secret of 32 key bytes into `out` (at least 56 bytes). */
void webhook_secret_generate(char *out, size_t out_size);

#endif
