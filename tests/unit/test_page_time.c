/* What people read on pages (page.c): times relative and absolute with UTC stated, and people
 * as "name (id)"; malformed times are refused rather than shown wrong. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "web/page.h"

/* 2026-12-01T12:18:00Z */
#define NOW ((time_t)1796127480)

static void human(const char *iso, time_t now, const char *relative, const char *absolute)
{
    char got_relative[40], got_absolute[40];

    ck_assert(page_time_human(iso, now, got_relative, sizeof got_relative, got_absolute,
                              sizeof got_absolute));
    ck_assert_str_eq(got_relative, relative);
    ck_assert_str_eq(got_absolute, absolute);
}

START_TEST(absolute_times_state_utc)
{
    human("2026-12-01T12:18:00Z", NOW, "just now", "1 Dec 2026 12:18 UTC");
    human("2024-02-29T00:05:59Z", NOW, "2 years ago", "29 Feb 2024 00:05 UTC");
    human("1999-12-31T23:59:59Z", NOW, "26 years ago", "31 Dec 1999 23:59 UTC");
    human("2026-01-09T07:00:00Z", NOW, "10 months ago", "9 Jan 2026 07:00 UTC");
}
END_TEST

START_TEST(relative_times_read_as_people_say_them)
{
    human("2026-12-01T12:17:16Z", NOW, "just now", "1 Dec 2026 12:17 UTC");
    human("2026-12-01T12:17:00Z", NOW, "1 min ago", "1 Dec 2026 12:17 UTC");
    human("2026-12-01T12:15:00Z", NOW, "3 min ago", "1 Dec 2026 12:15 UTC");
    human("2026-12-01T11:18:01Z", NOW, "59 min ago", "1 Dec 2026 11:18 UTC");
    human("2026-12-01T07:18:00Z", NOW, "5 h ago", "1 Dec 2026 07:18 UTC");
    human("2026-11-30T12:18:00Z", NOW, "1 day ago", "30 Nov 2026 12:18 UTC");
    human("2026-11-28T12:18:00Z", NOW, "3 days ago", "28 Nov 2026 12:18 UTC");
    human("2026-11-10T12:18:00Z", NOW, "3 weeks ago", "10 Nov 2026 12:18 UTC");
    human("2026-09-01T12:18:00Z", NOW, "3 months ago", "1 Sep 2026 12:18 UTC");
    human("2025-11-30T12:18:00Z", NOW, "1 year ago", "30 Nov 2025 12:18 UTC");
}
END_TEST

START_TEST(future_times_say_in)
{
    human("2026-12-01T12:28:00Z", NOW, "in 10 min", "1 Dec 2026 12:28 UTC");
    human("2026-12-04T12:18:00Z", NOW, "in 3 days", "4 Dec 2026 12:18 UTC");
}
END_TEST

START_TEST(malformed_times_are_refused)
{
    static const char *const bad[] = {
        "",
        "2026-12-01",
        "2026-12-01 12:18:00Z",
        "2026-12-01T12:18:00",
        "2026-12-01T12:18:00Z ",
        "2026-13-01T12:18:00Z",
        "2026-12-01T24:00:00Z",
        "2026-12-01T12:60:00Z",
        "20261201T121800Z",
        "yesterday",
    };
    char relative[40] = "x", absolute[40] = "x";

    ck_assert(!page_time_human(NULL, NOW, relative, sizeof relative, absolute, sizeof absolute));
    ck_assert_str_eq(relative, "");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(
            !page_time_human(bad[i], NOW, relative, sizeof relative, absolute, sizeof absolute),
            "accepted %s", bad[i]);
        ck_assert_str_eq(absolute, "");
    }
    ck_assert(json_is_null(page_time_json("not a time")));
}
END_TEST

START_TEST(people_show_names_beside_ids)
{
    json_t *person = page_person_json("alice", "1001");

    ck_assert_str_eq(json_string_value(json_object_get(person, "name")), "alice");
    ck_assert_str_eq(json_string_value(json_object_get(person, "id")), "1001");
    ck_assert(json_is_true(json_object_get(person, "show_id")));
    json_decref(person);
    /* an actor without an id (the CLI), an id without a name, a name that is the id */
    person = page_person_json("cli:root", NULL);
    ck_assert_str_eq(json_string_value(json_object_get(person, "name")), "cli:root");
    ck_assert(json_is_false(json_object_get(person, "show_id")));
    json_decref(person);
    person = page_person_json(NULL, "4004");
    ck_assert_str_eq(json_string_value(json_object_get(person, "name")), "4004");
    ck_assert(json_is_false(json_object_get(person, "show_id")));
    json_decref(person);
    person = page_person_json("bot-1", "bot-1");
    ck_assert(json_is_false(json_object_get(person, "show_id")));
    json_decref(person);
    ck_assert(json_is_null(page_person_json("", NULL)));
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("page_time");
    TCase *tc = tcase_create("core");
    SRunner *runner;
    int failed;

    tcase_add_test(tc, absolute_times_state_utc);
    tcase_add_test(tc, relative_times_read_as_people_say_them);
    tcase_add_test(tc, future_times_say_in);
    tcase_add_test(tc, malformed_times_are_refused);
    tcase_add_test(tc, people_show_names_beside_ids);
    suite_add_tcase(suite, tc);
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
