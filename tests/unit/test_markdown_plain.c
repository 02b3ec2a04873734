/* Excerpts as plain text (render_markdown_plain): what a reader sees of a Markdown body, on one
 * line, cut at whole characters; markup, link targets and raw HTML never show, masked secrets
 * do. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "render_markdown.h"

static void plain(const char *markdown, size_t max_chars, const char *expected)
{
    char *got = render_markdown_plain(markdown, strlen(markdown), max_chars);

    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, expected);
    free(got);
}

START_TEST(markup_is_dropped)
{
    plain("Restart the **ingest** worker:\n\n    systemctl restart ingest\n", 200,
          "Restart the ingest worker: systemctl restart ingest");
    plain("# Title\n\n> quoted *text* and `code`\n\n- one\n- two", 200,
          "Title quoted text and code one two");
    plain("See [the docs](https://example.com/x) and ![a chart](http://e/c.png)", 200,
          "See the docs and a chart");
    plain("```sh\nrm -rf build\n```\nthen <b>bold</b><script>x()</script> done", 200,
          "rm -rf build then boldx() done");
    plain("", 10, "");
    plain("   \n\n  ", 10, "");
}
END_TEST

START_TEST(masked_secrets_stay_visible)
{
    plain("token ghp_************************************ end", 200,
          "token ghp_************************************ end");
    plain("key AKIA**************** here", 200, "key AKIA**************** here");
}
END_TEST

START_TEST(cut_at_whole_characters)
{
    plain("abcdef", 3, "abc\xE2\x80\xA6");
    plain("\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D", 4,
          "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D\xE2\x80\xA6");
    plain("one two", 4, "one\xE2\x80\xA6");
    plain("abc", 3, "abc");
}
END_TEST

START_TEST(invalid_utf8_is_replaced)
{
    char *got = render_markdown_plain("a\xFF"
                                      "b",
                                      3, 10);

    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "a\xEF\xBF\xBD"
                          "b");
    free(got);
    got = render_markdown_plain(NULL, 0, 10);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, "");
    free(got);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("markdown_plain");
    TCase *tc = tcase_create("core");
    SRunner *runner;
    int failed;

    tcase_add_test(tc, markup_is_dropped);
    tcase_add_test(tc, masked_secrets_stay_visible);
    tcase_add_test(tc, cut_at_whole_characters);
    tcase_add_test(tc, invalid_utf8_is_replaced);
    suite_add_tcase(suite, tc);
    runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
