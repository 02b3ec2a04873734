/* Form bodies: values decoded, malformed input refused, and the field limit sane and stated
 * (a draft page sends one acknowledgement per flag). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "unit.h"

START_TEST(test_decodes_and_repeats)
{
    const char body[] = "csrf=ab&ack=0&ack=1&reason=a+b%21&empty=";
    struct form form;
    ck_assert(form_parse(body, strlen(body), &form));
    ck_assert_str_eq(form_get(&form, "reason"), "a b!");
    ck_assert(form_has_value(&form, "ack", "1"));
    ck_assert(!form_has_value(&form, "ack", "2"));
    ck_assert_str_eq(form_get(&form, "empty"), "");
    form_free(&form);
}
END_TEST

/* A form with `count` ack fields and a csrf field. */
static char *acks(size_t count)
{
    char *body = malloc(count * 12 + 16);
    size_t used = (size_t)sprintf(body, "csrf=x");
    for (size_t i = 0; i < count; i++)
        used += (size_t)sprintf(body + used, "&ack=%zu", i);
    return body;
}

START_TEST(test_hundreds_of_flags_are_read)
{
    char *body = acks(500);
    struct form form;
    ck_assert(form_parse(body, strlen(body), &form));
    ck_assert_uint_eq(form.count, 501);
    ck_assert(form_has_value(&form, "ack", "499"));
    ck_assert(!form.too_many);
    form_free(&form);
    free(body);
}
END_TEST

START_TEST(test_beyond_the_limit_is_refused_and_said)
{
    char *body = acks(FORM_FIELDS_MAX);
    struct form form;
    ck_assert(!form_parse(body, strlen(body), &form));
    ck_assert(form.too_many);
    form_free(&form);
    free(body);
}
END_TEST

START_TEST(test_malformed_is_refused)
{
    static const char *const bodies[] = {"a=%zz", "a=%4", "a=%00", "a=%ff%fe"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct form form;
        ck_assert_msg(!form_parse(bodies[i], strlen(bodies[i]), &form), "%s", bodies[i]);
        ck_assert(!form.too_many);
        form_free(&form);
    }
}
END_TEST

START_TEST(test_query_string_encodes_values_and_skips_empty_ones)
{
    const char *const pairs[][2] = {{"actor", "user:7 Zoë"},
                                    {"action", ""},
                                    {"q", NULL},
                                    {"draft", "a&b=c/d"},
                                    {"after", "1~2.x"}};
    const char *const none[][2] = {{"actor", ""}, {"q", NULL}};
    char *text = form_query_string(pairs, sizeof pairs / sizeof pairs[0]);

    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "actor=user%3A7%20Zo%C3%AB&draft=a%26b%3Dc%2Fd&after=1~2.x");
    free(text);
    text = form_query_string(none, 2);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("form", "form", &tc);
    tcase_add_test(tc, test_decodes_and_repeats);
    tcase_add_test(tc, test_hundreds_of_flags_are_read);
    tcase_add_test(tc, test_beyond_the_limit_is_refused_and_said);
    tcase_add_test(tc, test_malformed_is_refused);
    tcase_add_test(tc, test_query_string_encodes_values_and_skips_empty_ones);
    return unit_run(suite);
}
