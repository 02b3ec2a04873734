/* flags_wording.c — the wording check: a post that no rule matched but whose words read like
 * one of a family's posts gets a warning of that family ("access.reads_like").
 *
 * Rules find the forms someone wrote a pattern for; on posts nobody has seen they miss the
 * phrasings no pattern covers (docs/flags.md, "The wording check"). This check weighs the
 * words and word pairs of the text with a logistic regression fitted on the labelled corpus
 * (tests/flags/train_wording writes rules/wording.model, compiled in like the rules): per
 * family, weights that tell a family's post from an ordinary one, summed over the text's
 * distinct features and divided by the square root of their number. Above the family's
 * threshold (set so that about 1 % of ordinary posts, held out while training, pass it) the
 * text gets a warning, never a critical: a word count cannot say that something is live or
 * reachable by everyone. Its span is the line with the most evidence, so the approver sees
 * why.
 *
 * Tokens are runs of ASCII letters, digits, '_' and bytes >= 0x80 (so UTF-8 words stay whole),
 * ASCII lower-cased; features are the distinct tokens and pairs of adjacent tokens ("chmod
 * 777"). The training script tokenises the same way.
 */
#include "embedded.h"
#include "flags_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct embedded_file flag_rules_embedded[];

struct wording_entry {
    uint64_t hash;
    const char *key; /* into the embedded model text, not NUL-terminated */
    size_t key_length;
    float weights[FAMILY_COUNT];
};

struct wording_model {
    struct wording_entry *entries; /* one per feature line of the model */
    size_t entry_count;
    /* Open addressing, `mask` + 1 slots: the hash's top 32 bits and 1 + the entry's index (0
     * when free). Eight bytes a slot, so that the probes of a scan stay in cache; the entry is
     * read only when the top bits agree. */
    struct wording_slot {
        uint32_t tag, entry;
    } * slots;
    size_t mask;
    struct flag_wording_family families[FAMILY_COUNT];
    bool present[FAMILY_COUNT];
};

static pthread_once_t model_once = PTHREAD_ONCE_INIT;
static struct wording_model *model;

/* FNV-1a, from this offset basis. */
static const uint64_t FNV_BASIS = 14695981039346656037ULL;

/* The longest feature the model may hold (the training script leaves longer ones out): a
 * longer token is no feature, and the buffers of a scan hold two of them and a space. */
enum { KEY_MAX = 255 };

/* Fewer weighted features than this: too short to judge by its words (the training script's
 * MIN_FEATURES; the thresholds are set with it). */
enum { MIN_FEATURES = 10 };

