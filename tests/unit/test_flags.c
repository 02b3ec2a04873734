/* test_flags.c — unit tests of the flag engine (lib/flags*, CONTRACT §8).
 *
 * What a reviewer would notice: every built-in rule's own examples hold (with Hyperscan and
 * with PCRE2 alone, which must agree on every input); flags have the contract's shape and
 * exact byte spans; context changes severity the way §8 says (advice against, placeholders,
 * build output vs shared paths, bulk personal data, mentions in code); forum rule files add
 * rules and allow-list entries, and every mistake in one is an error naming file and line;
 * any bytes can be scanned. Texts are copied into heap buffers of exactly their length
 * without a NUL, so AddressSanitizer catches any read past the end.
 */
#include "flags.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#ifndef AGENTGATE_SOURCE_DIR
#define AGENTGATE_SOURCE_DIR ".."
#endif

/* ------------------------------------------------------------------------ helpers ---- */

static const struct flags_ruleset *builtin(void)
{
    char error[512];
    const struct flags_ruleset *rs = flags_builtin(error, sizeof error);
    ck_assert_msg(rs != NULL, "%s", error);
    return rs;
}

/* The built-in rules again, compiled for PCRE2 alone (the engine without Hyperscan). */
static struct flags_ruleset *builtin_pcre2(void)
{
    char error[512];
    struct flags_ruleset *rs = NULL;
    setenv("AGENTGATE_FLAGS_ENGINE", "pcre2", 1);
    int rc = flags_ruleset_parse("none.rules", "", 0, 1, &rs, error, sizeof error);
    unsetenv("AGENTGATE_FLAGS_ENGINE");
    ck_assert_msg(rc == 0, "%s", error);
    ck_assert_str_eq(flags_ruleset_engine(rs), "pcre2");
    return rs;
}

/* A rule set of `text` alone (no built-in rules). */
static struct flags_ruleset *rules_of(const char *text)
{
    char error[1024];
    struct flags_ruleset *rs = NULL;
    int rc = flags_ruleset_parse("test.rules", text, strlen(text), 0, &rs, error, sizeof error);
    ck_assert_msg(rc == 0, "%s", error);
    return rs;
}

/* Scans `text` (copied without NUL) with `rs` as field "body". */
static json_t *scan_with(const struct flags_ruleset *rs, const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, n);
    json_t *flags = json_array();
    ck_assert_int_eq(flags_scan_with(rs, "body", copy, n, flags), 0);
    free(copy);
    return flags;
}

static json_t *scan(const char *text)
{
    return scan_with(builtin(), text);
}

static const char *str_at(json_t *flags, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(flags, i), key));
}

static size_t int_at(json_t *flags, size_t i, const char *key)
{
    return (size_t)json_integer_value(json_object_get(json_array_get(flags, i), key));
}

/* The severity of the first flag of `code`, or "none". */
static const char *severity_of(json_t *flags, const char *code)
{
    for (size_t i = 0; i < json_array_size(flags); i++)
        if (strcmp(str_at(flags, i, "code"), code) == 0)
            return str_at(flags, i, "severity");
    return "none";
}

static void assert_severity(const char *text, const char *code, const char *severity)
{
    json_t *flags = scan(text);
    char *dump = json_dumps(flags, JSON_COMPACT);
    ck_assert_msg(strcmp(severity_of(flags, code), severity) == 0, "%s in \"%s\": want %s, got %s",
                  code, text, severity, dump);
    free(dump);
    json_decref(flags);
}

/* Asserts that loading `text` fails with an error containing `expected`. */
static void assert_load_error(const char *text, int with_builtin, const char *expected)
{
    char error[1024] = "";
    struct flags_ruleset *rs = (struct flags_ruleset *)1;
    int rc = flags_ruleset_parse("forum.rules", text, strlen(text), with_builtin, &rs, error,
                                 sizeof error);
    ck_assert_msg(rc == -1, "loaded although it should fail with \"%s\":\n%s", expected, text);
    ck_assert_ptr_null(rs);
    ck_assert_msg(strstr(error, expected) != NULL, "error \"%s\" lacks \"%s\"", error, expected);
}

/* ------------------------------------------------------------------- rule catalogue ---- */

START_TEST(test_every_builtin_rule_example_holds)
{
    char error[16384];
    int failures = flags_ruleset_check_examples(builtin(), error, sizeof error);
    ck_assert_msg(failures == 0, "%d failing examples:\n%s", failures, error);
}
END_TEST

START_TEST(test_every_builtin_rule_example_holds_with_pcre2_alone)
{
    char error[16384];
    struct flags_ruleset *rs = builtin_pcre2();
    int failures = flags_ruleset_check_examples(rs, error, sizeof error);
    flags_ruleset_free(rs);
    ck_assert_msg(failures == 0, "%d failing examples:\n%s", failures, error);
}
END_TEST

START_TEST(test_catalogue_covers_every_family)
{
    const char *families[] = {"secret", "access", "destructive", "pii", "mention"};
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(flags_ruleset_rule_count(builtin(), families[i]) >= 3, "%s has few rules",
                      families[i]);
    ck_assert_uint_eq(flags_ruleset_rule_count(builtin(), "nosuch"), 0);
}
END_TEST

START_TEST(test_builtin_uses_hyperscan_when_built_with_it)
{
#ifdef AGENTGATE_HAVE_HYPERSCAN
    ck_assert_str_eq(flags_ruleset_engine(builtin()), "hyperscan");
#else
    ck_assert_str_eq(flags_ruleset_engine(builtin()), "pcre2");
#endif
}
END_TEST

struct seen_expressions {
    size_t count;
    char codes[4][64], families[4][16], expressions[4][256];
};

static void record_expression(void *context, const char *code, const char *family,
                              const char *expression, unsigned hyperscan_flags)
{
    struct seen_expressions *seen = context;
    (void)hyperscan_flags;
    if (seen->count < 4) {
        snprintf(seen->codes[seen->count], sizeof seen->codes[0], "%s", code);
        snprintf(seen->families[seen->count], sizeof seen->families[0], "%s", family);
        snprintf(seen->expressions[seen->count], sizeof seen->expressions[0], "%s", expression);
    }
    seen->count++;
}

/* The per-rule cost benchmark (tests/flags/flagcost.c) compiles what this hands out: every
 * pattern, in order, under its rule, as Hyperscan runs it (a wide gap opened), and nothing
 * when the set scans with PCRE2 alone. */
START_TEST(test_each_expression_is_every_pattern_as_hyperscan_runs_it)
{
    struct flags_ruleset *rs =
        rules_of("[secret.two]\nseverity = warning\nmessage = Two.\n"
                 "pattern = alpha-\\d{4}\npattern = beta[^\\n]{0,300}gamma\n"
                 "match = alpha-1234\nmatch = beta, then gamma\n\n"
                 "[mention.one]\nseverity = warning\nmessage = One.\npattern = @crew\\b\n"
                 "match = hi @crew\n");
    struct seen_expressions seen = {0};
    struct flags_ruleset *pcre2_only = builtin_pcre2();
    struct seen_expressions none = {0};
#ifdef AGENTGATE_HAVE_HYPERSCAN
    ck_assert_int_eq(flags_ruleset_each_expression(rs, record_expression, &seen), 0);
    ck_assert_uint_eq(seen.count, 3);
    ck_assert_str_eq(seen.codes[0], "secret.two");
    ck_assert_str_eq(seen.codes[1], "secret.two");
    ck_assert_str_eq(seen.codes[2], "mention.one");
    ck_assert_str_eq(seen.families[1], "secret");
    ck_assert_str_eq(seen.families[2], "mention");
    ck_assert_str_eq(seen.expressions[0], "alpha-\\d{4}");
    ck_assert_str_eq(seen.expressions[1], "beta[^\\n]*gamma");
    ck_assert_str_eq(seen.expressions[2], "@crew\\b");
#else
    ck_assert_int_eq(flags_ruleset_each_expression(rs, record_expression, &seen), 1);
#endif
    ck_assert_int_eq(flags_ruleset_each_expression(pcre2_only, record_expression, &none), 1);
    ck_assert_uint_eq(none.count, 0);
    flags_ruleset_free(pcre2_only);
    flags_ruleset_free(rs);
}
END_TEST

/* ------------------------------------------------------------------------- shape ---- */

START_TEST(test_flag_has_contract_shape_and_exact_span)
{
    const char *text = "Reset it: `DROP TABLE orders;` then reload.";
    json_t *flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    json_t *flag = json_array_get(flags, 0);
    ck_assert_uint_eq(json_object_size(flag), 6);
    ck_assert_str_eq(str_at(flags, 0, "code"), "destructive.drop_database");
    ck_assert_str_eq(str_at(flags, 0, "severity"), "critical");
    ck_assert_str_eq(str_at(flags, 0, "field"), "body");
    ck_assert_msg(strlen(str_at(flags, 0, "message")) > 10, "message too short");
    size_t start = int_at(flags, 0, "start"), end = int_at(flags, 0, "end");
    ck_assert_uint_eq(start, (size_t)(strstr(text, "DROP") - text));
    ck_assert_uint_eq(end - start, strlen("DROP TABLE orders"));
    json_decref(flags);
}
END_TEST

START_TEST(test_secret_flag_spans_its_setting)
{
    /* the page keeps the key name and masks the value (server/review/draft_secrets.c) */
    const char *text = "aws_secret_access_key = 2opwtAWiORZrHEV6IkJFjvVoUUDXI0iZSv4xO6cq\n";
    json_t *flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "secret.cloud_key");
    ck_assert_uint_eq(int_at(flags, 0, "start"), 0);
    ck_assert_uint_eq(int_at(flags, 0, "end"), strlen(text) - 1);
    json_decref(flags);
}
END_TEST

START_TEST(test_flags_come_in_start_order_across_rules)
{
    const char *text = "mail maria.lopez@gmail.com, then `git push -f origin main` and "
                       "AKIAKPHOJUGSDR32ASMR";
    json_t *flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 3);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.email");
    ck_assert_str_eq(str_at(flags, 1, "code"), "destructive.force_push_shared");
    ck_assert_str_eq(str_at(flags, 2, "code"), "secret.aws_access_key");
    for (size_t i = 1; i < 3; i++)
        ck_assert_uint_lt(int_at(flags, i - 1, "start"), int_at(flags, i, "start"));
    json_decref(flags);
}
END_TEST

START_TEST(test_utf8_before_match_gives_byte_offsets)
{
    const char *text = "Grüße — läuft: DROP DATABASE shop;";
    json_t *flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_uint_eq(int_at(flags, 0, "start"), (size_t)(strstr(text, "DROP") - text));
    json_decref(flags);
}
END_TEST

START_TEST(test_command_in_inline_code_ends_with_the_code_span)
{
    const char *text = "Then run `rm -rf /srv/cache` and mail ops@corp-mail.net.";
    json_t *flags = scan(text);
    ck_assert_uint_ge(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "destructive.recursive_delete");
    ck_assert_uint_eq(int_at(flags, 0, "start"), (size_t)(strstr(text, "rm -rf") - text));
    ck_assert_uint_eq(int_at(flags, 0, "end"), (size_t)(strstr(text, "` and") - text));
    /* an instruction to delete a service's directory, not build output */
    ck_assert_str_eq(str_at(flags, 0, "severity"), "critical");
    json_decref(flags);
}
END_TEST

START_TEST(test_field_name_is_copied_and_flags_are_appended)
{
    json_t *flags = json_array();
    json_array_append_new(flags, json_string("earlier"));
    ck_assert_int_eq(flags_scan("title", "DROP TABLE t;", 13, flags), 0);
    ck_assert_uint_eq(json_array_size(flags), 2);
    ck_assert_str_eq(json_string_value(json_array_get(flags, 0)), "earlier");
    ck_assert_str_eq(str_at(flags, 1, "field"), "title");
    json_decref(flags);
}
END_TEST

