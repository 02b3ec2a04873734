/* Standard Webhooks signing and verification; see webhook_signature.h for the invariants. */
#include "webhook_signature.h"

#include <sodium.h>
#include <string.h>

#define SIGNATURE_BYTES         crypto_auth_hmacsha256_BYTES
#define SIGNATURE_BASE64_LENGTH 44 /* base64 of 32 bytes, with one '=' of padding */
#define SIGNATURE_ENTRIES_MAX   16

bool webhook_key_parse(const char *secret, struct webhook_key *key)
{
    size_t decoded = 0;
    const char *end = NULL;

    if (!secret)
        return false;
    if (strncmp(secret, "whsec_", 6) == 0)
        secret += 6;
    if (*secret == '\0')
        return false;
    if (sodium_base642bin(key->bytes, sizeof key->bytes, secret, strlen(secret), NULL, &decoded,
                          &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    if (end == NULL || *end != '\0' || decoded == 0)
        return false;
    key->length = decoded;
    return true;
}

static void signature_compute(const struct webhook_key *key, const char *id, const char *timestamp,
                              const void *body, size_t body_length,
                              unsigned char out[SIGNATURE_BYTES])
{
    crypto_auth_hmacsha256_state state;

    crypto_auth_hmacsha256_init(&state, key->bytes, key->length);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&state, body, body_length);
    crypto_auth_hmacsha256_final(&state, out);
    sodium_memzero(&state, sizeof state);
}

void webhook_sign(const struct webhook_key *key, const char *id, const char *timestamp,
                  const void *body, size_t body_length, char out[WEBHOOK_SIGNATURE_TEXT_SIZE])
{
    unsigned char mac[SIGNATURE_BYTES];

    signature_compute(key, id, timestamp, body, body_length, mac);
    memcpy(out, "v1,", 3);
    sodium_bin2base64(out + 3, WEBHOOK_SIGNATURE_TEXT_SIZE - 3, mac, sizeof mac,
                      sodium_base64_VARIANT_ORIGINAL);
}

/* A Unix time in decimal digits only, at most 12 of them. */
static bool timestamp_parse(const char *text, long long *out)
{
    long long value = 0;
    size_t digits = 0;

    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || ++digits > 12)
            return false;
        value = value * 10 + (*p - '0');
    }
    if (digits == 0)
        return false;
    *out = value;
    return true;
}

/* True when one "v1,<base64>" entry of `length` bytes at `entry` matches `expected`. */
static bool signature_entry_matches(const char *entry, size_t length,
                                    const unsigned char expected[SIGNATURE_BYTES])
{
    unsigned char candidate[SIGNATURE_BYTES];
    size_t decoded = 0;
    const char *end = NULL;

    if (length != 3 + SIGNATURE_BASE64_LENGTH || memcmp(entry, "v1,", 3) != 0)
        return false;
    if (sodium_base642bin(candidate, sizeof candidate, entry + 3, SIGNATURE_BASE64_LENGTH, NULL,
                          &decoded, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    if (decoded != SIGNATURE_BYTES || end != entry + length)
        return false;
    return sodium_memcmp(candidate, expected, SIGNATURE_BYTES) == 0;
}

enum webhook_verdict webhook_verify(const struct webhook_key *key, const char *id,
                                    const char *timestamp, const char *signatures, const void *body,
                                    size_t body_length, time_t now)
{
    unsigned char expected[SIGNATURE_BYTES];
    long long sent_at;
    bool matched = false;
    unsigned entries = 0;

    if (!id || !*id || !timestamp || !*timestamp || !signatures || !*signatures)
        return WEBHOOK_MISSING_HEADER;
    if (!timestamp_parse(timestamp, &sent_at))
        return WEBHOOK_STALE_TIMESTAMP;
    if (sent_at > (long long)now + WEBHOOK_TOLERANCE_SECONDS ||
        sent_at < (long long)now - WEBHOOK_TOLERANCE_SECONDS)
        return WEBHOOK_STALE_TIMESTAMP;

    signature_compute(key, id, timestamp, body, body_length, expected);
    for (const char *p = signatures; *p && entries < SIGNATURE_ENTRIES_MAX;) {
        size_t length;
        while (*p == ' ')
            p++;
        length = strcspn(p, " ");
        if (length > 0) {
            entries++;
            /* Evaluate every entry, so timing does not reveal which one matched. */
            if (signature_entry_matches(p, length, expected))
                matched = true;
        }
        p += length;
    }
    sodium_memzero(expected, sizeof expected);
    return matched ? WEBHOOK_VALID : WEBHOOK_BAD_SIGNATURE;
}

void webhook_secret_generate(char *out, size_t out_size)
{
    unsigned char key[32];

    randombytes_buf(key, sizeof key);
    if (out_size < 6 + sodium_base64_ENCODED_LEN(sizeof key, sodium_base64_VARIANT_ORIGINAL)) {
        if (out_size)
            out[0] = '\0';
        return;
    }
    memcpy(out, "whsec_", 6);
    sodium_bin2base64(out + 6, out_size - 6, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(key, sizeof key);
}
