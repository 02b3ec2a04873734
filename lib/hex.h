/* Lower-case hexadecimal text of bytes (ids, tokens, digests). */
#ifndef AGENTGATE_HEX_H
#define AGENTGATE_HEX_H

#include <stddef.h>

/* Writes 2 * length lower-case hex digits and a NUL into `out` (2 * length + 1 bytes). */
void hex_encode(const unsigned char *bytes, size_t length, char *out);

/* The hex digit of a nibble (0..15), lower case. */
char hex_digit(unsigned nibble);

#endif
