/* flags.c — the public entry points of the flag engine (CONTRACT §8): the built-in rule set,
 * forum rule files, scanning, and masking secrets for display.
 *
 * The built-in rules are the *.rules files of rules/ (one per family, plus allow.rules; the
 * wording check's model, rules/wording.model, is read by flags_wording.c), compiled into
 * the binary by cmake/embed_files.cmake and read here in name order. They are compiled once,
 * on first use, under pthread_once; a forum's rule set is the built-in rules plus its file,
 * compiled when the configuration is loaded.
 *
 * AGENTGATE_FLAGS_ENGINE=pcre2 in the environment makes rule sets built afterwards scan with
 * PCRE2 alone (to compare the two engines in tests and benchmarks).
 */
#include "flags.h"
#include "embedded.h"
#include "flags_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct embedded_file flag_rules_embedded[];

int flag_ruleset_check_examples_of(const struct flags_ruleset *rs, const char *source, char *error,
                                   size_t error_size);
int flag_ruleset_from_texts(const char *const *names, const char *const *texts,
                            const size_t *lengths, size_t count, bool last_first,
                            bool use_hyperscan, struct flags_ruleset **out, char *error,
                            size_t error_size);

enum { RULE_FILE_MAX_BYTES = 4 * 1024 * 1024, BUILTIN_FILES_MAX = 32 };

static bool use_hyperscan(void)
{
    const char *engine = getenv("AGENTGATE_FLAGS_ENGINE");
    return !(engine && strcmp(engine, "pcre2") == 0);
}

/* Collects the embedded rule files into parallel arrays; their names ("rules/secret.rules")
 * are written into `paths`. */
