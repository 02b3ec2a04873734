/* flagcost — what each flag rule costs the Hyperscan pass, for tests/bench/flags.sh --by-rule.
 *
 *   flagcost [--rules FILE] [--rounds N] [--top N]  < posts.jsonl
 *
 * The scan's time is mostly Hyperscan's, and Hyperscan's time is not the sum of its patterns':
 * one database shares its literal matcher and engines. So for each post's body it prints the
 * CPU microseconds of one hs_scan (median of N rounds, default 21) of
 *   - every pattern in one database ("whole_us"), as flags_scan runs the built-in rules (a
 *     forum's own patterns are a second database there, small beside the built-in one);
 *   - the whole database without each family's patterns ("without": {"secret": µs, …}): the
 *     family's share is the difference;
 *   - each rule's patterns alone in a database of their own ("rules": the --top N, default 20,
 *     costliest, with "solo_us" and "candidates", the match ends Hyperscan reports that PCRE2
 *     then confirms). A rule that is costly alone usually keeps Hyperscan busy in the whole
 *     database too, but the figures do not add up to whole_us.
 * Every figure scans one database many times in a row, so its bytecode is in the cache: small
 * databases look cheaper than they are in a real scan, which meets each database once between
 * other work (docs/flags.md, "Splitting the Hyperscan database"). Read them as a ranking.
 * One JSON line per post. Exit status: 0; 1 when a database cannot be built or the build scans
 * with PCRE2 alone; 2 on bad usage or input.
 */
#include "flags.h"
#include "tool.h"

#include <hs/hs.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pattern {
    char *code, *family, *expression;
    unsigned flags;
};

struct patterns {
    struct pattern *items;
    size_t count, cap;
    int failed;
};

struct rule_cost {
    const char *code, *family;
    size_t patterns;
    hs_database_t *database; /* the rule's patterns alone */
    double solo_us;          /* for the post being measured */
    unsigned long candidates;
};

/* Compiled once, measured on every post. */
struct databases {
    hs_database_t *whole, *without[TOOL_FAMILIES];
    struct rule_cost *rules;
    size_t rule_count;
};

static void collect(void *context, const char *code, const char *family, const char *expression,
                    unsigned flags)
{
    struct patterns *all = context;
    if (all->count == all->cap) {
        size_t cap = all->cap ? 2 * all->cap : 256;
        struct pattern *items = realloc(all->items, cap * sizeof *items);
        if (!items) {
            all->failed = 1;
            return;
        }
        all->items = items;
        all->cap = cap;
    }
    struct pattern *p = &all->items[all->count];
    p->code = strdup(code);
    p->family = strdup(family);
    p->expression = strdup(expression);
    p->flags = flags;
    if (!p->code || !p->family || !p->expression)
        all->failed = 1;
    all->count++;
}

static int count_candidate(unsigned id, unsigned long long from, unsigned long long to,
                           unsigned flags, void *context)
{
    (void)id, (void)from, (void)to, (void)flags;
    ++*(unsigned long *)context;
    return 0;
}

/* One database of the patterns of rule `only_code` (NULL: of every rule) but not those of
 * family `without_family` (NULL: none left out); NULL on failure. */
static hs_database_t *database_of(const struct patterns *all, const char *only_code,
                                  const char *without_family)
{
    const char **expressions = calloc(all->count, sizeof *expressions);
    unsigned *flags = calloc(all->count, sizeof *flags), *ids = calloc(all->count, sizeof *ids);
    hs_database_t *database = NULL;
    hs_compile_error_t *error = NULL;
    size_t n = 0;

    for (size_t i = 0; expressions && flags && ids && i < all->count; i++) {
        if ((only_code && strcmp(all->items[i].code, only_code) != 0) ||
            (without_family && strcmp(all->items[i].family, without_family) == 0))
            continue;
        expressions[n] = all->items[i].expression;
        flags[n] = all->items[i].flags;
        ids[n] = (unsigned)i;
        n++;
    }
    if (n > 0 && hs_compile_multi(expressions, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL,
                                  &database, &error) != HS_SUCCESS) {
        fprintf(stderr, "flagcost: %s\n", error ? error->message : "cannot compile");
        database = NULL;
    }
    hs_free_compile_error(error);
    free(expressions);
    free(flags);
    free(ids);
    return database;
}

/* The median CPU µs of scanning `text` with `database` over `rounds` scans after a warm-up,
 * *candidates the match ends one scan reports; -1 on failure. */
static double scan_cost(const hs_database_t *database, const char *text, size_t length, long rounds,
                        unsigned long *candidates)
{
    double *times = calloc((size_t)rounds, sizeof *times), result = -1;
    hs_scratch_t *scratch = NULL;

    if (!times || hs_alloc_scratch(database, &scratch) != HS_SUCCESS)
        goto done;
    for (long r = 0; r <= rounds; r++) { /* round 0 warms the caches */
        *candidates = 0;
        double start = now_us();
        if (hs_scan(database, text, (unsigned)length, 0, scratch, count_candidate, candidates) !=
            HS_SUCCESS)
            goto done;
        if (r > 0)
            times[r - 1] = now_us() - start;
    }
    qsort(times, (size_t)rounds, sizeof *times, compare_doubles);
    result = times[rounds / 2];
done:
    hs_free_scratch(scratch);
    free(times);
    return result;
}

static int compare_costs(const void *a, const void *b)
{
    const struct rule_cost *x = a, *y = b;
    return x->solo_us > y->solo_us ? -1 : x->solo_us < y->solo_us;
}

