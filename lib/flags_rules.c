/* flags_rules.c — reads flag rule files (the built-in catalogue in rules/ and a forum's
 * `flag_rules` file) into struct flag_rule (CONTRACT §8: rules are data).
 *
 * The format is line-based, INI-like, documented in README.md ("Flag rules"):
 *
 *   # a comment line
 *   [secret.aws_access_key]        a rule: its code, family.name
 *   severity = critical            info | warning | critical
 *   message  = An AWS access key ID …
 *   pattern  = \b(?<value>AKIA[A-Z0-9]{16})\b      (repeatable)
 *   match    = key: AKIAKPHOJUGSDR32ASMR           (repeatable examples)
 *
 *   [allow]                        allow-list entries for every rule
 *   pattern  = AKIAIOSFODNN7EXAMPLE
 *
 * Invariants: every error names the file and line ("name:line: message"); a failed parse
 * leaves the destination as it was (rules are parsed into a scratch file and moved over only
 * when the whole text is valid); values are never cut: a line longer than the limit is an
 * error. No inline comments: a '#' or ';' inside a value is part of it (patterns need both).
 */
#include "flags_internal.h"
#include "hex.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    LINE_MAX_BYTES = 8192,   /* one line of a rule file */
    MESSAGE_MAX_BYTES = 240, /* a flag's message */
    CODE_MAX_BYTES = 64,     /* a rule's code */
    NEAR_BYTES_MAX = 4096,
    COUNT_MAX = 10000
};

static const char *const severity_names[] = {"info", "warning", "critical"};
static const char *const family_names[] = {"secret", "access", "destructive", "pii", "mention"};
static const char *const language_names[] = {"none", "shell",      "sql",  "yaml",
                                             "hcl",  "powershell", "json", "other"};

const char *flag_severity_name(enum flag_severity severity)
{
    return severity >= FLAG_INFO && severity <= FLAG_CRITICAL ? severity_names[severity] : "none";
}

const char *flag_family_name(enum flag_family family)
{
    return family < FAMILY_COUNT ? family_names[family] : "";
}

