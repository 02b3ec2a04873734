/* Outcome words from SQL become enums through one table per kind: a known word gives its value,
 * and an unknown word (or none) fails the call with one log line naming the function and the
 * word, leaving the value untouched; it is never read as some other outcome. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/outcome.h"
#include "unit.h"

enum colour { RED, GREEN, BLUE };

static const struct db_outcome_word colour_words[] = {
    {"red", RED},
    {"green", GREEN},
    {"verdant", GREEN},
    {"blue", BLUE},
};

/* Runs db_outcome_read with stderr captured into `log` (NUL-terminated). */
static enum db_status read_logged(const char *word, int *value, char *log, size_t log_size)
{
    FILE *capture = tmpfile();
    int saved = dup(STDERR_FILENO);
    enum db_status status;
    size_t length;

    ck_assert_ptr_nonnull(capture);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
    status =
        db_outcome_read(colour_words, DB_OUTCOME_COUNT(colour_words), "colour_pick", word, value);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    rewind(capture);
    length = fread(log, 1, log_size - 1, capture);
    log[length] = '\0';
    fclose(capture);
    return status;
}

START_TEST(known_words_give_their_values)
{
    const char *words[] = {"red", "green", "verdant", "blue"};
    const int values[] = {RED, GREEN, GREEN, BLUE};
    char log[512];

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        int value = -1;
        ck_assert_int_eq(read_logged(words[i], &value, log, sizeof log), DB_OK);
        ck_assert_int_eq(value, values[i]);
        ck_assert_str_eq(log, "");
    }
}
END_TEST

START_TEST(unknown_word_fails_and_is_logged_once)
{
    const char *words[] = {"purple", "", "Red", "red "};
    char log[512];

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        int value = 42;
        const char *first, *second;
        ck_assert_int_eq(read_logged(words[i], &value, log, sizeof log), DB_FAILED);
        ck_assert_int_eq(value, 42);
        first = strstr(log, "colour_pick: unknown outcome");
        ck_assert_msg(first != NULL, "log names the function: %s", log);
        second = strstr(first + strlen("colour_pick: unknown outcome"), "unknown outcome");
        ck_assert_msg(second == NULL, "logged once: %s", log);
        ck_assert_int_eq(strchr(log, '\n') - log + 1, (long)strlen(log));
    }
}
END_TEST

START_TEST(missing_word_fails)
{
    char log[512];
    int value = 7;

    ck_assert_int_eq(read_logged(NULL, &value, log, sizeof log), DB_FAILED);
    ck_assert_int_eq(value, 7);
    ck_assert_ptr_nonnull(strstr(log, "colour_pick: unknown outcome"));
}
END_TEST

int main(void)
{
    TCase *tcase;
    Suite *suite = unit_suite("db_outcome", "core", &tcase);

    tcase_add_test(tcase, known_words_give_their_values);
    tcase_add_test(tcase, unknown_word_fails_and_is_logged_once);
    tcase_add_test(tcase, missing_word_fails);
    return unit_run(suite);
}