/* Builds every database; 0, or -1 when one cannot be built. */
static int databases_build(const struct patterns *all, struct databases *d)
{
    if (!(d->whole = database_of(all, NULL, NULL)))
        return -1;
    for (size_t f = 0; f < TOOL_FAMILIES; f++)
        if (!(d->without[f] = database_of(all, NULL, tool_families[f])))
            return -1;
    if (!(d->rules = calloc(all->count, sizeof *d->rules)))
        return -1;
    for (size_t i = 0; i < all->count; i++) { /* a rule's patterns are consecutive */
        struct rule_cost *last = d->rule_count ? &d->rules[d->rule_count - 1] : NULL;
        if (last && strcmp(last->code, all->items[i].code) == 0)
            last->patterns++;
        else
            d->rules[d->rule_count++] = (struct rule_cost){
                .code = all->items[i].code, .family = all->items[i].family, .patterns = 1};
    }
    for (size_t r = 0; r < d->rule_count; r++)
        if (!(d->rules[r].database = database_of(all, d->rules[r].code, NULL)))
            return -1;
    return 0;
}

static void databases_free(struct databases *d)
{
    hs_free_database(d->whole);
    for (size_t f = 0; f < TOOL_FAMILIES; f++)
        hs_free_database(d->without[f]);
    for (size_t r = 0; r < d->rule_count; r++)
        hs_free_database(d->rules[r].database);
    free(d->rules);
}

/* One post's line; 0, or -1 when a scan fails. */
static int cost_post(struct databases *d, json_t *post, long rounds, long top)
{
    const char *text = json_string_value(json_object_get(post, "body"));
    size_t length = json_string_length(json_object_get(post, "body"));
    json_t *out =
        json_pack("{s:O, s:I}", "id", json_object_get(post, "id"), "bytes", (json_int_t)length);
    json_t *without = json_object(), *costly = json_array();
    unsigned long candidates = 0;
    int rc = -1;

    if (!out || !without || !costly)
        goto done;
    double whole = scan_cost(d->whole, text, length, rounds, &candidates);
    if (whole < 0 || json_object_set_new(out, "whole_us", json_real(whole)) != 0 ||
        json_object_set_new(out, "candidates", json_integer((json_int_t)candidates)) != 0)
        goto done;
    for (size_t f = 0; f < TOOL_FAMILIES; f++) {
        double us = scan_cost(d->without[f], text, length, rounds, &candidates);
        if (us < 0 || json_object_set_new(without, tool_families[f], json_real(us)) != 0)
            goto done;
    }
    for (size_t r = 0; r < d->rule_count; r++) {
        struct rule_cost *rule = &d->rules[r];
        if ((rule->solo_us = scan_cost(rule->database, text, length, rounds, &rule->candidates)) <
            0)
            goto done;
    }
    qsort(d->rules, d->rule_count, sizeof *d->rules, compare_costs);
    for (size_t r = 0; r < d->rule_count && (long)r < top; r++) {
        const struct rule_cost *rule = &d->rules[r];
        if (json_array_append_new(
                costly, json_pack("{s:s, s:s, s:I, s:f, s:I}", "code", rule->code, "family",
                                  rule->family, "patterns", (json_int_t)rule->patterns, "solo_us",
                                  rule->solo_us, "candidates", (json_int_t)rule->candidates)) != 0)
            goto done;
    }
    json_object_set(out, "without", without);
    json_object_set(out, "rules", costly);
    char *line = json_dumps(out, JSON_COMPACT);
    if (line) {
        puts(line);
        rc = 0;
    }
    free(line);
done:
    json_decref(without);
    json_decref(costly);
    json_decref(out);
    return rc;
}

int main(int argc, char **argv)
{
    const char *rules_path = NULL;
    long rounds = 21, top = 20;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            rules_path = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            rounds = atol(argv[++i]);
        else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc && atol(argv[i + 1]) > 0)
            top = atol(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: flagcost [--rules FILE] [--rounds N] [--top N] < posts.jsonl\n");
            return 2;
        }
    }
    struct flags_ruleset *loaded;
    const struct flags_ruleset *rs = ruleset_arg("flagcost", rules_path, &loaded);
    if (!rs)
        return 1;
    struct patterns all = {0};
    struct databases databases = {0};
    int each = flags_ruleset_each_expression(rs, collect, &all);
    int status = 0;
    if (each != 0 || all.failed || databases_build(&all, &databases) != 0) {
        fprintf(stderr, "flagcost: %s\n",
                each == 1 ? "this build scans with PCRE2 alone" : "cannot build the databases");
        status = 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (status == 0 && (n = getline(&line, &cap, stdin)) > 0) {
        json_error_t json_error;
        json_t *post = json_loadb(line, (size_t)n, 0, &json_error);
        if (!json_is_object(post) || !json_is_string(json_object_get(post, "body"))) {
            fprintf(stderr, "flagcost: bad input line (want a JSON object with a string body)\n");
            status = 2;
        } else if (cost_post(&databases, post, rounds, top) != 0) {
            status = 1;
        }
        json_decref(post);
    }
    free(line);
    databases_free(&databases);
    for (size_t i = 0; i < all.count; i++) {
        free(all.items[i].code);
        free(all.items[i].family);
        free(all.items[i].expression);
    }
    free(all.items);
    flags_ruleset_free(loaded);
    return status;
}