int flag_array_reserve(void **items, size_t *cap, size_t count, size_t item_size)
{
    if (count < *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    void *grown = realloc(*items, n * item_size);
    if (!grown)
        return -1;
    *items = grown;
    *cap = n;
    return 0;
}

static void text_list_free(struct flag_text_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static int text_list_push(struct flag_text_list *list, char *owned)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (!grown) {
        free(owned);
        return -1;
    }
    list->items = grown;
    list->items[list->count++] = owned;
    return 0;
}

static void rule_free(struct flag_rule *rule)
{
    free(rule->code);
    free(rule->message);
    free(rule->source);
    struct flag_text_list *lists[] = {
        &rule->unless_after,   &rule->critical_near, &rule->patterns,   &rule->near,
        &rule->not_near,       &rule->allow,         &rule->match,      &rule->no_match,
        &rule->match_critical, &rule->match_warning, &rule->match_info, &rule->value_in};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        text_list_free(lists[i]);
}

void flag_rule_file_free(struct flag_rule_file *file)
{
    if (!file)
        return;
    for (size_t i = 0; i < file->rule_count; i++)
        rule_free(&file->rules[i]);
    free(file->rules);
    for (size_t i = 0; i < file->allow.count; i++)
        free(file->allow_sources[i]);
    free(file->allow_sources);
    text_list_free(&file->allow);
    memset(file, 0, sizeof *file);
}

/* ------------------------------------------------------------------------ parsing ---- */

struct parser {
    const char *name;
    size_t line;
    char *error;
    size_t error_size;
    struct flag_rule_file *out;            /* the rules of this text */
    const struct flag_rule_file *existing; /* rules loaded before: codes must differ */
    struct flag_rule *rule; /* the rule being read, or NULL (before any header, in [allow]) */
    bool in_allow, in_wording;
    unsigned seen; /* bit per single-valued key already set in this rule */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *format, ...)
{
    int used = snprintf(p->error, p->error_size, "%s:%zu: ", p->name, p->line);
    if (used >= 0 && (size_t)used < p->error_size) {
        va_list ap;
        va_start(ap, format);
        vsnprintf(p->error + used, p->error_size - (size_t)used, format, ap);
        va_end(ap);
    }
    return -1;
}

static char *dup_span(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

static bool valid_code(const char *s, size_t n)
{
    if (n == 0 || n > CODE_MAX_BYTES)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' ||
              s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

static int parse_severity(const char *value, bool allow_none, enum flag_severity *out)
{
    for (int i = FLAG_INFO; i <= FLAG_CRITICAL; i++)
        if (strcmp(value, severity_names[i]) == 0) {
            *out = (enum flag_severity)i;
            return 0;
        }
    if (allow_none && strcmp(value, "none") == 0) {
        *out = FLAG_NONE;
        return 0;
    }
    return -1;
}

static int parse_unsigned(const char *value, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)value[0]))
        return -1;
    unsigned long v = strtoul(value, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Word lists are written like patterns, so "mand\xc3\xa9" is "mandé": \xHH becomes that byte,
 * in place (the result is never longer). */
static void decode_hex_escapes(char *word)
{
    char *o = word;
    for (const char *c = word; *c; c++) {
        int high, low;
        if (c[0] == '\\' && c[1] == 'x' && (high = hex_value(c[2])) >= 0 &&
            (low = hex_value(c[3])) >= 0 && (high || low)) {
            *o++ = (char)(high * 16 + low);
            c += 3;
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
}

/* Splits a comma-separated list of words into lower-case items. */
static int parse_words(struct parser *p, const char *value, struct flag_text_list *into)
{
    const char *s = value;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *start = s;
        while (*s && *s != ',')
            s++;
        const char *end = s;
        while (end > start && end[-1] == ' ')
            end--;
        if (end == start)
            continue;
        char *word = dup_span(start, (size_t)(end - start));
        if (!word)
            return fail(p, "out of memory");
        decode_hex_escapes(word);
        for (char *c = word; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (text_list_push(into, word) != 0)
            return fail(p, "out of memory");
    }
    if (into->count == 0)
        return fail(p, "empty word list");
    return 0;
}

static int compare_words(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Example texts are one line in the file: "\n" stands for a newline, "\t" for a tab and "\\"
 * for a backslash; any other backslash is kept as it is. */
static char *unescape_example(const char *value)
{
    size_t n = strlen(value);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (value[i] == '\\' && i + 1 < n &&
            (value[i + 1] == 'n' || value[i + 1] == 't' || value[i + 1] == '\\')) {
            i++;
            *o++ = value[i] == 'n' ? '\n' : value[i] == 't' ? '\t' : '\\';
        } else {
            *o++ = value[i];
        }
    }
    *o = '\0';
    return out;
}

static int push_copy(struct parser *p, struct flag_text_list *list, const char *value)
{
    char *copy = strdup(value);
    if (!copy || text_list_push(list, copy) != 0)
        return fail(p, "out of memory");
    return 0;
}

static int push_example(struct parser *p, struct flag_text_list *list, const char *value)
{
    char *copy = unescape_example(value);
    if (!copy || text_list_push(list, copy) != 0)
        return fail(p, "out of memory");
    return 0;
}

/* Single-valued keys: each may appear once per rule. */
enum single_key {
    KEY_SEVERITY,
    KEY_MESSAGE,
    KEY_FAMILY,
    KEY_NEAR_BYTES,
    KEY_ENTROPY,
    KEY_PLACEHOLDERS,
    KEY_WHERE,
    KEY_LANGUAGES,
    KEY_ADVICE,
    KEY_CRITICAL_UNLESS,
    KEY_TARGET,
    KEY_TARGET_LOCAL,
    KEY_TARGET_BUILD,
    KEY_ADDRESS,
    KEY_CHECKSUM,
    KEY_COUNT,
    KEY_BULK,
    KEY_NEAR,
    KEY_NOT_NEAR,
    KEY_UNLESS_AFTER,
    KEY_CRITICAL_NEAR,
    KEY_IN_URL
};

static int once(struct parser *p, enum single_key key, const char *name)
{
    if (p->seen & (1u << key))
        return fail(p, "%s given twice in [%s]", name, p->rule->code);
    p->seen |= 1u << key;
    return 0;
}

/* Parses a comma-separated list of names[first..count) into *mask (bit k for names[k]).
 * Returns 0, or -1 naming the first unknown word: unknown WHAT "word" (CHOICES). */
static int parse_name_mask(struct parser *p, const char *value, const char *const *names, int first,
                           int count, const char *what, const char *choices, unsigned *mask)
{
    struct flag_text_list words = {0};
    if (parse_words(p, value, &words) != 0) {
        text_list_free(&words);
        return -1;
    }
    for (size_t i = 0; i < words.count; i++) {
        int found = -1;
        for (int k = first; k < count; k++)
            if (strcmp(words.items[i], names[k]) == 0)
                found = k;
        if (found < 0) {
            fail(p, "unknown %s \"%s\" (%s)", what, words.items[i], choices);
            text_list_free(&words);
            return -1;
        }
        *mask |= 1u << found;
    }
    text_list_free(&words);
    return 0;
}

static int parse_languages(struct parser *p, const char *value, unsigned *mask)
{
    return parse_name_mask(p, value, language_names, LANG_SHELL, LANG_COUNT, "language",
                           "shell, sql, yaml, hcl, powershell, json, other", mask);
}

/* The contexts that hold a rule's critical to warning, by family: scratch targets and
 * recoverable loss and lines of log output for destructive rules, revoking or locking and web ports
 * for access rules, a text saying the value is no risk for every family but mentions (never
 * critical), and a sandbox or throwaway local service for secrets. */
static unsigned default_excuses(enum flag_family family)
{
    switch (family) {
    case FAMILY_DESTRUCTIVE:
        return FLAG_EXCUSE_SCRATCH | FLAG_EXCUSE_RECOVERABLE | FLAG_EXCUSE_HARMLESS |
               FLAG_EXCUSE_LOGGED;
    case FAMILY_ACCESS:
        return FLAG_EXCUSE_TIGHTENING | FLAG_EXCUSE_WEB_PORT | FLAG_EXCUSE_HARMLESS;
    case FAMILY_SECRET:
        return FLAG_EXCUSE_HARMLESS | FLAG_EXCUSE_SANDBOX;
    case FAMILY_PII:
        return FLAG_EXCUSE_HARMLESS;
    default:
        return 0;
    }
}

/* `critical_unless = scratch, recoverable, tightening, web_port, harmless, sandbox, logged` or
 * `none`. */
static int parse_excuses(struct parser *p, const char *value, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"scratch", FLAG_EXCUSE_SCRATCH},       {"harmless", FLAG_EXCUSE_HARMLESS},
                 {"tightening", FLAG_EXCUSE_TIGHTENING}, {"recoverable", FLAG_EXCUSE_RECOVERABLE},
                 {"web_port", FLAG_EXCUSE_WEB_PORT},     {"sandbox", FLAG_EXCUSE_SANDBOX},
                 {"logged", FLAG_EXCUSE_LOGGED},         {"none", 0}};
    struct flag_text_list words = {0};
    if (parse_words(p, value, &words) != 0) {
        text_list_free(&words);
        return -1;
    }
    *mask = 0;
    for (size_t i = 0; i < words.count; i++) {
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && strcmp(words.items[i], names[k].name) != 0)
            k++;
        if (k == sizeof names / sizeof names[0]) {
            fail(p,
                 "unknown critical_unless \"%s\" (scratch, recoverable, tightening, web_port, "
                 "harmless, sandbox, none)",
                 words.items[i]);
            text_list_free(&words);
            return -1;
        }
        *mask |= names[k].bit;
    }
    text_list_free(&words);
    return 0;
}

/* A list of checksum schemes: the value must pass one of them. */
static int parse_checksums(struct parser *p, const char *value, unsigned *mask)
{
    struct flag_text_list words = {0};
    if (parse_words(p, value, &words) != 0) {
        text_list_free(&words);
        return -1;
    }
    for (size_t i = 0; i < words.count; i++) {
        int scheme = flag_checksum_named(words.items[i]);
        if (scheme < 0) {
            char known[512];
            size_t used = 0;
            known[0] = '\0';
            for (unsigned k = 0; flag_checksum_name(k) && used < sizeof known; k++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", k ? ", " : "",
                                         flag_checksum_name(k));
            fail(p, "checksum \"%s\" is unknown; checksum must be one or more of %s",
                 words.items[i], known);
            text_list_free(&words);
            return -1;
        }
        *mask |= 1u << scheme;
    }
    text_list_free(&words);
    return 0;
}

static int rule_key(struct parser *p, const char *key, const char *value)
{
    struct flag_rule *r = p->rule;
    unsigned long number;

    if (strcmp(key, "pattern") == 0)
        return push_copy(p, &r->patterns, value);
    if (strcmp(key, "allow") == 0)
        return push_copy(p, &r->allow, value);
    if (strcmp(key, "match") == 0)
        return push_example(p, &r->match, value);
    if (strcmp(key, "no_match") == 0)
        return push_example(p, &r->no_match, value);
    if (strcmp(key, "match_critical") == 0)
        return push_example(p, &r->match_critical, value);
    if (strcmp(key, "match_warning") == 0)
        return push_example(p, &r->match_warning, value);
    if (strcmp(key, "match_info") == 0)
        return push_example(p, &r->match_info, value);
    if (strcmp(key, "severity") == 0) {
        if (once(p, KEY_SEVERITY, key) != 0)
            return -1;
        if (parse_severity(value, false, &r->severity) != 0)
            return fail(p, "severity must be info, warning or critical");
        return 0;
    }
    if (strcmp(key, "message") == 0) {
        if (once(p, KEY_MESSAGE, key) != 0)
            return -1;
        size_t n = strlen(value);
        if (n > MESSAGE_MAX_BYTES)
            return fail(p, "message longer than %d bytes", MESSAGE_MAX_BYTES);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
                return fail(p, "message contains a control character");
        r->message = strdup(value);
        return r->message ? 0 : fail(p, "out of memory");
    }
    if (strcmp(key, "family") == 0) {
        if (once(p, KEY_FAMILY, key) != 0)
            return -1;
        if (strcmp(value, family_names[r->family]) != 0)
            return fail(p, "family \"%s\" does not match the code %s", value, r->code);
        return 0;
    }
    if (strcmp(key, "near") == 0)
        return once(p, KEY_NEAR, key) != 0 ? -1 : parse_words(p, value, &r->near);
    if (strcmp(key, "not_near") == 0)
        return once(p, KEY_NOT_NEAR, key) != 0 ? -1 : parse_words(p, value, &r->not_near);
    if (strcmp(key, "unless_after") == 0)
        return once(p, KEY_UNLESS_AFTER, key) != 0 ? -1 : parse_words(p, value, &r->unless_after);
    if (strcmp(key, "critical_near") == 0)
        return once(p, KEY_CRITICAL_NEAR, key) != 0 ? -1 : parse_words(p, value, &r->critical_near);
    /* repeatable: a long list spans several lines */
    if (strcmp(key, "value_in") == 0) {
        if (parse_words(p, value, &r->value_in) != 0)
            return -1;
        for (size_t i = 0; i < r->value_in.count; i++)
            if (strlen(r->value_in.items[i]) > FLAG_VALUE_IN_WORD_MAX)
                return fail(p, "value_in word longer than %d bytes", FLAG_VALUE_IN_WORD_MAX);
        qsort(r->value_in.items, r->value_in.count, sizeof *r->value_in.items, compare_words);
        return 0;
    }
    if (strcmp(key, "near_bytes") == 0) {
        if (once(p, KEY_NEAR_BYTES, key) != 0)
            return -1;
        if (parse_unsigned(value, NEAR_BYTES_MAX, &number) != 0 || number == 0)
            return fail(p, "near_bytes must be a number from 1 to %d", NEAR_BYTES_MAX);
        r->near_bytes = number;
        return 0;
    }
    if (strcmp(key, "entropy") == 0) {
        if (once(p, KEY_ENTROPY, key) != 0)
            return -1;
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno != 0 || *end != '\0' || !(v > 0.0 && v <= 8.0))
            return fail(p, "entropy must be a number of bits per character above 0, at most 8");
        r->entropy = v;
        return 0;
    }
    if (strcmp(key, "placeholders") == 0) {
        if (once(p, KEY_PLACEHOLDERS, key) != 0)
            return -1;
        bool keep;
        if (strcmp(value, "drop") == 0)
            keep = false;
        else if (strcmp(value, "keep") == 0)
            keep = true;
        else
            return fail(p, "placeholders must be drop or keep");
        r->placeholders = !keep;
        return 0;
    }
    if (strcmp(key, "where") == 0) {
        if (once(p, KEY_WHERE, key) != 0)
            return -1;
        if (strcmp(value, "any") == 0)
            r->where = WHERE_ANY;
        else if (strcmp(value, "code") == 0)
            r->where = WHERE_CODE;
        else if (strcmp(value, "prose") == 0)
            r->where = WHERE_PROSE;
        else
            return fail(p, "where must be any, code or prose");
        return 0;
    }
    if (strcmp(key, "languages") == 0)
        return once(p, KEY_LANGUAGES, key) != 0 ? -1 : parse_languages(p, value, &r->languages);
    if (strcmp(key, "advice_against") == 0) {
        if (once(p, KEY_ADVICE, key) != 0)
            return -1;
        if (strcmp(value, "downgrade") == 0)
            r->advice_against = true;
        else if (strcmp(value, "ignore") == 0)
            r->advice_against = false;
        else
            return fail(p, "advice_against must be downgrade or ignore");
        return 0;
    }
    if (strcmp(key, "critical_unless") == 0)
        return once(p, KEY_CRITICAL_UNLESS, key) != 0 ? -1 : parse_excuses(p, value, &r->excuses);
    if (strcmp(key, "in_url") == 0) {
        if (once(p, KEY_IN_URL, key) != 0)
            return -1;
        if (strcmp(value, "drop") == 0)
            r->drop_in_url = true;
        else if (strcmp(value, "keep") == 0)
            r->drop_in_url = false;
        else
            return fail(p, "in_url must be drop or keep");
        return 0;
    }
    if (strcmp(key, "target") == 0) {
        if (once(p, KEY_TARGET, key) != 0)
            return -1;
        if (strcmp(value, "path") != 0)
            return fail(p, "target must be path");
        r->target = TARGET_PATH;
        return 0;
    }
    if (strcmp(key, "target_local") == 0 || strcmp(key, "target_build") == 0) {
        bool local = strcmp(key, "target_local") == 0;
        if (once(p, local ? KEY_TARGET_LOCAL : KEY_TARGET_BUILD, key) != 0)
            return -1;
        if (parse_severity(value, true, local ? &r->target_local : &r->target_build) != 0)
            return fail(p, "%s must be none, info, warning or critical", key);
        return 0;
    }
    if (strcmp(key, "address") == 0) {
        if (once(p, KEY_ADDRESS, key) != 0)
            return -1;
        if (strcmp(value, "public") != 0)
            return fail(p, "address must be public");
        r->address = ADDRESS_PUBLIC;
        return 0;
    }
    if (strcmp(key, "checksum") == 0)
        return once(p, KEY_CHECKSUM, key) != 0 ? -1 : parse_checksums(p, value, &r->checksums);
    if (strcmp(key, "count") == 0 || strcmp(key, "bulk") == 0) {
        bool is_count = strcmp(key, "count") == 0;
        if (once(p, is_count ? KEY_COUNT : KEY_BULK, key) != 0)
            return -1;
        if (parse_unsigned(value, COUNT_MAX, &number) != 0 || number < 2)
            return fail(p, "%s must be a number from 2 to %d", key, COUNT_MAX);
        *(is_count ? &r->count : &r->bulk) = (unsigned)number;
        return 0;
    }
    return fail(p, "unknown key \"%s\" in [%s]", key, r->code);
}