static size_t builtin_texts(char (*paths)[80], const char **names, const char **texts,
                            size_t *lengths)
{
    size_t n = 0;
    for (size_t i = 0; flag_rules_embedded[i].name && n < BUILTIN_FILES_MAX; i++) {
        const char *name = flag_rules_embedded[i].name, *dot = strrchr(name, '.');
        if (!dot || strcmp(dot, ".rules") != 0) /* wording.model is not a rule file */
            continue;
        snprintf(paths[n], sizeof paths[n], "rules/%s", flag_rules_embedded[i].name);
        names[n] = paths[n];
        texts[n] = (const char *)flag_rules_embedded[i].bytes;
        lengths[n] = flag_rules_embedded[i].length;
        n++;
    }
    return n;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static struct flags_ruleset *builtin_ruleset;
static char builtin_error[512];

static void builtin_build(void)
{
    const char *names[BUILTIN_FILES_MAX], *texts[BUILTIN_FILES_MAX];
    size_t lengths[BUILTIN_FILES_MAX];
    char paths[BUILTIN_FILES_MAX][80];
    size_t n = builtin_texts(paths, names, texts, lengths);
    if (flag_ruleset_from_texts(names, texts, lengths, n, false, use_hyperscan(), &builtin_ruleset,
                                builtin_error, sizeof builtin_error) != 0) {
        builtin_ruleset = NULL;
        return;
    }
    /* Every scan runs the wording check too: a model that does not load fails here, at start. */
    for (int family = 0; family < FAMILY_COUNT; family++) {
        if (!flag_wording_family((enum flag_family)family)) {
            snprintf(builtin_error, sizeof builtin_error,
                     "rules/wording.model: missing, unreadable or without family %s",
                     flag_family_name((enum flag_family)family));
            flags_ruleset_free(builtin_ruleset);
            builtin_ruleset = NULL;
            return;
        }
    }
}

const struct flags_ruleset *flags_builtin(char *error, size_t error_size)
{
    pthread_once(&builtin_once, builtin_build);
    if (!builtin_ruleset && error && error_size > 0)
        snprintf(error, error_size, "built-in flag rules: %s", builtin_error);
    return builtin_ruleset;
}

int flags_ruleset_parse(const char *name, const char *text, size_t length, int with_builtin,
                        struct flags_ruleset **out, char *error, size_t error_size)
{
    const char *names[BUILTIN_FILES_MAX + 1], *texts[BUILTIN_FILES_MAX + 1];
    size_t lengths[BUILTIN_FILES_MAX + 1], n = 0;
    char paths[BUILTIN_FILES_MAX][80];
    struct flags_ruleset *rs = NULL;

    if (!out)
        return -1;
    *out = NULL;
    if (!name || (!text && length > 0)) {
        if (error && error_size)
            snprintf(error, error_size, "no rule text");
        return -1;
    }
    if (with_builtin)
        n = builtin_texts(paths, names, texts, lengths);
    names[n] = name;
    texts[n] = text ? text : "";
    lengths[n] = length;
    int rc = flag_ruleset_from_texts(names, texts, lengths, n + 1, true, use_hyperscan(), &rs,
                                     error, error_size);
    if (rc != 0)
        return -1;
    /* The file's own examples must hold (the built-in ones are checked by the unit tests). */
    if (flag_ruleset_check_examples_of(rs, name, error, error_size) != 0) {
        flags_ruleset_free(rs);
        return -1;
    }
    *out = rs;
    return 0;
}

int flags_ruleset_load(const char *path, struct flags_ruleset **out, char *error, size_t error_size)
{
    FILE *f;
    char *text = NULL;
    size_t length = 0;
    int rc = -1;

    if (!out)
        return -1;
    *out = NULL;
    if (!path || !(f = fopen(path, "rb"))) {
        if (error && error_size)
            snprintf(error, error_size, "%s: cannot open: %s", path ? path : "(null)",
                     strerror(errno));
        return -1;
    }
    text = malloc(RULE_FILE_MAX_BYTES + 1);
    if (!text) {
        if (error && error_size)
            snprintf(error, error_size, "%s: out of memory", path);
        goto done;
    }
    length = fread(text, 1, RULE_FILE_MAX_BYTES + 1, f);
    if (ferror(f)) {
        if (error && error_size)
            snprintf(error, error_size, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    if (length > RULE_FILE_MAX_BYTES) {
        if (error && error_size)
            snprintf(error, error_size, "%s: larger than %d bytes", path, RULE_FILE_MAX_BYTES);
        goto done;
    }
    rc = flags_ruleset_parse(path, text, length, 1, out, error, error_size);
done:
    free(text);
    fclose(f);
    return rc;
}

int flags_scan(const char *field, const char *text, size_t length, json_t *flags)
{
    return flags_scan_with(NULL, field, text, length, flags);
}

bool flags_code_marks_secret(const char *code)
{
    const struct flag_wording_family *wording = flag_wording_family(FAMILY_SECRET);
    return code && strncmp(code, "secret.", 7) == 0 &&
           !(wording && strcmp(code, wording->code) == 0);
}

/* Length of the UTF-8 sequence led by c (1 for stray continuation or invalid bytes). */
static size_t utf8_sequence_length(unsigned char c)
{
    if (c >= 0xF0 && c <= 0xF7)
        return 4;
    if (c >= 0xE0)
        return c <= 0xEF ? 3 : 1;
    if (c >= 0xC0)
        return 2;
    return 1;
}

void flags_mask(const char *text, size_t length, char *out, size_t out_size)
{
    if (out == NULL || out_size == 0)
        return;
    size_t o = 0, chars = 0;
    for (size_t i = 0; text != NULL && i < length; chars++) {
        size_t n = utf8_sequence_length((unsigned char)text[i]);
        if (n > length - i)
            n = length - i;
        size_t write = chars < 4 ? n : 1;
        if (o + write >= out_size)
            break;
        if (chars < 4)
            memcpy(out + o, text + i, n);
        else
            out[o] = '*';
        o += write;
        i += n;
    }
    out[o] = '\0';
}
