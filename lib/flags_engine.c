/* flags_engine.c — compiles flag rules and scans text with them (CONTRACT §8).
 *
 * Matching happens in two steps:
 *  1. Hyperscan scans the text once for every pattern of every rule at the same time and
 *     reports where a match may end (patterns Hyperscan cannot run exactly — look-arounds,
 *     back-references — are compiled in its prefilter mode, which reports a superset).
 *  2. For each reported end, PCRE2 (JIT) confirms the match and captures its `value` group,
 *     searching only the window where such a match can start ([end - max width, end], the
 *     width Hyperscan computes for the pattern). Matches are PCRE's leftmost, non-overlapping
 *     matches per pattern: exactly those a plain PCRE2 loop over the text would find, which is
 *     what the engine does when Hyperscan is not available (built without it, or a CPU
 *     without SSSE3). Both paths give the same flags; the unit tests run both.
 * Each confirmed match then passes its rule's checks (allow-list, placeholders, entropy,
 * checksum, nearby words, code or prose and language, public address) and gets its severity
 * (path targets, advice against, bulk). Flags of one family that overlap are merged, keeping
 * the most severe.
 *
 * Invariants: a rule set is immutable after build; the only shared mutable state is the pool
 * of Hyperscan scratch spaces, behind a mutex. A scan allocates its working memory per call.
 * All offsets stay inside [0, length]; subjects are passed with their length, never as C
 * strings, so any bytes (NUL included) are scanned safely.
 */
#include "flags.h"
#include "flags_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sodium.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef AGENTGATE_HAVE_HYPERSCAN
#include <hs/hs.h>
#endif

enum {
    MATCH_LIMIT = 200000, /* PCRE2 backtracking bound per search: no pattern can stall a scan */
    DEPTH_LIMIT = 10000,
    SCRATCH_POOL_MAX = 16, /* idle Hyperscan scratch spaces kept for reuse */
    HYPERSCAN_GAP = 16,    /* bounded repeats at least this wide are opened for Hyperscan */
    CLUSTER_GAP = 64       /* candidate ends closer than this are confirmed by one search */
};

struct compiled_pattern {
    pcre2_code *re;
    size_t rule;      /* index into rules */
    int value_group;  /* number of the "value" group, or -1 */
    size_t max_width; /* longest match in bytes (SIZE_MAX: unbounded) */
};

struct scratch_pool {
    pthread_mutex_t lock;
#ifdef AGENTGATE_HAVE_HYPERSCAN
    hs_scratch_t *prototype;
    hs_scratch_t *idle[SCRATCH_POOL_MAX];
    size_t idle_count;
#endif
};

struct flags_ruleset {
    struct flag_rule_file file; /* the rules and global allow-list, as read */
    struct compiled_pattern *patterns;
    size_t pattern_count;
    pcre2_code **allow;       /* global allow-list */
    pcre2_code ***rule_allow; /* per rule: its allow patterns (rule.allow.count each) */
    uint32_t max_ovector;     /* capture pairs any pattern needs */
    bool needs_markdown;      /* some rule asks where a match is or advice against */
#ifdef AGENTGATE_HAVE_HYPERSCAN
    hs_database_t *database; /* NULL: scan with PCRE2 alone */
    /* A forum's rule set puts its own rules first, then the built-in ones. When those are the
     * rules the precompiled database was compiled from, `database` is that one (its pattern
     * ids start at 0: add database_id_base) and extra_database holds the forum's own patterns
     * (ids 0 up); otherwise extra_database is NULL and database holds every pattern. */
    hs_database_t *extra_database;
    unsigned database_id_base;
#endif
    size_t own_rules; /* leading rules that are a forum's own, before the built-in ones */
    unsigned char fingerprint[32]; /* of the patterns, in order (patterns_fingerprint) */
    struct scratch_pool *pool;
};

/* A Hyperscan database compiled when the program was built (tools/flags_precompile writes it,
 * with its patterns' widths: precompiled_header_size). A rule set whose patterns have its
 * fingerprint loads it instead of compiling, which takes about a CPU second for the built-in
 * rules. Registered once at start-up, before any rule set is built. */
static const unsigned char *precompiled_bytes;
static size_t precompiled_length;

void flags_precompiled_register(const unsigned char *bytes, size_t length)
{
    precompiled_bytes = bytes;
    precompiled_length = length;
}

/* ------------------------------------------------------------------ compilation ---- */

__attribute__((format(printf, 3, 4))) static void say(char *error, size_t size, const char *f, ...)
{
    if (!error || size == 0)
        return;
    va_list ap;
    va_start(ap, f);
    vsnprintf(error, size, f, ap);
    va_end(ap);
}

/* Offset of the first unbounded repeat ("*", "+", "{n,}") of a pattern, or -1. Rule patterns
 * must be bounded: the longest match decides how far back a candidate is confirmed from,
 * so an unbounded one would make every confirmation rescan the text from its start. */
static long unbounded_repeat_at(const char *p)
{
    bool in_class = false, after_quantifier = false;
    for (size_t i = 0; p[i]; i++) {
        char c = p[i];
        if (c == '\\' && p[i + 1]) {
            i++;
            after_quantifier = false;
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            continue;
        }
        if (c == '[') {
            in_class = true;
            if (p[i + 1] == '^')
                i++;
            if (p[i + 1] == ']')
                i++;
            after_quantifier = false;
            continue;
        }
        if (c == '(' && p[i + 1] == '?') { /* "(?" opens a group, not a quantifier */
            i++;
            after_quantifier = false;
            continue;
        }
        if ((c == '*' || c == '+') && !after_quantifier)
            return (long)i;
        if (c == '{') {
            size_t j = i + 1;
            while (p[j] >= '0' && p[j] <= '9')
                j++;
            if (j > i + 1 && p[j] == ',' && p[j + 1] == '}')
                return (long)i;
        }
        after_quantifier = c == '*' || c == '+' || c == '?' || c == '}';
    }
    return -1;
}

static pcre2_code *regex_compile(const char *pattern, const char *where, char *error,
                                 size_t error_size)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_MULTILINE | PCRE2_USE_OFFSET_LIMIT, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR message[160];
        pcre2_get_error_message(code, message, sizeof message);
        say(error, error_size, "%s: bad pattern at offset %zu: %s", where, (size_t)offset,
            (const char *)message);
        return NULL;
    }
    uint32_t min_length = 0;
    pcre2_pattern_info(re, PCRE2_INFO_MINLENGTH, &min_length);
    if (min_length == 0) {
        say(error, error_size, "%s: pattern can match empty text: %s", where, pattern);
        pcre2_code_free(re);
        return NULL;
    }
    /* JIT is an optimisation: when it is unavailable, the interpreter runs the same pattern. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

void flags_ruleset_free(struct flags_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->pattern_count; i++)
        pcre2_code_free(rs->patterns[i].re);
    free(rs->patterns);
    if (rs->allow)
        for (size_t i = 0; i < rs->file.allow.count; i++)
            pcre2_code_free(rs->allow[i]);
    free(rs->allow);
    if (rs->rule_allow) {
        for (size_t r = 0; r < rs->file.rule_count; r++) {
            if (rs->rule_allow[r])
                for (size_t i = 0; i < rs->file.rules[r].allow.count; i++)
                    pcre2_code_free(rs->rule_allow[r][i]);
            free(rs->rule_allow[r]);
        }
    }
    free(rs->rule_allow);
#ifdef AGENTGATE_HAVE_HYPERSCAN
    hs_free_database(rs->database);
    hs_free_database(rs->extra_database);
    if (rs->pool) {
        for (size_t i = 0; i < rs->pool->idle_count; i++)
            hs_free_scratch(rs->pool->idle[i]);
        hs_free_scratch(rs->pool->prototype);
    }
#endif
    if (rs->pool)
        pthread_mutex_destroy(&rs->pool->lock);
    free(rs->pool);
    flag_rule_file_free(&rs->file);
    free(rs);
}

#ifdef AGENTGATE_HAVE_HYPERSCAN
/* Length of the option setting a pattern opens with ("(?i)", "(?im)"), or 0. */
static size_t leading_options_length(const char *pattern)
{
    size_t i;
    if (pattern[0] != '(' || pattern[1] != '?')
        return 0;
    for (i = 2; (pattern[i] >= 'a' && pattern[i] <= 'z') || pattern[i] == '-'; i++)
        ;
    return pattern[i] == ')' && i > 2 ? i + 1 : 0;
}

