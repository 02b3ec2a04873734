/* What people read on the moderator pages (page.c): times further back than days in weeks,
 * months and years, and people as "name (id)". (Times within days: test_draft_secrets.c.) */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "web/page.h"
#include "unit.h"

/* 2026-12-01T12:18:00Z */
#define NOW ((time_t)1796127480)

static void relative(const char *iso, const char *expected_relative, const char *expected_absolute)
{
    json_t *time = page_time(iso, NOW);

    ck_assert_msg(json_is_object(time), "%s refused", iso);
    ck_assert_str_eq(json_string_value(json_object_get(time, "relative")), expected_relative);
    ck_assert_str_eq(json_string_value(json_object_get(time, "absolute")), expected_absolute);
    json_decref(time);
}

START_TEST(long_ago_reads_in_weeks_months_and_years)
{
    relative("2026-11-28T12:18:00Z", "3 days ago", "28 Nov 2026 12:18 UTC");
    relative("2026-11-10T12:18:00Z", "3 weeks ago", "10 Nov 2026 12:18 UTC");
    relative("2026-09-01T12:18:00Z", "3 months ago", "1 Sep 2026 12:18 UTC");
    relative("2026-01-09T07:00:00Z", "10 months ago", "9 Jan 2026 07:00 UTC");
    relative("2025-11-30T12:18:00Z", "1 year ago", "30 Nov 2025 12:18 UTC");
    relative("2024-02-29T00:05:59Z", "2 years ago", "29 Feb 2024 00:05 UTC");
    relative("1999-12-31T23:59:59Z", "26 years ago", "31 Dec 1999 23:59 UTC");
    relative("2027-01-01T12:18:00Z", "in 4 weeks", "1 Jan 2027 12:18 UTC");
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
    TCase *tc;
    Suite *suite = unit_suite("page_time", "core", &tc);

    tcase_add_test(tc, long_ago_reads_in_weeks_months_and_years);
    tcase_add_test(tc, people_show_names_beside_ids);
    return unit_run(suite);
}