/* Checks the rule just finished (at its end, errors point at its header). */
static int rule_finish(struct parser *p)
{
    struct flag_rule *r = p->rule;
    size_t line = p->line;
    int rc = 0;
    if (!r)
        return 0;
    /* Point at the header for missing keys. */
    const char *colon = strrchr(r->source, ':');
    p->line = colon ? strtoul(colon + 1, NULL, 10) : p->line;
    if (!(p->seen & (1u << KEY_SEVERITY)))
        rc = fail(p, "[%s] has no severity", r->code);
    else if (!r->message)
        rc = fail(p, "[%s] has no message", r->code);
    else if (r->patterns.count == 0)
        rc = fail(p, "[%s] has no pattern", r->code);
    else if (r->match.count + r->match_critical.count + r->match_warning.count +
                 r->match_info.count ==
             0)
        rc = fail(p, "[%s] has no example that must match (match = …)", r->code);
    else if ((r->near.count > 0 || r->not_near.count > 0 || r->unless_after.count > 0 ||
              r->critical_near.count > 0) &&
             r->near_bytes == 0)
        r->near_bytes = 80;
    p->line = line;
    p->rule = NULL;
    p->seen = 0;
    return rc;
}

static int header(struct parser *p, const char *name, size_t n)
{
    if (rule_finish(p) != 0)
        return -1;
    p->in_allow = p->in_wording = false;
    if (n == 5 && memcmp(name, "allow", 5) == 0) {
        p->in_allow = true;
        return 0;
    }
    if (n == 7 && memcmp(name, "wording", 7) == 0) {
        const struct flag_rule_file *files[] = {p->existing, p->out};
        for (size_t f = 0; f < 2; f++)
            if (files[f]->wording_set)
                return fail(p, "a second [wording] section (one per rule set)");
        p->in_wording = true;
        return 0;
    }
    if (!valid_code(name, n))
        return fail(p, "bad rule code \"%.*s\" (family.name, lower case letters, digits, _ . -)",
                    (int)(n > 80 ? 80 : n), name);
    int family = -1;
    for (int f = 0; f < FAMILY_COUNT; f++) {
        size_t fl = strlen(family_names[f]);
        if (n > fl + 1 && memcmp(name, family_names[f], fl) == 0 && name[fl] == '.')
            family = f;
    }
    if (family < 0)
        return fail(p,
                    "rule code \"%.*s\" must start with secret., access., destructive., pii. "
                    "or mention.",
                    (int)n, name);
    /* a rule named like the wording check's flag would be taken for it (flags_code_marks_secret) */
    const struct flag_wording_family *wording = flag_wording_family((enum flag_family)family);
    if (wording && strlen(wording->code) == n && memcmp(wording->code, name, n) == 0)
        return fail(p, "rule code %.*s is the wording check's flag", (int)n, name);
    const struct flag_rule_file *files[] = {p->existing, p->out};
    for (size_t f = 0; f < 2; f++)
        for (size_t i = 0; i < files[f]->rule_count; i++)
            if (strlen(files[f]->rules[i].code) == n &&
                memcmp(files[f]->rules[i].code, name, n) == 0)
                return fail(p, "rule %.*s defined twice (first at %s)", (int)n, name,
                            files[f]->rules[i].source);
    struct flag_rule *grown =
        realloc(p->out->rules, (p->out->rule_count + 1) * sizeof *p->out->rules);
    if (!grown)
        return fail(p, "out of memory");
    p->out->rules = grown;
    struct flag_rule *r = &grown[p->out->rule_count];
    memset(r, 0, sizeof *r);
    r->family = (enum flag_family)family;
    r->code = dup_span(name, n);
    char where[512];
    snprintf(where, sizeof where, "%s:%zu", p->name, p->line);
    r->source = strdup(where);
    if (!r->code || !r->source) {
        free(r->code);
        free(r->source);
        return fail(p, "out of memory");
    }
    r->placeholders = r->family == FAMILY_SECRET;
    r->advice_against = r->family == FAMILY_ACCESS || r->family == FAMILY_DESTRUCTIVE;
    r->excuses = default_excuses(r->family);
    r->target_local = FLAG_WARNING;
    r->target_build = FLAG_INFO;
    p->out->rule_count++;
    p->rule = r;
    return 0;
}