/* Length of the openers a pattern part starts with that match nothing by themselves: groups
 * ("(", "(?:", "(?<name>", "(?-i:"), "\b" and "^". */
static size_t openers_length(const char *p)
{
    size_t i = 0;
    for (;;) {
        if (p[i] == '\\' && p[i + 1] == 'b') {
            i += 2;
        } else if (p[i] == '^') {
            i++;
        } else if (p[i] == '(' && p[i + 1] != '?') {
            i++;
        } else if (p[i] == '(' && p[i + 1] == '?' && p[i + 2] == ':') {
            i += 3;
        } else if (p[i] == '(' && p[i + 1] == '?' && p[i + 2] == '<' && p[i + 3] != '=' &&
                   p[i + 3] != '!') {
            const char *close = strchr(p + i, '>');
            if (!close)
                return i;
            i = (size_t)(close - p) + 1;
        } else if (p[i] == '(' && p[i + 1] == '?' && strspn(p + i + 2, "imsx-") > 0 &&
                   p[i + 2 + strspn(p + i + 2, "imsx-")] == ':') {
            i += 3 + strspn(p + i + 2, "imsx-");
        } else {
            return i;
        }
    }
}

/* Hyperscan's view of `expression`: compiled exactly, else as a prefilter (*flags gets the
 * flags that worked). NULL when it takes neither way, with *message saying why (free it with
 * hs_free_compile_error). */
static hs_expr_info_t *expression_info(const char *expression, unsigned *flags,
                                       hs_compile_error_t **message)
{
    hs_expr_info_t *info = NULL;
    *flags = HS_FLAG_MULTILINE;
    *message = NULL;
    if (hs_expression_info(expression, *flags, &info, message) == HS_SUCCESS)
        return info;
    hs_free_compile_error(*message);
    *message = NULL;
    *flags |= HS_FLAG_PREFILTER;
    if (hs_expression_info(expression, *flags, &info, message) == HS_SUCCESS)
        return info;
    return NULL;
}

/* Whether Hyperscan takes the expression's leading options followed by `rest` alone, and every
 * match of it has at least one byte: a part that can match nothing ("(?:x)?") would propose
 * every offset, and Hyperscan refuses it. */
static bool finds_text_alone(const char *expression, const char *body, const char *rest)
{
    size_t lead = (size_t)(body - expression), n = strlen(rest);
    char *alone = malloc(lead + n + 1);
    hs_compile_error_t *message = NULL;
    unsigned flags;
    bool found = false;
    if (!alone)
        return false;
    memcpy(alone, expression, lead);
    memcpy(alone + lead, rest, n + 1);
    hs_expr_info_t *info = expression_info(alone, &flags, &message);
    if (info)
        found = info->min_width > 0;
    hs_free_compile_error(message);
    free(info);
    free(alone);
    return found;
}

/* Drops from a Hyperscan expression what comes before its first open gap ("[^\n]*") when that
 * part starts with a character class: "Name Surname ... diagnosis" becomes "diagnosis".
 * Hyperscan has no literal to find a class-led part by, so it runs an automaton for it at
 * every byte; the part after the gap is what it can find cheaply. Every end of a match of the
 * whole pattern is an end of a match of that part, so the candidates stay a superset, and
 * PCRE2 still confirms each within the exact pattern's width. Only a gap outside every group
 * and alternation qualifies, and only when the dropped part sets no option for the rest. */
static void drop_class_led_prefix(char *expression)
{
    static const char gap[] = "[^\\n]*";
    char *body = expression + leading_options_length(expression);
    size_t depth = 0;
    bool in_class = false;
    for (char *p = body; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        } else if (in_class) {
            in_class = *p != ']';
        } else if (depth == 0 && strncmp(p, gap, sizeof gap - 1) == 0) {
            char *rest = p + sizeof gap - 1;
            rest += *rest == '?';
            size_t open = openers_length(body);
            bool class_led =
                body[open] == '[' ||
                (body[open] == '\\' && strchr("dwsDWS", body[open + 1]) && body[open + 1] != '\0');
            if (class_led && finds_text_alone(expression, body, rest))
                memmove(body, rest, strlen(rest) + 1);
            return;
        } else if (*p == '[') {
            in_class = true;
            p += p[1] == '^';
            p += p[1] == ']';
        } else if (*p == '(') {
            if (p[1] == '?' && strspn(p + 2, "imsx-") > 0 && p[2 + strspn(p + 2, "imsx-")] == ')')
                return; /* an option set for the rest of the pattern */
            depth++;
        } else if (*p == ')') {
            if (depth-- == 0)
                return;
        } else if (*p == '|' && depth == 0) {
            return;
        }
    }
}

/* The pattern Hyperscan runs for `pattern`: the same without look-arounds and with wide
 * bounded repeats made open ("[^\n]{0,300}" -> "[^\n]*", "{20,255}" -> "{20,}").
 * Hyperscan only proposes candidates, so a superset is correct; bounded gaps and
 * look-arounds (prefilter mode) are what make its compile slow, open repeats cost nothing.
 * PCRE2 still confirms every candidate with the exact pattern.
 * With `keep_lookbehind`, a look-behind the pattern opens with is matched as text instead
 * ("(?<=://)x" -> "(?:://)x"): every match still ends where it did, and Hyperscan no longer
 * proposes the many ends without it ("host:8080" for a password in a URL). A class-led part
 * before an open gap is dropped (drop_class_led_prefix). */
static char *hyperscan_expression(const char *pattern, bool keep_lookbehind)
{
    size_t n = strlen(pattern), o = 0;
    char *out = malloc(n + 1);
    bool in_class = false;
    if (!out)
        return NULL;
    size_t i = 0, lead = leading_options_length(pattern);
    if (keep_lookbehind && strncmp(pattern + lead, "(?<=", 4) == 0) {
        memcpy(out, pattern, lead);
        memcpy(out + lead, "(?:", 3); /* its ")" is copied with the rest */
        o = lead + 3;
        i = lead + 4;
    }
    while (i < n) {
        char c = pattern[i];
        if (c == '\\' && i + 1 < n) {
            out[o++] = pattern[i++];
            out[o++] = pattern[i++];
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            out[o++] = pattern[i++];
            continue;
        }
        if (c == '[') {
            in_class = true;
            out[o++] = pattern[i++];
            if (i < n && pattern[i] == '^')
                out[o++] = pattern[i++];
            if (i < n && pattern[i] == ']')
                out[o++] = pattern[i++];
            continue;
        }
        if (c == '(' && i + 2 < n && pattern[i + 1] == '?' &&
            (pattern[i + 2] == '=' || pattern[i + 2] == '!' ||
             (pattern[i + 2] == '<' && i + 3 < n &&
              (pattern[i + 3] == '=' || pattern[i + 3] == '!')))) {
            /* A look-around only narrows what matches: drop it (and what it holds). */
            size_t depth = 0, j = i;
            bool cls = false;
            for (; j < n; j++) {
                if (pattern[j] == '\\') {
                    j++;
                    continue;
                }
                if (cls) {
                    cls = pattern[j] != ']';
                    continue;
                }
                if (pattern[j] == '[') {
                    cls = true;
                    if (j + 1 < n && pattern[j + 1] == '^')
                        j++;
                    if (j + 1 < n && pattern[j + 1] == ']')
                        j++;
                } else if (pattern[j] == '(') {
                    depth++;
                } else if (pattern[j] == ')' && --depth == 0) {
                    break;
                }
            }
            if (j < n) {
                i = j + 1;
                continue;
            }
        }
        if (c == '{') {
            unsigned long low = 0, high = 0;
            size_t j = i + 1;
            while (j < n && pattern[j] >= '0' && pattern[j] <= '9' && low < 100000)
                low = low * 10 + (unsigned long)(pattern[j++] - '0');
            if (j < n && pattern[j] == ',' && j + 1 < n && pattern[j + 1] >= '0' &&
                pattern[j + 1] <= '9') {
                j++;
                while (j < n && pattern[j] >= '0' && pattern[j] <= '9' && high < 100000)
                    high = high * 10 + (unsigned long)(pattern[j++] - '0');
                if (j < n && pattern[j] == '}' && high >= low + HYPERSCAN_GAP) {
                    o += (size_t)(low == 0 ? snprintf(out + o, n + 1 - o, "*")
                                           : snprintf(out + o, n + 1 - o, "{%lu,}", low));
                    i = j + 1;
                    continue;
                }
            }
        }
        out[o++] = pattern[i++];
    }
    out[o] = '\0';
    drop_class_led_prefix(out);
    return out;
}

