/* Secrets on pages: masks keep the key name, placeholders are numbered by value and stable
 * across revisions, an edit that leaves a placeholder keeps the secret, one that changes it is
 * an explicit change, Redact replaces only the value; and people read times. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "review/draft_secrets.h"
#include "web/page.h"
#include "unit.h"

#define M DRAFT_SECRET_MASK

static char *mask(struct draft_secrets *secrets, const char *text)
{
    char *out = draft_secrets_mask_scanned(secrets, "body", text);
    ck_assert_ptr_nonnull(out);
    return out;
}

START_TEST(test_key_name_stays_visible)
{
    struct draft_secrets secrets = {0};
    char *out = mask(&secrets, "aws_secret_access_key = q7VtZp2LxR9mW4kN8sB3dF6hJ1yC5gT0aE2uI9oP");
    ck_assert_str_eq(out, "aws_secret_access_key = " M "\xE2\x9F\xA8"
                          "1\xE2\x9F\xA9");
    free(out);
    out = mask(&secrets, "Use AKIAIOSFODNN7ABCDEFG and https://bob:s3cretpass@db.internal/x");
    ck_assert_ptr_null(strstr(out, "IOSFODNN7ABCDEFG"));
    ck_assert_ptr_null(strstr(out, "s3cretpass"));
    ck_assert_ptr_nonnull(strstr(out, "AKIA" M));
    ck_assert_ptr_nonnull(strstr(out, "bob:" M));
    free(out);
    draft_secrets_free(&secrets);
}
END_TEST

START_TEST(test_numbers_follow_values)
{
    struct draft_secrets secrets = {0};
    char *first = mask(
        &secrets, "password: \"hunter2hunter\"\ntoken = ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    char *second = mask(
        &secrets, "token = ghp_abcdefghijklmnopqrstuvwxyz0123456789\npassword: \"otherpass99\"");
    ck_assert_ptr_nonnull(strstr(first, "\xE2\x9F\xA8"
                                        "1\xE2\x9F\xA9"));
    ck_assert_ptr_nonnull(strstr(first, "\xE2\x9F\xA8"
                                        "2\xE2\x9F\xA9"));
    /* the same token keeps number 2 in the next revision; the new password gets 3 */
    ck_assert_ptr_nonnull(strstr(second, "token = ghp_" M "\xE2\x9F\xA8"
                                         "2\xE2\x9F\xA9"));
    ck_assert_ptr_nonnull(strstr(second, "\xE2\x9F\xA8"
                                         "3\xE2\x9F\xA9"));
    free(first);
    free(second);
    draft_secrets_free(&secrets);
}
END_TEST

START_TEST(test_untouched_placeholder_keeps_the_secret)
{
    struct draft_secrets secrets = {0};
    const char *original =
        "Set\naws_secret_access_key = q7VtZp2LxR9mW4kN8sB3dF6hJ1yC5gT0aE2uI9oP\nthen restart";
    char *masked = mask(&secrets, original);
    char *edited = malloc(strlen(masked) + 32);
    char *saved;

    /* the editor changes other words and leaves the placeholder as shown */
    strcpy(edited, masked);
    memcpy(edited, "Put", 3);
    saved = draft_secrets_unmask(&secrets, edited);
    ck_assert_ptr_nonnull(strstr(saved, "q7VtZp2LxR9mW4kN8sB3dF6hJ1yC5gT0aE2uI9oP"));
    ck_assert_ptr_nonnull(strstr(saved, "Put\n"));
    ck_assert_ptr_null(strstr(saved, M));
    free(saved);
    /* a changed placeholder is the editor's text: an unknown number stays as typed */
    saved = draft_secrets_unmask(&secrets, "key = " M "\xE2\x9F\xA8"
                                           "9\xE2\x9F\xA9");
    ck_assert_ptr_null(strstr(saved, "q7VtZ"));
    ck_assert_ptr_nonnull(strstr(saved, M));
    free(saved);
    /* deleting the placeholder removes the secret */
    saved = draft_secrets_unmask(&secrets, "aws_secret_access_key = NEWVALUE");
    ck_assert_str_eq(saved, "aws_secret_access_key = NEWVALUE");
    free(saved);
    free(masked);
    free(edited);
    draft_secrets_free(&secrets);
}
END_TEST