START_TEST(test_empty_and_null_text_give_no_flags)
{
    json_t *flags = json_array();
    ck_assert_int_eq(flags_scan("body", NULL, 0, flags), 0);
    ck_assert_int_eq(flags_scan("body", "", 0, flags), 0);
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
}
END_TEST

START_TEST(test_invalid_arguments_are_refused)
{
    json_t *flags = json_array(), *object = json_object();
    ck_assert_int_eq(flags_scan(NULL, "x", 1, flags), -1);
    ck_assert_int_eq(flags_scan("body", NULL, 3, flags), -1);
    ck_assert_int_eq(flags_scan("body", "x", 1, object), -1);
    ck_assert_int_eq(flags_scan("body", "x", 1, NULL), -1);
    ck_assert_uint_eq(json_array_size(flags), 0);
    /* a NULL rule set is the built-in one */
    ck_assert_int_eq(flags_scan_with(NULL, "body", "DROP TABLE t;", 13, flags), 0);
    ck_assert_uint_eq(json_array_size(flags), 1);
    json_decref(flags);
    json_decref(object);
}
END_TEST

/* A JSON allocator that fails once `allocations_left` reaches 0. */
static int allocations_left = -1;

static void *failing_malloc(size_t size)
{
    if (allocations_left == 0)
        return NULL;
    if (allocations_left > 0)
        allocations_left--;
    return malloc(size);
}

START_TEST(test_out_of_memory_returns_error_and_leaves_flags_unchanged)
{
    const char *text = "rm -rf /srv/data; DROP TABLE t; mail a.b@gmail.com";
    bool succeeded = false;
    (void)builtin(); /* compiled before the allocator fails */
    for (int budget = 0; budget < 1000 && !succeeded; budget++) {
        json_t *flags = json_array();
        json_array_append_new(flags, json_string("earlier"));
        allocations_left = budget;
        json_set_alloc_funcs(failing_malloc, free);
        int rc = flags_scan("body", text, strlen(text), flags);
        json_set_alloc_funcs(malloc, free);
        allocations_left = -1;
        if (rc == 0) {
            ck_assert_uint_eq(json_array_size(flags), 4);
            succeeded = true;
        } else {
            ck_assert_int_eq(rc, -1);
            ck_assert_uint_eq(json_array_size(flags), 1);
        }
        json_decref(flags);
    }
    ck_assert(succeeded);
}
END_TEST

/* --------------------------------------------------------- engines and any bytes ---- */

/* Deterministic pseudo-random bytes (xorshift), so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void assert_engines_agree(const struct flags_ruleset *a, const struct flags_ruleset *b,
                                 const char *text, size_t n)
{
    char *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    if (n)
        memcpy(copy, text, n);
    json_t *fa = json_array(), *fb = json_array();
    ck_assert_int_eq(flags_scan_with(a, "body", copy, n, fa), 0);
    ck_assert_int_eq(flags_scan_with(b, "body", copy, n, fb), 0);
    for (size_t i = 0; i < json_array_size(fa); i++) {
        ck_assert_uint_lt(int_at(fa, i, "start"), int_at(fa, i, "end"));
        ck_assert_uint_le(int_at(fa, i, "end"), n);
    }
    if (!json_equal(fa, fb)) {
        char *da = json_dumps(fa, JSON_COMPACT), *db = json_dumps(fb, JSON_COMPACT);
        ck_abort_msg("engines disagree on \"%.*s\":\n%s\n%s", (int)(n > 300 ? 300 : n), text, da,
                     db);
    }
    free(copy);
    json_decref(fa);
    json_decref(fb);
}

/* The whole dev corpus, post by post: Hyperscan with PCRE2 confirmation and PCRE2 alone
 * give identical flags. */
START_TEST(test_engines_agree_on_the_dev_corpus)
{
    const char *files[] = {"secret", "access", "destructive", "pii", "mention", "ordinary"};
    struct flags_ruleset *pcre2 = builtin_pcre2();
    size_t posts = 0;
    for (size_t f = 0; f < 6; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/flags/corpus/dev/%s.jsonl", AGENTGATE_SOURCE_DIR,
                 files[f]);
        FILE *in = fopen(path, "r");
        ck_assert_msg(in != NULL, "cannot open %s", path);
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, in) > 0) {
            json_t *post = json_loads(line, 0, NULL);
            json_t *body = json_object_get(post, "body");
            ck_assert(json_is_string(body));
            assert_engines_agree(builtin(), pcre2, json_string_value(body),
                                 json_string_length(body));
            json_decref(post);
            posts++;
        }
        free(line);
        fclose(in);
    }
    ck_assert_uint_ge(posts, 500);
    flags_ruleset_free(pcre2);
}
END_TEST

/* A database compiled ahead (as tools/flags_precompile does at build time) and registered is
 * loaded by a rule set of the same expressions, and scans exactly like a freshly compiled one;
 * a forum's rule set (the built-in rules, then its own) loads it too and compiles only its own
 * patterns into a second database: it finds what the built-in rules find, and its own. */
START_TEST(test_precompiled_database_is_used_only_for_its_rules)
{
#ifdef AGENTGATE_HAVE_HYPERSCAN
    unsigned char *bytes = NULL;
    size_t length = 0;
    struct flags_ruleset *fresh = NULL, *same = NULL, *other = NULL;
    char error[512];
    const char *extra = "[secret.test_only]\nseverity = warning\nmessage = A test rule.\n"
                        "pattern = zqxjzqxj\nmatch = zqxjzqxj\n";
    const char *samples[] = {"aws_secret_access_key = wJa1rXUtnFEMI/K7MDENG/bPxRfiCYzK8mNq2Lw9",
                             "chmod -R 777 /srv/data && rm -rf /var/lib/postgresql", "@everyone"};

    /* compiled here, with nothing registered, then serialized as the build step does */
    flags_precompiled_register(NULL, 0);
    ck_assert_int_eq(flags_ruleset_parse("empty", "", 0, 1, &fresh, error, sizeof error), 0);
    ck_assert_int_eq(flags_ruleset_serialize(fresh, &bytes, &length), 0);
    ck_assert_uint_gt(length, 32);
    /* the build step wrote these same bytes into the binary (tools/flags_precompile's literal):
     * a byte lost or changed there would only show as a slower start, so check it here */
    ck_assert_uint_eq(flags_precompiled_length, length);
    ck_assert_int_eq(memcmp(flags_precompiled_bytes, bytes, length), 0);
    flags_precompiled_register(bytes, length);
    ck_assert_int_eq(flags_ruleset_parse("empty", "", 0, 1, &same, error, sizeof error), 0);
    ck_assert_str_eq(flags_ruleset_engine(same), "hyperscan");
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        assert_engines_agree(fresh, same, samples[i], strlen(samples[i]));
    ck_assert_int_eq(
        flags_ruleset_parse("extra", extra, strlen(extra), 1, &other, error, sizeof error), 0);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        assert_engines_agree(fresh, other, samples[i], strlen(samples[i]));
    {
        static const char both[] = "chmod -R 777 /srv/data zqxjzqxj";
        json_t *found = json_array(), *expected = json_array();
        ck_assert_int_eq(flags_scan_with(other, "body", "zqxjzqxj", 8, found), 0);
        ck_assert_uint_eq(json_array_size(found), 1);
        json_array_clear(found);
        ck_assert_int_eq(flags_scan_with(other, "body", both, sizeof both - 1, found), 0);
        ck_assert_int_eq(flags_scan_with(fresh, "body", both, sizeof both - 1, expected), 0);
        ck_assert_uint_eq(json_array_size(found), json_array_size(expected) + 1);
        json_decref(found);
        json_decref(expected);
    }
    /* bytes cut short, or of other patterns, are not used: the set compiles its own (cut
     * bytes are tried with a one-rule set, which compiles in milliseconds even under ASan) */
    {
        static const size_t cut[] = {40, 1};
        for (size_t c = 0; c < sizeof cut / sizeof cut[0]; c++) {
            flags_precompiled_register(bytes, cut[c]);
            struct flags_ruleset *small = rules_of(extra);
            json_t *found = json_array();
            ck_assert_int_eq(flags_scan_with(small, "body", "zqxjzqxj", 8, found), 0);
            ck_assert_uint_eq(json_array_size(found), 1);
            json_decref(found);
            flags_ruleset_free(small);
        }
        struct flags_ruleset *own = NULL;
        bytes[0] ^= 1;
        flags_precompiled_register(bytes, length);
        ck_assert_int_eq(flags_ruleset_parse("empty", "", 0, 1, &own, error, sizeof error), 0);
        ck_assert_str_eq(flags_ruleset_engine(own), "hyperscan");
        for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
            assert_engines_agree(fresh, own, samples[i], strlen(samples[i]));
        flags_ruleset_free(own);
    }
    flags_precompiled_register(flags_precompiled_bytes, flags_precompiled_length);
    flags_ruleset_free(fresh);
    flags_ruleset_free(same);
    flags_ruleset_free(other);
    free(bytes);
#endif
}
END_TEST

/* Random bytes, random risky fragments glued together, NULs and stray UTF-8: no crash, spans
 * inside the text, and both engines agree. */
START_TEST(test_any_bytes_scan_safely_and_engines_agree)
{
    static const char *const pieces[] = {"rm -rf ",
                                         "/srv/",
                                         "DROP TABLE ",
                                         "@everyone ",
                                         "AKIA",
                                         "password=",
                                         "\"",
                                         "'",
                                         "```sql\n",
                                         "```\n",
                                         "\n",
                                         "://u:",
                                         "@h.io ",
                                         "0.0.0.0/0",
                                         "chmod 777 ",
                                         "never ",
                                         "\xc3",
                                         "\xff\xfe",
                                         "+49 171 ",
                                         "ghp_",
                                         "eyJ",
                                         "`",
                                         "$",
                                         "\\",
                                         "-----BEGIN PRIVATE KEY-----\n",
                                         "DELETE FROM t;",
                                         "git push -f origin main"};
    struct flags_ruleset *pcre2 = builtin_pcre2();
    char text[4096];
    for (int round = 0; round < 400; round++) {
        size_t n = 0, target = (size_t)(rng() % sizeof text);
        while (n < target) {
            if (rng() % 3 == 0) {
                text[n++] = (char)(rng() & 0xff);
            } else {
                const char *p = pieces[rng() % (sizeof pieces / sizeof *pieces)];
                size_t k = strlen(p);
                if (n + k > target)
                    break;
                memcpy(text + n, p, k);
                n += k;
            }
        }
        assert_engines_agree(builtin(), pcre2, text, n);
    }
    flags_ruleset_free(pcre2);
}
END_TEST

/* -------------------------------------------------------------------- severities ---- */

START_TEST(test_scratch_target_holds_critical_to_warning)
{
    /* a step that names its target as the drill's scratch server */
    assert_severity("**4. Remove the scratch target**\n\n```bash\nopenstack server delete "
                    "drill-vm\n```\n",
                    "destructive.platform_delete", "warning");
    assert_severity("```bash\nopenstack server delete drill-vm\n```\n",
                    "destructive.platform_delete", "critical");
}
END_TEST

