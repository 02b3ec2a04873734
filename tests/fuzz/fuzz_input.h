/* Helpers shared by the fuzz targets: cutting one fuzzer input into several NUL-terminated
 * parts. The fuzzer learns the separator from the seed corpus. */
#ifndef AGENTGATE_FUZZ_INPUT_H
#define AGENTGATE_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_SEPARATOR '\x1e' /* ASCII record separator */

/* Splits data[0..size) at FUZZ_SEPARATOR into at most `count` parts, each a malloc'd copy with
 * a NUL after it (an embedded NUL stays: lengths are in `lengths`). Missing parts are "". The
 * last part takes the rest, separators included. Free with fuzz_parts_free(). */
static inline void fuzz_split(const uint8_t *data, size_t size, size_t count, char **parts,
                              size_t *lengths)
{
    size_t start = 0;

    for (size_t i = 0; i < count; i++) {
        size_t end = start;
        if (i + 1 < count)
            while (end < size && data[end] != FUZZ_SEPARATOR)
                end++;
        else
            end = size;
        if (start > size)
            start = end = size;
        lengths[i] = end - start;
        parts[i] = malloc(lengths[i] + 1);
        if (!parts[i])
            abort();
        if (lengths[i])
            memcpy(parts[i], data + start, lengths[i]);
        parts[i][lengths[i]] = '\0';
        start = end + 1;
    }
}

static inline void fuzz_parts_free(size_t count, char **parts)
{
    for (size_t i = 0; i < count; i++)
        free(parts[i]);
}

#endif
