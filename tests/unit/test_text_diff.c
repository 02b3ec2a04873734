/* Line diff between revisions: LCS ordering, edge cases of line endings and empty inputs, the
 * large-input fallback, and the add/del counter. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_diff.h"
#include "unit.h"

#define MAX_ENTRIES 12

struct diff_case {
    const char *name;
    const char *before;
    const char *after;
    /* Expected entries as "op:text", terminated by NULL. */
    const char *expected[MAX_ENTRIES];
    size_t added, deleted;
};

static const struct diff_case diff_cases[] = {
    {"identical", "a\nb\nc\n", "a\nb\nc\n", {"same:a", "same:b", "same:c"}, 0, 0},
    {"middle line changed", "a\nb\nc\n", "a\nX\nc\n", {"same:a", "del:b", "add:X", "same:c"}, 1, 1},
    {"insert at start", "b\nc\n", "a\nb\nc\n", {"add:a", "same:b", "same:c"}, 1, 0},
    {"insert at end", "a\nb\n", "a\nb\nc\n", {"same:a", "same:b", "add:c"}, 1, 0},
    {"delete middle", "a\nb\nc\n", "a\nc\n", {"same:a", "del:b", "same:c"}, 0, 1},
    {"empty to text", "", "a\nb", {"add:a", "add:b"}, 2, 0},
    {"text to empty", "a\nb\n", "", {"del:a", "del:b"}, 0, 2},
    {"both empty", "", "", {NULL}, 0, 0},
    {"null before", NULL, "a\n", {"add:a"}, 1, 0},
    {"null after", "a\n", NULL, {"del:a"}, 0, 1},
    {"both null", NULL, NULL, {NULL}, 0, 0},
    {"crlf equals lf", "a\r\nb\r\n", "a\nb\n", {"same:a", "same:b"}, 0, 0},
    {"crlf change",
     "a\r\nb\r\nc\r\n",
     "a\r\nB\r\nc\r\n",
     {"same:a", "del:b", "add:B", "same:c"},
     1,
     1},
    {"missing final newline", "a\nb", "a\nb\n", {"same:a", "same:b"}, 0, 0},
    {"final line edited without newline", "a\nb", "a\nc", {"same:a", "del:b", "add:c"}, 1, 1},
    {"empty lines kept", "\n\na\n", "\na\n", {"same:", "del:", "same:a"}, 0, 1},
    {"lone cr stays in line", "a\rb\n", "a\rb\n", {"same:a\rb"}, 0, 0},
    {"lcs across moves",
     "a\nb\nc\nd\ne\n",
     "b\nc\nX\nd\ne\nf\n",
     {"del:a", "same:b", "same:c", "add:X", "same:d", "same:e", "add:f"},
     2,
     1},
    {"replace block",
     "k\n1\n2\n3\nk\n",
     "k\n4\n5\nk\n",
     {"same:k", "del:1", "del:2", "del:3", "add:4", "add:5", "same:k"},
     2,
     3},
    {"utf8 text", "caf\xC3\xA9\n", "caf\xC3\xA9!\n", {"del:caf\xC3\xA9", "add:caf\xC3\xA9!"}, 1, 1},
    {"invalid utf8 repaired", "a\xFF\n", "", {"del:a\xEF\xBF\xBD"}, 0, 1},
};

/* Checks that `diff` matches `expected` ("op:text" strings, NULL-terminated). */
static void assert_diff(const char *name, const json_t *diff, const char *const *expected)
{
    size_t count = 0;
    while (count < MAX_ENTRIES && expected[count] != NULL)
        count++;
    ck_assert_msg(json_is_array(diff), "%s: not an array", name);
    ck_assert_msg(json_array_size(diff) == count, "%s: %zu entries, expected %zu", name,
                  json_array_size(diff), count);
    for (size_t i = 0; i < count; i++) {
        const json_t *entry = json_array_get(diff, i);
        const char *op = json_string_value(json_object_get(entry, "op"));
        const char *text = json_string_value(json_object_get(entry, "text"));
        ck_assert_ptr_nonnull(op);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(json_object_size(entry), 2);
        char got[256];
        snprintf(got, sizeof got, "%s:%s", op, text);
        ck_assert_msg(strcmp(got, expected[i]) == 0, "%s: entry %zu is '%s', expected '%s'", name,
                      i, got, expected[i]);
    }
}