START_TEST(test_advice_against_is_not_critical)
{
    assert_severity("Never run `chmod 777` on the web root; use a group.", "access.world_writable",
                    "info");
    assert_severity("Don't do this:\n\n```bash\nsudo rm -rf /srv/data\n```\n",
                    "destructive.recursive_delete", "info");
    assert_severity("Never do it like this:\n\n```bash\nsudo rm -rf /srv/data\n```\n",
                    "destructive.recursive_delete", "info");
    /* "never" before a past form states what happened: the command is done, not advised
     * against */
    assert_severity("The data was never backed up, so:\n\n```bash\nsudo rm -rf /srv/data\n```\n",
                    "destructive.recursive_delete", "critical");
    assert_severity(
        "Never embed it in a script like this:\n\n```bash\nsudo rm -rf /srv/data\n```\n",
        "destructive.recursive_delete", "info");
    assert_severity("It never was copied anywhere:\n\n```bash\nsudo rm -rf /srv/data\n```\n",
                    "destructive.recursive_delete", "critical");
    /* …and so does "never" after "can", "could" or "will" */
    assert_severity("So that the old dumps can never be read again:\n\n```bash\nsudo rm -rf "
                    "/srv/data\n```\n",
                    "destructive.recursive_delete", "critical");
    assert_severity("You may never do it like this:\n\n```bash\nsudo rm -rf /srv/data\n```\n",
                    "destructive.recursive_delete", "info");
    /* …an irregular past form too ("never caught up"), not only one ending in -ed */
    assert_severity("The cleanup job never caught up, so I ran it by hand:\n\n```bash\nsudo rm -rf "
                    "/srv/data\n```\n",
                    "destructive.recursive_delete", "critical");
    assert_severity("```bash\n# never do this on a shared host\ngit push --force origin main\n```",
                    "destructive.force_push_shared", "info");
    assert_severity("`DROP TABLE users` is a bad idea here.", "destructive.drop_database", "info");
    assert_severity("Don't remove the IP allowlist on the gateway; add the new office range.",
                    "access.prose_opening", "info");
    assert_severity("Remove the IP allowlist on the gateway; add the new office range later.",
                    "access.prose_opening", "warning");
    assert_severity("Opening port 22 in the firewall to `0.0.0.0/0` \"just for a day\" is how "
                    "the last incident started. Use Session Manager.",
                    "access.open_cidr", "info");
    assert_severity("Open port 22 to `0.0.0.0/0` in the firewall: that is how the team works.",
                    "access.open_cidr", "critical");
    assert_severity("Per favore non fare `chmod 777` sulla web root: usa un gruppo.",
                    "access.world_writable", "info");
    /* "instead of" marks what follows it in its clause, which also ends at a colon */
    assert_severity("Instead of `chmod 777` on the web root, add the deploy user to the group.",
                    "access.world_writable", "info");
    assert_severity("Instead of adding each user: run `chmod 777` on the web root.",
                    "access.world_writable", "warning");
    /* …and "**never** run" is "never run" */
    assert_severity("**Never** run `chmod 777` on the web root; use a group.",
                    "access.world_writable", "info");
    /* a guardrail that stops the action describes a prohibition, like "forbids" */
    assert_severity("The SCP we attach stops anyone there from making buckets public.",
                    "access.concept_made_public", "info");
    assert_severity("The SCP we attach lets anyone there make buckets public.",
                    "access.public_storage", "critical");
    /* …but removing the guardrail is the risky step itself */
    assert_severity("Detach the SCP that prevents public buckets, then:\n\n```bash\naws s3api "
                    "put-bucket-acl --bucket exports --acl public-read\n```\n",
                    "access.public_storage", "critical");
}
END_TEST

START_TEST(test_advice_against_in_more_languages)
{
    /* an imperative "don't run / use / delete" before the command, in the sentence or as the
     * lead-in to the block: Romanian, Czech, Hungarian, Swedish, Norwegian, Finnish (its
     * capital Ä is not ASCII, so the capitalised form is a cue of its own), Greek, Ukrainian
     * and Vietnamese */
    static const char *const sentences[] = {
        "Nu rulați `sudo rm -rf /srv/data` pe server.",
        "Nespouštějte `sudo rm -rf /srv/data` na serveru.",
        "Ne futtasd a `sudo rm -rf /srv/data` parancsot.",
        "Kör inte `sudo rm -rf /srv/data` på servern.",
        "Ikke kjør `sudo rm -rf /srv/data` på serveren.",
        "\xc3\x84l\xc3\xa4 aja `sudo rm -rf /srv/data` palvelimella.",
        "\xce\x9c\xce\xb7\xce\xbd \xcf\x84\xcf\x81\xce\xad\xce\xbe\xce\xb5\xcf\x84\xce\xb5 `sudo "
        "rm -rf /srv/data`.",
        "\xd0\x9d\xd0\xb5 \xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb0\xd0\xbb\xd1\x8f\xd0\xb9\xd1\x82\xd0\xb5 "
        "`sudo rm -rf /srv/data`.",
        "\xc4\x90\xe1\xbb\xabng ch\xe1\xba\xa1y `sudo rm -rf /srv/data` tr\xc3\xaan m\xc3\xa1y "
        "ch\xe1\xbb\xa7.",
    };
    for (size_t i = 0; i < sizeof sentences / sizeof *sentences; i++)
        assert_severity(sentences[i], "destructive.recursive_delete", "info");
    /* Korean and Turkish put the verb after its object, so their cue counts as the lead-in to
     * a block, not after a command in the same sentence */
    assert_severity(
        "\xec\x95\x84\xeb\x9e\x98 \xeb\xaa\x85\xeb\xa0\xb9\xec\x9d\x84 "
        "\xec\x8b\xa4\xed\x96\x89\xed\x95\x98\xec\xa7\x80 "
        "\xeb\xa7\x88\xec\x84\xb8\xec\x9a\x94.\n\n```bash\nsudo rm -rf /srv/data\n```\n",
        "destructive.recursive_delete", "info");
    assert_severity("A\xc5\x9f"
                    "a\xc4\x9f\xc4\xb1"
                    "daki komutu "
                    "\xc3\xa7"
                    "al\xc4\xb1\xc5\x9ft\xc4\xb1rmay\xc4\xb1n:\n\n```bash\nsudo rm -rf "
                    "/srv/data\n```\n",
                    "destructive.recursive_delete", "info");
    /* the same sentences without the negation are the command itself */
    assert_severity("Rulați `sudo rm -rf /srv/data` pe server.", "destructive.recursive_delete",
                    "critical");
    assert_severity("Kör `sudo rm -rf /srv/data` på servern.", "destructive.recursive_delete",
                    "critical");
}
END_TEST

START_TEST(test_a_heading_of_donts_covers_its_section)
{
    const char *list = "\n\n- No `sudo rm -rf /srv/data` during your first rotation.\n";
    char text[512];
    /* "What not to do" covers the list under it, whose own sentence holds no cue */
    snprintf(text, sizeof text, "## 4. What not to do%s", list);
    assert_severity(text, "destructive.recursive_delete", "info");
    snprintf(text, sizeof text, "**Things to avoid:**%s", list);
    assert_severity(text, "destructive.recursive_delete", "info");
    /* …up to the next heading */
    snprintf(text, sizeof text, "## What not to do\n\nNothing yet.\n\n## 5. Cleanup%s", list);
    assert_severity(text, "destructive.recursive_delete", "critical");
    /* a heading that recommends what follows covers nothing */
    snprintf(text, sizeof text, "## How to avoid a full disk%s", list);
    assert_severity(text, "destructive.recursive_delete", "critical");
    /* a "#" line in a code block is a comment, not a heading */
    assert_severity("```sh\n# what not to do\necho ok\n```\n\nNow run `sudo rm -rf /srv/data`.",
                    "destructive.recursive_delete", "critical");
}
END_TEST

START_TEST(test_a_bare_refusal_after_a_block_advises_against_it)
{
    /* "Please don't." right after the block, even as the paragraph's second sentence */
    assert_severity("The old wiki says to run\n\n```sh\nsudo rm -rf /srv/data\n```\n\nto free "
                    "space. Please don't. Move the data to the archive volume instead.",
                    "destructive.recursive_delete", "info");
    assert_severity("```sh\nsudo rm -rf /srv/data\n```\n**Don't do this.**",
                    "destructive.recursive_delete", "info");
    /* only a whole sentence: "Don't forget …" is no refusal */
    assert_severity("```sh\nsudo rm -rf /srv/data\n```\n\nDon't forget to restart nginx.",
                    "destructive.recursive_delete", "critical");
    /* …and only in the paragraph right after the block */
    assert_severity("```sh\nsudo rm -rf /srv/data\n```\n\nThat frees the disk.\n\nPlease don't.",
                    "destructive.recursive_delete", "critical");
}
END_TEST

START_TEST(test_doing_it_is_flagged_even_near_negations)
{
    /* "so you don't have to" is no advice against */
    assert_severity("Start it like this so you don't have to copy tokens around:\n\n```bash\n"
                    "jupyter lab --ip=0.0.0.0 --ServerApp.token=''\n```",
                    "access.service_exposed", "critical");
    /* "--insecure-skip-tls-verify" in code is not the word "insecure" of prose */
    assert_severity("Until the cert is in your kubeconfig:\n\n```bash\nkubectl "
                    "--insecure-skip-tls-verify get nodes\n```",
                    "access.tls_verification_disabled", "warning");
    /* a cue inside the match is the match's own word: Ruby's ":never" is a value */
    assert_severity("The deploy script connects with `Net::SSH.start(host, 'deploy', "
                    "verify_host_key: :never)` now.",
                    "access.ssh_host_key_any_accepted", "warning");
}
END_TEST

START_TEST(test_local_build_output_vs_shared_paths)
{
    assert_severity("`rm -rf ./build`", "destructive.recursive_delete", "info");
    assert_severity("`rm -rf node_modules`", "destructive.recursive_delete", "info");
    assert_severity("`rm -rf \"$tmpdir\"`", "destructive.recursive_delete", "info");
    assert_severity("`rm -rf docs/api`", "destructive.recursive_delete", "warning");
    assert_severity("`rm -rf /srv/data`", "destructive.recursive_delete", "critical");
    /* cache, log, tmp name build output inside a project, a service's data under / */
    assert_severity("`rm -rf /var/lib/app/cache/`", "destructive.recursive_delete", "critical");
    assert_severity("`rm -rf .cache logs`", "destructive.recursive_delete", "info");
    assert_severity("`rm -rf ~`", "destructive.recursive_delete", "critical");
    assert_severity("`sudo rm -rf --no-preserve-root /`", "destructive.recursive_delete",
                    "critical");
}
END_TEST

START_TEST(test_delete_with_where_is_not_flagged)
{
    assert_severity("DELETE FROM sessions WHERE expires_at < now();", "destructive.delete_all_rows",
                    "none");
    assert_severity("DELETE FROM sessions;", "destructive.delete_all_rows", "critical");
}
END_TEST

/* Severity of `code`'s first flag in `text` scanned with the rule set `rules` alone. */
static void assert_severity_with(const char *rules, const char *text, const char *code,
                                 const char *severity)
{
    struct flags_ruleset *rs = rules_of(rules);
    json_t *flags = scan_with(rs, text);
    char *dump = json_dumps(flags, JSON_COMPACT);
    ck_assert_msg(strcmp(severity_of(flags, code), severity) == 0, "%s in \"%s\": want %s, got %s",
                  code, text, severity, dump);
    free(dump);
    json_decref(flags);
    flags_ruleset_free(rs);
}

#define DROP_RULE                                                                                  \
    "[destructive.t_drop]\nseverity = critical\nmessage = Drops a table.\n"                        \
    "pattern = (?<value>DROP TABLE [\\w-]{1,40})\nmatch = DROP TABLE x\n"