/* Asks Hyperscan about `expression`: *flags gets the flags it compiles with (multi-line, plus
 * prefilter mode when it cannot run the pattern exactly), *max_width the longest match in
 * bytes (SIZE_MAX when unbounded). Returns 0, or -1 with an error naming the rule. */
static int expression_check(const char *expression, unsigned *flags, size_t *max_width,
                            const struct flag_rule *rule, size_t index, char *error,
                            size_t error_size)
{
    hs_compile_error_t *message = NULL;
    hs_expr_info_t *info = expression_info(expression, flags, &message);
    if (!info) {
        say(error, error_size, "%s: [%s] pattern %zu: %s", rule->source, rule->code, index + 1,
            message ? message->message : "not supported");
        hs_free_compile_error(message);
        return -1;
    }
    *max_width = info->max_width == UINT32_MAX ? SIZE_MAX : (size_t)info->max_width;
    free(info);
    return 0;
}

/* SHA-256 of what a precompiled database and its widths follow from: the format, Hyperscan's
 * version and the exact text of every pattern of the rules from `first_rule` on, in order. */
static void patterns_fingerprint(const struct flags_ruleset *rs, size_t first_rule,
                                 unsigned char out[32])
{
    static const char format[] = "agentgate flags precompiled 2";
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, (const unsigned char *)format, sizeof format);
    crypto_hash_sha256_update(&state, (const unsigned char *)hs_version(),
                              strlen(hs_version()) + 1);
    for (size_t r = first_rule; r < rs->file.rule_count; r++) {
        const struct flag_rule *rule = &rs->file.rules[r];
        for (size_t i = 0; i < rule->patterns.count; i++)
            crypto_hash_sha256_update(&state, (const unsigned char *)rule->patterns.items[i],
                                      strlen(rule->patterns.items[i]) + 1);
        crypto_hash_sha256_update(&state, (const unsigned char *)"", 1); /* end of a rule */
    }
    crypto_hash_sha256_final(&state, out);
}

/* The precompiled bytes: the fingerprint (32 bytes), the pattern count and each pattern's
 * max_width (4 bytes each, big-endian, UINT32_MAX for unbounded), zeros up to a multiple of 16,
 * then hs_serialize_database's bytes. The widths are carried because asking Hyperscan for
 * them costs most of a start-up's CPU. */
static size_t precompiled_header_size(size_t patterns)
{
    return (32 + 4 + 4 * patterns + 15) / 16 * 16;
}

static void put_u32(unsigned char *at, uint32_t value)
{
    at[0] = (unsigned char)(value >> 24);
    at[1] = (unsigned char)(value >> 16);
    at[2] = (unsigned char)(value >> 8);
    at[3] = (unsigned char)value;
}

static uint32_t get_u32(const unsigned char *at)
{
    return (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3];
}

/* Loads the precompiled database into rs->database, and the widths of the patterns after the
 * first `own` ones, when it was compiled from exactly the patterns of the rules after the
 * forum's own; true when it did. */
static bool precompiled_load(struct flags_ruleset *rs, size_t own)
{
    size_t n = rs->pattern_count - own, header = precompiled_header_size(n);
    unsigned char fingerprint[32];

    if (precompiled_length <= header)
        return false;
    patterns_fingerprint(rs, rs->own_rules, fingerprint);
    if (memcmp(precompiled_bytes, fingerprint, sizeof fingerprint) != 0 ||
        get_u32(precompiled_bytes + 32) != n ||
        hs_deserialize_database((const char *)precompiled_bytes + header,
                                precompiled_length - header, &rs->database) != HS_SUCCESS) {
        rs->database = NULL;
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t width = get_u32(precompiled_bytes + 36 + 4 * i);
        rs->patterns[own + i].max_width = width == UINT32_MAX ? SIZE_MAX : width;
    }
    return true;
}

/* Compiles `count` expressions (pattern ids first..first+count-1) into *database. Returns 0,
 * or -1 with an error naming the rule Hyperscan rejected. */
static int hyperscan_compile(struct flags_ruleset *rs, char *const *expressions,
                             const unsigned *flags, const unsigned *ids, size_t first, size_t count,
                             hs_database_t **database, char *error, size_t error_size)
{
    hs_compile_error_t *compile_error = NULL;

    if (hs_compile_multi((const char *const *)expressions + first, flags + first, ids + first,
                         (unsigned)count, HS_MODE_BLOCK, NULL, database,
                         &compile_error) == HS_SUCCESS)
        return 0;
    int index = compile_error ? compile_error->expression : -1;
    if (index >= 0 && (size_t)index < count) {
        const struct flag_rule *rule = &rs->file.rules[rs->patterns[first + index].rule];
        say(error, error_size, "%s: [%s]: %s", rule->source, rule->code, compile_error->message);
    } else {
        say(error, error_size, "rule patterns: %s",
            compile_error ? compile_error->message : "cannot compile");
    }
    hs_free_compile_error(compile_error);
    *database = NULL;
    return -1;
}

/* Pattern i of `rule` as Hyperscan runs it (*expression, malloc'd) and the flags it runs with
 * (*flags: exactly, or as a prefilter). A leading look-behind is kept as text when Hyperscan
 * takes it so, and dropped like other look-arounds when it does not. Returns 0, or -1 with an
 * error (memory, or a pattern Hyperscan rejects even as a prefilter). */
static int relaxed_expression(const struct flag_rule *rule, size_t i, char **expression,
                              unsigned *flags, char *error, size_t error_size)
{
    size_t ignored;
    *expression = hyperscan_expression(rule->patterns.items[i], true);
    if (*expression && expression_check(*expression, flags, &ignored, rule, i, NULL, 0) == 0)
        return 0;
    free(*expression);
    *expression = hyperscan_expression(rule->patterns.items[i], false);
    if (!*expression) {
        say(error, error_size, "out of memory");
        return -1;
    }
    return expression_check(*expression, flags, &ignored, rule, i, error, error_size);
}

/* Compiles every pattern into one Hyperscan database, recording each pattern's max width.
 * Returns 0; 1 when Hyperscan cannot run on this CPU (the caller uses PCRE2 alone); -1 on a
 * pattern Hyperscan rejects even in prefilter mode (a config error naming the rule). */
