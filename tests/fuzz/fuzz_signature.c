/* Fuzz target: the Standard Webhooks signature header parser (lib/webhook_signature).
 * Input: secret RS webhook-id RS webhook-timestamp RS webhook-signature RS body (RS = 0x1e).
 * Checks, beyond "no crash, no leak, no UB": a signature agentgate makes itself always
 * verifies, appended after whatever entries the fuzzer wrote (as long as fewer than the
 * 16 entries webhook_verify() reads come before it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "webhook_signature.h"

#define FUZZ_NOW 1700000000 /* the seeds' timestamps are near this */

static unsigned entry_count(const char *signatures)
{
    unsigned count = 0;
    for (const char *p = signatures; *p;) {
        size_t length;
        while (*p == ' ')
            p++;
        length = strcspn(p, " ");
        count += length > 0;
        p += length;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *parts[5];
    size_t lengths[5];
    struct webhook_key key;
    enum webhook_verdict verdict;

    fuzz_split(data, size, 5, parts, lengths);
    if (!webhook_key_parse(parts[0], &key)) {
        /* an unparsable secret: verify with a fixed key so the header parser still runs */
        memset(&key, 0x5a, sizeof key);
        key.length = 32;
    }
    verdict = webhook_verify(&key, parts[1], parts[2], parts[3], parts[4], lengths[4], FUZZ_NOW);
    (void)verdict;

    if (parts[1][0] && strlen(parts[1]) == lengths[1] && strlen(parts[2]) == lengths[2] &&
        strlen(parts[3]) == lengths[3]) {
        char own[WEBHOOK_SIGNATURE_TEXT_SIZE];
        size_t list_size = lengths[3] + 1 + sizeof own;
        char *list = malloc(list_size);
        if (!list)
            abort();
        webhook_sign(&key, parts[1], parts[2], parts[4], lengths[4], own);
        memcpy(list, parts[3], lengths[3]);
        list[lengths[3]] = ' ';
        memcpy(list + lengths[3] + 1, own, sizeof own);
        verdict = webhook_verify(&key, parts[1], parts[2], list, parts[4], lengths[4], FUZZ_NOW);
        if (verdict == WEBHOOK_BAD_SIGNATURE && entry_count(parts[3]) < 16)
            abort(); /* our own signature was not recognised */
        free(list);
    }
    fuzz_parts_free(5, parts);
    return 0;
}
