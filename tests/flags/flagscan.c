/* flagscan — runs the real flag scanner (lib/flags) over posts, for the corpus evaluation
 * (tests/flags/evaluate) and the benchmark (tests/bench/flags.sh).
 *
 *   flagscan [--rules FILE] [--check] [--time ROUNDS] [--info]  < posts.jsonl
 *
 * Reads one JSON object per line ({"id", "title", "body", …}) and writes one line per post:
 * {"id": …, "flags": [...]} with the flags of the title and body (CONTRACT §8 shape), each
 * with "marks_secret": whether its span is a secret value (flags_code_marks_secret).
 * --rules FILE   scans with the built-in rules plus a forum rule file (as flag_rules does)
 * --check        checks every rule's examples instead, printing the first failure; exit 1 on any
 * --time ROUNDS  scans each body ROUNDS times and prints, per post, the median and worst CPU
 *                microseconds of one scan instead of flags: {"id", "bytes", "median_us",
 *                "worst_us"}
 * --info         prints the engine and rule counts per family
 * Exit status: 0, 1 on a scan or rule error, 2 on bad usage or input.
 */
#include "flags.h"
#include "tool.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int scan_post(const struct flags_ruleset *rs, json_t *post, json_t *flags)
{
    const char *fields[] = {"title", "body"};
    for (size_t i = 0; i < 2; i++) {
        json_t *value = json_object_get(post, fields[i]);
        if (json_is_string(value) && flags_scan_with(rs, fields[i], json_string_value(value),
                                                     json_string_length(value), flags) != 0)
            return -1;
    }
    return 0;
}

static int time_post(const struct flags_ruleset *rs, json_t *post, long rounds)
{
    json_t *body = json_object_get(post, "body");
    double *samples = calloc((size_t)rounds, sizeof *samples);
    if (!json_is_string(body) || !samples) {
        free(samples);
        return -1;
    }
    for (long r = -1; r < rounds; r++) { /* round -1 warms caches and the scratch pool */
        json_t *flags = json_array();
        double t0 = now_us();
        int rc =
            flags_scan_with(rs, "body", json_string_value(body), json_string_length(body), flags);
        if (r >= 0)
            samples[r] = now_us() - t0;
        json_decref(flags);
        if (rc != 0) {
            free(samples);
            return -1;
        }
    }
    qsort(samples, (size_t)rounds, sizeof *samples, compare_doubles);
    json_t *out = json_pack("{s:O, s:I, s:f, s:f}", "id", json_object_get(post, "id"), "bytes",
                            (json_int_t)json_string_length(body), "median_us", samples[rounds / 2],
                            "worst_us", samples[rounds - 1]);
    free(samples);
    if (!out)
        return -1;
    char *line = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (!line)
        return -1;
    puts(line);
    free(line);
    return 0;
}

/* Adds "marks_secret" to each flag: whether pages treat its span as a secret value (masked,
 * counted, redactable), as lib/flags decides it, so that evaluate masks exactly those. */
static int mark_secrets(json_t *flags)
{
    size_t i;
    json_t *flag;
    json_array_foreach(flags, i, flag)
    {
        const char *code = json_string_value(json_object_get(flag, "code"));
        if (!code || json_object_set_new(flag, "marks_secret",
                                         json_boolean(flags_code_marks_secret(code))) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *rules = NULL;
    long rounds = 0;
    int check = 0, info = 0;
    char error[16384];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            rules = argv[++i];
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (strcmp(argv[i], "--info") == 0)
            info = 1;
        else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            rounds = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: flagscan [--rules FILE] [--check] [--time ROUNDS] [--info]"
                            " < posts.jsonl\n");
            return 2;
        }
    }

    struct flags_ruleset *loaded;
    const struct flags_ruleset *rs = ruleset_arg("flagscan", rules, &loaded);
    if (!rs)
        return 1;
    if (info) {
        printf("engine %s, %zu rules:", flags_ruleset_engine(rs),
               flags_ruleset_rule_count(rs, NULL));
        for (size_t i = 0; i < TOOL_FAMILIES; i++)
            printf(" %s %zu", tool_families[i], flags_ruleset_rule_count(rs, tool_families[i]));
        printf("\n");
        flags_ruleset_free(loaded);
        return 0;
    }
    if (check) {
        int failures = flags_ruleset_check_examples(rs, error, sizeof error);
        if (failures != 0)
            fprintf(stderr, "flagscan: %d failing examples:\n%s\n", failures, error);
        flags_ruleset_free(loaded);
        return failures == 0 ? 0 : 1;
    }

    int status = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t json_error;
        json_t *post = json_loadb(line, (size_t)n, 0, &json_error);
        if (!json_is_object(post)) {
            fprintf(stderr, "flagscan: bad input line: %s\n", json_error.text);
            json_decref(post);
            status = 2;
            break;
        }
        if (rounds > 0) {
            if (time_post(rs, post, rounds) != 0)
                status = 1;
        } else {
            json_t *flags = json_array();
            if (!flags || scan_post(rs, post, flags) != 0 || mark_secrets(flags) != 0) {
                status = 1;
            } else {
                json_t *out =
                    json_pack("{s:O, s:O}", "id", json_object_get(post, "id"), "flags", flags);
                char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
                if (text)
                    puts(text);
                else
                    status = 1;
                free(text);
                json_decref(out);
            }
            json_decref(flags);
        }
        json_decref(post);
        if (status != 0)
            break;
    }
    free(line);
    flags_ruleset_free(loaded);
    return status;
}