START_TEST(test_diff_table)
{
    const struct diff_case *c = &diff_cases[_i];
    json_t *diff = text_diff_lines(c->before, c->after);
    ck_assert_msg(diff != NULL, "%s: NULL", c->name);
    assert_diff(c->name, diff, c->expected);

    size_t added = 99, deleted = 99;
    text_diff_count(diff, &added, &deleted);
    ck_assert_msg(added == c->added && deleted == c->deleted, "%s: +%zu -%zu", c->name, added,
                  deleted);
    json_decref(diff);
}
END_TEST

START_TEST(test_count_tolerates_odd_input)
{
    size_t added = 7, deleted = 7;
    text_diff_count(NULL, &added, &deleted);
    ck_assert_uint_eq(added, 0);
    ck_assert_uint_eq(deleted, 0);

    json_t *odd = json_pack("[{s:s}, {s:i}, i, {s:s}, {s:s}]", "op", "add", "op", 3, 4, "op", "del",
                            "op", "same");
    ck_assert_ptr_nonnull(odd);
    text_diff_count(odd, &added, &deleted);
    ck_assert_uint_eq(added, 1);
    ck_assert_uint_eq(deleted, 1);
    text_diff_count(odd, NULL, &deleted);
    text_diff_count(odd, &added, NULL);
    json_decref(odd);

    json_t *object = json_object();
    text_diff_count(object, &added, &deleted);
    ck_assert_uint_eq(added, 0);
    ck_assert_uint_eq(deleted, 0);
    json_decref(object);
}
END_TEST

/* Builds "prefix0\nprefix1\n..." with `count` lines. Caller frees. */
static char *numbered_lines(const char *prefix, size_t count)
{
    size_t size = count * (strlen(prefix) + 24) + 1;
    char *text = malloc(size);
    ck_assert_ptr_nonnull(text);
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%zu\n", prefix, i);
    return text;
}

/* A malloc'd copy of `text`. Caller frees. */
static char *copy_text(const char *text)
{
    size_t size = strlen(text) + 1;
    char *copy = malloc(size);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, size);
    return copy;
}

START_TEST(test_large_edit_in_long_text_uses_lcs)
{
    /* 20000 lines with one changed: trimming keeps this cheap and exact. */
    char *before = numbered_lines("line ", 20000);
    char *after = copy_text(before);
    ck_assert_ptr_nonnull(after);
    char *hit = strstr(after, "\nline 10000\n");
    ck_assert_ptr_nonnull(hit);
    memcpy(hit + 1, "LINE", 4);

    json_t *diff = text_diff_lines(before, after);
    ck_assert_ptr_nonnull(diff);
    ck_assert_uint_eq(json_array_size(diff), 20001);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(diff, 10000), "op")), "del");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(diff, 10001), "text")),
                     "LINE 10000");
    size_t added, deleted;
    text_diff_count(diff, &added, &deleted);
    ck_assert_uint_eq(added, 1);
    ck_assert_uint_eq(deleted, 1);
    json_decref(diff);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_huge_rewrite_falls_back)
{
    char *before = numbered_lines("old ", TEXT_DIFF_MAX_LINES + 10);
    char *after = numbered_lines("new ", TEXT_DIFF_MAX_LINES + 10);
    json_t *diff = text_diff_lines(before, after);
    ck_assert_ptr_nonnull(diff);
    size_t added, deleted;
    text_diff_count(diff, &added, &deleted);
    ck_assert_uint_eq(added, TEXT_DIFF_MAX_LINES + 10);
    ck_assert_uint_eq(deleted, TEXT_DIFF_MAX_LINES + 10);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(diff, 0), "op")), "del");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_array_get(diff, TEXT_DIFF_MAX_LINES + 10), "op")),
        "add");
    json_decref(diff);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_full_table_at_limit)
{
    /* Interleaved edits over TEXT_DIFF_MAX_LINES lines: the whole table is used. */
    char *before = numbered_lines("x", TEXT_DIFF_MAX_LINES);
    char *after = copy_text(before);
    ck_assert_ptr_nonnull(after);
    after[0] = 'y';                 /* first line "x0" -> "y0" */
    after[strlen(after) - 2] = 'Z'; /* last digit of the last line */
    json_t *diff = text_diff_lines(before, after);
    ck_assert_ptr_nonnull(diff);
    size_t added, deleted;
    text_diff_count(diff, &added, &deleted);
    ck_assert_uint_eq(added, 2);
    ck_assert_uint_eq(deleted, 2);
    ck_assert_uint_eq(json_array_size(diff), TEXT_DIFF_MAX_LINES + 2);
    json_decref(diff);
    free(before);
    free(after);
}
END_TEST

