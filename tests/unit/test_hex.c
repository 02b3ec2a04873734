/* lib/hex: bytes as lower-case hex, upper-case digits for percent-encoding, and a UUID's
 * canonical 8-4-4-4-12 text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "unit.h"

START_TEST(bytes_become_lower_case_pairs)
{
    const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];

    hex_encode(bytes, sizeof bytes, out);
    ck_assert_str_eq(out, "000fa5ff");
    hex_encode(bytes, 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(digits_of_each_case)
{
    ck_assert_int_eq(hex_digit(0), '0');
    ck_assert_int_eq(hex_digit(10), 'a');
    ck_assert_int_eq(hex_digit(0x1f), 'f'); /* only the low nibble counts */
    ck_assert_int_eq(hex_digit_upper(10), 'A');
    ck_assert_int_eq(hex_digit_upper(0xfe), 'E');
}
END_TEST

START_TEST(values_of_digits_of_either_case)
{
    ck_assert_int_eq(hex_value('0'), 0);
    ck_assert_int_eq(hex_value('9'), 9);
    ck_assert_int_eq(hex_value('a'), 10);
    ck_assert_int_eq(hex_value('F'), 15);
    ck_assert_int_eq(hex_value('g'), -1);
    ck_assert_int_eq(hex_value('x'), -1);
    ck_assert_int_eq(hex_value('\0'), -1);
}
END_TEST

START_TEST(uuid_text_is_canonical)
{
    const unsigned char bytes[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3,
                                     0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0xff};
    char out[37];

    memset(out, 'x', sizeof out);
    hex_uuid(bytes, out);
    ck_assert_str_eq(out, "123e4567-e89b-42d3-a456-4266141740ff");
}
END_TEST

int main(void)
{
    TCase *tcase;
    Suite *suite = unit_suite("hex", "core", &tcase);

    tcase_add_test(tcase, bytes_become_lower_case_pairs);
    tcase_add_test(tcase, digits_of_each_case);
    tcase_add_test(tcase, values_of_digits_of_either_case);
    tcase_add_test(tcase, uuid_text_is_canonical);
    return unit_run(suite);
}