static int allow_key(struct parser *p, const char *key, const char *value)
{
    if (strcmp(key, "pattern") != 0)
        return fail(p, "unknown key \"%s\" in [allow] (only pattern)", key);
    char where[512];
    snprintf(where, sizeof where, "%s:%zu", p->name, p->line);
    char **grown =
        realloc(p->out->allow_sources, (p->out->allow.count + 1) * sizeof *p->out->allow_sources);
    if (!grown)
        return fail(p, "out of memory");
    p->out->allow_sources = grown;
    char *source = strdup(where);
    if (!source)
        return fail(p, "out of memory");
    if (push_copy(p, &p->out->allow, value) != 0) {
        free(source);
        return -1;
    }
    p->out->allow_sources[p->out->allow.count - 1] = source;
    return 0;
}

/* [wording] families = secret, access, … | none: the families the wording check runs for. */
static int wording_key(struct parser *p, const char *key, const char *value)
{
    if (strcmp(key, "families") != 0)
        return fail(p, "unknown key \"%s\" in [wording] (only families)", key);
    if (p->out->wording_set)
        return fail(p, "families given twice in [wording]");
    unsigned mask = 0;
    bool none = strcasecmp(value, "none") == 0;
    if (!none &&
        parse_name_mask(p, value, family_names, 0, FAMILY_COUNT, "family in [wording]",
                        "secret, access, destructive, pii, mention, or none alone", &mask) != 0)
        return -1;
    p->out->wording_families = none ? 0 : mask;
    p->out->wording_set = true;
    return 0;
}