#define RM_RULE                                                                                    \
    "[destructive.t_rm]\nseverity = critical\nmessage = Deletes a tree.\n"                         \
    "pattern = (?<value>rm -r \\S{1,80})\nmatch = rm -r x\n"

START_TEST(test_scratch_variable_is_read_from_its_assignment)
{
    /* the variable is assigned a scratch path earlier in the block */
    assert_severity_with(RM_RULE,
                         "```sh\nwork=\"$CI_PROJECT_DIR/.pkg-scratch\"\n./pack.sh \"$work\"\n"
                         "rm -r \"$work\"\n```\n",
                         "destructive.t_rm", "warning");
    assert_severity_with(RM_RULE, "```sh\nexport OUT=$(mktemp -d)\nrm -r ${OUT}\n```\n",
                         "destructive.t_rm", "warning");
    /* a shared path, another variable's assignment, or one after the match do not count */
    assert_severity_with(RM_RULE, "```sh\nwork=/srv/data\nrm -r \"$work\"\n```\n",
                         "destructive.t_rm", "critical");
    assert_severity_with(RM_RULE,
                         "```sh\nworkdir=$(mktemp -d)\ndata=/srv/data\nrm -r \"$data\"\n```\n",
                         "destructive.t_rm", "critical");
    assert_severity_with(RM_RULE, "```sh\nrm -r \"$work\"\nwork=$(mktemp -d)\n```\n",
                         "destructive.t_rm", "critical");
}
END_TEST

START_TEST(test_scratch_target_is_not_critical)
{
    /* a per-test, per-job or throwaway target, said in the lead-in, the line or the name */
    assert_severity_with(DROP_RULE,
                         "In tests we recreate it in the ephemeral testcontainers DB:\n\n"
                         "```sql\nDROP TABLE orders;\n```\n",
                         "destructive.t_drop", "warning");
    assert_severity_with(DROP_RULE, "```sql\nDROP TABLE orders; -- the per-job schema\n```\n",
                         "destructive.t_drop", "warning");
    assert_severity_with(DROP_RULE, "`DROP TABLE run-scratch` after the job.", "destructive.t_drop",
                         "warning");
    /* "from scratch" is no scratch target; no cue at all stays critical */
    assert_severity_with(DROP_RULE, "Rebuild it from scratch:\n\n```sql\nDROP TABLE orders;\n```\n",
                         "destructive.t_drop", "critical");
    assert_severity_with(DROP_RULE, "```sql\nDROP TABLE orders;\n```\n", "destructive.t_drop",
                         "critical");
    /* a rule can keep its critical whatever the context */
    assert_severity_with(DROP_RULE "critical_unless = none\n",
                         "```sql\nDROP TABLE orders; -- the per-job schema\n```\n",
                         "destructive.t_drop", "critical");
}
END_TEST

#define KEY_RULE                                                                                   \
    "[secret.t_key]\nseverity = critical\nmessage = A key.\n"                                      \
    "pattern = key = \"(?<value>[A-Za-z0-9$./_]{20,80})\"\n"                                       \
    "match = key = \"Qm9Jx2LtYv8wHk3pV9sZrX7\"\n"

