/* Hexadecimal text; see hex.h. */
#include "hex.h"

char hex_digit(unsigned nibble)
{
    return "0123456789abcdef"[nibble & 15];
}

char hex_digit_upper(unsigned nibble)
{
    return "0123456789ABCDEF"[nibble & 15];
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void hex_encode(const unsigned char *bytes, size_t length, char *out)
{
    for (size_t i = 0; i < length; i++) {
        out[2 * i] = hex_digit(bytes[i] >> 4);
        out[2 * i + 1] = hex_digit(bytes[i]);
    }
    out[2 * length] = '\0';
}

void hex_uuid(const unsigned char bytes[16], char out[37])
{
    size_t used = 0;

    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[used++] = '-';
        out[used++] = hex_digit(bytes[i] >> 4);
        out[used++] = hex_digit(bytes[i]);
    }
    out[used] = '\0';
}