static int line_parse(struct parser *p, const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    if (n == 0 || *s == '#')
        return 0;
    if (memchr(s, '\0', n))
        return fail(p, "NUL byte in line");
    if (*s == '[') {
        if (s[n - 1] != ']')
            return fail(p, "section header without closing ]");
        return header(p, s + 1, n - 2);
    }
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return fail(p, "expected key = value, [code], [allow] or [wording]");
    size_t kn = (size_t)(eq - s);
    while (kn > 0 && (s[kn - 1] == ' ' || s[kn - 1] == '\t'))
        kn--;
    const char *v = eq + 1;
    size_t vn = n - (size_t)(v - s);
    while (vn > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vn--;
    }
    char key[32];
    if (kn == 0 || kn >= sizeof key)
        return fail(p, "bad key");
    memcpy(key, s, kn);
    key[kn] = '\0';
    for (size_t i = 0; i < kn; i++)
        if (!(islower((unsigned char)key[i]) || key[i] == '_'))
            return fail(p, "bad key \"%s\"", key);
    if (vn == 0)
        return fail(p, "%s has an empty value", key);
    char *value = dup_span(v, vn);
    if (!value)
        return fail(p, "out of memory");
    int rc;
    if (p->in_allow)
        rc = allow_key(p, key, value);
    else if (p->in_wording)
        rc = wording_key(p, key, value);
    else if (p->rule)
        rc = rule_key(p, key, value);
    else
        rc = fail(p, "%s before any [code] or [allow] header", key);
    free(value);
    return rc;
}