START_TEST(test_text_saying_no_risk_is_not_critical)
{
    assert_severity_with(KEY_RULE,
                         "This key is not secret, it identifies the app:\n\n"
                         "```js\nkey = \"AIzaQm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "warning");
    assert_severity_with(KEY_RULE, "```js\nkey = \"AIzaQm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "critical");
    /* a password hash is no secret, whatever is said around it */
    assert_severity_with(KEY_RULE, "key = \"$2b$12$Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB5nD0f\"",
                         "secret.t_key", "none");
    assert_severity_with(KEY_RULE, "key = \"pbkdf2_sha256$600000$Qm9Jx2LtYv8w\"", "secret.t_key",
                         "none");
    /* personal data the text calls a documented example is not raised by bulk */
    const char *bulk = "[pii.t_ssn]\nseverity = warning\nmessage = An SSN.\nbulk = 2\n"
                       "pattern = (?<value>\\d{3}-\\d{2}-\\d{4})\nmatch = 219-09-9999\n";
    assert_severity_with(bulk, "Use the documented example numbers 987-65-4320 and 987-65-4321.",
                         "pii.t_ssn", "warning");
    assert_severity_with(bulk, "Her numbers are 219-09-9999 and 078-05-1120.", "pii.t_ssn",
                         "critical");
}
END_TEST

START_TEST(test_access_taken_away_is_not_critical)
{
    const char *rule = "[access.t_all]\nseverity = critical\nmessage = Everyone.\n"
                       "pattern = (?<value>allUsers)\nmatch = allUsers\n";
    assert_severity_with(rule,
                         "Buckets with `allUsers` bindings stop serving publicly once the "
                         "prevention policy is enforced.",
                         "access.t_all", "warning");
    assert_severity_with(rule, "Revoke the viewer role from `allUsers` today.", "access.t_all",
                         "warning");
    assert_severity_with(rule, "Grant the viewer role to `allUsers` so the page loads.",
                         "access.t_all", "critical");
}
END_TEST

START_TEST(test_recoverable_loss_and_web_ports_are_not_critical)
{
    assert_severity_with(DROP_RULE, "Only after a backup, run `DROP TABLE orders_old` in prod.",
                         "destructive.t_drop", "warning");
    /* the sentence after the block says the loss can be undone, and not that it is final */
    assert_severity_with(DROP_RULE,
                         "```sql\nDROP TABLE orders_old;\n```\n\nThe table can be restored from "
                         "its snapshot for a week.\n",
                         "destructive.t_drop", "warning");
    assert_severity_with(DROP_RULE,
                         "```sql\nDROP TABLE orders_old;\n```\n\nIt can be restored for a week, "
                         "then it is gone permanently.\n",
                         "destructive.t_drop", "critical");
    /* a mechanism named in the negative is no way back */
    assert_severity_with(DROP_RULE,
                         "```sql\nDROP TABLE orders_old;\n```\n\nWith FORCE it skips the recycle "
                         "bin, and there is no undelete.\n",
                         "destructive.t_drop", "critical");
    const char *rule = "[access.t_any]\nseverity = critical\nmessage = Open.\n"
                       "pattern = (?<value>0\\.0\\.0\\.0/0)\nmatch = 0.0.0.0/0\n";
    /* the port three lines above, in the same stanza */
    assert_severity_with(rule,
                         "```hcl\nresource \"aws_security_group_rule\" \"www\" {\n  type = "
                         "\"ingress\"\n  from_port = 443\n  to_port = 443\n  protocol = \"tcp\"\n"
                         "  cidr_blocks = [\"0.0.0.0/0\"]\n}\n```\n",
                         "access.t_any", "warning");
    /* a port in another stanza does not count */
    assert_severity_with(rule,
                         "```hcl\nresource \"a\" \"web\" {\n  from_port = 443\n}\n"
                         "resource \"a\" \"db\" {\n  from_port = 5432\n  cidr_blocks = "
                         "[\"0.0.0.0/0\"]\n}\n```\n",
                         "access.t_any", "critical");
}
END_TEST

START_TEST(test_sandbox_credential_is_not_critical)
{
    /* a payment sandbox or a throwaway local service, said on the line or in the lead-in */
    assert_severity_with(KEY_RULE,
                         "Our team's Braintree sandbox account, for the test suite:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "warning");
    assert_severity_with(KEY_RULE, "key = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\" # throwaway container",
                         "secret.t_key", "warning");
    /* the same text saying the key is a production or a shared one keeps it critical */
    assert_severity_with(KEY_RULE,
                         "Without `environment: production` the SDK talks to the sandbox:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "critical");
    assert_severity_with(KEY_RULE,
                         "Staging is shared with the partner sandbox:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "critical");
    /* Markdown emphasis inside the phrase ("*development* mode") does not hide it */
    assert_severity_with(KEY_RULE,
                         "I made a separate app in *development* mode for the stories:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "warning");
    assert_severity_with(KEY_RULE,
                         "I made a separate app in __development__ mode for the stories:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "warning");
    /* …but an identifier is not the phrase */
    assert_severity_with(KEY_RULE,
                         "I made a separate app, see development_mode_notes:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "critical");
    /* a blockchain test network's key moves coins worth nothing */
    assert_severity_with(KEY_RULE,
                         "The faucet-funded wallet on the Holesky testnet, for the demo:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "warning");
    /* a sandbox said elsewhere in the post does not count */
    assert_severity_with(KEY_RULE,
                         "The sandbox is down today.\n\nUse this one:\n\n"
                         "```js\nkey = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\"\n```\n",
                         "secret.t_key", "critical");
    /* a rule can name the sandbox excuse alone: then "not secret" no longer holds it */
    assert_severity_with(KEY_RULE "critical_unless = sandbox\n",
                         "key = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\" # not secret", "secret.t_key",
                         "critical");
    assert_severity_with(KEY_RULE "critical_unless = sandbox\n",
                         "key = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\" # throwaway container",
                         "secret.t_key", "warning");
    /* a rule can leave the sandbox excuse out */
    assert_severity_with(KEY_RULE "critical_unless = harmless\n",
                         "key = \"Qm9Jx2LtYv8wHk3pV9sZrX7mQ1cB\" # throwaway container",
                         "secret.t_key", "critical");
}
END_TEST

#define PRUNE_RULE                                                                                 \
    "[destructive.t_prune]\nseverity = warning\nmessage = Prunes volumes.\n"                       \
    "pattern = (?<value>prune --volumes)\nmatch = prune --volumes\n"

START_TEST(test_stakes_stated_around_a_block_raise_it)
{
    const char *block = "```sh\ndocker system prune --volumes -f\n```\n";
    char text[512];
    /* no stakes said: the rule's warning */
    snprintf(text, sizeof text, "Free the disk:\n\n%sThen restart the daemon.", block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "warning");
    /* whose data it is, in the paragraph that leads into the block */
    snprintf(text, sizeof text, "On the shared runner, free the disk:\n\n%s", block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "critical");
    /* that the loss is final, in the paragraph after it */
    snprintf(text, sizeof text,
             "Free the disk:\n\n%s\nThe Nexus volume goes with it and "
             "there is no backup.\n",
             block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "critical");
    /* a paragraph further on does not count */
    snprintf(text, sizeof text,
             "Free the disk:\n\n%s\nThen restart.\n\nOur production "
             "cluster is elsewhere.\n",
             block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "warning");
    /* a stake its own sentence says is spared does not raise it; one in another sentence does */
    snprintf(text, sizeof text, "Free the disk:\n\n%s\nProduction isn't touched.\n", block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "warning");
    snprintf(text, sizeof text,
             "On this VM only (nothing on the shared runner), free the disk:\n\n%s", block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "warning");
    snprintf(text, sizeof text,
             "Free the disk:\n\n%s\nProduction isn't touched. The shared volume goes with it.\n",
             block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "critical");
    /* nor does prose around a command that is not in a block */
    assert_severity_with(PRUNE_RULE, "On the shared runner run `prune --volumes` to free it.",
                         "destructive.t_prune", "warning");
    /* each block is judged by its own frame: the shared one is critical, the local one not */
    struct flags_ruleset *rs = rules_of(PRUNE_RULE);
    json_t *flags =
        scan_with(rs, "On the shared runner:\n\n```sh\ndocker system prune --volumes\n```\n"
                      "\nOn your laptop:\n\n```sh\ndocker system prune --volumes\n```\n"
                      "\nAgain on the shared runner:\n\n```sh\nprune --volumes\n```\n");
    ck_assert_int_eq(json_array_size(flags), 3);
    ck_assert_str_eq(str_at(flags, 0, "severity"), "critical");
    ck_assert_str_eq(str_at(flags, 1, "severity"), "warning");
    ck_assert_str_eq(str_at(flags, 2, "severity"), "critical");
    /* the message says why a rule that is a warning on its own is critical here */
    ck_assert_str_eq(str_at(flags, 0, "message"),
                     "Prunes volumes. Critical here: the post says this runs on production or "
                     "shared data, or that the loss is final.");
    ck_assert_str_eq(str_at(flags, 1, "message"), "Prunes volumes.");
    json_decref(flags);
    flags_ruleset_free(rs);
    /* a scratch target stated in the lead-in still holds it at warning */
    snprintf(text, sizeof text, "On the shared runner's scratch space:\n\n%s", block);
    assert_severity_with(PRUNE_RULE, text, "destructive.t_prune", "warning");
    /* an access rule: "internet-facing" around the block raises it, the bare "internet" does
     * not, unless the rule names it among its critical_near words */
    const char *open = "[access.t_open]\nseverity = warning\nmessage = Opens it.\n"
                       "pattern = (?<value>auth: off)\nmatch = auth: off\n";
    const char *yaml = "Set it in the gateway:\n\n```yaml\nauth: off\n```\n\nIt accepts no "
                       "inbound connection from the internet.\n";
    assert_severity_with(open, yaml, "access.t_open", "warning");
    assert_severity_with(open, "On the internet-facing gateway:\n\n```yaml\nauth: off\n```\n",
                         "access.t_open", "critical");
    char rule[256];
    snprintf(rule, sizeof rule, "%scritical_near = internet\n", open);
    assert_severity_with(rule, yaml, "access.t_open", "critical");
    /* a rule's own critical words are read like the built-in stakes: not in a sentence that
     * says the thing is spared, around the block or next to the match */
    const char *wipe = "[destructive.t_wipe]\nseverity = warning\nmessage = Wipes.\n"
                       "pattern = wipe --all\ncritical_near = vault\nnear_bytes = 40\n"
                       "match = wipe --all\n";
    assert_severity_with(wipe,
                         "Clear the runner:\n\n```sh\nwipe --all\n```\n\nThe vault goes too.\n",
                         "destructive.t_wipe", "critical");
    assert_severity_with(wipe,
                         "Clear the runner:\n\n```sh\nwipe --all\n```\n\nThe vault is untouched.\n",
                         "destructive.t_wipe", "warning");
    assert_severity_with(wipe, "Run `wipe --all` on the vault host.", "destructive.t_wipe",
                         "critical");
    assert_severity_with(wipe, "Run `wipe --all`; the vault isn't affected.", "destructive.t_wipe",
                         "warning");
}
END_TEST

START_TEST(test_personal_detail_with_sensitive_data_is_critical)
{
    const char *rule = "[pii.t_mail]\nseverity = warning\nmessage = An e-mail.\n"
                       "pattern = (?<value>[a-z.]{1,40}@example\\.org)\nmatch = a.b@example.org\n";
    /* one detail: the rule's warning */
    assert_severity_with(rule, "Write to lena.berg@example.org about the invoice.", "pii.t_mail",
                         "warning");
    /* with a diagnosis in the same block, or a child's school in the same paragraph */
    assert_severity_with(rule,
                         "The breadcrumb shows:\n\n```\nuser=lena.berg@example.org "
                         "medication=levetiracetam (epilepsy)\n```\n",
                         "pii.t_mail", "critical");
    assert_severity_with(rule,
                         "Her mother is lena.berg@example.org; the kindergarten is Sunnyside.",
                         "pii.t_mail", "critical");
    /* a person's fingerprints are biometric data; a key's or an error group's fingerprint is not */
    assert_severity_with(rule,
                         "The export holds lena.berg@example.org and her fingerprint template.",
                         "pii.t_mail", "critical");
    assert_severity_with(rule,
                         "The event for lena.berg@example.org is grouped by its fingerprint; "
                         "the SSH key fingerprint is SHA256:x.",
                         "pii.t_mail", "warning");
    /* a sensitive word in another paragraph does not count */
    assert_severity_with(rule,
                         "Write to lena.berg@example.org about the invoice.\n\nThe diagnosis "
                         "module is unrelated.",
                         "pii.t_mail", "warning");
}
END_TEST

START_TEST(test_placeholders_and_documented_keys_are_not_secrets)
{
    const char *texts[] = {
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "DB_PASSWORD=changeme",
        "password: ${DB_PASSWORD}",
        "api_key = \"<your-api-key>\"",
        "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"",
        "postgres://user:password@localhost:5432/app",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq8xVtX5Zk3pJ0mQw7rT2yU9iO1pA4sD6fG8hJ0kL2z "
        "me@laptop",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        json_t *flags = scan(texts[i]);
        for (size_t k = 0; k < json_array_size(flags); k++)
            ck_assert_msg(strncmp(str_at(flags, k, "code"), "secret.", 7) != 0,
                          "secret flag %s on \"%s\"", str_at(flags, k, "code"), texts[i]);
        json_decref(flags);
    }
    assert_severity("DB_PASSWORD=Vq8!mZ2pLx7#", "secret.password_assignment", "critical");
}
END_TEST

START_TEST(test_personal_data_in_bulk_is_critical)
{
    assert_severity("Ask helen.marchetti@gmail.com", "pii.email", "warning");
    assert_severity("To: a.girard@laposte.net, bjohansson@hotmail.se, c.obrien@eircom.net",
                    "pii.email", "critical");
    assert_severity("Send it to billing@acme-corp.com or jane@example.com", "pii.email", "none");
}
END_TEST

START_TEST(test_mentions_count_in_prose_only)
{
    assert_severity("@everyone the build is green again.", "mention.everyone", "warning");
    assert_severity("Configure it:\n\n```js\nallowedMentions: { parse: ['@everyone'] }\n```",
                    "mention.everyone", "none");
    assert_severity("Thanks @a1 @b2 @c3 @d4 @e5 for the reviews.", "mention.many_people", "none");
    assert_severity("Thanks @a1 @b2 @c3 @d4 @e5 @f6 for the reviews.", "mention.many_people",
                    "warning");
}
END_TEST

START_TEST(test_many_mentions_give_one_flag_from_first_to_last)
{
    const char *text = "cc @ann @bo @cy @di @ed @fa and @ann again, thanks";
    json_t *flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_uint_eq(int_at(flags, 0, "start"), (size_t)(strstr(text, "@ann") - text));
    ck_assert_uint_eq(int_at(flags, 0, "end"), (size_t)(strstr(text, " again") - text));
    json_decref(flags);
}
END_TEST

/* ---------------------------------------------------------------- rule features ---- */

START_TEST(test_language_restricts_fenced_blocks_only)
{
    struct flags_ruleset *rs = rules_of("[destructive.sql_reset]\n"
                                        "severity = critical\n"
                                        "message = Resets a table.\n"
                                        "pattern = (?i)\\breset\\s{1,9}table\\b\n"
                                        "languages = sql\n"
                                        "match = ```sql\\nRESET TABLE x;\\n```\n");
    json_t *in_sql = scan_with(rs, "```sql\nRESET TABLE x;\n```");
    json_t *in_python = scan_with(rs, "```python\nRESET TABLE x\n```");
    json_t *unlabelled = scan_with(rs, "```\nreset table x;\n```");
    json_t *prose = scan_with(rs, "then reset table x");
    ck_assert_uint_eq(json_array_size(in_sql), 1);
    ck_assert_uint_eq(json_array_size(in_python), 0);
    ck_assert_uint_eq(json_array_size(unlabelled), 1);
    ck_assert_uint_eq(json_array_size(prose), 1);
    json_decref(in_sql);
    json_decref(in_python);
    json_decref(unlabelled);
    json_decref(prose);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_public_address_entropy_checksum_and_url_checks)
{
    struct flags_ruleset *rs = rules_of(
        "[pii.client_ip]\nseverity = warning\nmessage = A client address.\n"
        "pattern = \\b(?<value>\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3})\\b\naddress = public\n"
        "match = from 83.24.117.202\nno_match = from 10.1.2.3\n"
        "no_match = from 192.0.2.10\nno_match = from 172.20.0.5\n\n"
        "[secret.random]\nseverity = critical\nmessage = A random value.\n"
        "pattern = key=(?<value>\\w{16})\nentropy = 3.5\n"
        "match = key=Zk3x9QpL7mW2vR8t\nno_match = key=aaaaaaaaaaaaaaaa\n\n"
        "[pii.card]\nseverity = critical\nmessage = A card.\n"
        "pattern = \\b(?<value>\\d{16})\\b\nchecksum = luhn\n"
        "match = 4381225384660852\nno_match = 4381225384660853\n\n"
        "[pii.mail]\nseverity = warning\nmessage = Mail.\n"
        "pattern = \\b\\w{1,20}@\\w{1,20}\\.com\\b\nin_url = drop\n"
        "match = write to ana@corp.com\nno_match = https://u:x=ana@corp.com/\n");
    char error[4096];
    ck_assert_msg(flags_ruleset_check_examples(rs, error, sizeof error) == 0, "%s", error);
    flags_ruleset_free(rs);
}
END_TEST

/* Each check-digit scheme accepts a published or computed valid number and refuses the same
 * number with its last character changed; a value of another scheme's shape fails. */
START_TEST(test_checksum_schemes_accept_valid_numbers_only)
{
    static const struct {
        const char *scheme, *valid, *altered;
    } cases[] = {
        {"luhn", "046 454 286", "046 454 287"},
        {"iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 01"},
        {"verhoeff", "2341 2341 2346", "2341 2341 2347"},
        {"dni", "12345678Z", "12345678A"},
        {"pesel", "44051401359", "44051401358"},
        {"bsn", "111222333", "111222334"},
        {"steuer_id", "86095742719", "86095742718"},
        {"codice_fiscale", "RSSMRA85T10A562S", "RSSMRA85T10A562T"},
        {"hetu", "131052-308T", "131052-308U"},
        {"personnummer", "811218-9876", "811218-9875"},
        {"fnr", "01010750160", "01010750161"},
        {"be_nrn", "85.07.30-033.28", "85.07.30-033.27"},
        {"ahv", "756.9217.0769.85", "756.9217.0769.84"},
        {"cnp", "1800101221144", "1800101221145"},
        {"tckn", "10000000146", "10000000147"},
        {"nhs", "943 476 5919", "943 476 5918"},
        {"cpf", "111.444.777-35", "111.444.777-36"},
        {"cn_id", "11010519491231002X", "110105194912310021"},
        {"nric", "S1234567D", "S1234567E"},
        {"ee_ik", "38507146281", "38507146280"},
        {"hr_oib", "97114710497", "97114710490"},
        {"hu_taj", "330 792 440", "330 792 441"},
        {"gr_amka", "12038503137", "12038503130"},
        {"ar_cuil", "20-72803852-8", "20-72803852-0"},
        {"th_id", "1-8983-47887-83-8", "1-8983-47887-83-0"},
        {"tw_id", "B120868288", "B120868280"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "[pii.number]\nseverity = critical\nmessage = A number.\n"
                 "pattern = id <(?<value>[^>]{1,40})>\nchecksum = %s\n"
                 "match = id <%s>\nno_match = id <%s>\nno_match = id <123456>\n",
                 cases[i].scheme, cases[i].valid, cases[i].altered);
        struct flags_ruleset *rs = rules_of(text);
        char error[4096];
        ck_assert_msg(flags_ruleset_check_examples(rs, error, sizeof error) == 0, "%s: %s",
                      cases[i].scheme, error);
        flags_ruleset_free(rs);
    }
}
END_TEST

START_TEST(test_near_words_and_nearest_cue)
{
    struct flags_ruleset *rs =
        rules_of("[access.any]\nseverity = critical\nmessage = Any source.\n"
                 "pattern = 0\\.0\\.0\\.0/0\nnear = ingress\nunless_after = egress\n"
                 "not_near = example\nnear_bytes = 100\n"
                 "match = ingress { cidr = 0.0.0.0/0 }\n"
                 "no_match = egress { cidr = 0.0.0.0/0 }\n"
                 "no_match = ingress {} egress { cidr = 0.0.0.0/0 }\n"
                 "no_match = cidr = 0.0.0.0/0\n"
                 "no_match = ingress example 0.0.0.0/0\n"
                 "match = egress {} ingress { cidr = 0.0.0.0/0 }\n\n"
                 "[destructive.reset]\nseverity = warning\nmessage = Reset.\n"
                 "pattern = \\breset\\b\ncritical_near = prod\nnear_bytes = 20\n"
                 "match_warning = reset staging\nmatch_critical = reset prod\n");
    char error[4096];
    ck_assert_msg(flags_ruleset_check_examples(rs, error, sizeof error) == 0, "%s", error);
    flags_ruleset_free(rs);
}
END_TEST

/* Word lists are written like patterns: a byte written as \xHH in `near` is that byte, so
 * "\xe5\x85\xa8\xe7\xa4\xbe" finds 全社 and "mand\xc3\xa9" finds mandé (once, both stayed
 * literal backslashes and never matched). */
START_TEST(test_near_words_decode_hex_escapes)
{
    struct flags_ruleset *rs =
        rules_of("[mention.t_count]\nseverity = warning\nmessage = Counted.\n"
                 "pattern = \\b\\d{3}\\b\nnear = \\xe5\\x85\\xa8\\xe7\\xa4\\xbe, mand\\xc3\\xa9\n"
                 "match = \xe5\x85\xa8\xe7\xa4\xbe 157\nmatch = mand\xc3\xa9 a 310\n"
                 "no_match = 157\nno_match = mande a 310\n");
    char error[4096];
    ck_assert_msg(flags_ruleset_check_examples(rs, error, sizeof error) == 0, "%s", error);
    flags_ruleset_free(rs);
    /* what is not a byte stays as written: "\xzz", a "\x" at the end, and "\x00", which would
     * cut the word short */
    rs = rules_of("[mention.t_literal]\nseverity = warning\nmessage = Literal.\n"
                  "pattern = \\b\\d{3}\\b\nnear = 50\\xzz, a\\x00b, end\\x\n"
                  "match = 50\\xzz 157\nmatch = a\\x00b 157\nmatch = end\\x 157\n"
                  "no_match = a 157\nno_match = 50 157\n");
    ck_assert_msg(flags_ruleset_check_examples(rs, error, sizeof error) == 0, "%s", error);
    flags_ruleset_free(rs);
}
END_TEST

/* Scans each of `texts` with `rs` and checks it gives `want` flags. */
static void assert_each_gives(struct flags_ruleset *rs, const char *const *texts, size_t count,
                              size_t want)
{
    for (size_t i = 0; i < count; i++) {
        json_t *flags = scan_with(rs, texts[i]);
        ck_assert_msg(json_array_size(flags) == want, "%zu flags, not %zu: %s",
                      json_array_size(flags), want, texts[i]);
        json_decref(flags);
    }
}

START_TEST(test_not_near_reads_prose_and_its_own_block_not_other_blocks)
{
    struct flags_ruleset *rs = rules_of("[destructive.t_drop]\nseverity = critical\n"
                                        "message = Drops.\npattern = \\bdrop all\\b\n"
                                        "not_near = sandbox\nnear_bytes = 200\n"
                                        "match = drop all\nno_match = sandbox: drop all\n");
    /* no excuse: flagged */
    const char *plain[] = {"```sh\ndrop all\n```\n"};
    assert_each_gives(rs, plain, 1, 1);
    /* the excuse in the match's own block, or in the prose after it: not flagged */
    const char *excused[] = {
        "```sh\n# sandbox only\ndrop all\n```\n",
        "```sh\ndrop all\n```\n\nThis runs in the sandbox.\n",
        /* a command in prose is read with the blocks it talks about */
        "Then `drop all`:\n\n```yaml\nenvironment: sandbox\n```\n",
    };
    assert_each_gives(rs, excused, sizeof excused / sizeof excused[0], 0);
    /* the word in another code block, after or before, is another step's: still flagged */
    const char *other_block[] = {
        "```sh\ndrop all\n```\n\nNext:\n\n```yaml\nenvironment: sandbox\n```\n",
        "```yaml\nenvironment: sandbox\n```\n\nThen:\n\n```sh\ndrop all\n```\n",
        "```sandbox\nx\n```\n```sh\ndrop all\n```\n",
    };
    assert_each_gives(rs, other_block, sizeof other_block / sizeof other_block[0], 1);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_overlapping_flags_of_one_family_keep_the_first_rule)
{
    /* A Stripe test key also reads as "KEY=value": the specific rule (listed first) wins. */
    json_t *flags = scan("STRIPE_SECRET_KEY=sk_test_51GwQVmlXCPlDIT0qqubem5DxQyNjJWJaHqRbMY");
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "secret.test_payment_key");
    ck_assert_str_eq(str_at(flags, 0, "severity"), "warning");
    json_decref(flags);
}
END_TEST

START_TEST(test_a_flag_that_loses_an_overlap_takes_no_other_with_it)
{
    /* "wide" spans both others and is listed between them: it loses to "late" (listed first),
     * so "early", which overlaps only "wide", stays. Taken in order of starts, "wide" dropped
     * "early" before "late" dropped it, and only "late" was left. */
    struct flags_ruleset *rs = rules_of("[pii.late]\nseverity = warning\nmessage = Late.\n"
                                        "pattern = \\bCCC\\b\nmatch = CCC\n\n"
                                        "[pii.wide]\nseverity = warning\nmessage = Wide.\n"
                                        "pattern = AAA[^\\n]{1,40}CCC\nmatch = AAA x CCCD\n\n"
                                        "[pii.early]\nseverity = warning\nmessage = Early.\n"
                                        "pattern = \\bAAA\\b\nmatch = AAA\n");
    json_t *flags = scan_with(rs, "AAA then CCC");
    ck_assert_uint_eq(json_array_size(flags), 2);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.early");
    ck_assert_str_eq(str_at(flags, 1, "code"), "pii.late");
    json_decref(flags);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_value_in_flags_only_a_listed_word_in_any_case)
{
    /* one cheap pattern finds every handle; the list decides, whole words only, ASCII case
     * ignored, over several value_in lines */
    struct flags_ruleset *rs =
        rules_of("[mention.word]\nseverity = warning\nmessage = All.\n"
                 "pattern = @(?<value>[\\w\\x80-\\xff-]{2,64})\n"
                 "value_in = zusammen, alle\nvalue_in = \xd0\xb2\xd1\x81\xd0\xb5\n"
                 "match = @alle\nno_match = @allesamt\n");
    json_t *flags = scan_with(rs, "@Zusammen @allesamt @ALLE @al @\xd0\xb2\xd1\x81\xd0\xb5 @x");
    ck_assert_uint_eq(json_array_size(flags), 3);
    ck_assert_uint_eq(int_at(flags, 0, "start"), 0);
    ck_assert_uint_eq(int_at(flags, 1, "start"), 20);
    ck_assert_uint_eq(int_at(flags, 2, "start"), 30);
    json_decref(flags);
    /* a word followed by its script's full stop, which the byte pattern takes in */
    flags = scan_with(rs, "@alle\xe3\x80\x82 @allesamt\xe3\x80\x82");
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_uint_eq(int_at(flags, 0, "start"), 0);
    json_decref(flags);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_patterns_hyperscan_cannot_run_are_prefiltered)
{
    /* a back-reference and a look-behind: Hyperscan compiles them in prefilter mode */
    struct flags_ruleset *rs =
        rules_of("[secret.doubled]\nseverity = warning\n"
                 "message = Doubled.\n"
                 "pattern = (?<![a-z])(\\w{3})-\\1\\b\n"
                 "match = abc-abc\nno_match = abc-abd\nno_match = xabc-abc\n");
    json_t *flags = scan_with(rs, "x abc-abc y abc-abd z");
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_uint_eq(int_at(flags, 0, "start"), 2);
    json_decref(flags);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_leading_look_behind_keeps_matches_exact)
{
    /* Hyperscan takes a leading look-behind as text, to propose fewer candidates; the flag still
     * spans the match without it. One it cannot take as text (an anchor inside, "(?<=\\n^)")
     * is dropped instead and the rule still loads. */
    struct flags_ruleset *rs =
        rules_of("[secret.after_scheme]\nseverity = warning\nmessage = After a scheme.\n"
                 "pattern = (?i)(?<=://)(?<value>[a-z]{3,8}):\\d{2,5}\n"
                 "match = see http://alpha:8080/\nno_match = alpha:8080\n"
                 "[secret.after_break]\nseverity = warning\nmessage = After a line break.\n"
                 "pattern = (?<=\\n^)-(?<value>\\d{4})\n"
                 "match = a\\n-1234\nno_match = x-1234\n");
    json_t *flags = scan_with(rs, "host:8080 and HTTP://Beta:9090 then\n-4321 x-1234");
    ck_assert_uint_eq(json_array_size(flags), 2);
    ck_assert_str_eq(str_at(flags, 0, "code"), "secret.after_scheme");
    ck_assert_uint_eq(int_at(flags, 0, "start"), 21);
    ck_assert_uint_eq(int_at(flags, 0, "end"), 30);
    ck_assert_str_eq(str_at(flags, 1, "code"), "secret.after_break");
    ck_assert_uint_eq(int_at(flags, 1, "start"), 36);
    ck_assert_uint_eq(int_at(flags, 1, "end"), 41);
    json_decref(flags);
    flags_ruleset_free(rs);
}
END_TEST

/* Loads `rules`, scans `text` and asserts exactly one flag, of `code`, over [start, end). */
static void assert_one_flag(const char *rules, const char *text, const char *code, size_t start,
                            size_t end)
{
    struct flags_ruleset *rs = rules_of(rules);
    json_t *flags = scan_with(rs, text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), code);
    ck_assert_uint_eq(int_at(flags, 0, "start"), start);
    ck_assert_uint_eq(int_at(flags, 0, "end"), end);
    json_decref(flags);
    flags_ruleset_free(rs);
}

START_TEST(test_class_led_part_before_a_gap_keeps_matches_exact)
{
    /* Hyperscan runs only what follows the gap of a pattern that opens with a class ("Name
     * Surname ... diagnosis" as "diagnosis"); the flag still starts at the name, and the word
     * alone, or a name on another line, is no match. */
    assert_one_flag("[pii.named_diagnosis]\nseverity = warning\nmessage = A named diagnosis.\n"
                    "pattern = (?m)\\b[A-Z][a-z]{1,20} [A-Z][a-z]{1,20}\\b[^\\n]{0,100}?"
                    "\\b(?<value>diagnos\\w{0,8})\n"
                    "match = Anna Berg was diagnosed\nno_match = the diagnosis was late\n",
                    "the diagnosis first\nJonas Weber\ndiagnosis next\n"
                    "then Anna Berg, Legal, diagnosed in May",
                    "pii.named_diagnosis", 52, 79);
}
END_TEST

START_TEST(test_class_led_part_is_kept_when_the_rest_can_match_nothing)
{
    /* What follows the gap can match nothing here ("(?:!)?"): Hyperscan would refuse it alone,
     * so the whole pattern is run and the rule loads and matches as written. */
    assert_one_flag("[pii.named_line]\nseverity = warning\nmessage = A named line.\n"
                    "pattern = \\b[A-Z][a-z]{1,20} [A-Z][a-z]{1,20}\\b[^\\n]{0,40}(?:!)?\n"
                    "match = Anna Berg\nno_match = anna berg\n",
                    "hello Anna Berg!\nno names here", "pii.named_line", 6, 16);
}
END_TEST

/* ------------------------------------------------------------------ forum rule files ---- */

static const char *forum_rules = "# Acme's own rules\n"
                                 "[secret.acme_deploy_token]\n"
                                 "severity = critical\n"
                                 "message = An Acme deploy token.\n"
                                 "pattern = \\b(?<value>acmedt_[a-z0-9]{24})\\b\n"
                                 "match = token: acmedt_0123456789abcdefghijklmn\n"
                                 "no_match = acmedt_short\n"
                                 "\n"
                                 "[allow]\n"
                                 "pattern = ^AKIAKPHOJUGSDR32ASMR$\n";

START_TEST(test_forum_file_adds_rules_and_allow_entries)
{
    char path[] = "/tmp/agentgate-flag-rules-XXXXXX", error[1024];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, forum_rules, strlen(forum_rules)), (ssize_t)strlen(forum_rules));
    close(fd);
    struct flags_ruleset *rs = NULL;
    int rc = flags_ruleset_load(path, &rs, error, sizeof error);
    unlink(path);
    ck_assert_msg(rc == 0, "%s", error);
    ck_assert_uint_eq(flags_ruleset_rule_count(rs, NULL),
                      flags_ruleset_rule_count(builtin(), NULL) + 1);
    json_t *flags = scan_with(rs, "use acmedt_0123456789abcdefghijklmn and AKIAKPHOJUGSDR32ASMR "
                                  "and AKIAZ7QW3ERTY6UIOP4X");
    ck_assert_uint_eq(json_array_size(flags), 2);
    ck_assert_str_eq(str_at(flags, 0, "code"), "secret.acme_deploy_token");
    ck_assert_str_eq(str_at(flags, 1, "code"), "secret.aws_access_key"); /* the other key */
    json_decref(flags);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_missing_rule_file_names_the_path)
{
    char error[512];
    struct flags_ruleset *rs = (struct flags_ruleset *)1;
    ck_assert_int_eq(flags_ruleset_load("/nonexistent/acme.rules", &rs, error, sizeof error), -1);
    ck_assert_ptr_null(rs);
    ck_assert_msg(strstr(error, "/nonexistent/acme.rules") != NULL, "%s", error);
}
END_TEST

#define RULE_HEAD "[access.x]\nseverity = warning\nmessage = X.\n"

static const struct {
    const char *text;
    const char *error;
} bad_files[] = {
    {RULE_HEAD "pattern = x\nmatch = x\ncolour = red\n", "forum.rules:6: unknown key \"colour\""},
    {RULE_HEAD "pattern = x\nmatch = x\ncritical_unless = sometimes\n",
     "forum.rules:6: unknown critical_unless \"sometimes\""},
    {"[access.x]\nmessage = X.\npattern = x\nmatch = x\n", "forum.rules:1: [access.x] has no "
                                                           "severity"},
    {RULE_HEAD "match = x\n", "forum.rules:1: [access.x] has no pattern"},
    {RULE_HEAD "pattern = x\n", "forum.rules:1: [access.x] has no example"},
    {"[access.x]\nseverity = fatal\n", "forum.rules:2: severity must be"},
    {"[secrets.x]\n", "forum.rules:1: rule code \"secrets.x\" must start with"},
    {"[Secret.X]\n", "forum.rules:1: bad rule code"},
    {"[access.x\n", "forum.rules:1: section header without closing ]"},
    {"severity = warning\n", "forum.rules:1: severity before any [code] or [allow] header"},
    {RULE_HEAD "pattern = x\nmatch = x\njust words\n", "forum.rules:6: expected key = value"},
    {RULE_HEAD "pattern = (unclosed\nmatch = x\n", "forum.rules:1: [access.x]: bad pattern"},
    {RULE_HEAD "pattern = a{0,3}\nmatch = a\n", "can match empty text"},
    {RULE_HEAD "pattern = a+b\nmatch = ab\n", "forum.rules:1: [access.x]: pattern 1 has an "
                                              "unbounded repeat at offset 1"},
    {RULE_HEAD "pattern = a{2,}\nmatch = aa\n", "unbounded repeat at offset 1"},
    {RULE_HEAD "pattern = x\nmatch = y\n", "[access.x] match example 1 gives no flag: y"},
    {RULE_HEAD "pattern = x\nmatch = x\nno_match = x\n", "no_match example 1 gives warning"},
    {RULE_HEAD "pattern = x\nmatch = x\nentropy = lots\n", "forum.rules:6: entropy must be"},
    {RULE_HEAD "pattern = x\nmatch = x\nnear_bytes = 0\n", "forum.rules:6: near_bytes must be"},
    {RULE_HEAD "pattern = x\nmatch = x\ncount = 1\n", "forum.rules:6: count must be"},
    {RULE_HEAD "pattern = x\nmatch = x\nlanguages = cobol\n", "unknown language \"cobol\""},
    {RULE_HEAD "pattern = x\nmatch = x\nwhere = everywhere\n", "where must be any, code or prose"},
    {RULE_HEAD "pattern = x\nmatch = x\nseverity = info\n", "forum.rules:6: severity given "
                                                            "twice"},
    {RULE_HEAD "pattern = x\nmatch = x\nfamily = pii\n", "family \"pii\" does not match"},
    {RULE_HEAD "pattern = x\nmatch = x\n\n" RULE_HEAD "pattern = y\nmatch = y\n",
     "forum.rules:7: rule access.x defined twice (first at forum.rules:1)"},
    {"[allow]\nword = x\n", "forum.rules:2: unknown key \"word\" in [allow]"},
    {"[allow]\npattern = (\n", "forum.rules:2: [allow]: bad pattern"},
    {"[access.x]\nseverity = warning\nmessage = bad\x01one\n", "message contains a control"},
    {RULE_HEAD "pattern = x\nmatch = x\ntarget = url\n", "target must be path"},
    {RULE_HEAD "pattern = x\nmatch = x\nchecksum = crc\n", "checksum must be"},
    {RULE_HEAD "pattern = x\nmatch =\n", "forum.rules:5: match has an empty value"},
    {RULE_HEAD "pattern = x\nmatch = x\nvalue_in = ,\n", "forum.rules:6: empty word list"},
};

START_TEST(test_bad_rule_file_is_an_error_naming_file_and_line)
{
    assert_load_error(bad_files[_i].text, 0, bad_files[_i].error);
}
END_TEST

START_TEST(test_value_in_word_too_long_is_refused)
{
    char text[600];
    char word[300];
    memset(word, 'a', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    snprintf(text, sizeof text, RULE_HEAD "pattern = x\nmatch = x\nvalue_in = %s\n", word);
    assert_load_error(text, 0, "forum.rules:6: value_in word longer than 255 bytes");
}
END_TEST

START_TEST(test_forum_rule_may_not_redefine_a_builtin_code)
{
    assert_load_error("[secret.jwt]\nseverity = info\nmessage = Mine.\npattern = x\nmatch = x\n", 1,
                      "forum.rules:1: rule secret.jwt defined twice (first at rules/secret.rules:");
}
END_TEST

START_TEST(test_overlong_line_is_refused_not_cut)
{
    size_t n = 9000;
    char *text = malloc(n + 64);
    strcpy(text, "[secret.x]\npattern = ");
    size_t used = strlen(text);
    memset(text + used, 'a', n);
    strcpy(text + used + n, "\n");
    assert_load_error(text, 0, "forum.rules:2: line longer than");
    free(text);
}
END_TEST

/* ------------------------------------------------------------------------- mask ---- */

START_TEST(test_mask_keeps_four_characters)
{
    char out[64];
    flags_mask("AKIAZ7QW3ERTY6UIOP4X", 20, out, sizeof out);
    ck_assert_str_eq(out, "AKIA****************");
    flags_mask("ñandú123", strlen("ñandú123"), out, sizeof out);
    ck_assert_str_eq(out, "ñand****");
    flags_mask("abc", 3, out, sizeof out);
    ck_assert_str_eq(out, "abc");
    flags_mask(NULL, 0, out, sizeof out);
    ck_assert_str_eq(out, "");
    flags_mask("abcdefgh-not-this", 8, out, sizeof out);
    ck_assert_str_eq(out, "abcd****");
}
END_TEST

/* ------------------------------------------------------------------ wording check ---- */

/* A post about personal data in bulk that contains none of it: no rule matches its words. */
static const char *const bulk_personal_data =
    "The customer list with names, home addresses, dates of birth and mobile phone numbers is "
    "attached below for the whole team to work through.";

START_TEST(test_wording_warns_where_no_rule_matched)
{
    char text[512];
    snprintf(text, sizeof text, "Here is the export you asked for.\n\n  %s  \nCheers",
             bulk_personal_data);
    json_t *flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.reads_like");
    ck_assert_str_eq(str_at(flags, 0, "severity"), "warning"); /* never critical */
    ck_assert_msg(strstr(str_at(flags, 0, "message"), "no personal-data rule matched"), "%s",
                  str_at(flags, 0, "message"));
    /* the span is the line with the evidence, without its surrounding spaces */
    size_t start = int_at(flags, 0, "start"), end = int_at(flags, 0, "end");
    ck_assert_uint_eq(start, (size_t)(strstr(text, "The customer") - text));
    ck_assert_uint_eq(end - start, strlen(bulk_personal_data));
    json_decref(flags);
}
END_TEST

START_TEST(test_wording_is_quiet_on_an_ordinary_answer)
{
    json_t *flags =
        scan("The flaky test waited on a timer. Replace `page.waitForTimeout(500)` with "
             "an assertion that waits for the element, then run `npm test` twice.\n\n"
             "```js\nawait expect(page.getByRole('button', { name: 'Save' }))"
             ".toBeEnabled();\n```\n");
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
    /* a one-liner is too short to judge by its words: these passed a threshold with 3 and 9 */
    flags = scan("Load post 353");
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
    flags = scan("Thanks for asking: the answer is in the runbook, section four.");
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
}
END_TEST

/* A rule of the family that matched, even one that says "info", has judged the text: the
 * words alone do not add a warning. The check runs with a forum's own rule set as well. */
START_TEST(test_wording_defers_to_a_rule_of_its_family)
{
    struct flags_ruleset *other = rules_of("[access.test_other]\nseverity = warning\n"
                                           "message = m\npattern = zzqq\nmatch = zzqq\n");
    struct flags_ruleset *own = rules_of("[pii.customer_list]\nseverity = info\nmessage = m\n"
                                         "pattern = customer list\nmatch_info = customer list\n");
    json_t *flags = scan_with(other, bulk_personal_data);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.reads_like");
    json_decref(flags);
    flags = scan_with(own, bulk_personal_data);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.customer_list");
    ck_assert_str_eq(str_at(flags, 0, "severity"), "info");
    json_decref(flags);
    flags_ruleset_free(other);
    flags_ruleset_free(own);
}
END_TEST

/* The wording check's secret flag marks prose that reads like a credential, not a value: pages
 * do not mask its line and Redact does not cut it out. A forum rule cannot take its name. */
START_TEST(test_wording_secret_flag_marks_no_value)
{
    ck_assert(flags_code_marks_secret("secret.aws_access_key"));
    ck_assert(flags_code_marks_secret("secret.reads_like_x"));
    ck_assert(!flags_code_marks_secret("secret.reads_like"));
    ck_assert(!flags_code_marks_secret("access.world_writable"));
    ck_assert(!flags_code_marks_secret("secret"));
    ck_assert(!flags_code_marks_secret(NULL));
    assert_load_error("[secret.reads_like]\nseverity = warning\nmessage = m\npattern = zzqq\n"
                      "match = zzqq\n",
                      1, "forum.rules:1: rule code secret.reads_like is the wording check's flag");
    assert_load_error("[mention.reads_like]\nseverity = warning\nmessage = m\npattern = zzqq\n"
                      "match = zzqq\n",
                      0, "rule code mention.reads_like is the wording check's flag");
}
END_TEST

/* Case and the bytes around words do not change what the check sees: ASCII letters are
 * lower-cased and any non-word byte separates words (the training script reads text so). */
START_TEST(test_wording_reads_words_whatever_their_case_and_separators)
{
    json_t *flags = scan("THE CUSTOMER LIST WITH NAMES,\tHOME ADDRESSES;DATES OF BIRTH|AND MOBILE "
                         "PHONE NUMBERS IS ATTACHED BELOW FOR THE WHOLE TEAM TO WORK THROUGH.");
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.reads_like");
    json_decref(flags);
    /* a token longer than any feature (a pasted blob) is skipped, not cut or overrun */
    char text[1024];
    memset(text, 'q', 600);
    snprintf(text + 600, sizeof text - 600, " %s", bulk_personal_data);
    flags = scan(text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.reads_like");
    ck_assert_uint_eq(int_at(flags, 0, "start"), 0); /* the line with the evidence */
    json_decref(flags);
}
END_TEST

/* A forum's [wording] section names the families the check runs for; none turns it off. */
START_TEST(test_wording_section_chooses_the_families)
{
    char error[512];
    struct flags_ruleset *rs = NULL;
    const char *off = "[wording]\nfamilies = none\n";
    ck_assert_msg(
        flags_ruleset_parse("forum.rules", off, strlen(off), 1, &rs, error, sizeof error) == 0,
        "%s", error);
    json_t *flags = scan_with(rs, bulk_personal_data);
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
    flags_ruleset_free(rs);
    const char *some = "[wording]\nfamilies = secret, PII\n";
    ck_assert_msg(
        flags_ruleset_parse("forum.rules", some, strlen(some), 1, &rs, error, sizeof error) == 0,
        "%s", error);
    flags = scan_with(rs, bulk_personal_data);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_str_eq(str_at(flags, 0, "code"), "pii.reads_like");
    json_decref(flags);
    flags_ruleset_free(rs);
    const char *others = "[wording]\nfamilies = secret, access, destructive, mention\n";
    ck_assert_msg(flags_ruleset_parse("forum.rules", others, strlen(others), 1, &rs, error,
                                      sizeof error) == 0,
                  "%s", error);
    flags = scan_with(rs, bulk_personal_data);
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
    flags_ruleset_free(rs);
}
END_TEST

START_TEST(test_wording_section_errors_name_the_line)
{
    assert_load_error("[wording]\nfamilies = pii, secrets\n", 0,
                      "forum.rules:2: unknown family in [wording] \"secrets\" (secret, access");
    assert_load_error("[wording]\nfamilies = none, pii\n", 0,
                      "forum.rules:2: unknown family in [wording] \"none\" (");
    assert_load_error("[wording]\nthreshold = 3\n", 0,
                      "forum.rules:2: unknown key \"threshold\" in [wording] (only families)");
    assert_load_error("[wording]\nfamilies = pii\nfamilies = secret\n", 0,
                      "forum.rules:3: families given twice in [wording]");
    assert_load_error("[wording]\nfamilies = pii\n[wording]\nfamilies = secret\n", 0,
                      "forum.rules:3: a second [wording] section");
}
END_TEST

START_TEST(test_mask_truncates_to_output_size)
{
    char out[7];
    flags_mask("password=hunter2", 16, out, sizeof out);
    ck_assert_str_eq(out, "pass**");
    char tiny[4];
    flags_mask("ññññ", strlen("ññññ"), tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "ñ"); /* never cuts a character in half */
    char none[1] = {'x'};
    flags_mask("secret", 6, none, sizeof none);
    ck_assert_str_eq(none, "");
}
END_TEST

static Suite *flags_suite(void)
{
    Suite *s = suite_create("flags");
    TCase *catalogue = tcase_create("catalogue");
    /* A safety net, not a bound: checking every example scans with the whole catalogue, which
     * takes minutes under AddressSanitizer on a loaded 2-core machine. */
    tcase_set_timeout(catalogue, 600);
    tcase_add_test(catalogue, test_every_builtin_rule_example_holds);
    tcase_add_test(catalogue, test_catalogue_covers_every_family);
    tcase_add_test(catalogue, test_builtin_uses_hyperscan_when_built_with_it);
    tcase_add_test(catalogue, test_each_expression_is_every_pattern_as_hyperscan_runs_it);
    suite_add_tcase(s, catalogue);

    /* The two catalogue checks that build other rule sets (PCRE2 alone; the whole catalogue
     * compiled again) take most of this file's time under AddressSanitizer. Each is tagged
     * so that CMakeLists.txt runs it as a ctest entry of its own, beside the rest. */
    TCase *pcre2_alone = tcase_create("catalogue_pcre2_alone");
    tcase_set_tags(pcre2_alone, "pcre2_alone");
    tcase_set_timeout(pcre2_alone, 600);
    tcase_add_test(pcre2_alone, test_every_builtin_rule_example_holds_with_pcre2_alone);
    suite_add_tcase(s, pcre2_alone);
    /* this one compiles the whole catalogue twice (fresh, and after its bytes are spoilt) */
    TCase *precompiled = tcase_create("catalogue_precompiled");
    tcase_set_tags(precompiled, "precompiled");
    tcase_set_timeout(precompiled, 600);
    tcase_add_test(precompiled, test_precompiled_database_is_used_only_for_its_rules);
    suite_add_tcase(s, precompiled);

    TCase *shape = tcase_create("shape");
    tcase_add_test(shape, test_flag_has_contract_shape_and_exact_span);
    tcase_add_test(shape, test_secret_flag_spans_its_setting);
    tcase_add_test(shape, test_flags_come_in_start_order_across_rules);
    tcase_add_test(shape, test_utf8_before_match_gives_byte_offsets);
    tcase_add_test(shape, test_command_in_inline_code_ends_with_the_code_span);
    tcase_add_test(shape, test_field_name_is_copied_and_flags_are_appended);
    tcase_add_test(shape, test_empty_and_null_text_give_no_flags);
    tcase_add_test(shape, test_invalid_arguments_are_refused);
    tcase_add_test(shape, test_out_of_memory_returns_error_and_leaves_flags_unchanged);
    suite_add_tcase(s, shape);

    TCase *wording = tcase_create("wording");
    tcase_add_test(wording, test_wording_warns_where_no_rule_matched);
    tcase_add_test(wording, test_wording_is_quiet_on_an_ordinary_answer);
    tcase_add_test(wording, test_wording_defers_to_a_rule_of_its_family);
    tcase_add_test(wording, test_wording_secret_flag_marks_no_value);
    tcase_add_test(wording, test_wording_reads_words_whatever_their_case_and_separators);
    tcase_add_test(wording, test_wording_section_chooses_the_families);
    tcase_add_test(wording, test_wording_section_errors_name_the_line);
    suite_add_tcase(s, wording);

    TCase *engines = tcase_create("engines");
    tcase_set_timeout(engines, 600);
    tcase_add_test(engines, test_engines_agree_on_the_dev_corpus);
    tcase_add_test(engines, test_any_bytes_scan_safely_and_engines_agree);
    tcase_add_test(engines, test_patterns_hyperscan_cannot_run_are_prefiltered);
    tcase_add_test(engines, test_value_in_flags_only_a_listed_word_in_any_case);
    tcase_add_test(engines, test_leading_look_behind_keeps_matches_exact);
    tcase_add_test(engines, test_class_led_part_before_a_gap_keeps_matches_exact);
    tcase_add_test(engines, test_class_led_part_is_kept_when_the_rest_can_match_nothing);
    suite_add_tcase(s, engines);

    TCase *context = tcase_create("context");
    tcase_add_test(context, test_advice_against_is_not_critical);
    tcase_add_test(context, test_advice_against_in_more_languages);
    tcase_add_test(context, test_scratch_target_holds_critical_to_warning);
    tcase_add_test(context, test_a_heading_of_donts_covers_its_section);
    tcase_add_test(context, test_a_bare_refusal_after_a_block_advises_against_it);
    tcase_add_test(context, test_doing_it_is_flagged_even_near_negations);
    tcase_add_test(context, test_local_build_output_vs_shared_paths);
    tcase_add_test(context, test_delete_with_where_is_not_flagged);
    tcase_add_test(context, test_scratch_target_is_not_critical);
    tcase_add_test(context, test_scratch_variable_is_read_from_its_assignment);
    tcase_add_test(context, test_text_saying_no_risk_is_not_critical);
    tcase_add_test(context, test_access_taken_away_is_not_critical);
    tcase_add_test(context, test_recoverable_loss_and_web_ports_are_not_critical);
    tcase_add_test(context, test_sandbox_credential_is_not_critical);
    tcase_add_test(context, test_stakes_stated_around_a_block_raise_it);
    tcase_add_test(context, test_personal_detail_with_sensitive_data_is_critical);
    tcase_add_test(context, test_placeholders_and_documented_keys_are_not_secrets);
    tcase_add_test(context, test_personal_data_in_bulk_is_critical);
    tcase_add_test(context, test_mentions_count_in_prose_only);
    tcase_add_test(context, test_many_mentions_give_one_flag_from_first_to_last);
    tcase_add_test(context, test_language_restricts_fenced_blocks_only);
    tcase_add_test(context, test_public_address_entropy_checksum_and_url_checks);
    tcase_add_test(context, test_checksum_schemes_accept_valid_numbers_only);
    tcase_add_test(context, test_near_words_and_nearest_cue);
    tcase_add_test(context, test_near_words_decode_hex_escapes);
    tcase_add_test(context, test_not_near_reads_prose_and_its_own_block_not_other_blocks);
    tcase_add_test(context, test_overlapping_flags_of_one_family_keep_the_first_rule);
    tcase_add_test(context, test_a_flag_that_loses_an_overlap_takes_no_other_with_it);
    suite_add_tcase(s, context);

    TCase *loader = tcase_create("loader");
    tcase_set_timeout(loader, 120); /* a forum file compiles the whole catalogue again */
    tcase_add_test(loader, test_forum_file_adds_rules_and_allow_entries);
    tcase_add_test(loader, test_missing_rule_file_names_the_path);
    tcase_add_loop_test(loader, test_bad_rule_file_is_an_error_naming_file_and_line, 0,
                        (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(loader, test_forum_rule_may_not_redefine_a_builtin_code);
    tcase_add_test(loader, test_value_in_word_too_long_is_refused);
    tcase_add_test(loader, test_overlong_line_is_refused_not_cut);
    suite_add_tcase(s, loader);

    TCase *mask = tcase_create("mask");
    tcase_add_test(mask, test_mask_keeps_four_characters);
    tcase_add_test(mask, test_mask_truncates_to_output_size);
    suite_add_tcase(s, mask);
    return s;
}

int main(void)
{
    /* Load the built-in rules once, as agentgate does, before Check forks a process per test. */
    char error[512];
    flags_precompiled_register(flags_precompiled_bytes, flags_precompiled_length);
    if (!flags_builtin(error, sizeof error)) {
        fprintf(stderr, "%s\n", error);
        return EXIT_FAILURE;
    }
    return unit_run(flags_suite());
}