static uint64_t fnv_add(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

/* The entry of the feature `key` (lower-case, `n` bytes) whose hash is `hash`, or NULL. */
static const struct wording_entry *lookup(const struct wording_model *m, uint64_t hash,
                                          const char *key, size_t n)
{
    for (size_t i = hash & m->mask;; i = (i + 1) & m->mask) {
        if (!m->slots[i].entry)
            return NULL;
        if (m->slots[i].tag != (uint32_t)(hash >> 32))
            continue;
        const struct wording_entry *e = &m->entries[m->slots[i].entry - 1];
        if (e->hash == hash && e->key_length == n && memcmp(e->key, key, n) == 0)
            return e;
    }
}

/* Parses "@family\tNAME\tTHRESHOLD\tCODE\tMESSAGE" into the model ('@' is no word byte, so no
 * feature line starts with it). */
static int parse_family(struct wording_model *m, char *line)
{
    char *fields[5], *save = NULL;
    size_t n = 0;
    for (char *f = strtok_r(line, "\t", &save); f && n < 5; f = strtok_r(NULL, "\t", &save))
        fields[n++] = f;
    if (n != 5)
        return -1;
    for (int fam = 0; fam < FAMILY_COUNT; fam++) {
        if (strcmp(fields[1], flag_family_name((enum flag_family)fam)) != 0)
            continue;
        char *end = NULL;
        m->families[fam].threshold = strtod(fields[2], &end);
        m->families[fam].code = strdup(fields[3]);
        m->families[fam].message = strdup(fields[4]);
        m->present[fam] = *end == '\0' && m->families[fam].code && m->families[fam].message;
        return m->present[fam] ? 0 : -1;
    }
    return -1;
}

/* Adds "FEATURE\tW1\t…\tW5" (the line's bytes stay in the embedded text). */
static int parse_feature(struct wording_model *m, const char *line, size_t length)
{
    const char *tab = memchr(line, '\t', length);
    if (!tab || tab == line || tab - line > KEY_MAX)
        return -1;
    struct wording_entry e = {.key = line, .key_length = (size_t)(tab - line)};
    e.hash = fnv_add(FNV_BASIS, (const unsigned char *)line, e.key_length);
    const char *p = tab + 1, *end = line + length;
    for (int fam = 0; fam < FAMILY_COUNT; fam++) {
        char buffer[32], *stop = NULL;
        size_t n = 0;
        while (p + n < end && p[n] != '\t' && n + 1 < sizeof buffer)
            n++;
        memcpy(buffer, p, n);
        buffer[n] = '\0';
        e.weights[fam] = strtof(buffer, &stop);
        if (n == 0 || *stop != '\0')
            return -1;
        p += n + (p + n < end);
    }
    m->entries[m->entry_count++] = e;
    for (size_t i = e.hash & m->mask;; i = (i + 1) & m->mask) {
        if (!m->slots[i].entry) {
            m->slots[i] = (struct wording_slot){(uint32_t)(e.hash >> 32), (uint32_t)m->entry_count};
            return 0;
        }
    }
}

static void model_free(struct wording_model *m)
{
    if (!m)
        return;
    for (int fam = 0; fam < FAMILY_COUNT; fam++) {
        free(m->families[fam].code);
        free(m->families[fam].message);
    }
    free(m->entries);
    free(m->slots);
    free(m);
}

static struct wording_model *model_parse(const char *text, size_t length)
{
    struct wording_model *m = calloc(1, sizeof *m);
    size_t lines = 1;
    for (size_t i = 0; i < length; i++)
        lines += text[i] == '\n';
    size_t slots = 16;
    while (slots < 2 * lines)
        slots *= 2;
    if (!m || lines > UINT32_MAX || !(m->slots = calloc(slots, sizeof *m->slots)) ||
        !(m->entries = calloc(lines, sizeof *m->entries))) {
        model_free(m);
        return NULL;
    }
    m->mask = slots - 1;
    for (size_t at = 0; at < length;) {
        const char *line = text + at, *nl = memchr(line, '\n', length - at);
        size_t n = nl ? (size_t)(nl - line) : length - at;
        at += n + 1;
        if (n == 0 || line[0] == '#')
            continue;
        int rc;
        if (n > 8 && memcmp(line, "@family\t", 8) == 0) {
            char *copy = strndup(line, n);
            rc = copy ? parse_family(m, copy) : -1;
            free(copy);
        } else {
            rc = parse_feature(m, line, n);
        }
        if (rc != 0) {
            fprintf(stderr, "rules/wording.model: bad line %.*s\n", (int)(n < 80 ? n : 80), line);
            model_free(m);
            return NULL;
        }
    }
    return m;
}

static void model_load(void)
{
    const struct embedded_file *f = embedded_find(flag_rules_embedded, "wording.model");
    if (f)
        model = model_parse((const char *)f->bytes, f->length);
}

static const struct wording_model *wording_model(void)
{
    pthread_once(&model_once, model_load);
    return model;
}

/* The features seen so far in one text, as table slots: each counts once however often it
 * occurs. Starts in `first` (a 1 KiB answer has a few hundred features, so a typical scan
 * allocates nothing) and grows by doubling onto the heap. */
enum { SEEN_FIRST = 512 };
struct seen_set {
    const struct wording_entry **slots;
    size_t mask, count;
    const struct wording_entry *first[SEEN_FIRST];
};

static void seen_init(struct seen_set *s)
{
    memset(s->first, 0, sizeof s->first);
    s->slots = s->first;
    s->mask = SEEN_FIRST - 1;
    s->count = 0;
}

static void seen_free(struct seen_set *s)
{
    if (s->slots != s->first)
        free(s->slots);
}

/* Adds e; 1 when it is new, 0 when it was there, -1 when memory runs out. */
static int seen_add(struct seen_set *s, const struct wording_entry *e)
{
    if (2 * (s->count + 1) > s->mask + 1) {
        size_t size = 2 * (s->mask + 1);
        const struct wording_entry **slots = calloc(size, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i <= s->mask; i++) {
            if (!s->slots[i])
                continue;
            size_t j = s->slots[i]->hash & (size - 1);
            while (slots[j])
                j = (j + 1) & (size - 1);
            slots[j] = s->slots[i];
        }
        seen_free(s);
        s->slots = slots;
        s->mask = size - 1;
    }
    size_t i = e->hash & s->mask;
    while (s->slots[i]) {
        if (s->slots[i] == e)
            return 0;
        i = (i + 1) & s->mask;
    }
    s->slots[i] = e;
    s->count++;
    return 1;
}

/* The evidence of one line for each family: the sum of the positive weights of its features. */
struct line_evidence {
    size_t start, end;
    double sum[FAMILY_COUNT];
};

static void line_close(struct line_evidence *line, struct line_evidence *best)
{
    for (int fam = 0; fam < FAMILY_COUNT; fam++) {
        if (line->sum[fam] > best[fam].sum[fam]) {
            best[fam] = *line;
            best[fam].sum[fam] = line->sum[fam];
        }
        line->sum[fam] = 0;
    }
}

static void count_feature(const struct wording_entry *e, bool is_new, double *score,
                          size_t *weighed, struct line_evidence *line)
{
    for (int fam = 0; fam < FAMILY_COUNT; fam++) {
        if (is_new && e->weights[fam] != 0) {
            score[fam] += e->weights[fam];
            weighed[fam]++;
        }
        if (e->weights[fam] > 0)
            line->sum[fam] += e->weights[fam];
    }
}

/* Trims spaces and tabs from both ends of [*start, *end). */
static void trim(const char *text, size_t *start, size_t *end)
{
    while (*start < *end && (text[*start] == ' ' || text[*start] == '\t' || text[*start] == '\r'))
        (*start)++;
    while (*end > *start &&
           (text[*end - 1] == ' ' || text[*end - 1] == '\t' || text[*end - 1] == '\r'))
        (*end)--;
}

int flag_wording_judge(const char *text, size_t length, const bool skip[FAMILY_COUNT],
                       struct flag_wording_hit hits[FAMILY_COUNT], size_t *count)
{
    const struct wording_model *m = wording_model();
    struct seen_set seen;
    double score[FAMILY_COUNT] = {0};
    size_t weighed[FAMILY_COUNT] = {0}; /* distinct features with a weight for the family */
    struct line_evidence line = {0}, best[FAMILY_COUNT] = {0};
    /* `pair` holds the previous token, a space and the current one, lower-cased: the pair's
     * key; the current token alone is its tail. previous_length 0: no previous token (the
     * text's first, or one longer than any feature). */
    char pair[2 * KEY_MAX + 2];
    size_t previous_length = 0;
    uint64_t previous_hash = FNV_BASIS;

    *count = 0;
    if (!m)
        return -1;
    bool judged = false; /* no family to judge (all flagged by rules, or left out): no scan */
    for (int fam = 0; fam < FAMILY_COUNT; fam++)
        judged = judged || (!skip[fam] && m->present[fam]);
    if (!judged)
        return 0;
    seen_init(&seen);
    for (size_t i = 0; i <= length;) {
        if (i == length || text[i] == '\n') {
            line.end = i;
            line_close(&line, best);
            line.start = i + 1;
            i++;
            continue;
        }
        if (!is_word_byte((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < length && is_word_byte((unsigned char)text[i]))
            i++;
        size_t n = i - start;
        if (n > KEY_MAX) {
            previous_length = 0;
            continue;
        }
        char *token = pair + (previous_length ? previous_length + 1 : 0);
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)text[start + k];
            token[k] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        uint64_t hash = fnv_add(FNV_BASIS, (const unsigned char *)token, n);
        const struct wording_entry *e = lookup(m, hash, token, n);
        int is_new;
        if (e) {
            if ((is_new = seen_add(&seen, e)) < 0)
                goto fail;
            count_feature(e, is_new, score, weighed, &line);
        }
        if (previous_length && previous_length + 1 + n <= KEY_MAX) {
            const unsigned char space = ' ';
            uint64_t pair_hash =
                fnv_add(fnv_add(previous_hash, &space, 1), (const unsigned char *)token, n);
            e = lookup(m, pair_hash, pair, previous_length + 1 + n);
            if (e) {
                if ((is_new = seen_add(&seen, e)) < 0)
                    goto fail;
                count_feature(e, is_new, score, weighed, &line);
            }
        }
        /* the current token becomes the previous one, at the start of `pair` */
        memmove(pair, token, n);
        pair[n] = ' ';
        previous_length = n;
        previous_hash = hash;
    }
    seen_free(&seen);
    for (int fam = 0; fam < FAMILY_COUNT; fam++) {
        /* divided by the square root of the count, as the training script does: a long post
         * must not pass the threshold for its length alone; a text with fewer than
         * MIN_FEATURES weighted features is not judged (a few telling words would pass) */
        if (weighed[fam] < MIN_FEATURES)
            continue;
        score[fam] /= sqrt((double)weighed[fam]);
        if (skip[fam] || !m->present[fam] || score[fam] <= m->families[fam].threshold ||
            best[fam].sum[fam] <= 0)
            continue;
        size_t start = best[fam].start, end = best[fam].end;
        trim(text, &start, &end);
        hits[(*count)++] =
            (struct flag_wording_hit){.family = (enum flag_family)fam, .start = start, .end = end};
    }
    return 0;
fail:
    seen_free(&seen);
    return -1;
}

const struct flag_wording_family *flag_wording_family(enum flag_family family)
{
    const struct wording_model *m = wording_model();
    return m && m->present[family] ? &m->families[family] : NULL;
}