static int hyperscan_build(struct flags_ruleset *rs, char *error, size_t error_size)
{
    if (hs_valid_platform() != HS_SUCCESS)
        return 1;
    size_t n = rs->pattern_count, own = 0;
    for (size_t r = 0; r < rs->own_rules; r++)
        own += rs->file.rules[r].patterns.count;
    patterns_fingerprint(rs, 0, rs->fingerprint);
    /* Loading the database compiled at build time, with its widths, takes milliseconds;
     * compiling the built-in patterns takes seconds of CPU (more under a sanitizer) at every
     * start. So a forum's rule set loads it for the built-in patterns, which follow the forum's
     * own, and compiles only its own patterns, into a second database. */
    bool loaded = own < n && precompiled_load(rs, own);
    size_t count = loaded ? own : n; /* the leading patterns compiled here */
    char **expressions = calloc(count + 1, sizeof *expressions);
    unsigned *flags = calloc(count + 1, sizeof *flags), *ids = calloc(count + 1, sizeof *ids);
    int rc = -1;

    if (!expressions || !flags || !ids) {
        say(error, error_size, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t r = 0; r < rs->file.rule_count && k < count; r++) {
        const struct flag_rule *rule = &rs->file.rules[r];
        for (size_t i = 0; i < rule->patterns.count; i++, k++) {
            ids[k] = (unsigned)k;
            /* How long a match of the exact pattern can be: the confirmation window. */
            if (relaxed_expression(rule, i, &expressions[k], &flags[k], error, error_size) != 0 ||
                expression_check(rule->patterns.items[i], &(unsigned){0},
                                 &rs->patterns[k].max_width, rule, i, error, error_size) != 0)
                goto done;
        }
    }
    if (count > 0 &&
        hyperscan_compile(rs, expressions, flags, ids, 0, count,
                          loaded ? &rs->extra_database : &rs->database, error, error_size) != 0)
        goto done;
    if (loaded)
        rs->database_id_base = (unsigned)own;
    /* one scratch serves both databases (Hyperscan grows it to fit the second) */
    if (hs_alloc_scratch(rs->database, &rs->pool->prototype) != HS_SUCCESS ||
        (rs->extra_database &&
         hs_alloc_scratch(rs->extra_database, &rs->pool->prototype) != HS_SUCCESS)) {
        say(error, error_size, "out of memory (Hyperscan scratch)");
        goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; expressions && i < count; i++)
        free(expressions[i]);
    free(expressions);
    free(flags);
    free(ids);
    return rc;
}
#endif

/* Compiles the rules of `file` (taken over: freed with the rule set, or here on failure). */
static int ruleset_build(struct flag_rule_file *file, size_t own_rules, bool use_hyperscan,
                         struct flags_ruleset **out, char *error, size_t error_size)
{
    struct flags_ruleset *rs = calloc(1, sizeof *rs);
    *out = NULL;
    if (!rs) {
        flag_rule_file_free(file);
        say(error, error_size, "out of memory");
        return -1;
    }
    rs->file = *file;
    rs->own_rules = own_rules;
    memset(file, 0, sizeof *file);
    rs->pool = calloc(1, sizeof *rs->pool);
    if (!rs->pool || pthread_mutex_init(&rs->pool->lock, NULL) != 0) {
        free(rs->pool);
        rs->pool = NULL;
        say(error, error_size, "out of memory");
        goto fail;
    }
    for (size_t r = 0; r < rs->file.rule_count; r++) {
        const struct flag_rule *rule = &rs->file.rules[r];
        rs->pattern_count += rule->patterns.count;
        if (rule->where != WHERE_ANY || rule->languages || rule->advice_against || rule->excuses)
            rs->needs_markdown = true;
    }
    rs->patterns = calloc(rs->pattern_count ? rs->pattern_count : 1, sizeof *rs->patterns);
    rs->allow = calloc(rs->file.allow.count ? rs->file.allow.count : 1, sizeof *rs->allow);
    rs->rule_allow = calloc(rs->file.rule_count ? rs->file.rule_count : 1, sizeof *rs->rule_allow);
    if (!rs->patterns || !rs->allow || !rs->rule_allow) {
        say(error, error_size, "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (size_t r = 0; r < rs->file.rule_count; r++) {
        const struct flag_rule *rule = &rs->file.rules[r];
        char where[600];
        snprintf(where, sizeof where, "%s: [%s]", rule->source, rule->code);
        for (size_t i = 0; i < rule->patterns.count; i++, k++) {
            struct compiled_pattern *p = &rs->patterns[k];
            long unbounded = unbounded_repeat_at(rule->patterns.items[i]);
            if (unbounded >= 0) {
                say(error, error_size,
                    "%s: pattern %zu has an unbounded repeat at offset %ld; bound it (e.g. "
                    "{1,200} instead of +)",
                    where, i + 1, unbounded);
                goto fail;
            }
            p->rule = r;
            p->max_width = SIZE_MAX;
            p->re = regex_compile(rule->patterns.items[i], where, error, error_size);
            if (!p->re)
                goto fail;
            int group = pcre2_substring_number_from_name(p->re, (PCRE2_SPTR) "value");
            p->value_group = group > 0 ? group : -1;
            uint32_t captures = 0;
            pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &captures);
            if (captures + 1 > rs->max_ovector)
                rs->max_ovector = captures + 1;
        }
        if (rule->allow.count > 0) {
            rs->rule_allow[r] = calloc(rule->allow.count, sizeof **rs->rule_allow);
            if (!rs->rule_allow[r]) {
                say(error, error_size, "out of memory");
                goto fail;
            }
            for (size_t i = 0; i < rule->allow.count; i++) {
                rs->rule_allow[r][i] =
                    regex_compile(rule->allow.items[i], where, error, error_size);
                if (!rs->rule_allow[r][i])
                    goto fail;
            }
        }
    }
    for (size_t i = 0; i < rs->file.allow.count; i++) {
        char where[600];
        snprintf(where, sizeof where, "%s: [allow]", rs->file.allow_sources[i]);
        rs->allow[i] = regex_compile(rs->file.allow.items[i], where, error, error_size);
        if (!rs->allow[i])
            goto fail;
    }
#ifdef AGENTGATE_HAVE_HYPERSCAN
    if (use_hyperscan && rs->pattern_count > 0 && hyperscan_build(rs, error, error_size) < 0)
        goto fail;
#else
    (void)use_hyperscan;
#endif
    *out = rs;
    return 0;
fail:
    flags_ruleset_free(rs);
    return -1;
}

int flags_ruleset_serialize(const struct flags_ruleset *rs, unsigned char **bytes, size_t *length)
{
#ifdef AGENTGATE_HAVE_HYPERSCAN
    char *serialized = NULL;
    size_t size = 0, header = precompiled_header_size(rs->pattern_count);
    /* only a rule set held whole in one database can be loaded back as one */
    if (!rs->database || rs->extra_database || rs->pattern_count >= UINT32_MAX ||
        hs_serialize_database(rs->database, &serialized, &size) != HS_SUCCESS)
        return -1;
    *bytes = calloc(1, header + size);
    if (*bytes) {
        memcpy(*bytes, rs->fingerprint, sizeof rs->fingerprint);
        put_u32(*bytes + 32, (uint32_t)rs->pattern_count);
        for (size_t k = 0; k < rs->pattern_count; k++)
            put_u32(*bytes + 36 + 4 * k, rs->patterns[k].max_width >= UINT32_MAX
                                             ? UINT32_MAX
                                             : (uint32_t)rs->patterns[k].max_width);
        memcpy(*bytes + header, serialized, size);
        *length = header + size;
    }
    free(serialized);
    return *bytes ? 0 : -1;
#else
    (void)rs;
    *bytes = NULL;
    *length = 0;
    return -1;
#endif
}

const char *flags_ruleset_engine(const struct flags_ruleset *rs)
{
#ifdef AGENTGATE_HAVE_HYPERSCAN
    if (rs && rs->database)
        return "hyperscan";
#else
    (void)rs;
#endif
    return "pcre2";
}

int flags_ruleset_each_expression(const struct flags_ruleset *rs, flags_expression_fn *each,
                                  void *context)
{
#ifdef AGENTGATE_HAVE_HYPERSCAN
    if (!rs || !rs->database)
        return 1;
    for (size_t r = 0; r < rs->file.rule_count; r++) { /* the order hyperscan_build uses */
        const struct flag_rule *rule = &rs->file.rules[r];
        for (size_t i = 0; i < rule->patterns.count; i++) {
            char *expression = NULL;
            unsigned flags = 0;
            if (relaxed_expression(rule, i, &expression, &flags, NULL, 0) != 0)
                return -1;
            each(context, rule->code, flag_family_name(rule->family), expression, flags);
            free(expression);
        }
    }
    return 0;
#else
    (void)rs;
    (void)each;
    (void)context;
    return 1;
#endif
}

size_t flags_ruleset_rule_count(const struct flags_ruleset *rs, const char *family)
{
    size_t n = 0;
    if (!rs)
        return 0;
    for (size_t r = 0; r < rs->file.rule_count; r++)
        if (!family || strcmp(flag_family_name(rs->file.rules[r].family), family) == 0)
            n++;
    return n;
}

/* ----------------------------------------------------------------------- scanning ---- */

struct raw_match {
    size_t pattern, start, end, value_start, value_end;
};

struct candidate {
    size_t rule, start, end, value_start, value_end;
    enum flag_severity severity;
    bool excused; /* held to warning by its context (critical_unless): bulk does not raise it */
    bool raised;  /* made critical by the prose around it: its message says why (raised_why) */
    const struct flag_wording_family *wording; /* a wording flag (rule unused), else NULL */
};

/* Added to the rule's message when the prose around a match raised it to critical, so that the
 * approver reads why a rule that is a warning on its own ("deletes local data") is critical. */
static const char *raised_why(enum flag_family family)
{
    switch (family) {
    case FAMILY_DESTRUCTIVE:
        return "Critical here: the post says this runs on production or shared data, or that the "
               "loss is final.";
    case FAMILY_ACCESS:
        return "Critical here: the post says this opens it to the internet, to every user or to "
               "data that must not leak.";
    default:
        return "Critical here: it comes with personal data of a sensitive kind (health, a "
               "child's data, a criminal record).";
    }
}

/* Hyperscan reports every offset where a pattern may end: a long token can give one report
 * per byte. Reports of one pattern closer than CLUSTER_GAP bytes are merged into one range
 * [first, last] of candidate ends, and PCRE2 confirms a range with one search. */
struct cluster {
    size_t pattern, first, last;
};

struct scan {
    const struct flags_ruleset *rs;
    const char *text;
    size_t length;
    pcre2_match_data *data;
    pcre2_match_context *context;
    size_t *next_from;     /* per pattern: no further match starts before this offset */
    struct cluster *open;  /* per pattern: the range of candidate ends being gathered */
    unsigned char *opened; /* per pattern: 1 once open[k] holds a range */
    size_t *open_ids;      /* the patterns with a range, in the order they got one */
    size_t open_count;
    struct cluster *clusters; /* closed ranges */
    size_t cluster_count, cluster_cap;
    struct raw_match *matches;
    size_t match_count, match_cap;
    bool failed;      /* out of memory */
    unsigned id_base; /* added to the ids the database being scanned reports */
    struct flag_markdown markdown;
    bool markdown_ready;
    struct flag_frame_memo frames; /* the severity steps' answers per block (flag_frame_memo) */
};

static int raw_push(struct scan *s, struct raw_match m)
{
    if (flag_array_reserve((void **)&s->matches, &s->match_cap, s->match_count, sizeof m) != 0)
        return -1;
    s->matches[s->match_count++] = m;
    return 0;
}

/* Runs pattern k from `from`; when `limit` is not SIZE_MAX the match must start at or before
 * it. Records the match and returns 1, returns 0 for none, -1 on memory failure. */
static int pattern_search(struct scan *s, size_t k, size_t from, size_t limit)
{
    const struct compiled_pattern *p = &s->rs->patterns[k];
    pcre2_set_offset_limit(s->context, limit == SIZE_MAX ? PCRE2_UNSET : (PCRE2_SIZE)limit);
    int rc = pcre2_match(p->re, (PCRE2_SPTR)s->text, s->length, from, 0, s->data, s->context);
    if (rc < 0)
        return rc == PCRE2_ERROR_NOMEMORY ? -1 : 0; /* no match, or a search limit hit */
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->data);
    struct raw_match m = {.pattern = k, .start = ov[0], .end = ov[1]};
    m.value_start = m.start;
    m.value_end = m.end;
    if (p->value_group > 0 && (uint32_t)p->value_group < (uint32_t)rc &&
        ov[2 * p->value_group] != PCRE2_UNSET) {
        m.value_start = ov[2 * p->value_group];
        m.value_end = ov[2 * p->value_group + 1];
    }
    if (m.end <= m.start || m.end > s->length) /* \K tricks; patterns never match empty */
        return 0;
    if (raw_push(s, m) != 0)
        return -1;
    s->next_from[k] = m.end;
    return 1;
}