/* A word diff written as a string: same text as is, [-deleted-] and {+added+}. */
static char *word_diff_text(const char *before, const char *after)
{
    json_t *diff = text_diff_words(before, after), *part;
    size_t index, used = 0;
    char *out = calloc(1, 4096);

    ck_assert_ptr_nonnull(diff);
    json_array_foreach(diff, index, part)
    {
        const char *op = json_string_value(json_object_get(part, "op"));
        const char *text = json_string_value(json_object_get(part, "text"));
        used += (size_t)snprintf(out + used, 4096 - used,
                                 strcmp(op, "add") == 0   ? "{+%s+}"
                                 : strcmp(op, "del") == 0 ? "[-%s-]"
                                                          : "%s",
                                 text);
    }
    json_decref(diff);
    return out;
}

struct word_case {
    const char *name, *before, *after, *expected;
};

static const struct word_case word_cases[] = {
    {"one word changed", "Restart the ingest worker now", "Restart the export worker now",
     "Restart the [-ingest-]{+export+} worker now"},
    {"word added", "a b", "a new b", "a {+new +}b"},
    {"punctuation apart", "stop.", "stop!", "stop[-.-]{+!+}"},
    {"non-ASCII word kept whole", "caf\xc3\xa9 ok", "caf\xc3\xa8 ok",
     "[-caf\xc3\xa9-]{+caf\xc3\xa8+} ok"},
    {"from empty", "", "new", "{+new+}"},
    {"to empty", "old", "", "[-old-]"},
    {"equal", "same text", "same text", "same text"},
};

START_TEST(test_word_diff_table)
{
    const struct word_case *c = &word_cases[_i];
    char *text = word_diff_text(c->before, c->after);
    ck_assert_msg(strcmp(text, c->expected) == 0, "%s: %s", c->name, text);
    free(text);
}
END_TEST

static Suite *text_diff_suite(void)
{
    Suite *s = suite_create("text_diff");
    TCase *tc = tcase_create("diff");
    tcase_add_loop_test(tc, test_diff_table, 0, (int)(sizeof diff_cases / sizeof diff_cases[0]));
    tcase_add_test(tc, test_count_tolerates_odd_input);
    tcase_add_loop_test(tc, test_word_diff_table, 0,
                        (int)(sizeof word_cases / sizeof word_cases[0]));
    suite_add_tcase(s, tc);

    TCase *large = tcase_create("large");
    tcase_set_timeout(large, 30);
    tcase_add_test(large, test_large_edit_in_long_text_uses_lcs);
    tcase_add_test(large, test_huge_rewrite_falls_back);
    tcase_add_test(large, test_full_table_at_limit);
    suite_add_tcase(s, large);
    return s;
}

int main(void)
{
    return unit_run(text_diff_suite());
}
