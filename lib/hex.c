/* Hexadecimal text; see hex.h. */
#include "hex.h"

char hex_digit(unsigned nibble)
{
    return "0123456789abcdef"[nibble & 15];
}

void hex_encode(const unsigned char *bytes, size_t length, char *out)
{
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = hex_digit(bytes[i] >> 4);
        out[2 * i + 1] = hex_digit(bytes[i]);
    }
    out[2 * length] = '\0';
}
