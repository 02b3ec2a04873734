/* Fuzz target: the flag scanner's public API (lib/flags flags_scan with the built-in rules,
 * flags_mask) on any bytes. Checks: every flag has a code, a severity, the field name, a
 * message and a span inside the text (on character boundaries when the text is UTF-8, as
 * intake gives it); flags come in order of start; scanning twice gives the same flags
 * (determinism); masking each span works. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "form.h"

static bool boundary(const uint8_t *text, size_t length, size_t offset)
{
    return offset == length || (text[offset] & 0xC0) != 0x80;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char error[256];
    (void)argc;
    (void)argv;
    /* As serve does: the database compiled at build time, so the scanner fuzzed is the one that
     * runs, and start-up does not compile the patterns under ASan (which held about 1.3 GB of
     * the 2 GB that run.sh allows, and with round 37's rules went over it at exit). */
    flags_precompiled_register(flags_precompiled_bytes, flags_precompiled_length);
    if (!flags_builtin(error, sizeof error))
        abort(); /* the shipped rules do not compile */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *flags, *again, *flag;
    size_t index, previous = 0;
    bool text = utf8_valid((const char *)data, size);

    flags = json_array();
    again = json_array();
    if (flags_scan("post.body", (const char *)data, size, flags) != 0 ||
        flags_scan("post.body", (const char *)data, size, again) != 0)
        abort();
    if (!json_equal(flags, again))
        abort(); /* not deterministic */
    json_array_foreach(flags, index, flag)
    {
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));
        const char *code = json_string_value(json_object_get(flag, "code"));
        const char *severity = json_string_value(json_object_get(flag, "severity"));
        const char *field = json_string_value(json_object_get(flag, "field"));
        const char *message = json_string_value(json_object_get(flag, "message"));
        char masked[256];

        if (!code || !code[0] || !severity || !field || strcmp(field, "post.body") != 0 ||
            !message || !message[0])
            abort();
        if (strcmp(severity, "info") != 0 && strcmp(severity, "warning") != 0 &&
            strcmp(severity, "critical") != 0)
            abort();
        if (start < 0 || end < start || (size_t)end > size || (size_t)start < previous)
            abort();
        if (text && (!boundary(data, size, (size_t)start) || !boundary(data, size, (size_t)end)))
            abort(); /* a span that cuts a character */
        previous = (size_t)start;
        flags_mask((const char *)data + start, (size_t)(end - start), masked, sizeof masked);
        if (strlen(masked) >= sizeof masked)
            abort();
    }
    json_decref(flags);
    json_decref(again);
    return 0;
}