/* Moves the rules and allow entries of `from` to the end of `to`; frees `from`'s arrays. */
static int rule_file_append(struct flag_rule_file *to, struct flag_rule_file *from)
{
    if (from->rule_count > 0) {
        struct flag_rule *rules =
            realloc(to->rules, (to->rule_count + from->rule_count) * sizeof *rules);
        if (!rules)
            return -1;
        to->rules = rules;
    }
    if (from->allow.count > 0) {
        size_t n = to->allow.count + from->allow.count;
        char **items = realloc(to->allow.items, n * sizeof *items);
        if (items)
            to->allow.items = items;
        char **sources = items ? realloc(to->allow_sources, n * sizeof *sources) : NULL;
        if (sources)
            to->allow_sources = sources;
        if (!items || !sources)
            return -1;
    }
    if (from->rule_count > 0)
        memcpy(to->rules + to->rule_count, from->rules, from->rule_count * sizeof *from->rules);
    to->rule_count += from->rule_count;
    if (from->allow.count > 0) {
        memcpy(to->allow.items + to->allow.count, from->allow.items,
               from->allow.count * sizeof *from->allow.items);
        memcpy(to->allow_sources + to->allow.count, from->allow_sources,
               from->allow.count * sizeof *from->allow_sources);
    }
    to->allow.count += from->allow.count;
    if (from->wording_set) {
        to->wording_families = from->wording_families;
        to->wording_set = true;
    }
    free(from->rules);
    free(from->allow.items);
    free(from->allow_sources);
    memset(from, 0, sizeof *from);
    return 0;
}

int flag_rules_parse(const char *name, const char *text, size_t length, struct flag_rule_file *into,
                     char *error, size_t error_size)
{
    /* The new rules go to a scratch file, moved over to `into` only when all of it is valid. */
    struct flag_rule_file scratch = {0};
    struct parser p = {
        .name = name, .error = error, .error_size = error_size, .out = &scratch, .existing = into};
    size_t at = 0;

    if (error_size > 0)
        error[0] = '\0';
    if (!text && length > 0)
        return fail(&p, "no text");
    while (at < length) {
        const char *nl = memchr(text + at, '\n', length - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : length - at;
        p.line++;
        if (n > LINE_MAX_BYTES) {
            fail(&p, "line longer than %d bytes", LINE_MAX_BYTES);
            goto fail;
        }
        if (line_parse(&p, text + at, n) != 0)
            goto fail;
        at += n + (nl ? 1 : 0);
    }
    if (rule_finish(&p) != 0)
        goto fail;
    if (rule_file_append(into, &scratch) != 0) {
        fail(&p, "out of memory");
        goto fail;
    }
    return 0;
fail:
    flag_rule_file_free(&scratch);
    return -1;
}
