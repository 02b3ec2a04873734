/* lib/text: formatted strings, trimming what people type, and the growing buffer (bytes with
 * NULs, formatted appends, reuse after reset, and a failure that sticks until reset). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unit.h"

START_TEST(format_builds_a_new_string)
{
    char *text = text_format("%s=%d;%05.1f", "count", 42, 3.14159);

    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "count=42;003.1");
    free(text);
}
END_TEST

START_TEST(trim_removes_typed_white_space_at_both_ends_only)
{
    static const char *const cases[][2] = {
        {"  spaced  ", "spaced"},
        {"\t\r\nlines\r\n", "lines"},
        {"in  side", "in  side"},
        {" \t \r\n ", ""},
        {"", ""},
        {"x", "x"},
        {"\fform\v", "\fform\v"}, /* only space, tab, CR and LF count */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char copy[32];
        const char *span = cases[i][0];
        size_t length = strlen(span);

        strcpy(copy, cases[i][0]);
        ck_assert_str_eq(text_trim(copy), cases[i][1]);
        text_trim_span(&span, &length);
        ck_assert_uint_eq(length, strlen(cases[i][1]));
        ck_assert_int_eq(memcmp(span, cases[i][1], length), 0);
    }
}
END_TEST

START_TEST(buffer_collects_bytes_and_formatted_text)
{
    struct text_buffer buffer = {0};
    char *text;

    text_buffer_append_string(&buffer, "a");
    text_buffer_append(&buffer, "b\0c", 3);
    ck_assert_uint_eq(buffer.length, 4);
    ck_assert_int_eq(memcmp(buffer.data, "ab\0c", 5), 0); /* NUL-terminated after the bytes */
    for (int i = 0; i < 1000; i++)
        text_buffer_printf(&buffer, "[%03d]", i);
    ck_assert_uint_eq(buffer.length, 4 + 5000);
    ck_assert_int_eq(memcmp(buffer.data + 4, "[000][001]", 10), 0);
    ck_assert_str_eq(buffer.data + buffer.length - 5, "[999]");
    text = text_buffer_finish(&buffer);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_null(buffer.data);
    ck_assert_uint_eq(buffer.length, 0);
    free(text);
}
END_TEST

START_TEST(empty_buffer_finishes_as_empty_string)
{
    struct text_buffer buffer = {0};
    char *text = text_buffer_finish(&buffer);

    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

START_TEST(reset_empties_and_keeps_memory)
{
    struct text_buffer buffer = {0};
    char *kept;

    text_buffer_append_string(&buffer, "first");
    kept = buffer.data;
    text_buffer_reset(&buffer);
    ck_assert_uint_eq(buffer.length, 0);
    ck_assert_str_eq(buffer.data, "");
    text_buffer_append_string(&buffer, "second");
    ck_assert_ptr_eq(buffer.data, kept);
    ck_assert_str_eq(buffer.data, "second");
    text_buffer_free(&buffer);
    ck_assert_ptr_null(buffer.data);
}
END_TEST

START_TEST(failure_sticks_until_reset_and_finish_gives_null)
{
    struct text_buffer buffer = {0};

    text_buffer_append_string(&buffer, "kept");
    text_buffer_append(&buffer, "", SIZE_MAX / 2); /* cannot be had: fails without reading */
    ck_assert(buffer.failed);
    text_buffer_append_string(&buffer, "ignored");
    text_buffer_printf(&buffer, "%s", "ignored");
    ck_assert_uint_eq(buffer.length, 4);
    ck_assert_ptr_null(text_buffer_finish(&buffer));
    ck_assert_ptr_null(buffer.data);

    text_buffer_append_string(&buffer, "x");
    text_buffer_append(&buffer, "", SIZE_MAX - 1);
    ck_assert(buffer.failed);
    text_buffer_reset(&buffer);
    ck_assert(!buffer.failed);
    text_buffer_append_string(&buffer, "again");
    ck_assert_str_eq(buffer.data, "again");
    text_buffer_free(&buffer);
}
END_TEST

int main(void)
{
    TCase *tcase;
    Suite *suite = unit_suite("text", "core", &tcase);

    tcase_add_test(tcase, format_builds_a_new_string);
    tcase_add_test(tcase, trim_removes_typed_white_space_at_both_ends_only);
    tcase_add_test(tcase, buffer_collects_bytes_and_formatted_text);
    tcase_add_test(tcase, empty_buffer_finishes_as_empty_string);
    tcase_add_test(tcase, reset_empties_and_keeps_memory);
    tcase_add_test(tcase, failure_sticks_until_reset_and_finish_gives_null);
    return unit_run(suite);
}
