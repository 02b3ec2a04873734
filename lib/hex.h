/* Hexadecimal text of bytes (ids, tokens, digests, UUIDs, escapes): lower case unless a
 * format asks for upper case (percent-encoding). */
#ifndef AGENTGATE_HEX_H
#define AGENTGATE_HEX_H

#include <stddef.h>

/* Writes 2 * length lower-case hex digits and a NUL into `out` (2 * length + 1 bytes). */
void hex_encode(const unsigned char *bytes, size_t length, char *out);

/* The hex digit of a nibble (0..15), lower case. */
char hex_digit(unsigned nibble);

/* The hex digit of a nibble (0..15), upper case (RFC 3986 percent-encoding). */
char hex_digit_upper(unsigned nibble);

/* The value (0..15) of a hex digit of either case; -1 for any other character. */
int hex_value(char c);

/* The canonical text of a 16-byte UUID (8-4-4-4-12 lower-case hex digits) and a NUL. */
void hex_uuid(const unsigned char bytes[16], char out[37]);

#endif