START_TEST(test_redact_replaces_the_value_only)
{
    const char *text = "export DB_PASSWORD=sup3rs3cret! now";
    json_t *spans = draft_secrets_spans("body", text, NULL);
    size_t start, end;
    char *out;

    ck_assert_uint_eq(json_array_size(spans), 1);
    start = (size_t)json_integer_value(json_array_get(json_array_get(spans, 0), 0));
    end = (size_t)json_integer_value(json_array_get(json_array_get(spans, 0), 1));
    out = draft_secret_redact(text, start, end);
    ck_assert_str_eq(out, "export DB_PASSWORD=[REDACTED] now");
    free(out);
    ck_assert_ptr_null(draft_secret_redact(text, 0, strlen(text) + 1));
    json_decref(spans);
}
END_TEST

START_TEST(test_spans_cut_by_a_shortened_text_are_masked_to_the_cut)
{
    struct draft_secrets secrets = {0};
    json_t *flags = json_pack("[{s:s, s:s, s:i, s:i}]", "code", "secret.aws_access_key", "field",
                              "body", "start", 4, "end", 24);
    json_t *spans = draft_secrets_spans("body", "Use AKIAIOSFODN", flags);
    char *out = draft_secrets_mask(&secrets, "Use AKIAIOSFODN", spans, NULL);
    ck_assert_ptr_null(strstr(out, "IOSFODN"));
    free(out);
    json_decref(spans);
    json_decref(flags);
    draft_secrets_free(&secrets);
}
END_TEST

START_TEST(test_times_read_as_people_read_them)
{
    time_t now = 1796127480; /* 2026-12-01T12:18:00Z */
    json_t *t = page_time("2026-12-01T12:15:00Z", now);
    ck_assert_str_eq(json_string_value(json_object_get(t, "relative")), "3 min ago");
    ck_assert_str_eq(json_string_value(json_object_get(t, "absolute")), "1 Dec 2026 12:15 UTC");
    json_decref(t);
    t = page_time("2026-12-01T12:17:50Z", now);
    ck_assert_str_eq(json_string_value(json_object_get(t, "relative")), "just now");
    json_decref(t);
    t = page_time("2026-12-04T12:18:00Z", now);
    ck_assert_str_eq(json_string_value(json_object_get(t, "relative")), "in 3 days");
    json_decref(t);
    t = page_time("2026-11-30T10:18:00Z", now);
    ck_assert_str_eq(json_string_value(json_object_get(t, "relative")), "1 day ago");
    json_decref(t);
    ck_assert(json_is_null(page_time("yesterday", now)));
    ck_assert(json_is_null(page_time(NULL, now)));
}
END_TEST

START_TEST(test_back_paths_are_local_only)
{
    ck_assert(page_local_path_valid("/history?state=pending&forum=eng"));
    ck_assert(!page_local_path_valid("//evil.example/x"));
    ck_assert(!page_local_path_valid("/\\evil.example"));
    ck_assert(!page_local_path_valid("https://evil.example"));
    ck_assert(!page_local_path_valid("javascript:alert(1)"));
    ck_assert(!page_local_path_valid("/a b"));
    ck_assert(!page_local_path_valid(NULL));
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("draft_secrets", "secrets", &tc);
    tcase_add_test(tc, test_key_name_stays_visible);
    tcase_add_test(tc, test_numbers_follow_values);
    tcase_add_test(tc, test_untouched_placeholder_keeps_the_secret);
    tcase_add_test(tc, test_redact_replaces_the_value_only);
    tcase_add_test(tc, test_spans_cut_by_a_shortened_text_are_masked_to_the_cut);
    tcase_add_test(tc, test_times_read_as_people_read_them);
    tcase_add_test(tc, test_back_paths_are_local_only);
    return unit_run(suite);
}
