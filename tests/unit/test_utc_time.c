/* Times typed by people in filters: every accepted form and its canonical text, and the
 * refusals (impossible days, out-of-range fields, stray characters, truncated forms). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "utc_time.h"
#include "unit.h"

static const char *const accepted[][2] = {
    {"2026-11-01", "2026-11-01 00:00:00.000000+00"},
    {"2026-11-01Z", "2026-11-01 00:00:00.000000+00"},
    {"2026-11-01T09:30", "2026-11-01 09:30:00.000000+00"},
    {"2026-11-01 09:30", "2026-11-01 09:30:00.000000+00"},
    {"2026-11-01t09:30z", "2026-11-01 09:30:00.000000+00"},
    {"2026-11-01T09:30:15", "2026-11-01 09:30:15.000000+00"},
    {"2026-11-01T09:30:15Z", "2026-11-01 09:30:15.000000+00"},
    {"2026-11-01T09:30:15.1", "2026-11-01 09:30:15.100000+00"},
    {"2026-11-01T09:30:15.123456Z", "2026-11-01 09:30:15.123456+00"},
    {"2024-02-29", "2024-02-29 00:00:00.000000+00"},
    {"2000-02-29T23:59:59", "2000-02-29 23:59:59.000000+00"},
    {"1000-01-01", "1000-01-01 00:00:00.000000+00"},
    {"9999-12-31T23:59:59.999999", "9999-12-31 23:59:59.999999+00"},
};

static const char *const refused[] = {
    "",
    "Z",
    "2026",
    "2026-11",
    "2026-11-1",
    "26-11-01",
    "2026/11/01",
    "2026-13-01",
    "2026-00-10",
    "2026-11-00",
    "2026-11-31",
    "2025-02-29",
    "1900-02-29",
    "0999-12-31",
    "2026-11-01T",
    "2026-11-01T9:30",
    "2026-11-01T09",
    "2026-11-01T09:3",
    "2026-11-01T24:00",
    "2026-11-01T09:60",
    "2026-11-01T09:30:60",
    "2026-11-01T09:30:",
    "2026-11-01T09:30:15.",
    "2026-11-01T09:30:15.1234567",
    "2026-11-01X09:30",
    "2026-11-01T09-30",
    "2026-11-01T09:30:15,5",
    "2026-11-01T09:30+01:00",
    "2026-11-01ZZ",
    " 2026-11-01",
    "2026-11-01 ",
    "+026-11-01",
    "2026-11-01T09:30:1a",
    "２０２６-11-01",
};

START_TEST(test_accepted)
{
    char out[UTC_TIME_TEXT_SIZE];

    ck_assert_msg(utc_time_parse(accepted[_i][0], out, sizeof out), "%s refused", accepted[_i][0]);
    ck_assert_str_eq(out, accepted[_i][1]);
}
END_TEST

START_TEST(test_refused)
{
    char out[UTC_TIME_TEXT_SIZE];

    ck_assert_msg(!utc_time_parse(refused[_i], out, sizeof out), "%s accepted", refused[_i]);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_small_buffer_and_null)
{
    char out[UTC_TIME_TEXT_SIZE - 1];
    char full[UTC_TIME_TEXT_SIZE];

    ck_assert(!utc_time_parse("2026-11-01", out, sizeof out));
    ck_assert_str_eq(out, "");
    ck_assert(!utc_time_parse(NULL, full, sizeof full));
    ck_assert_str_eq(full, "");
}
END_TEST

/* Every prefix of a long valid time is either refused or one of the shorter forms: no read past
 * the end whatever the length (ASan watches the copies). */
START_TEST(test_every_prefix)
{
    const char *whole = "2026-11-01T09:30:15.123456Z";
    char out[UTC_TIME_TEXT_SIZE];

    for (size_t length = 0; length <= strlen(whole); length++) {
        char *prefix = strndup(whole, length);
        bool ok = utc_time_parse(prefix, out, sizeof out);
        ck_assert(ok == (length == 10 || length == 16 || length == 19 || length >= 21));
        free(prefix);
    }
}
END_TEST

static Suite *utc_time_suite(void)
{
    TCase *tc;
    Suite *suite = unit_suite("utc_time", "parse", &tc);

    tcase_add_loop_test(tc, test_accepted, 0, sizeof accepted / sizeof accepted[0]);
    tcase_add_loop_test(tc, test_refused, 0, sizeof refused / sizeof refused[0]);
    tcase_add_test(tc, test_small_buffer_and_null);
    tcase_add_test(tc, test_every_prefix);
    return suite;
}

int main(void)
{
    return unit_run(utc_time_suite());
}