#ifdef AGENTGATE_HAVE_HYPERSCAN
static int cluster_push(struct scan *s, struct cluster c)
{
    if (flag_array_reserve((void **)&s->clusters, &s->cluster_cap, s->cluster_count, sizeof c) != 0)
        return -1;
    s->clusters[s->cluster_count++] = c;
    return 0;
}

static int on_candidate(unsigned int id, unsigned long long from, unsigned long long to,
                        unsigned int flags, void *context)
{
    struct scan *s = context;
    id += s->id_base;
    struct cluster *open = &s->open[id];
    (void)from;
    (void)flags;
    if (!s->opened[id]) {
        s->opened[id] = 1;
        s->open_ids[s->open_count++] = id;
    } else if ((size_t)to <= open->last + CLUSTER_GAP) {
        open->last = (size_t)to;
        return 0;
    } else if (cluster_push(s, *open) != 0) {
        s->failed = true;
        return 1; /* stop scanning */
    }
    *open = (struct cluster){.pattern = id, .first = (size_t)to, .last = (size_t)to};
    return 0;
}

static int compare_clusters(const void *a, const void *b)
{
    const struct cluster *x = a, *y = b;
    if (x->pattern != y->pattern)
        return x->pattern < y->pattern ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Confirms the candidate ranges with PCRE2. Each search looks for the leftmost match that
 * starts in [from, last]: from is where the previous match of the pattern ended (matches do
 * not overlap), or the earliest start a match ending in the range can have (its maximum
 * width before `first`). Every true match ends at a reported offset, so it lies in a range
 * and no start is searched twice: the result is the plain PCRE2 loop's, in far fewer calls. */
static int confirm_clusters(struct scan *s)
{
    if (s->cluster_count > 1)
        qsort(s->clusters, s->cluster_count, sizeof *s->clusters, compare_clusters);
    for (size_t i = 0; i < s->cluster_count; i++) {
        const struct cluster *c = &s->clusters[i];
        size_t width = s->rs->patterns[c->pattern].max_width;
        size_t from = width == SIZE_MAX || width >= c->first ? 0 : c->first - width;
        if (from < s->next_from[c->pattern])
            from = s->next_from[c->pattern];
        while (from <= c->last) {
            int rc = pattern_search(s, c->pattern, from, c->last);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                s->next_from[c->pattern] = c->last + 1;
                break;
            }
            from = s->next_from[c->pattern];
        }
    }
    return 0;
}
#endif

static int collect_matches(struct scan *s)
{
#ifdef AGENTGATE_HAVE_HYPERSCAN
    if (s->rs->database) {
        hs_scratch_t *scratch = NULL;
        struct scratch_pool *pool = s->rs->pool;
        pthread_mutex_lock(&pool->lock);
        if (pool->idle_count > 0)
            scratch = pool->idle[--pool->idle_count];
        pthread_mutex_unlock(&pool->lock);
        if (!scratch && hs_clone_scratch(pool->prototype, &scratch) != HS_SUCCESS)
            return -1;
        /* Hyperscan takes an unsigned int length: scan longer texts in PCRE2 (never here:
         * bodies are limited far below 4 GiB, but the bound is stated, not assumed). */
        s->id_base = s->rs->database_id_base;
        hs_error_t rc = s->length <= UINT32_MAX
                            ? hs_scan(s->rs->database, s->length ? s->text : "",
                                      (unsigned)s->length, 0, scratch, on_candidate, s)
                            : HS_INVALID;
        /* a forum's own patterns: each pattern is in one database only, so its candidates
         * still arrive in order of their ends, which is all on_candidate relies on */
        s->id_base = 0;
        if (rc == HS_SUCCESS && s->rs->extra_database)
            rc = hs_scan(s->rs->extra_database, s->length ? s->text : "", (unsigned)s->length, 0,
                         scratch, on_candidate, s);
        pthread_mutex_lock(&pool->lock);
        if (pool->idle_count < SCRATCH_POOL_MAX) {
            pool->idle[pool->idle_count++] = scratch;
            scratch = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
        hs_free_scratch(scratch);
        if (s->failed)
            return -1;
        if (rc == HS_SUCCESS) {
            for (size_t i = 0; i < s->open_count; i++)
                if (cluster_push(s, s->open[s->open_ids[i]]) != 0)
                    return -1;
            return confirm_clusters(s);
        }
        if (rc != HS_INVALID)
            return -1;
        memset(s->next_from, 0, s->rs->pattern_count * sizeof *s->next_from);
        s->match_count = 0;
        s->cluster_count = 0;
    }
#endif
    for (size_t k = 0; k < s->rs->pattern_count; k++) {
        size_t from = 0;
        while (from < s->length) {
            int rc = pattern_search(s, k, from, SIZE_MAX);
            if (rc < 0)
                return -1;
            if (rc == 0)
                break;
            from = s->next_from[k];
        }
    }
    return 0;
}

static const struct flag_markdown *scan_markdown(struct scan *s)
{
    if (!s->markdown_ready) {
        if (flag_markdown_parse(s->text, s->length, &s->markdown) != 0)
            return NULL;
        s->markdown_ready = true;
    }
    return &s->markdown;
}

static bool allowed_by(pcre2_code *const *list, size_t count, struct scan *s, size_t start,
                       size_t end)
{
    pcre2_set_offset_limit(s->context, PCRE2_UNSET);
    for (size_t i = 0; i < count; i++)
        if (pcre2_match(list[i], (PCRE2_SPTR)(s->text + start), end - start, 0, 0, s->data,
                        s->context) >= 0)
            return true;
    return false;
}

/* Applies the rule's checks to a match: FLAG_NONE when it is no flag, else its severity.
 * *excused: a context held it at warning; *raised: the prose around it raised it. */
static enum flag_severity judge(struct scan *s, const struct raw_match *m, size_t rule_index,
                                bool *error, bool *excused, bool *raised)
{
    const struct flag_rule *r = &s->rs->file.rules[rule_index];
    const char *value = s->text + m->value_start;
    size_t value_length = m->value_end - m->value_start;
    enum flag_severity severity = r->severity;

    /* The checks only ever drop a match (or set its severity), so their order does not change
     * the result: the cheap ones come first, the allow-lists (a PCRE2 search per pattern, a
     * dozen or more per match) last. */
    if (r->placeholders &&
        (flag_is_placeholder(value, value_length) || flag_is_digest(value, value_length)))
        return FLAG_NONE;
    if (r->drop_in_url && flag_inside_url(s->text, m->start))
        return FLAG_NONE;
    if (r->value_in.count > 0 && !flag_word_listed(value, value_length, &r->value_in))
        return FLAG_NONE;
    if (r->entropy > 0 && flag_entropy(value, value_length) < r->entropy)
        return FLAG_NONE;
    if (r->checksums && !flag_checksum_valid(r->checksums, value, value_length))
        return FLAG_NONE;
    if (r->address == ADDRESS_PUBLIC && !flag_address_public(value, value_length))
        return FLAG_NONE;
    if (r->near_bytes > 0) {
        size_t from = m->start > r->near_bytes ? m->start - r->near_bytes : 0;
        size_t to = s->length - m->end > r->near_bytes ? m->end + r->near_bytes : s->length;
        if (r->near.count > 0 && !flag_words_in(s->text, from, to, &r->near))
            return FLAG_NONE;
        if (r->not_near.count > 0 && flag_words_in(s->text, from, to, &r->not_near)) {
            const struct flag_markdown *own = scan_markdown(s);
            if (!own) {
                *error = true;
                return FLAG_NONE;
            }
            if (flag_words_in_own_text(s->text, own, m->start, from, to, &r->not_near))
                return FLAG_NONE;
        }
        /* "egress { cidr_blocks = [0.0.0.0/0] }": the nearest cue before decides. */
        if (r->unless_after.count > 0 &&
            flag_words_last(s->text, from, m->start, &r->unless_after) >
                flag_words_last(s->text, from, m->start, &r->near))
            return FLAG_NONE;
        if (r->critical_near.count > 0 && severity >= FLAG_WARNING &&
            flag_stake_words_in(s->text, s->length, from, to, &r->critical_near))
            severity = FLAG_CRITICAL;
    }
    const struct flag_markdown *md = NULL;
    bool framed =
        severity == FLAG_WARNING && r->severity == FLAG_WARNING &&
        (r->family == FAMILY_DESTRUCTIVE || r->family == FAMILY_ACCESS || r->family == FAMILY_PII);
    if (framed || r->where != WHERE_ANY || r->languages || r->advice_against || r->excuses) {
        md = scan_markdown(s);
        if (!md) {
            *error = true;
            return FLAG_NONE;
        }
    }
    if (r->where != WHERE_ANY || r->languages) {
        const struct flag_block *b = flag_markdown_find(md, m->start);
        if (r->where == WHERE_CODE && !b)
            return FLAG_NONE;
        if (r->where == WHERE_PROSE && b)
            return FLAG_NONE;
        if (r->languages && b && b->fenced && b->language != LANG_NONE &&
            !(r->languages & (1u << b->language)))
            return FLAG_NONE;
    }
    /* A command at warning in a code block is critical when the prose around the block says
     * it runs on production or shared data, or that the loss is final; a personal detail is
     * critical when it comes with data of a sensitive kind (a diagnosis, a child's school). */
    if (framed && (r->family == FAMILY_PII
                       ? flag_record_is_sensitive(s->text, s->length, md, m->start, &s->frames)
                       : flag_frame_states_stakes(s->text, s->length, md, m->start, r->family,
                                                  &r->critical_near, &s->frames))) {
        severity = FLAG_CRITICAL;
        *raised = true;
    }
    if (r->target == TARGET_PATH) {
        switch (flag_path_classify(value, value_length)) {
        case PATH_SHARED:
            break;
        case PATH_LOCAL:
            severity = r->target_local;
            break;
        case PATH_BUILD:
            severity = r->target_build;
            break;
        }
        if (severity == FLAG_NONE)
            return FLAG_NONE;
    }
    if (r->advice_against && severity > FLAG_INFO &&
        flag_advised_against(s->text, s->length, md, m->start, m->end))
        severity = FLAG_INFO;
    if (r->excuses && (severity == FLAG_CRITICAL || r->bulk) &&
        flag_critical_excuse(s->text, s->length, md, m->start, m->end, r->excuses)) {
        severity = FLAG_WARNING;
        *excused = true;
    }
    if (allowed_by(s->rs->allow, s->rs->file.allow.count, s, m->value_start, m->value_end) ||
        allowed_by(s->rs->rule_allow[rule_index], r->allow.count, s, m->value_start, m->value_end))
        return FLAG_NONE;
    return severity;
}

/* A match that starts in inline code ends with it: "run `rm -rf /srv/cache` and mail ops@…"
 * flags the command, not the rest of the sentence. Only a match with a backtick after its
 * start can run past a span, so only then is the Markdown parsed. */
static int clip_to_inline_code(struct scan *s, struct raw_match *m)
{
    if (m->end <= m->start + 1 || !memchr(s->text + m->start + 1, '`', m->end - m->start - 1))
        return 0;
    const struct flag_markdown *md = scan_markdown(s);
    if (!md)
        return -1;
    const struct flag_block *b = flag_markdown_find(md, m->start);
    if (!b || b->fenced || b->end >= m->end || b->end <= m->start)
        return 0;
    m->end = b->end;
    if (m->value_end > b->end)
        m->value_end = b->end > m->value_start ? b->end : m->value_start;
    return 0;
}

static int compare_candidates(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Priority order of candidates for merge_overlaps: the rule listed first, then the most severe,
 * then the earliest. */
static int compare_priority(const void *a, const void *b)
{
    const struct candidate *x = *(const struct candidate *const *)a,
                           *y = *(const struct candidate *const *)b;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Keeps one flag where flags of the same family overlap: the one of the rule listed first
 * (rule files list specific rules before generic ones: a Stripe test key stays a test key
 * even though it also reads as "KEY=value"), then the most severe. Candidates are taken in that
 * order and one is kept when it overlaps no kept one, so a flag that loses never takes another
 * with it (a long flag that overlaps two others, and loses to one, leaves the second). Returns
 * the number kept (in order of their starts), or SIZE_MAX when out of memory. */
static size_t merge_overlaps(const struct flags_ruleset *rs, struct candidate *c, size_t n)
{
    struct candidate **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return SIZE_MAX;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].severity != FLAG_NONE)
            order[m++] = &c[i];
    qsort(order, m, sizeof *order, compare_priority);
    for (size_t i = 0; i < m; i++) {
        enum flag_family family = rs->file.rules[order[i]->rule].family;
        for (size_t j = 0; j < i; j++)
            if (order[j]->severity != FLAG_NONE &&
                rs->file.rules[order[j]->rule].family == family &&
                order[j]->start < order[i]->end && order[i]->start < order[j]->end) {
                order[i]->severity = FLAG_NONE;
                break;
            }
    }
    free(order);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].severity != FLAG_NONE)
            c[kept++] = c[i];
    return kept;
}

/* Rules with `count`: their matches make one flag, from the first to the last, when at least
 * `count` distinct texts matched; otherwise none. */
static void apply_counts(struct scan *s, struct candidate *c, size_t n)
{
    const struct flags_ruleset *rs = s->rs;
    for (size_t r = 0; r < rs->file.rule_count; r++) {
        unsigned need = rs->file.rules[r].count;
        if (need == 0)
            continue;
        size_t *distinct = calloc(need, sizeof *distinct); /* indices of distinct texts */
        size_t distinct_count = 0, first = SIZE_MAX, last = 0;
        for (size_t i = 0; i < n; i++) {
            if (c[i].rule != r || c[i].severity == FLAG_NONE)
                continue;
            if (first == SIZE_MAX)
                first = i;
            last = i;
            if (!distinct || distinct_count == need)
                continue;
            size_t len = c[i].value_end - c[i].value_start;
            bool seen = false;
            for (size_t d = 0; d < distinct_count && !seen; d++) {
                const struct candidate *o = &c[distinct[d]];
                seen = o->value_end - o->value_start == len &&
                       memcmp(s->text + o->value_start, s->text + c[i].value_start, len) == 0;
            }
            if (!seen)
                distinct[distinct_count++] = i;
        }
        free(distinct);
        if (first == SIZE_MAX)
            continue;
        enum flag_severity severity = c[first].severity;
        for (size_t i = 0; i < n; i++)
            if (c[i].rule == r)
                c[i].severity = FLAG_NONE;
        if (distinct_count >= need) {
            c[first].end = c[last].end;
            c[first].severity = severity;
        }
    }
}

/* Rules with `bulk`: critical when the field has at least `bulk` flags of the rule's family
 * at warning or above (personal data in bulk). */
static void apply_bulk(const struct flags_ruleset *rs, struct candidate *c, size_t n)
{
    size_t per_family[FAMILY_COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        if (c[i].severity >= FLAG_WARNING)
            per_family[rs->file.rules[c[i].rule].family]++;
    for (size_t i = 0; i < n; i++) {
        const struct flag_rule *r = &rs->file.rules[c[i].rule];
        if (r->bulk > 0 && c[i].severity >= FLAG_WARNING && !c[i].excused &&
            per_family[r->family] >= r->bulk)
            c[i].severity = FLAG_CRITICAL;
    }
}

static int append_wording_flag(const char *field, const struct candidate *c, json_t *found)
{
    json_t *flag =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "code", c->wording->code, "severity",
                  flag_severity_name(c->severity), "field", field, "start", (json_int_t)c->start,
                  "end", (json_int_t)c->end, "message", c->wording->message);
    return flag ? json_array_append_new(found, flag) : -1;
}

/* Adds a wording warning (flags_wording.c) for each family that no rule flagged, not even at
 * info (a rule that matched and was held to info by advice against or a placeholder has said
 * what the text is; the words alone must not overrule it). Returns the new count, or SIZE_MAX
 * when memory runs out. */
static size_t add_wording(const struct flags_ruleset *rs, const char *text, size_t length,
                          struct candidate **c, size_t n)
{
    bool skip[FAMILY_COUNT] = {false};
    struct flag_wording_hit hits[FAMILY_COUNT];
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        skip[rs->file.rules[(*c)[i].rule].family] = true;
    for (int family = 0; family < FAMILY_COUNT; family++)
        if (rs->file.wording_set && !(rs->file.wording_families & (1u << family)))
            skip[family] = true; /* the forum's [wording] section leaves it out */
    if (flag_wording_judge(text, length, skip, hits, &count) != 0)
        return SIZE_MAX;
    if (count == 0)
        return n;
    struct candidate *grown = realloc(*c, (n + count) * sizeof *grown);
    if (!grown)
        return SIZE_MAX;
    *c = grown;
    for (size_t h = 0; h < count; h++)
        grown[n++] = (struct candidate){.rule = SIZE_MAX,
                                        .start = hits[h].start,
                                        .end = hits[h].end,
                                        .severity = FLAG_WARNING,
                                        .wording = flag_wording_family(hits[h].family)};
    qsort(grown, n, sizeof *grown, compare_candidates);
    return n;
}

static int append_flags(const struct flags_ruleset *rs, const char *field, struct candidate *c,
                        size_t n, json_t *flags)
{
    json_t *found = json_array();
    if (!found)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (c[i].wording) {
            if (append_wording_flag(field, &c[i], found) != 0) {
                json_decref(found);
                return -1;
            }
            continue;
        }
        const struct flag_rule *r = &rs->file.rules[c[i].rule];
        /* Built member by member: json_pack's format parsing cost as much as the values. */
        json_t *flag = json_object();
        if (!flag || json_array_append_new(found, flag) != 0 ||
            json_object_set_new_nocheck(flag, "code", json_string(r->code)) != 0 ||
            json_object_set_new_nocheck(flag, "severity",
                                        json_string(flag_severity_name(c[i].severity))) != 0 ||
            json_object_set_new_nocheck(flag, "field", json_string(field)) != 0 ||
            json_object_set_new_nocheck(flag, "start", json_integer((json_int_t)c[i].start)) != 0 ||
            json_object_set_new_nocheck(flag, "end", json_integer((json_int_t)c[i].end)) != 0 ||
            json_object_set_new_nocheck(
                flag, "message",
                c[i].raised ? json_sprintf("%s %s", r->message, raised_why(r->family))
                            : json_string(r->message)) != 0) {
            json_decref(found);
            return -1;
        }
    }
    int rc = json_array_extend(flags, found);
    json_decref(found);
    return rc;
}

int flags_scan_with(const struct flags_ruleset *rs, const char *field, const char *text,
                    size_t length, json_t *flags)
{
    struct scan s = {.rs = rs, .text = text, .length = length};
    struct candidate *c = NULL;
    size_t n = 0;
    int rc = -1;

    if (!field || !json_is_array(flags) || (!text && length > 0))
        return -1;
    if (!rs && !(rs = flags_builtin(NULL, 0)))
        return -1;
    s.rs = rs;
    if (!text)
        s.text = "";
    s.data = pcre2_match_data_create(rs->max_ovector ? rs->max_ovector : 1, NULL);
    s.context = pcre2_match_context_create(NULL);
    s.next_from = calloc(rs->pattern_count ? rs->pattern_count : 1, sizeof *s.next_from);
    /* Only the patterns Hyperscan reports are touched: a short body reports a few of the
     * thousand, and initialising every pattern's range was a tenth of its scan. */
    s.open = malloc((rs->pattern_count ? rs->pattern_count : 1) * sizeof *s.open);
    s.opened = calloc(rs->pattern_count ? rs->pattern_count : 1, 1);
    s.open_ids = malloc((rs->pattern_count ? rs->pattern_count : 1) * sizeof *s.open_ids);
    if (!s.data || !s.context || !s.next_from || !s.open || !s.opened || !s.open_ids)
        goto done;
    pcre2_set_match_limit(s.context, MATCH_LIMIT);
    pcre2_set_depth_limit(s.context, DEPTH_LIMIT);
    if (collect_matches(&s) != 0)
        goto done;
    c = calloc(s.match_count ? s.match_count : 1, sizeof *c);
    if (!c)
        goto done;
    for (size_t i = 0; i < s.match_count; i++) {
        struct raw_match clipped = s.matches[i];
        if (clip_to_inline_code(&s, &clipped) != 0)
            goto done;
        const struct raw_match *m = &clipped;
        size_t rule = rs->patterns[m->pattern].rule;
        bool failed = false, excused = false, raised = false;
        enum flag_severity severity = judge(&s, m, rule, &failed, &excused, &raised);
        if (failed)
            goto done;
        if (severity == FLAG_NONE)
            continue;
        c[n++] = (struct candidate){.rule = rule,
                                    .start = m->start,
                                    .end = m->end,
                                    .value_start = m->value_start,
                                    .value_end = m->value_end,
                                    .severity = severity,
                                    .excused = excused,
                                    .raised = raised && severity == FLAG_CRITICAL};
    }
    qsort(c, n, sizeof *c, compare_candidates);
    apply_counts(&s, c, n);
    n = merge_overlaps(rs, c, n);
    if (n == SIZE_MAX)
        goto done;
    apply_bulk(rs, c, n);
    if ((n = add_wording(rs, s.text, length, &c, n)) == SIZE_MAX)
        goto done;
    rc = append_flags(rs, field, c, n, flags);
done:
    free(c);
    free(s.matches);
    free(s.next_from);
    free(s.open);
    free(s.opened);
    free(s.open_ids);
    free(s.clusters);
    if (s.markdown_ready)
        flag_markdown_free(&s.markdown);
    pcre2_match_context_free(s.context);
    pcre2_match_data_free(s.data);
    return rc;
}

/* ---------------------------------------------------------------- examples, build ---- */

/* The most severe flag of `code` in `flags` (FLAG_NONE when there is none). */
static enum flag_severity severity_of(json_t *flags, const char *code)
{
    enum flag_severity best = FLAG_NONE;
    size_t i;
    json_t *flag;
    json_array_foreach(flags, i, flag)
    {
        if (strcmp(json_string_value(json_object_get(flag, "code")), code) != 0)
            continue;
        const char *sev = json_string_value(json_object_get(flag, "severity"));
        enum flag_severity v = strcmp(sev, "critical") == 0  ? FLAG_CRITICAL
                               : strcmp(sev, "warning") == 0 ? FLAG_WARNING
                                                             : FLAG_INFO;
        if (v > best)
            best = v;
    }
    return best;
}

/* Checks the examples of the rules read from the file named `source` (NULL: of all rules). */
int flag_ruleset_check_examples_of(const struct flags_ruleset *rs, const char *source, char *error,
                                   size_t error_size);
int flag_ruleset_check_examples_of(const struct flags_ruleset *rs, const char *source, char *error,
                                   size_t error_size)
{
    int failures = 0;
    if (error && error_size)
        error[0] = '\0';
    for (size_t r = 0; r < rs->file.rule_count; r++) {
        const struct flag_rule *rule = &rs->file.rules[r];
        if (source && !(strncmp(rule->source, source, strlen(source)) == 0 &&
                        rule->source[strlen(source)] == ':'))
            continue;
        const struct {
            const struct flag_text_list *list;
            const char *key;
        } kinds[] = {{&rule->match, "match"},
                     {&rule->no_match, "no_match"},
                     {&rule->match_critical, "match_critical"},
                     {&rule->match_warning, "match_warning"},
                     {&rule->match_info, "match_info"}};
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
            for (size_t i = 0; i < kinds[k].list->count; i++) {
                const char *example = kinds[k].list->items[i];
                json_t *flags = json_array();
                if (!flags || flags_scan_with(rs, "example", example, strlen(example), flags)) {
                    json_decref(flags);
                    return -1;
                }
                enum flag_severity got = severity_of(flags, rule->code);
                json_decref(flags);
                bool ok;
                switch (k) {
                case 0:
                    ok = got >= FLAG_WARNING;
                    break;
                case 1:
                    ok = got < FLAG_WARNING;
                    break;
                case 2:
                    ok = got == FLAG_CRITICAL;
                    break;
                case 3:
                    ok = got == FLAG_WARNING;
                    break;
                default:
                    ok = got == FLAG_INFO;
                    break;
                }
                if (!ok) {
                    size_t used = error ? strlen(error) : 0;
                    if (error && used + 1 < error_size)
                        say(error + used, error_size - used,
                            "%s%s: [%s] %s example %zu gives %s: %s", failures ? "\n" : "",
                            rule->source, rule->code, kinds[k].key, i + 1,
                            got == FLAG_NONE ? "no flag" : flag_severity_name(got), example);
                    failures++;
                }
            }
        }
    }
    return failures;
}

int flags_ruleset_check_examples(const struct flags_ruleset *rs, char *error, size_t error_size)
{
    return flag_ruleset_check_examples_of(rs, NULL, error, error_size);
}

/* Parses rule texts into one rule file and compiles it. texts/names: `count` entries; with
 * last_first the rules of the last text are placed before the others. */
int flag_ruleset_from_texts(const char *const *names, const char *const *texts,
                            const size_t *lengths, size_t count, bool last_first,
                            bool use_hyperscan, struct flags_ruleset **out, char *error,
                            size_t error_size);
int flag_ruleset_from_texts(const char *const *names, const char *const *texts,
                            const size_t *lengths, size_t count, bool last_first,
                            bool use_hyperscan, struct flags_ruleset **out, char *error,
                            size_t error_size)
{
    struct flag_rule_file file = {0};
    char scratch[1];
    size_t before_last = 0, own_rules = 0;
    *out = NULL;
    for (size_t i = 0; i < count; i++) {
        if (i + 1 == count)
            before_last = file.rule_count;
        if (flag_rules_parse(names[i], texts[i], lengths[i], &file, error ? error : scratch,
                             error ? error_size : 1) != 0) {
            flag_rule_file_free(&file);
            return -1;
        }
    }
    /* A forum's own rules are more specific than the catalogue: they go first, so where they
     * overlap a built-in flag of the same family theirs is kept. */
    if (last_first && before_last > 0 && before_last < file.rule_count) {
        size_t tail = file.rule_count - before_last;
        struct flag_rule *rotated = malloc(file.rule_count * sizeof *rotated);
        if (!rotated) {
            flag_rule_file_free(&file);
            say(error, error_size, "out of memory");
            return -1;
        }
        memcpy(rotated, file.rules + before_last, tail * sizeof *rotated);
        memcpy(rotated + tail, file.rules, before_last * sizeof *rotated);
        free(file.rules);
        file.rules = rotated;
        own_rules = tail;
    }
    return ruleset_build(&file, own_rules, use_hyperscan, out, error, error_size);
}
