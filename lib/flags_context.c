/* flags_context.c — what a pattern alone cannot tell about a match (CONTRACT §8 severities).
 *
 * - Markdown structure: fenced code blocks with their language (from the info string, or
 *   guessed from the first line when there is none) and inline code spans, so a rule can ask
 *   for code or prose and for a language (shell, SQL, YAML, HCL, PowerShell, JSON).
 * - Advice against: "never run `chmod 777`", "don't make the bucket public", a
 *   "# don't do this" comment, "Bad:" before a block. Such matches are downgraded to info.
 * - Placeholders and documented example values, entropy, public vs private IPv4 addresses,
 *   local build output vs shared paths (check digits: flags_checksum.c).
 *
 * Invariants: every function reads only inside [text, text + length); all are pure and
 * thread-safe; work is linear in the bytes they are given (look-backs are bounded).
 */
#include "flags_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    ADVICE_LOOKBACK = 160, /* bytes of the sentence before a match read for advice against */
    ADVICE_LOOKAHEAD = 60, /* bytes after a match read for "… is a bad idea" */
    FENCE_LOOKBACK = 240,  /* bytes of prose before a code block read for advice against */
    FENCE_LOOKAHEAD = 240, /* bytes of prose after a code block read for a bare refusal */
    STANZA_LOOKBACK = 400, /* bytes of indented code above a match read for its context */
    FRAME_LOOKAROUND = 600 /* bytes of a paragraph read around a match or its block */
};

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* True when text[at] is in a run of underscores of Markdown emphasis at a word's edge
 * ("_never_ run", "__never__ run"): a run with no word byte on one side of it. */
static bool emphasis_edge(const char *text, size_t from, size_t to, size_t at)
{
    if (text[at] != '_')
        return false;
    size_t a = at, b = at + 1;
    while (a > from && text[a - 1] == '_')
        a--;
    while (b < to && text[b] == '_')
        b++;
    return a == from || !is_word_byte((unsigned char)text[a - 1]) || b == to ||
           !is_word_byte((unsigned char)text[b]);
}

/* Looks for the lower-case words items[0..count) in text[from, to), ASCII case-insensitively,
 * at word boundaries (a word that starts or ends with a non-word byte needs no boundary on
 * that side; `from` and `to` count as boundaries), reading through Markdown emphasis ("*", "_")
 * at the edges of a phrase's words. Returns the offset just past the first
 * occurrence found (want_last false) or past the last one (want_last true), 0 for none.
 * One pass over the range: only positions whose byte starts some word are compared, and in
 * the middle of a word only words that start with a non-word byte can begin. */
static size_t words_scan(const char *text, size_t from, size_t to, const char *const *items,
                         size_t count, bool want_last)
{
    unsigned char first[32] = {0};
    size_t last = 0;
    for (size_t k = 0; k < count; k++)
        if (items[k][0])
            first[(unsigned char)items[k][0] >> 3] |= (unsigned char)(1u << (items[k][0] & 7));
    for (size_t i = from; i < to; i++) {
        unsigned char c = lower((unsigned char)text[i]);
        if (!(first[c >> 3] & (1u << (c & 7))))
            continue;
        bool starts = i == from || !is_word_byte((unsigned char)text[i - 1]) ||
                      emphasis_edge(text, from, to, i - 1);
        if (is_word_byte(c) && !starts)
            continue;
        for (size_t k = 0; k < count; k++) {
            const char *w = items[k];
            if ((unsigned char)w[0] != c)
                continue;
            size_t n = strlen(w), j = 1, p = i + 1;
            while (j < n && p < to) {
                unsigned char tc = lower((unsigned char)text[p]);
                if (tc == (unsigned char)w[j]) {
                    j++;
                    p++;
                } else if ((tc == '*' || tc == '_') && (w[j] == ' ' || w[j - 1] == ' ')) {
                    p++; /* emphasis around a word of a phrase: "*development* mode" */
                } else {
                    break;
                }
            }
            if (j < n)
                continue;
            if (is_word_byte((unsigned char)w[n - 1]) && p < to &&
                is_word_byte((unsigned char)text[p]) && !emphasis_edge(text, from, to, p))
                continue;
            if (!want_last)
                return p;
            if (p > last)
                last = p;
        }
    }
    return last;
}

static bool word_listed(const char *text, size_t length, const struct flag_text_list *words)
{
    char folded[FLAG_VALUE_IN_WORD_MAX + 1];
    if (length > FLAG_VALUE_IN_WORD_MAX) /* longer than any listed word */
        return false;
    for (size_t i = 0; i < length; i++)
        folded[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];
    folded[length] = '\0';
    size_t low = 0, high = words->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int order = strcmp(folded, words->items[mid]);
        if (order == 0)
            return true;
        if (order < 0)
            high = mid;
        else
            low = mid + 1;
    }
    return false;
}

/* Sentence punctuation of non-Latin scripts, which a byte pattern cannot tell from letters:
 * "@ཚང་མ།" is the word followed by a Tibetan full stop. */
static const char *const script_punctuation[] = {"\xe0\xbc\x8d", /* Tibetan shad */
                                                 "\xe0\xa5\xa4", /* Devanagari danda */
                                                 "\xe0\xa5\xa5", /* double danda */
                                                 "\xe3\x80\x82", /* ideographic full stop */
                                                 "\xe3\x80\x81", /* ideographic comma */
                                                 "\xef\xbc\x8c", /* fullwidth comma */
                                                 "\xef\xbc\x9a", /* fullwidth colon */
                                                 "\xef\xbc\x81", /* fullwidth exclamation mark */
                                                 "\xef\xbc\x9f", /* fullwidth question mark */
                                                 "\xd8\x8c",     /* Arabic comma */
                                                 "\xd8\x9b",     /* Arabic semicolon */
                                                 "\xdb\x94",     /* Urdu full stop */
                                                 "\xe1\x8d\xa2", /* Ethiopic full stop */
                                                 "\xe1\x8d\xa3", /* Ethiopic comma */
                                                 "\xe2\x80\xa6", /* ellipsis */
                                                 "\xe2\x80\x94", /* em dash */
                                                 "\xc2\xbb",     /* closing guillemet */
                                                 NULL};

bool flag_word_listed(const char *text, size_t length, const struct flag_text_list *words)
{
    if (word_listed(text, length, words))
        return true;
    /* the word with its script's punctuation after it */
    for (bool stripped = true; stripped && length > 0;) {
        stripped = false;
        for (size_t k = 0; script_punctuation[k]; k++) {
            size_t n = strlen(script_punctuation[k]);
            if (length > n && memcmp(text + length - n, script_punctuation[k], n) == 0) {
                length -= n;
                stripped = true;
                if (word_listed(text, length, words))
                    return true;
                break;
            }
        }
    }
    return false;
}

bool flag_words_in(const char *text, size_t from, size_t to, const struct flag_text_list *words)
{
    return words_scan(text, from, to, (const char *const *)words->items, words->count, false) != 0;
}

size_t flag_words_last(const char *text, size_t from, size_t to, const struct flag_text_list *words)
{
    return words_scan(text, from, to, (const char *const *)words->items, words->count, true);
}

/* True when one of the lower-case words of the NULL-terminated list occurs in s[0, n), ASCII
 * case-insensitively, anywhere. One pass: only positions whose byte starts some word are
 * compared. */
static bool contains_any_ci(const char *s, size_t n, const char *const *words)
{
    unsigned char first[32] = {0};
    for (size_t k = 0; words[k]; k++)
        first[(unsigned char)words[k][0] >> 3] |= (unsigned char)(1u << (words[k][0] & 7));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = lower((unsigned char)s[i]);
        if (!(first[c >> 3] & (1u << (c & 7))))
            continue;
        for (size_t k = 0; words[k]; k++) {
            const char *w = words[k];
            if ((unsigned char)w[0] != c)
                continue;
            size_t j = 1;
            while (w[j] && i + j < n && lower((unsigned char)s[i + j]) == (unsigned char)w[j])
                j++;
            if (!w[j])
                return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------------- Markdown ---- */

static const struct {
    const char *name;
    enum flag_language language;
} language_aliases[] = {
    {"sh", LANG_SHELL},       {"bash", LANG_SHELL},
    {"shell", LANG_SHELL},    {"zsh", LANG_SHELL},
    {"console", LANG_SHELL},  {"shell-session", LANG_SHELL},
    {"terminal", LANG_SHELL}, {"fish", LANG_SHELL},
    {"ksh", LANG_SHELL},      {"cron", LANG_SHELL},
    {"crontab", LANG_SHELL},  {"dockerfile", LANG_SHELL},
    {"bat", LANG_SHELL},      {"cmd", LANG_SHELL},
    {"batch", LANG_SHELL},    {"sql", LANG_SQL},
    {"psql", LANG_SQL},       {"pgsql", LANG_SQL},
    {"postgresql", LANG_SQL}, {"postgres", LANG_SQL},
    {"mysql", LANG_SQL},      {"plpgsql", LANG_SQL},
    {"tsql", LANG_SQL},       {"cql", LANG_SQL},
    {"sqlite", LANG_SQL},     {"plsql", LANG_SQL},
    {"yaml", LANG_YAML},      {"yml", LANG_YAML},
    {"hcl", LANG_HCL},        {"terraform", LANG_HCL},
    {"tf", LANG_HCL},         {"powershell", LANG_POWERSHELL},
    {"ps1", LANG_POWERSHELL}, {"pwsh", LANG_POWERSHELL},
    {"ps", LANG_POWERSHELL},  {"json", LANG_JSON},
    {"jsonc", LANG_JSON},     {"json5", LANG_JSON},
};

static enum flag_language language_named(const char *s, size_t n)
{
    if (n == 0)
        return LANG_NONE;
    for (size_t i = 0; i < sizeof language_aliases / sizeof *language_aliases; i++) {
        const char *a = language_aliases[i].name;
        if (strlen(a) != n)
            continue;
        size_t k = 0;
        while (k < n && lower((unsigned char)s[k]) == (unsigned char)a[k])
            k++;
        if (k == n)
            return language_aliases[i].language;
    }
    return LANG_OTHER;
}

static bool starts_with_ci(const char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

/* A guess from the first non-blank line of a block without a language. */
static enum flag_language language_guess(const char *s, size_t n)
{
    static const char *const sql[] = {"select ", "insert ", "update ", "delete ", "create ",
                                      "alter ",  "drop ",   "grant ",  "revoke ", "truncate ",
                                      "begin;",  "with ",   "\\c ",    NULL};
    static const char *const shell[] = {"$ ",    "# ",      "sudo ",    "cd ",        "git ",
                                        "rm ",   "chmod ",  "kubectl ", "docker ",    "aws ",
                                        "curl ", "export ", "gcloud ",  "az ",        "helm ",
                                        "npm ",  "pip ",    "mkdir ",   "terraform ", NULL};
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    if (n == 0)
        return LANG_NONE;
    if (*s == '{' || *s == '[')
        return LANG_JSON;
    for (size_t i = 0; sql[i]; i++)
        if (starts_with_ci(s, n, sql[i]))
            return LANG_SQL;
    for (size_t i = 0; shell[i]; i++)
        if (n >= strlen(shell[i]) && memcmp(s, shell[i], strlen(shell[i])) == 0)
            return LANG_SHELL;
    /* PowerShell: Verb-Noun cmdlets ("Get-ChildItem", "Remove-Item") or $variable = … */
    size_t w = 0;
    while (w < n && ((s[w] >= 'A' && s[w] <= 'Z') || (s[w] >= 'a' && s[w] <= 'z')))
        w++;
    if (w > 1 && w + 2 < n && s[w] == '-' && s[0] >= 'A' && s[0] <= 'Z' && s[w + 1] >= 'A' &&
        s[w + 1] <= 'Z')
        return LANG_POWERSHELL;
    if (starts_with_ci(s, n, "resource \"") || starts_with_ci(s, n, "provider \"") ||
        starts_with_ci(s, n, "module \"") || starts_with_ci(s, n, "variable \""))
        return LANG_HCL;
    return LANG_NONE;
}

static int block_push(struct flag_markdown *md, size_t *cap, struct flag_block block)
{
    if (flag_array_reserve((void **)&md->blocks, cap, md->count, sizeof block) != 0)
        return -1;
    md->blocks[md->count++] = block;
    return 0;
}

/* The next run of backticks in t[at, to): its offset (to when there is none) and length. */
static size_t backtick_run(const char *t, size_t at, size_t to, size_t *run)
{
    const char *tick = memchr(t + at, '`', to - at); /* most lines have none */
    at = tick ? (size_t)(tick - t) : to;
    *run = 0;
    while (at + *run < to && t[at + *run] == '`')
        (*run)++;
    return at;
}

/* True when the line [at, end), outside code, is a heading: an ATX heading ("# " to "###### ")
 * or a line that is all bold ("**What not to do**", "**Things to avoid:**"). */
static bool is_heading(const char *t, size_t at, size_t end)
{
    while (end > at && (t[end - 1] == ' ' || t[end - 1] == '\r' || t[end - 1] == ':'))
        end--;
    size_t hashes = 0;
    while (at + hashes < end && hashes < 7 && t[at + hashes] == '#')
        hashes++;
    if (hashes >= 1 && hashes <= 6)
        return at + hashes < end && t[at + hashes] == ' ';
    return end - at > 4 && memcmp(t + at, "**", 2) == 0 && memcmp(t + end - 2, "**", 2) == 0 &&
           memchr(t + at + 2, '*', end - at - 4) == NULL;
}

static int heading_push(struct flag_markdown *md, size_t *cap, size_t start, size_t end)
{
    if (flag_array_reserve((void **)&md->headings, cap, md->heading_count, sizeof *md->headings) !=
        0)
        return -1;
    md->headings[md->heading_count++] = (struct flag_heading){.start = start, .end = end};
    return 0;
}

/* Inline code spans `like this` within one line [from, to) (single backticks, or runs). */
static int inline_spans(const char *t, size_t from, size_t to, struct flag_markdown *md,
                        size_t *cap)
{
    size_t i = from;
    while (i < to) {
        size_t run, r;
        i = backtick_run(t, i, to, &run);
        if (i == to)
            break;
        size_t j = i + run, close = 0;
        bool found = false;
        while (j < to) {
            j = backtick_run(t, j, to, &r);
            if (j == to)
                break;
            if (r == run) {
                close = j;
                found = true;
                break;
            }
            j += r;
        }
        if (!found) {
            i += run;
            continue;
        }
        struct flag_block b = {.start = i + run, .end = close, .fence = i, .fenced = false};
        b.language = LANG_NONE;
        if (b.end > b.start && block_push(md, cap, b) != 0)
            return -1;
        i = close + run;
    }
    return 0;
}

int flag_markdown_parse(const char *t, size_t length, struct flag_markdown *md)
{
    size_t cap = 0, heading_cap = 0, at = 0;
    bool in_fence = false;
    char fence_char = 0;
    size_t fence_len = 0;
    struct flag_block open = {0};

    md->blocks = NULL;
    md->count = 0;
    md->headings = NULL;
    md->heading_count = 0;
    while (at < length) {
        const char *nl = memchr(t + at, '\n', length - at);
        size_t end = nl ? (size_t)(nl - t) : length, next = nl ? end + 1 : length;
        size_t i = at, indent = 0;
        while (i < end && t[i] == ' ' && indent < 4) {
            i++;
            indent++;
        }
        /* Blockquotes ("> ```") hold fences too. */
        while (i < end && t[i] == '>') {
            i++;
            while (i < end && t[i] == ' ')
                i++;
        }
        size_t run = 0;
        char c = i < end ? t[i] : 0;
        if (indent < 4 && (c == '`' || c == '~'))
            while (i + run < end && t[i + run] == c)
                run++;
        if (in_fence) {
            if (run >= fence_len && c == fence_char) {
                size_t k = i + run;
                while (k < end && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r'))
                    k++;
                if (k == end) {
                    open.end = at;
                    if (open.language == LANG_NONE)
                        open.language = language_guess(t + open.start, open.end - open.start);
                    if (block_push(md, &cap, open) != 0)
                        goto fail;
                    in_fence = false;
                    at = next;
                    continue;
                }
            }
        } else if (run >= 3) {
            size_t k = i + run;
            while (k < end && t[k] == ' ')
                k++;
            size_t w = k;
            while (w < end && t[w] != ' ' && t[w] != '\r' && t[w] != '{' && t[w] != '`')
                w++;
            in_fence = true;
            fence_char = c;
            fence_len = run;
            open = (struct flag_block){.start = next, .end = length, .fence = at, .fenced = true};
            open.language = language_named(t + k, w - k);
        } else if (inline_spans(t, at, end, md, &cap) != 0 ||
                   (indent == 0 && is_heading(t, at, end) &&
                    heading_push(md, &heading_cap, at, end) != 0)) {
            goto fail;
        }
        at = next;
    }
    if (in_fence) { /* an unclosed fence runs to the end of the text */
        if (open.language == LANG_NONE && open.start < length)
            open.language = language_guess(t + open.start, length - open.start);
        if (open.start < length && block_push(md, &cap, open) != 0)
            goto fail;
    }
    return 0;
fail:
    flag_markdown_free(md);
    return -1;
}

void flag_markdown_free(struct flag_markdown *md)
{
    free(md->blocks);
    free(md->headings);
    md->blocks = NULL;
    md->count = 0;
    md->headings = NULL;
    md->heading_count = 0;
}

const struct flag_block *flag_markdown_find(const struct flag_markdown *md, size_t at)
{
    size_t lo = 0, hi = md->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (md->blocks[mid].end <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < md->count && md->blocks[lo].start <= at && at < md->blocks[lo].end)
        return &md->blocks[lo];
    return NULL;
}

bool flag_words_in_own_text(const char *text, const struct flag_markdown *md, size_t at,
                            size_t from, size_t to, const struct flag_text_list *words)
{
    const struct flag_block *own = flag_markdown_find(md, at);
    if (!own || !own->fenced) /* prose discusses the blocks around it: they all count */
        return flag_words_in(text, from, to, words);
    size_t pos = from;
    for (size_t i = 0; i < md->count && pos < to; i++) {
        const struct flag_block *b = &md->blocks[i];
        if (!b->fenced || b == own || b->end <= pos)
            continue;
        if (b->fence >= to)
            break;
        /* From the opening fence line (its info string names the block) to the body's end. */
        if (b->fence > pos && flag_words_in(text, pos, b->fence, words))
            return true;
        pos = b->end;
    }
    return pos < to && flag_words_in(text, pos, to, words);
}

/* --------------------------------------------------------------- advice against ---- */

/* "Don't use / don't run / don't delete" in other languages (imperatives only: a word for
 * "never" alone often states a fact): Spanish, Portuguese, French, German, Italian, Dutch,
 * Indonesian, Minangkabau, Polish, Russian ("не используйте", "не запускайте"), Chinese ("不要",
 * "切勿", "请勿"), Japanese ("しないで"), Romanian ("nu rulați"), Czech and Slovak
 * ("nespouštějte"), Hungarian ("ne futtasd"), Turkish ("çalıştırmayın"), Swedish ("kör inte"),
 * Danish and Norwegian ("ikke kjør"), Finnish ("älä aja"), Greek ("μην τρέξετε"), Ukrainian
 * ("не видаляйте"), Korean ("실행하지 마세요") and Vietnamese ("đừng chạy"). The comparison folds
 * ASCII case only, so a capitalised form is listed where the first letter is not ASCII. */
#define INTL_CUES                                                                                  \
    "no uses", "no ejecutes", "no hagas", "no borres", "no elimines", "nunca uses",                \
        "nunca ejecutes", "n\xc3\xa3o use", "n\xc3\xa3o execute", "n\xc3\xa3o rode",               \
        "n\xc3\xa3o apague", "nunca use", "nunca rode", "n'utilisez pas",                          \
        "n'ex\xc3\xa9"                                                                             \
        "cutez pas",                                                                               \
        "ne lancez pas", "ne faites pas", "ne supprimez pas", "n'utilise pas", "ne lance pas",     \
        "nicht ausf\xc3\xbchren", "verwende nicht", "verwenden sie nicht", "f\xc3\xbchre nicht",   \
        "auf keinen fall", "non usare", "non eseguire", "non lanciare", "non cancellare",          \
        "non fare", "gebruik geen", "gebruik nooit", "voer niet", "nooit uitvoeren",               \
        "jangan gunakan", "jangan jalankan", "jangan hapus", "jan gunoan", "nie u\xc5\xbcywaj",    \
        "nie uruchamiaj", RU_DONT_USE, RU_DONT_RUN, "\xe4\xb8\x8d\xe8\xa6\x81",                    \
        "\xe5\x88\x87\xe5\x8b\xbf", "\xe8\xaf\xb7\xe5\x8b\xbf",                                    \
        "\xe3\x81\x97\xe3\x81\xaa\xe3\x81\x84\xe3\x81\xa7", "nu rula", "nu rula\xc8\x9bi",         \
        "nu rulati", "nu folosi", "nu folosi\xc8\x9bi", "nu folositi", "nu executa",               \
        "nu executa\xc8\x9bi", "nu executati", "nu \xc8\x99terge", "nu \xc8\x99terge\xc8\x9bi",    \
        "nu stergeti", "nu face asta", "nu face\xc8\x9bi asta", "nespou\xc5\xa1t\xc4\x9bjte",      \
        "nespou\xc5\xa1t\xc4\x9bj", "nepou\xc5\xbe\xc3\xadvejte", "nepou\xc5\xbe\xc3\xadvej",      \
        "nema\xc5\xbete", "nema\xc5\xbe",                                                          \
        "nesp\xc3\xba\xc5\xa1\xc5\xa5"                                                             \
        "ajte",                                                                                    \
        "nesp\xc3\xba\xc5\xa1\xc5\xa5"                                                             \
        "aj",                                                                                      \
        "nepou\xc5\xbe\xc3\xadvajte", "nepou\xc5\xbe\xc3\xadvaj", "ne futtasd", "ne futtassa",     \
        "ne haszn\xc3\xa1ld", "ne haszn\xc3\xa1lja", "ne t\xc3\xb6r\xc3\xb6ld",                    \
        "ne t\xc3\xb6r\xc3\xb6lje",                                                                \
        "\xc3\xa7"                                                                                 \
        "al\xc4\xb1\xc5\x9ft\xc4\xb1rmay\xc4\xb1n",                                                \
        "kullanmay\xc4\xb1n", "silmeyin",                                                          \
        "\xc3\x87"                                                                                 \
        "al\xc4\xb1\xc5\x9ft\xc4\xb1rmay\xc4\xb1n",                                                \
        "k\xc3\xb6r inte", "anv\xc3\xa4nd inte", "radera inte", "k\xc3\xb8r ikke", "brug ikke",    \
        "ikke k\xc3\xb8r", "ikke brug", "ikke kj\xc3\xb8r", "ikke bruk", "ikke slett",             \
        "\xc3\xa4l\xc3\xa4 k\xc3\xa4yt\xc3\xa4", "\xc3\xa4l\xc3\xa4 aja",                          \
        "\xc3\xa4l\xc3\xa4 poista", "\xc3\x84l\xc3\xa4 k\xc3\xa4yt\xc3\xa4",                       \
        "\xc3\x84l\xc3\xa4 aja", "\xc3\x84l\xc3\xa4 poista",                                       \
        "\xce\xbc\xce\xb7\xce\xbd \xcf\x84\xcf\x81\xce\xad\xce\xbe\xce\xb5\xcf\x84\xce\xb5",       \
        "\xce\xbc\xce\xb7\xce\xbd "                                                                \
        "\xce\xb5\xce\xba\xcf\x84\xce\xb5\xce\xbb\xce\xad\xcf\x83\xce\xb5\xcf\x84\xce\xb5",        \
        "\xce\xbc\xce\xb7\xce\xbd "                                                                \
        "\xcf\x87\xcf\x81\xce\xb7\xcf\x83\xce\xb9\xce\xbc\xce\xbf\xcf\x80\xce\xbf\xce\xb9\xce\xb5" \
        "\xce\xaf\xcf\x84\xce\xb5",                                                                \
        "\xce\xbc\xce\xb7 "                                                                        \
        "\xcf\x87\xcf\x81\xce\xb7\xcf\x83\xce\xb9\xce\xbc\xce\xbf\xcf\x80\xce\xbf\xce\xb9\xce\xb5" \
        "\xce\xaf\xcf\x84\xce\xb5",                                                                \
        "\xce\xbc\xce\xb7\xce\xbd "                                                                \
        "\xce\xb4\xce\xb9\xce\xb1\xce\xb3\xcf\x81\xce\xac\xcf\x88\xce\xb5\xcf\x84\xce\xb5",        \
        "\xce\x9c\xce\xb7\xce\xbd \xcf\x84\xcf\x81\xce\xad\xce\xbe\xce\xb5\xcf\x84\xce\xb5",       \
        "\xce\x9c\xce\xb7\xce\xbd "                                                                \
        "\xce\xb5\xce\xba\xcf\x84\xce\xb5\xce\xbb\xce\xad\xcf\x83\xce\xb5\xcf\x84\xce\xb5",        \
        "\xce\x9c\xce\xb7\xce\xbd "                                                                \
        "\xcf\x87\xcf\x81\xce\xb7\xcf\x83\xce\xb9\xce\xbc\xce\xbf\xcf\x80\xce\xbf\xce\xb9\xce\xb5" \
        "\xce\xaf\xcf\x84\xce\xb5",                                                                \
        "\xce\x9c\xce\xb7 "                                                                        \
        "\xcf\x87\xcf\x81\xce\xb7\xcf\x83\xce\xb9\xce\xbc\xce\xbf\xcf\x80\xce\xbf\xce\xb9\xce\xb5" \
        "\xce\xaf\xcf\x84\xce\xb5",                                                                \
        "\xce\x9c\xce\xb7\xce\xbd "                                                                \
        "\xce\xb4\xce\xb9\xce\xb1\xce\xb3\xcf\x81\xce\xac\xcf\x88\xce\xb5\xcf\x84\xce\xb5",        \
        "\xd0\xbd\xd0\xb5 "                                                                        \
        "\xd0\xb2\xd0\xb8\xd0\xba\xd0\xbe\xd1\x80\xd0\xb8\xd1\x81\xd1\x82\xd0\xbe\xd0\xb2\xd1\x83" \
        "\xd0\xb9\xd1\x82\xd0\xb5",                                                                \
        "\xd0\xbd\xd0\xb5 "                                                                        \
        "\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb0\xd0\xbb\xd1\x8f\xd0\xb9\xd1\x82\xd0\xb5",                \
        "\xd0\x9d\xd0\xb5 "                                                                        \
        "\xd0\xb2\xd0\xb8\xd0\xba\xd0\xbe\xd1\x80\xd0\xb8\xd1\x81\xd1\x82\xd0\xbe\xd0\xb2\xd1\x83" \
        "\xd0\xb9\xd1\x82\xd0\xb5",                                                                \
        "\xd0\x9d\xd0\xb5 "                                                                        \
        "\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb0\xd0\xbb\xd1\x8f\xd0\xb9\xd1\x82\xd0\xb5",                \
        "\xec\x82\xac\xec\x9a\xa9\xed\x95\x98\xec\xa7\x80 \xeb\xa7\x88\xec\x84\xb8\xec\x9a\x94",   \
        "\xec\x8b\xa4\xed\x96\x89\xed\x95\x98\xec\xa7\x80 \xeb\xa7\x88\xec\x84\xb8\xec\x9a\x94",   \
        "\xec\x82\xad\xec\xa0\x9c\xed\x95\x98\xec\xa7\x80 \xeb\xa7\x88\xec\x84\xb8\xec\x9a\x94",   \
        "\xec\x82\xac\xec\x9a\xa9\xed\x95\x98\xec\xa7\x80 "                                        \
        "\xeb\xa7\x88\xec\x8b\xad\xec\x8b\x9c\xec\x98\xa4",                                        \
        "\xec\x8b\xa4\xed\x96\x89\xed\x95\x98\xec\xa7\x80 "                                        \
        "\xeb\xa7\x88\xec\x8b\xad\xec\x8b\x9c\xec\x98\xa4",                                        \
        "\xec\x82\xad\xec\xa0\x9c\xed\x95\x98\xec\xa7\x80 "                                        \
        "\xeb\xa7\x88\xec\x8b\xad\xec\x8b\x9c\xec\x98\xa4",                                        \
        "\xc4\x91\xe1\xbb\xabng ch\xe1\xba\xa1y", "\xc4\x91\xe1\xbb\xabng d\xc3\xb9ng",            \
        "\xc4\x91\xe1\xbb\xabng x\xc3\xb3"                                                         \
        "a",                                                                                       \
        "\xc4\x90\xe1\xbb\xabng ch\xe1\xba\xa1y", "\xc4\x90\xe1\xbb\xabng d\xc3\xb9ng",            \
        "\xc4\x90\xe1\xbb\xabng x\xc3\xb3"                                                         \
        "a",                                                                                       \
        "kh\xc3\xb4ng n\xc3\xaan ch\xe1\xba\xa1y", "kh\xc3\xb4ng n\xc3\xaan d\xc3\xb9ng"
#define RU_DONT_USE                                                                                \
    "\xd0\xbd\xd0\xb5 \xd0\xb8\xd1\x81\xd0\xbf\xd0\xbe\xd0\xbb\xd1\x8c"                            \
    "\xd0\xb7\xd1\x83\xd0\xb9\xd1\x82\xd0\xb5"
#define RU_DONT_RUN                                                                                \
    "\xd0\xbd\xd0\xb5 \xd0\xb7\xd0\xb0\xd0\xbf\xd1\x83\xd1\x81\xd0\xba\xd0\xb0"                    \
    "\xd0\xb9\xd1\x82\xd0\xb5"

/* Cues that what follows is advised against. "don't"/"do not" count only before a verb of
 * doing (so "you don't have to copy tokens" is no advice against). */
#define STRONG_CUES                                                                                \
    "never", "must not", "mustn't", "should not", "shouldn't", "do not use", "do not run",         \
        "do not do", "do not set", "do not make", "do not open", "do not disable", "do not give",  \
        "do not grant", "do not add", "do not put", "do not paste", "do not commit",               \
        "do not push", "do not delete", "do not drop", "do not expose", "do not turn",             \
        "do not chmod", "do not copy", "don't use", "don't run", "don't do", "don't set",          \
        "don't make", "don't open", "don't disable", "don't give", "don't grant", "don't add",     \
        "don't put", "don't paste", "don't commit", "don't push", "don't delete", "don't drop",    \
        "don't expose", "don't turn", "don't chmod", "don't copy", "don't just", "don't ever",     \
        "don't remove", "do not remove", "don't wipe", "do not wipe", "don't purge",               \
        "do not purge", "don't allow", "do not allow", "don't enable", "do not enable",            \
        "don't assign", "do not assign", "don't switch", "do not switch", "dont use", "dont run",  \
        "not recommended", "bad idea", "anti-pattern", "antipattern", "resist the urge",           \
        "what not to do", "bad:", "wrong:", "don't:", "stop using", "no longer use",               \
        "refrain from", "is dangerous", "are dangerous", "a security hole", "a security risk",     \
        "don't do this", "do not do this", "tempting", "please don't", "not safe", "forbids",      \
        "prohibits", "is forbidden", "is prohibited", "are forbidden", "are prohibited",           \
        "prevents anyone", "prevent anyone", "stops anyone", "stop anyone", "blocks anyone",       \
        "block anyone", INTL_CUES

/* Before a code block only strong cues count: "Instead of X, do this:" and "To avoid X, use
 * this:" recommend the block. In a sentence they mark only what follows them in the same
 * clause: "Instead of `chmod 777`, …" but not "Rather than adding each reviewer, click …". */
static const char *const against_cues_block[] = {STRONG_CUES, NULL};
static const char *const against_cues[] = {
    STRONG_CUES, "avoid", "would make", "before you send that", "before you run that",
    "before you paste that", "before you post that", "would expose", "would open", "would allow",
    "would give", "would let", "would grant", "would delete", "would wipe", "would destroy",
    "safer than", "than deleting", "than dropping", "than wiping", "than truncating",
    /* "Object Lock protects against someone deleting the backups" */
    "protects against", "protect against", "guards against", "guard against", "protection against",
    /* "I'd push back on the `rm -rf` in the export script" */
    "push back on", NULL};

/* Cues that name the alternative a sentence turns away from. Their clause also ends at a colon:
 * in "instead of sharing each stream: set the default role to `Admin`" what follows the colon
 * is what the post does. */
static const char *const alternative_cues[] = {"instead of", "rather than", NULL};

/* Cues after a match in the same sentence: "`chmod 777` is a bad idea". */
static const char *const against_after[] = {
    "is a bad idea", "is dangerous", "is insecure", "is never", "should never", "is not safe",
    "is unsafe", "is a security", "is not recommended", "would be a mistake", "would make",
    "would expose", "would open", "would allow", "would give", "would let", "would grant",
    "would delete", "would wipe", "would destroy", "would break", "is how the last incident",
    "is how the incident", "caused the incident", "caused an incident", "caused the outage",
    "caused the breach", "led to the breach", "led to the incident",
    /* the tool refusing the command: "`db:drop` refuses, correctly" */
    "refuses", "is refused", "are refused", "is rejected", "are rejected", "fails with",
    /* what the command would do wrong: "`rm -r current/` would follow the link" */
    "would follow", "would remove", "would erase", "would lose", "would clobber", NULL};

/* How a sentence opens that undoes what the sentence before it shows: "… because of
 * `loopback_users = none` in the mounted config. Remove that line …". */
static const char *const undo_openings[] = {
    "remove that line",   "remove the line",       "remove that setting", "remove that option",
    "remove that flag",   "delete that line",      "delete the line",     "drop that line",
    "take that line out", "comment that line out", "comment it out",      NULL};

/* True when the sentence after the one ending at `stop` (its full stop) opens with an undo. */
static bool next_sentence_undoes(const char *t, size_t length, size_t stop)
{
    size_t at = stop + 1;
    while (at < length && (t[at] == ' ' || t[at] == '*' || t[at] == '_'))
        at++;
    for (size_t i = 0; undo_openings[i]; i++)
        if (starts_with_ci(t + at, length - at, undo_openings[i]))
            return true;
    return false;
}

static size_t cue_count(const char *const *cues)
{
    size_t n = 0;
    while (cues[n])
        n++;
    return n;
}

/* True when the cue ending at `end` is "never" followed by a past form ("we never exported
 * them", "it was never pushed") or after a modal ("it can never be read"): a statement of what
 * happened or will, not advice. */
static bool never_states_a_fact(const char *t, size_t end, size_t to)
{
    if (end < 5 || !starts_with_ci(t + end - 5, 5, "never"))
        return false;
    /* after "can", "could" or "will" it says what can or will happen: "so the backups can never
     * be read again" (not "may", "shall" or "would": "you may never run it" forbids) */
    static const char *const modals[] = {"can", "could", "will", NULL};
    size_t before = end - 5;
    while (before > 0 && t[before - 1] == ' ')
        before--;
    size_t word_start = before;
    while (word_start > 0 && is_word_byte((unsigned char)t[word_start - 1]))
        word_start--;
    for (size_t k = 0; modals[k]; k++)
        if (before - word_start == strlen(modals[k]) &&
            starts_with_ci(t + word_start, before - word_start, modals[k]))
            return true;
    size_t i = end;
    while (i < to && t[i] == ' ')
        i++;
    size_t word = i;
    while (i < to && is_word_byte((unsigned char)t[i]))
        i++;
    /* verbs whose present form ends in -ed: "never embed secrets" is advice */
    static const char *const not_past[] = {"embed", "need", "proceed", "exceed", "feed",
                                           "seed",  "shed", "shred",   "speed",  NULL};
    for (size_t k = 0; not_past[k]; k++)
        if (i - word == strlen(not_past[k]) && starts_with_ci(t + word, i - word, not_past[k]))
            return false;
    if (i - word >= 4 && lower((unsigned char)t[i - 2]) == 'e' &&
        lower((unsigned char)t[i - 1]) == 'd')
        return true;
    /* a third-person form says what happens ("the bucket never grows again"); advice takes the
     * bare verb ("never run"), and bare verbs that end in -ss or -us ("never bypass") stay advice
     */
    if (i - word >= 4 && lower((unsigned char)t[i - 1]) == 's' &&
        lower((unsigned char)t[i - 2]) != 's' && lower((unsigned char)t[i - 2]) != 'u')
        return true;
    /* irregular past forms and participles (not those that are also present: put, set, read) */
    static const char *const past[] = {
        "been",    "had",     "was",     "were",   "got",    "made",       "ran",       "did",
        "saw",     "left",    "kept",    "took",   "went",   "knew",       "caught",    "came",
        "found",   "thought", "told",    "became", "began",  "broke",      "built",     "bought",
        "brought", "chose",   "fell",    "felt",   "forgot", "gave",       "grew",      "heard",
        "held",    "lost",    "meant",   "met",    "paid",   "sent",       "sold",      "spent",
        "stood",   "won",     "wrote",   "said",   "gotten", "done",       "gone",      "seen",
        "taken",   "given",   "written", "known",  "shown",  "understood", "forgotten", NULL};
    for (size_t k = 0; past[k]; k++)
        if (i - word == strlen(past[k]) && starts_with_ci(t + word, i - word, past[k]))
            return true;
    return false;
}

/* The end of the first cue in [from, to) that is not "never" stating a fact; 0 for none. */
static size_t next_cue(const char *t, size_t from, size_t to, const char *const *cues)
{
    size_t end;
    while (from < to && (end = words_scan(t, from, to, cues, cue_count(cues), false)) != 0) {
        if (!never_states_a_fact(t, end, to))
            return end;
        from = end;
    }
    return 0;
}

static bool any_cue(const char *t, size_t from, size_t to, const char *const *cues)
{
    return next_cue(t, from, to, cues) != 0;
}

/* True when [from, end) holds a cue that starts before the match [start, end): the matched
 * text is never its own advice against ("verify_host_key: :never" holds "never"), while a cue
 * that runs into the match still counts ("don't make" before "make the bucket public"). The
 * first cue is the one to judge: it starts inside the match when a scan from `start` finds it. */
static bool cue_before(const char *t, size_t from, size_t start, size_t end,
                       const char *const *cues)
{
    size_t at = next_cue(t, from, end, cues);
    return at != 0 && (at <= start || next_cue(t, start, end, cues) != at);
}

/* Start of the sentence containing `at` (after ". ", "! ", "? ", ":\n" or a blank line),
 * looking back at most `limit` bytes. */
static size_t sentence_start(const char *t, size_t at, size_t limit)
{
    size_t floor = at > limit ? at - limit : 0;
    for (size_t i = at; i > floor; i--) {
        unsigned char c = (unsigned char)t[i - 1];
        if (c == '\n' && i >= 2 && t[i - 2] == '\n')
            return i;
        if ((c == ' ' || c == '\n') && i >= 2 &&
            (t[i - 2] == '.' || t[i - 2] == '!' || t[i - 2] == '?'))
            return i;
    }
    return floor;
}

/* Start of the line containing `at`. */
static size_t line_start(const char *t, size_t at)
{
    while (at > 0 && t[at - 1] != '\n')
        at--;
    return at;
}

static size_t line_end(const char *t, size_t length, size_t at)
{
    while (at < length && t[at] != '\n')
        at++;
    return at;
}

/* True when the comment of the line [from, to) ("# …", "// …", "-- …", "REM …") holds a
 * cue: code itself ("--insecure-skip-tls-verify") is never read as advice. */
static bool comment_has_cue(const char *t, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        bool starts = (t[i] == '#' && (i == from || t[i - 1] == ' ' || t[i - 1] == '\t')) ||
                      (t[i] == '/' && i + 1 < to && t[i + 1] == '/') ||
                      (t[i] == '-' && i + 2 < to && t[i + 1] == '-' && t[i + 2] == ' ' &&
                       (i == from || t[i - 1] == ' ')) ||
                      (i == from && to - i > 4 && starts_with_ci(t + i, to - i, "rem "));
        if (starts)
            return any_cue(t, i, to, against_cues_block);
    }
    return false;
}

/* True when the last sentence of the prose before the fenced block holds one of the cues. */
static bool lead_in_has(const char *t, const struct flag_block *block, const char *const *cues)
{
    size_t fence = block->fence;
    while (fence > 0 && (t[fence - 1] == '\n' || t[fence - 1] == ' ' || t[fence - 1] == '\r'))
        fence--;
    return any_cue(t, sentence_start(t, fence, FENCE_LOOKBACK), fence, cues);
}

/* Headings that put their whole section under advice against: "## What not to do" over a
 * list of commands no sentence of which holds a cue of its own. Only headings that name the
 * section as a list of don'ts: "How to avoid data loss" recommends what follows. */
static const char *const against_headings[] = {"what not to do",
                                               "what not to run",
                                               "what to avoid",
                                               "things to avoid",
                                               "mistakes to avoid",
                                               "commands to avoid",
                                               "patterns to avoid",
                                               "don't do this",
                                               "do not do this",
                                               "never do this",
                                               "anti-pattern",
                                               "antipattern",
                                               "not recommended",
                                               "bad idea",
                                               "don'ts",
                                               "dont's",
                                               NULL};

/* True when the section holding `at` opens with one of against_headings. */
static bool section_advised_against(const char *t, const struct flag_markdown *md, size_t at)
{
    size_t lo = 0, hi = md->heading_count;
    while (lo < hi) { /* the last heading that starts before `at` */
        size_t mid = lo + (hi - lo) / 2;
        if (md->headings[mid].start < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const struct flag_heading *h = &md->headings[lo - 1];
    return any_cue(t, h->start, h->end, against_headings);
}

/* A sentence that is nothing but a refusal: after a block, "Please don't." turns the block
 * into what not to do. Only the whole sentence counts: "Don't forget to restart nginx." does
 * not. */
static const char *const refusal_sentences[] = {"please don't",
                                                "please do not",
                                                "don't",
                                                "do not",
                                                "don't do this",
                                                "don't do that",
                                                "do not do this",
                                                "do not do that",
                                                "never do this",
                                                "never do that",
                                                "please don't do this",
                                                "please don't do that",
                                                "please never do this",
                                                "just don't",
                                                NULL};

/* True when the sentence [from, to) (its full stop or "!" not included) is a refusal. */
static bool is_refusal(const char *t, size_t from, size_t to)
{
    while (from < to && (t[from] == ' ' || t[from] == '*' || t[from] == '_'))
        from++;
    while (to > from && (t[to - 1] == ' ' || t[to - 1] == '*' || t[to - 1] == '_'))
        to--;
    for (size_t i = 0; refusal_sentences[i]; i++) {
        size_t n = strlen(refusal_sentences[i]);
        if (to - from == n && starts_with_ci(t + from, n, refusal_sentences[i]))
            return true;
    }
    return false;
}

/* True when the prose right after a fenced block (up to a blank line or FENCE_LOOKAHEAD bytes)
 * holds a sentence that is a bare refusal: "… to get past the error. Please don't." */
static bool follow_up_refuses(const char *t, size_t length, const struct flag_block *block)
{
    size_t at = block->end < length ? line_end(t, length, block->end) : length; /* the fence */
    while (at < length && (t[at] == '\n' || t[at] == '\r' || t[at] == ' '))
        at++;
    size_t stop = at, sentence = at;
    while (stop < length && stop - at < FENCE_LOOKAHEAD &&
           !(t[stop] == '\n' && stop + 1 < length && t[stop + 1] == '\n')) {
        if (t[stop] == '.' || t[stop] == '!') {
            if (is_refusal(t, sentence, stop))
                return true;
            sentence = stop + 1;
        }
        stop++;
    }
    return false;
}

bool flag_advised_against(const char *t, size_t length, const struct flag_markdown *md,
                          size_t start, size_t end)
{
    const struct flag_block *block = md ? flag_markdown_find(md, start) : NULL;

    if (md && section_advised_against(t, md, start))
        return true;

    if (block && block->fenced) {
        /* A comment on the match's line or the line above ("# never do this"). */
        size_t ls = line_start(t, start), le = line_end(t, length, end);
        if (comment_has_cue(t, ls, le))
            return true;
        if (ls > block->start) {
            size_t above = line_start(t, ls - 1);
            if (comment_has_cue(t, above, ls - 1))
                return true;
        }
        /* The last sentence of the prose before the block ("Never do this:"), or a bare
         * refusal just after it ("Please don't."). */
        return lead_in_has(t, block, against_cues_block) || follow_up_refuses(t, length, block);
    }
    /* Prose or inline code: the sentence up to the match ("don't make the bucket public"
     * starts with its cue) and "… is a bad idea" after. */
    size_t from = sentence_start(t, start, ADVICE_LOOKBACK);
    if (cue_before(t, from, start, end, against_cues_block))
        return true;
    size_t clause = start;
    while (clause > from && t[clause - 1] != ',' && t[clause - 1] != ';')
        clause--;
    if (cue_before(t, clause, start, end, against_cues))
        return true;
    size_t after_colon = start;
    while (after_colon > clause && t[after_colon - 1] != ':')
        after_colon--;
    if (cue_before(t, after_colon > clause ? after_colon : clause, start, end, alternative_cues))
        return true;
    size_t stop = end;
    while (stop < length && stop - end < ADVICE_LOOKAHEAD && t[stop] != '\n' &&
           !(t[stop] == '.' && (stop + 1 == length || t[stop + 1] == ' ')))
        stop++;
    return any_cue(t, end, stop, against_after) ||
           (stop < length && t[stop] == '.' && next_sentence_undoes(t, length, stop));
}

/* ------------------------------------------------------- critical held to warning ---- */

/* Cues that the target is made for one job, test or run and gone after it (scratch space, a
 * throwaway instance, a per-test database, a per-PR preview, a CI job's own prefix). */
static const char *const scratch_cues[] = {
    "scratch prefix", "scratch space", "scratch dir", "scratch dirs", "scratch directory",
    "scratch directories", "scratch bucket", "scratch database", "scratch db", "scratch schema",
    "scratch checkout", "scratch instance", "scratch vm", "scratch server", "scratch target",
    "scratch machine", "scratch host", "db.sqlite3", "restoretest", "restore test", "restore-test",
    "restore drill", "restore-drill", "the clone", "scratch cluster", "scratch namespace",
    "scratch volume", "scratch area", "scratch folder", "scratch path", "mktemp", "-scratch",
    "scratch-", "throwaway", "throw-away", "ephemeral", "temporary", "disposable", "per-test",
    "per test", "per-job", "per job", "per-run", "per run", "per-pr", "per pr", "each pr",
    "preview environment", "preview environments", "preview namespace", "preview app",
    "preview deployment", "testcontainers", "test container", "test containers", "ci job",
    "ci_job_id", "ci_pipeline_id", "ci_merge_request_iid", "github_run_id", "github_run_number",
    "build_id", "build_number", "buildkite_build_id", "circle_build_num", "github_workspace",
    "runner_temp", "ci_project_dir", "ci_builds_dir", "bitbucket_clone_dir", "agent_builddirectory",
    "previews", "preview bucket", "preview prefix",
    /* SQLite's in-memory databases live as long as the connection */
    ":memory:", "in-memory database", "in-memory sqlite", "sqlite in memory",
    "nothing that persists",
    /* a virtual disk file made for the test (Windows shows its bus type as "File Backed
     * Virtual") */
    "file backed virtual", NULL};

/* Cues that the text says the value or action carries no risk: a value declared not secret
 * or not personal, a hash, a documented example, a value meant to be printed or shared. */
static const char *const harmless_cues[] = {
    "not secret", "not a secret", "isn't secret", "isn't a secret", "is not a secret",
    "not sensitive", "isn't sensitive", "not personal data", "isn't personal data",
    "not the password", "not a password", "documented example", "documentation example",
    "reserved for documentation", "reserved for advertising", "reserves for", "publishable",
    "browser-side", "meant for the browser", "stays server-side", "stays on the server",
    "can't be used without", "cannot be used without", "useless without", "public identifier",
    "public by design", "public on purpose", "meant to be public", "designed to be public",
    "intended to be public", "expected to be public", "the public half", "the public part",
    "built to be embedded", "meant to be embedded", "designed to be embedded", "safe to embed",
    "browser key", "client sdk key", "client-side key", "ciphertext", "fine to print",
    "fine to share", "fine to commit", "fine to publish", "fine in the repo", "safe to print",
    "safe to share", "safe to commit", "safe to publish",
    /* a place, not a person */
    "not anyone's location", "isn't anyone's location", "not a person's location",
    "not personal location",
    /* a browser key, held by where it may be used */
    "allowed origins", "allowed-origins", "origin restriction", "referrer restriction",
    "restricted to our domains", "the visitor's browser", "into the page as is",
    "can't be used to read", "cannot be used to read",
    /* an error reporter's client token: it can only send events (Bugsnag, Rollbar) */
    "can only create events", "can only submit", "can only *submit*", "post_client_item",
    "notifier api key", "bugsnag.start(", "bugsnagperformance.start(",
    /* demo data made of characters from fiction */
    "public-domain fiction", "fictional characters", "fictional people", "fictional customers",
    "fictional names", NULL};

/* Cues that a credential opens only a sandbox or a throwaway local service: a payment
 * provider's test mode, a playground account, a blockchain test network (its coins have no
 * value), a container or dev server that lives on one machine and holds no real data. */
static const char *const sandbox_cues[] = {
    "sandbox",         "test mode",          "test-mode",      "testmode",
    "playground",      "test environment",   "test data only", "test keys",
    "test key",        "throwaway",          "throw-away",     "local only",
    "local-only",      "only locally",       "local dev",      "local development",
    "in-memory",       "dev server",         "dev mode",       "development mode",
    "development key", "development secret", "localhost",      "127.0.0.1",
    "testnet",         "test network",       "devnet",         NULL};
/* …unless the same text says the credential is a live or a shared one ("it silently talks to
 * the sandbox unless environment is production", "staging is shared with the partner
 * sandbox"). */
static const char *const live_cues[] = {"prod",      "production", "live mode", "live key",
                                        "live keys", "shared",     NULL};

/* Cues that access is being taken away or locked, not given: "revoke", "enforce public access
 * prevention", "stops serving publicly". (Not "remove" or "disable": removing a check opens.) */
static const char *const tightening_cues[] = {
    "revoke",     "revoked",     "revokes",      "revoking",      "lock down",
    "locks down", "locked down", "tighten",      "tightens",      "tightened",
    "tightening", "prevention",  "stop serving", "stops serving", "no longer public",
    "enforce",    "enforces",    "enforced",     "enforcing",     NULL};

/* Cues that the loss can be undone: a backup taken first, a reversible step. (Not "soft
 * delete": "soft delete is off" says the opposite.) */
static const char *const recoverable_cues[] = {
    "after a backup", "after backing up", "after taking a backup", "take a backup first",
    "back it up first", "is reversible", "are reversible", "step is reversible", "can be undeleted",
    "long-term history", "long-term storage", "object storage",
    /* the copy is checked before anything is removed */
    "verify, then", "verified, then", "once verified", "after verifying", "checksum-verified",
    /* the storage system says no data depends on it any more */
    "safe to destroy", "safe-to-destroy", "without reducing data durability", NULL};

/* What a post says after the block it showed, when the loss can be taken back. Only what can
 * be done, not the mechanism's name: "recycle bin", "undelete" or "time travel" come as often
 * in "there's no undelete" and "bypasses the recycle bin" (measured on the gated splits). */
static const char *const undo_cues[] = {"can be undone",
                                        "can be restored",
                                        "can be recovered",
                                        "can still be restored",
                                        "can still be recovered",
                                        "can be brought back",
                                        "can be re-imported",
                                        "can be reimported",
                                        "is restorable",
                                        "are restorable",
                                        NULL};

/* Cues that what is opened to everyone is a web endpoint, public by design: HTTP(S) ports. */
static const char *const web_port_cues[] = {"from_port = 443",
                                            "from_port = 80",
                                            "from_port  = 443",
                                            "fromport: 443",
                                            "fromport: 80",
                                            "port = 443",
                                            "port: 443",
                                            "port 443",
                                            "--port 443",
                                            "--port=443",
                                            "tcp:443",
                                            "tcp:80",
                                            "tcp/443",
                                            "tcp/80",
                                            "ports 80 and 443",
                                            "80,443",
                                            "80, 443",
                                            "https from",
                                            "containerport: 443",
                                            NULL};

/* End of the sentence containing `at`, looking ahead at most `limit` bytes. */
static size_t sentence_end(const char *t, size_t length, size_t at, size_t limit)
{
    size_t ceiling = length - at > limit ? at + limit : length;
    for (size_t i = at; i < ceiling; i++) {
        if (t[i] == '\n' && i + 1 < length && t[i + 1] == '\n')
            return i;
        if ((t[i] == '.' || t[i] == '!' || t[i] == '?') &&
            (i + 1 == length || t[i + 1] == ' ' || t[i + 1] == '\n'))
            return i;
    }
    return ceiling;
}

/* True when the text that speaks about [start, end) holds one of the cues: in a fenced block
 * the match's line, the line above and the sentence that introduces the block; elsewhere the
 * match's sentence. */
/* True when a shell variable the match uses ("rm -r \"$work\"", "${TMP_DIR}") is assigned in
 * the block before it ("work=\"$CI_PROJECT_DIR/.pkg-scratch\"", "tmp=$(mktemp -d)") by a line
 * that holds one of the cues: the assignment says what the variable names. */
static bool assignment_has(const char *t, const struct flag_block *block, size_t start, size_t end,
                           const char *const *cues)
{
    for (size_t i = start; i < end; i++) {
        if (t[i] != '$')
            continue;
        size_t a = i + 1 + (i + 1 < end && t[i + 1] == '{'), b = a;
        while (b < end && is_word_byte((unsigned char)t[b]))
            b++;
        if (b == a)
            continue;
        /* each earlier line of the block that starts with NAME= (after export, local, …) */
        for (size_t ls = block->start; ls < start; ls = line_end(t, start, ls) + 1) {
            size_t k = ls;
            while (k < start && (t[k] == ' ' || t[k] == '\t'))
                k++;
            static const char *const keywords[] = {"export ", "local ", "readonly ", "declare ",
                                                   NULL};
            for (size_t w = 0; keywords[w]; w++)
                if (starts_with_ci(t + k, start - k, keywords[w]))
                    k += strlen(keywords[w]);
            if (start - k > b - a && memcmp(t + k, t + a, b - a) == 0 && t[k + (b - a)] == '=' &&
                any_cue(t, k, line_end(t, start, k), cues))
                return true;
        }
    }
    return false;
}

static bool context_has(const char *t, size_t length, const struct flag_markdown *md, size_t start,
                        size_t end, const char *const *cues)
{
    const struct flag_block *block = md ? flag_markdown_find(md, start) : NULL;
    if (block && block->fenced) {
        /* the match's line and the line above, and the indented lines above them up to the
         * unindented line that opens their stanza ("resource … {", "job:") */
        size_t ls = line_start(t, start), le = line_end(t, length, end);
        if (ls > block->start)
            ls = line_start(t, ls - 1);
        while (ls > block->start && le - ls < STANZA_LOOKBACK && (t[ls] == ' ' || t[ls] == '\t'))
            ls = line_start(t, ls - 1);
        if (any_cue(t, ls, le, cues) || assignment_has(t, block, start, end, cues))
            return true;
        return lead_in_has(t, block, cues);
    }
    return any_cue(t, sentence_start(t, start, ADVICE_LOOKBACK), start, cues) ||
           any_cue(t, start, sentence_end(t, length, end, ADVICE_LOOKBACK), cues);
}

/* Prefixes that open a line of log output before the statement it records ("query: ALTER …"
 * from an ORM, "LOG:  statement: …" from PostgreSQL). */
static const char *const log_prefixes[] = {"query:", "log:", "statement:", "sql:", NULL};

static bool is_digits(const char *t, size_t at, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[at + i] < '0' || t[at + i] > '9')
            return false;
    return true;
}

static bool prompt_line(const char *t, size_t at, size_t end)
{
    while (at < end && (t[at] == ' ' || t[at] == '\t'))
        at++;
    return at + 2 <= end && t[at] == '$' && t[at + 1] == ' ';
}

/* Words in a command that only prints what it would run or what differs ("rollback-count-sql",
 * "skeema diff", "terraform plan", "--dry-run"): the statements it prints are a preview. */
static const char *const print_only_cues[] = {"-sql",    "--dry-run", "--dryrun",  "diff",
                                              "plan",    "--print",   "--preview", "--what-if",
                                              "-whatif", "explain",   NULL};

/* True when the line at `ls` is what a print-only command printed in a console transcript:
 * the nearest "$ " line above it runs such a command, this line has no prompt, does not
 * continue the command (a trailing backslash above), and no here-document feeds the block. */
static bool console_output_line(const char *t, const struct flag_block *block, size_t ls)
{
    size_t prompt = SIZE_MAX, prompt_end = 0;
    for (size_t at = block->start; at < block->end;) {
        size_t le = at;
        while (le < block->end && t[le] != '\n')
            le++;
        for (size_t i = at; i + 1 < le; i++)
            if (t[i] == '<' && t[i + 1] == '<')
                return false;
        if (at < ls && prompt_line(t, at, le)) {
            prompt = at;
            prompt_end = le;
        }
        at = le + 1;
    }
    if (prompt == SIZE_MAX || prompt_line(t, ls, line_end(t, block->end, ls)))
        return false;
    size_t above = ls;
    while (above > block->start && (t[above - 1] == '\n' || t[above - 1] == ' ' ||
                                    t[above - 1] == '\t' || t[above - 1] == '\r'))
        above--;
    if (above > block->start && (t[above - 1] == '\\' || t[above - 1] == '`'))
        return false;
    for (size_t i = 0; print_only_cues[i]; i++)
        if (memmem(t + prompt, prompt_end - prompt, print_only_cues[i], strlen(print_only_cues[i])))
            return true;
    return false;
}

/* How a tool's refusal opens its line: the database's "ERROR 1175 (HY000): You are using safe
 * update mode" or "ERROR:  permission denied", the AWS CLI's "An error occurred
 * (ValidationException)", kubectl's "Error from server (Forbidden)", "Error: …", git's "fatal: …".
 */
static const char *const refusal_openings[] = {
    "ERROR ",  "ERROR:", "An error occurred (", "Error from server", "Error: ", "error: ",
    "fatal: ", NULL};

/* True when the line at `at` (in the same block) opens with a refusal. */
static bool refusal_line(const char *t, const struct flag_block *block, size_t at)
{
    while (at < block->end && (t[at] == ' ' || t[at] == '\t'))
        at++;
    for (size_t i = 0; refusal_openings[i]; i++) {
        size_t n = strlen(refusal_openings[i]);
        if (at + n <= block->end && memcmp(t + at, refusal_openings[i], n) == 0)
            return true;
    }
    return false;
}

/* True when the match is on a refusal line, or the line after the one `end` closes is one: the
 * transcript shows the tool refusing the command, so nothing was lost. */
static bool refused(const char *t, const struct flag_block *block, size_t start, size_t end)
{
    return refusal_line(t, block, line_start(t, start)) ||
           refusal_line(t, block, line_end(t, block->end, end > block->start ? end - 1 : end) + 1);
}

/* How a tool titles the statements it prints instead of running them: Alembic's offline mode
 * ("-- Running downgrade 7c2e -> 5d10"), a dry run's or preview's own header comment. */
static const char *const preview_headers[] = {"running downgrade", "running upgrade", "dry run",
                                              "dry-run",           "preview",         NULL};

/* True when the block's first line is a comment ("-- …", "# …") with a preview header: the
 * block is what a tool printed and did not run. */
static bool preview_block(const char *t, const struct flag_block *block)
{
    size_t at = block->start;
    while (at < block->end && (t[at] == '\n' || t[at] == ' ' || t[at] == '\t'))
        at++;
    size_t le = line_end(t, block->end, at);
    bool comment = (le - at > 2 && t[at] == '-' && t[at + 1] == '-') ||
                   (le - at > 1 && t[at] == '#' && t[at + 1] == ' ');
    return comment && any_cue(t, at, le, preview_headers);
}

/* True when [start, end) sits on a line of log or console output in a fenced block: the line
 * opens with a date and time ("2024-06-03T07:41:13Z DEBUG …", "[2024-06-03 07:41:13] …") or a
 * log prefix, or it is what a print-only command printed under a "$ " prompt, or it or the
 * next line is a tool's refusal, or the block is titled as a preview. Such a line records what a
 * tool ran or would run, or what it refused; the post shows it, it does not advise running it. */
static bool on_log_line(const char *t, const struct flag_markdown *md, size_t start, size_t end)
{
    const struct flag_block *block = md ? flag_markdown_find(md, start) : NULL;
    if (!block || !block->fenced)
        return false;
    size_t at = line_start(t, start);
    if (console_output_line(t, block, at) || refused(t, block, start, end) ||
        preview_block(t, block))
        return true;
    while (at < start && (t[at] == ' ' || t[at] == '\t' || t[at] == '['))
        at++;
    /* YYYY-MM-DD, then T or a space, then HH: */
    if (at + 14 <= start && is_digits(t, at, 4) && t[at + 4] == '-' && is_digits(t, at + 5, 2) &&
        t[at + 7] == '-' && is_digits(t, at + 8, 2) && (t[at + 10] == 'T' || t[at + 10] == ' ') &&
        is_digits(t, at + 11, 2) && t[at + 13] == ':')
        return true;
    for (size_t i = 0; log_prefixes[i]; i++) {
        size_t n = strlen(log_prefixes[i]);
        if (at + n <= start && starts_with_ci(t + at, n, log_prefixes[i]))
            return true;
    }
    return false;
}

/* The sentence after a fenced block, [*from, return), where a post says what the block it just
 * showed does ("The deleted table can be restored from its snapshot for a week."). */
static size_t lead_out(const char *t, size_t length, const struct flag_block *block, size_t *from)
{
    size_t at = line_end(t, length, block->end); /* past the closing fence */
    while (at < length && (t[at] == '\n' || t[at] == ' ' || t[at] == '\r'))
        at++;
    *from = at;
    return sentence_end(t, length, at, FENCE_LOOKBACK);
}

static bool recoverable_after_block(const char *t, size_t length, const struct flag_markdown *md,
                                    size_t start);

unsigned flag_critical_excuse(const char *t, size_t length, const struct flag_markdown *md,
                              size_t start, size_t end, unsigned excuses)
{
    if ((excuses & FLAG_EXCUSE_SCRATCH) && context_has(t, length, md, start, end, scratch_cues))
        return FLAG_EXCUSE_SCRATCH;
    if ((excuses & FLAG_EXCUSE_HARMLESS) && context_has(t, length, md, start, end, harmless_cues))
        return FLAG_EXCUSE_HARMLESS;
    if ((excuses & FLAG_EXCUSE_TIGHTENING) &&
        context_has(t, length, md, start, end, tightening_cues))
        return FLAG_EXCUSE_TIGHTENING;
    if ((excuses & FLAG_EXCUSE_RECOVERABLE) &&
        (context_has(t, length, md, start, end, recoverable_cues) ||
         recoverable_after_block(t, length, md, start)))
        return FLAG_EXCUSE_RECOVERABLE;
    if ((excuses & FLAG_EXCUSE_WEB_PORT) && context_has(t, length, md, start, end, web_port_cues))
        return FLAG_EXCUSE_WEB_PORT;
    if ((excuses & FLAG_EXCUSE_SANDBOX) && context_has(t, length, md, start, end, sandbox_cues) &&
        !context_has(t, length, md, start, end, live_cues))
        return FLAG_EXCUSE_SANDBOX;
    if ((excuses & FLAG_EXCUSE_LOGGED) && on_log_line(t, md, start, end))
        return FLAG_EXCUSE_LOGGED;
    return 0;
}

/* ------------------------------------------------ critical raised by the framing prose ---- */

/* What a post says is at stake around the command it shows: whose data it is ("on the
 * production instance", "the shared runner", "other teams' volumes"), and that the loss is
 * final ("there's no other copy", "this can't be undone"). Word-bounded, lower case. */
static const char *const destructive_stakes[] = {"prod",
                                                 "production",
                                                 "shared",
                                                 "live",
                                                 "customer data",
                                                 "customers' data",
                                                 "other teams",
                                                 "every team",
                                                 "all teams",
                                                 "only copy",
                                                 "only copies",
                                                 "no other copy",
                                                 "no copy",
                                                 "no backup",
                                                 "no backups",
                                                 "without a backup",
                                                 "without backups",
                                                 "no snapshot",
                                                 "no snapshots",
                                                 "without a snapshot",
                                                 "permanently",
                                                 "permanent",
                                                 "can't be undone",
                                                 "cannot be undone",
                                                 "can't be recovered",
                                                 "cannot be recovered",
                                                 "can't be restored",
                                                 "cannot be restored",
                                                 "irreversible",
                                                 "irreversibly",
                                                 "for good",
                                                 "no way back",
                                                 "unrecoverable",
                                                 "no undo",
                                                 NULL};

/* A fenced match whose block is followed by a sentence saying the loss can be undone, and not
 * that it is final. */
static bool recoverable_after_block(const char *t, size_t length, const struct flag_markdown *md,
                                    size_t start)
{
    const struct flag_block *block = md ? flag_markdown_find(md, start) : NULL;
    size_t from, to;

    if (!block || !block->fenced)
        return false;
    to = lead_out(t, length, block, &from);
    return any_cue(t, from, to, undo_cues) && !any_cue(t, from, to, destructive_stakes);
}

/* Who is let in, stated about a block that opens access: the internet, every user of a shared
 * host, or data that must not leak. Not the bare "internet", "anyone" or "everyone": harmless
 * posts use them as their subject ("it doesn't accept any inbound connection from the
 * internet"). */
static const char *const access_stakes[] = {"internet-facing",
                                            "internet-reachable",
                                            "reachable from the internet",
                                            "exposed to the internet",
                                            "public ip",
                                            "public ips",
                                            "public address",
                                            "public addresses",
                                            "public host",
                                            "public interface",
                                            "public edge",
                                            "public ingress",
                                            "public endpoint",
                                            "every user",
                                            "every local user",
                                            "all users",
                                            "all local users",
                                            "any local user",
                                            "every employee",
                                            "all employees",
                                            "shared host",
                                            "shared build",
                                            "production data",
                                            "customer data",
                                            "customers' data",
                                            "finance",
                                            "confidential",
                                            "every account",
                                            NULL};

/* Paragraph bounds: back from `at` to the blank line before it (at most `limit` bytes), or on
 * from `at` to the blank line after it. */
static size_t paragraph_start(const char *t, size_t at, size_t limit)
{
    size_t floor = at > limit ? at - limit : 0;
    for (size_t i = at; i > floor; i--)
        if (t[i - 1] == '\n' && i >= 2 && t[i - 2] == '\n')
            return i;
    return floor;
}

static size_t paragraph_end(const char *t, size_t length, size_t at, size_t limit)
{
    size_t ceiling = length - at > limit ? at + limit : length;
    for (size_t i = at; i < ceiling; i++)
        if (t[i] == '\n' && i + 1 < length && t[i + 1] == '\n')
            return i;
    return ceiling;
}

/* What a sentence says of the stake it names when that stake is left alone: "production isn't
 * touched", "the shared registry is unaffected", "nothing on the shared volume". */
static const char *const spared_cues[] = {"isn't touched",
                                          "is not touched",
                                          "aren't touched",
                                          "are not touched",
                                          "isn't affected",
                                          "is not affected",
                                          "aren't affected",
                                          "are not affected",
                                          "untouched",
                                          "unaffected",
                                          "doesn't touch",
                                          "does not touch",
                                          "don't touch",
                                          "won't touch",
                                          "will not touch",
                                          "never touches",
                                          "nothing on",
                                          "nothing in",
                                          "is left alone",
                                          "are left alone",
                                          "stays as it is",
                                          "stay as they are",
                                          NULL};

/* The end of the first stake in [from, to): one of the built-in `cues` (not "never" stating a
 * fact), or else one of a rule's own `words`; 0 for none. */
static size_t next_stake(const char *t, size_t from, size_t to, const char *const *cues,
                         const struct flag_text_list *words)
{
    if (cues)
        return next_cue(t, from, to, cues);
    if (from >= to || words->count == 0)
        return 0;
    return words_scan(t, from, to, (const char *const *)words->items, words->count, false);
}

/* True when a stake (`cues`, or when NULL the rule's `words`) occurs in [from, to) in a
 * sentence that does not say the stake is spared: "Production isn't touched" names production
 * only to rule it out. */
static bool any_stake(const char *t, size_t length, size_t from, size_t to, const char *const *cues,
                      const struct flag_text_list *words)
{
    for (size_t end; (end = next_stake(t, from, to, cues, words)) != 0; from = end)
        if (!any_cue(t, sentence_start(t, end, ADVICE_LOOKBACK),
                     sentence_end(t, length, end, ADVICE_LOOKBACK), spared_cues))
            return true;
    return false;
}

bool flag_stake_words_in(const char *t, size_t length, size_t from, size_t to,
                         const struct flag_text_list *words)
{
    return any_stake(t, length, from, to, NULL, words);
}

/* True when a fence ("```" or "~~~") starts at `at`. */
static bool opens_fence(const char *t, size_t length, size_t at)
{
    return length - at >= 3 && (memcmp(t + at, "```", 3) == 0 || memcmp(t + at, "~~~", 3) == 0);
}

/* True when the paragraph that leads into the fenced block, or the one that follows it (when
 * that one does not lead into another block), holds
 * one of `cues` (may be NULL; a stake its sentence does not say is spared) or of `words` (may
 * be NULL). */
static bool frame_has(const char *t, size_t length, const struct flag_block *block,
                      const char *const *cues, const struct flag_text_list *words)
{
    size_t ranges[2][2], n = 0;
    size_t fence = block->fence;
    while (fence > 0 && (t[fence - 1] == '\n' || t[fence - 1] == ' ' || t[fence - 1] == '\r'))
        fence--;
    ranges[n][0] = paragraph_start(t, fence, FRAME_LOOKAROUND);
    ranges[n++][1] = fence;
    size_t after = line_end(t, length, block->end);
    while (after < length && (t[after] == '\n' || t[after] == ' ' || t[after] == '\r'))
        after++;
    if (after < length && !opens_fence(t, length, after)) {
        /* the paragraph after, unless it is the lead-in of the next block */
        size_t end = paragraph_end(t, length, after, FRAME_LOOKAROUND), next = end;
        while (next < length && (t[next] == '\n' || t[next] == ' ' || t[next] == '\r'))
            next++;
        if (!opens_fence(t, length, next)) {
            ranges[n][0] = after;
            ranges[n++][1] = end;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (cues && any_stake(t, length, ranges[i][0], ranges[i][1], cues, NULL))
            return true;
        if (words && any_stake(t, length, ranges[i][0], ranges[i][1], NULL, words))
            return true;
    }
    return false;
}

/* The memo's answer for `family` at `key`, computing it with `compute` on a miss. */
static bool memo_lookup(struct flag_frame_memo *memo, enum flag_family family, size_t key,
                        bool (*compute)(const char *, size_t, const struct flag_block *, size_t),
                        const char *t, size_t length, const struct flag_block *block, size_t at)
{
    if (memo->key[family] != key + 1) {
        memo->key[family] = key + 1;
        memo->found[family] = compute(t, length, block, at);
    }
    return memo->found[family];
}

static bool frame_has_destructive(const char *t, size_t length, const struct flag_block *block,
                                  size_t at)
{
    (void)at;
    return frame_has(t, length, block, destructive_stakes, NULL);
}

static bool frame_has_access(const char *t, size_t length, const struct flag_block *block,
                             size_t at)
{
    (void)at;
    return frame_has(t, length, block, access_stakes, NULL);
}

bool flag_frame_states_stakes(const char *t, size_t length, const struct flag_markdown *md,
                              size_t start, enum flag_family family,
                              const struct flag_text_list *words, struct flag_frame_memo *memo)
{
    const struct flag_block *block = md ? flag_markdown_find(md, start) : NULL;
    if (!block || !block->fenced)
        return false;
    if ((family == FAMILY_DESTRUCTIVE || family == FAMILY_ACCESS) &&
        memo_lookup(memo, family, block->fence,
                    family == FAMILY_DESTRUCTIVE ? frame_has_destructive : frame_has_access, t,
                    length, block, start))
        return true;
    return words->count > 0 && frame_has(t, length, block, NULL, words);
}

/* Personal data of a sensitive kind (CONTRACT §8): health, genetics, biometrics, criminal
 * records, union membership, a child's data, a refuge address. (Not pay or "minor": a
 * candidate's salary is one more detail, an age gate speaks of minors.) */
static const char *const sensitive_cues[] = {
    "diagnosis", "diagnoses", "diagnosed", "hiv", "diabetes", "diabetic", "epilepsy", "cancer",
    "pregnancy", "pregnant", "genetic", "brca1", "brca2", "allergy", "allergic", "coeliac",
    "celiac", "disease", "medication", "medications", "prescription", "psychiatric",
    "mental health", "therapy", "patient", "patients", "mrn", "medical record", "health insurance",
    "health card", "sick leave", "sick-leave", "disability", "criminal record", "criminal records",
    "conviction", "convictions", "union membership", "trade union", "biometric", "voiceprint",
    /* a person's fingerprints, not a key's, a certificate's or an error group's */
    "fingerprint scan", "fingerprint scans", "fingerprint scanner", "fingerprint reader",
    "fingerprint template", "fingerprint templates", "fingerprint images", "fingerprint data",
    "fingerprints of", "their fingerprints", "employees' fingerprints", "religion",
    "sexual orientation", "ethnicity", "refuge", "domestic violence", "child's", "children's",
    "kindergarten", "school", "pupil", NULL};

static bool record_has_sensitive(const char *t, size_t length, const struct flag_block *block,
                                 size_t at)
{
    if (block)
        return any_cue(t, block->start, block->end, sensitive_cues) ||
               frame_has(t, length, block, sensitive_cues, NULL);
    /* `at` is the paragraph's start, at most FRAME_LOOKAROUND before the match: read as far
     * past the match */
    return any_cue(t, at, paragraph_end(t, length, at, 2 * FRAME_LOOKAROUND), sensitive_cues);
}

bool flag_record_is_sensitive(const char *t, size_t length, const struct flag_markdown *md,
                              size_t start, struct flag_frame_memo *memo)
{
    const struct flag_block *block = md ? flag_markdown_find(md, start) : NULL;
    if (block && block->fenced)
        return memo_lookup(memo, FAMILY_PII, 2 * block->fence, record_has_sensitive, t, length,
                           block, start);
    /* in prose, the match's paragraph (from its start: matches of one paragraph share it) */
    size_t from = paragraph_start(t, start, FRAME_LOOKAROUND);
    return memo_lookup(memo, FAMILY_PII, 2 * from + 1, record_has_sensitive, t, length, NULL, from);
}

bool flag_is_digest(const char *v, size_t n)
{
    static const char *const prefixes[] = {"$2a$",    "$2b$",      "$2y$",      "$argon2", "$1$",
                                           "$5$",     "$6$",       "$y$",       "pbkdf2_", "{ssha}",
                                           "{sha}",   "{ssha256}", "{ssha512}", "scrypt$", "sha1$",
                                           "sha256$", "md5$",      "bcrypt$",   NULL};
    while (n > 0 && (*v == '"' || *v == '\'')) {
        v++;
        n--;
    }
    for (size_t i = 0; prefixes[i]; i++) {
        size_t k = strlen(prefixes[i]);
        if (n > k + 8 && starts_with_ci(v, n, prefixes[i]))
            return true;
    }
    return false;
}

bool flag_inside_url(const char *t, size_t at)
{
    size_t floor = at > 512 ? at - 512 : 0;
    for (size_t i = at; i > floor; i--) {
        unsigned char c = (unsigned char)t[i - 1];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
            c == '>' || c == '(' || c == '`')
            return false;
        if (c == '/' && i >= 3 && t[i - 2] == '/' && t[i - 3] == ':')
            return true;
    }
    return false;
}

/* ----------------------------------------------------------------- placeholders ---- */

/* Marks of a placeholder anywhere in a value. */
static const char *const placeholder_marks[] = {
    "example", "xxxx", "changeme", "change_me", "change-me", "placeholder", "redacted", "dummy",
    "your_", "your-", "yourpass", "<", "${", "{{", "$(", "...", "\xe2\x80\xa6", "****",
    "replace_me", "replace-me", "replaceme", "insert_", "not-a-real", "notreal", "fake",
    "secret_here", "token_here", "key_here", "here>", "_here", "-here",
    /* a detection pattern, not a value ("[a-z0-9]{32}", "\\b(") */
    "]{", "\\b(", "\\d{",
    /* values encrypted for the repository (dotenvx, SOPS, Ansible Vault) */
    "encrypted:", "enc[aes256_gcm", "$ansible_vault", NULL};

/* Words that mark a placeholder ("your_password", "secret_here") unless a random part follows
 * them: Khalti's keys are "live_secret_key_" and 32 hex digits. */
static const char *const placeholder_words[] = {"password", "passwd", "secret", NULL};

/* Values that are placeholders when they are the whole value. */
static const char *const placeholder_values[] = {
    "password", "password1", "password123", "hunter2",   "s3cr3t",     "secret",
    "p@ssw0rd", "passw0rd",  "letmein",     "foobar",    "test123",    "abc123",
    "12345678", "123456789", "abcdef",      "lorem",     "changeit",   "todo",
    "fixme",    "sample",    "mysecret",    "my_secret", "mypassword", "supersecret",
    "qwerty",   "admin123",  "root",        "toor",      NULL};

static bool is_hex_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* A %-reference: %NAME% (Windows), %(name)s and %s (format strings); not URL-encoding
 * ("%2FPw7…%3D" is a value). */
static bool percent_reference(const char *v, size_t n)
{
    if (n < 2 || v[0] != '%')
        return false;
    if (v[1] == '(' || (n == 2 && (v[1] == 's' || v[1] == 'd')))
        return true;
    size_t k = 1;
    while (k < n && is_word_byte((unsigned char)v[k]))
        k++;
    if (k >= n || v[k] != '%' || k == 1 || (v[1] >= '0' && v[1] <= '9'))
        return false;
    return !(k == 3 && is_hex_byte((unsigned char)v[1]) && is_hex_byte((unsigned char)v[2]));
}

/* True when the value holds a run of at least 16 letters and digits (three or more digits, four
 * or more letters) in which no placeholder word appears: a generated part, not a name. */
static bool has_random_run(const char *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i, digits = 0, letters = 0;
        while (j < n && isalnum((unsigned char)v[j])) {
            digits += isdigit((unsigned char)v[j]) != 0;
            letters += isalpha((unsigned char)v[j]) != 0;
            j++;
        }
        if (j - i >= 16 && digits >= 3 && letters >= 4 &&
            !contains_any_ci(v + i, j - i, placeholder_words))
            return true;
        i = j + 1;
    }
    return false;
}

bool flag_is_placeholder(const char *v, size_t n)
{
    while (n > 0 && (*v == '"' || *v == '\'' || *v == ' ')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '"' || v[n - 1] == '\'' || v[n - 1] == ' '))
        n--;
    if (n == 0)
        return true;
    /* A reference, not a value: $VAR, %VAR%, @var, env lookups. A "$" that opens a generated
     * value is part of it (Asaas tokens are "$aact_prod_000…"). */
    if ((v[0] == '$' && !has_random_run(v, n)) || percent_reference(v, n) ||
        (v[0] == '@' && n > 1 && v[1] != '@'))
        return true;
    if (contains_any_ci(v, n, placeholder_marks))
        return true;
    if (contains_any_ci(v, n, placeholder_words) && !has_random_run(v, n))
        return true;
    for (size_t i = 0; placeholder_values[i]; i++)
        if (strlen(placeholder_values[i]) == n && starts_with_ci(v, n, placeholder_values[i]))
            return true;
    /* One repeated character ("aaaaaaaa", "00000000"), or only masking characters. */
    bool same = true, masky = true;
    for (size_t i = 0; i < n; i++) {
        if (v[i] != v[0])
            same = false;
        if (!(v[i] == 'x' || v[i] == 'X' || v[i] == '*' || v[i] == '0' || v[i] == '-' ||
              v[i] == '.' || v[i] == '#'))
            masky = false;
    }
    return same || masky;
}

double flag_entropy(const char *v, size_t n)
{
    size_t counts[256] = {0};
    double h = 0.0;
    if (n == 0)
        return 0.0;
    for (size_t i = 0; i < n; i++)
        counts[(unsigned char)v[i]]++;
    for (size_t c = 0; c < 256; c++)
        if (counts[c]) {
            double p = (double)counts[c] / (double)n;
            h -= p * log2(p);
        }
    return h;
}

/* ---------------------------------------------------------------------- addresses ---- */

static bool ipv4_parse(const char *v, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned value = 0, digits = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9' && digits < 4) {
            value = value * 10 + (unsigned)(v[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || value > 255)
            return false;
        out[part] = (uint8_t)value;
        if (part < 3) {
            if (i >= n || v[i] != '.')
                return false;
            i++;
        }
    }
    return i == n || v[i] == '/' || v[i] == ':';
}

bool flag_address_public(const char *v, size_t n)
{
    uint8_t a[4];
    if (!ipv4_parse(v, n, a))
        return true;
    if (a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224)
        return false;
    if (a[0] == 169 && a[1] == 254)
        return false;
    if (a[0] == 172 && a[1] >= 16 && a[1] <= 31)
        return false;
    if (a[0] == 192 && a[1] == 168)
        return false;
    if (a[0] == 100 && a[1] >= 64 && a[1] <= 127)
        return false;
    if ((a[0] == 192 && a[1] == 0 && a[2] == 2) || (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
        (a[0] == 203 && a[1] == 0 && a[2] == 113) || (a[0] == 198 && (a[1] == 18 || a[1] == 19)))
        return false;
    return true;
}

/* -------------------------------------------------------------------------- paths ---- */

/* Directories that hold build output, caches or temporary files: cleaning them loses nothing
 * that a build or a download cannot bring back. */
static const char *const build_dirs[] = {"build",
                                         "dist",
                                         "out",
                                         "target",
                                         "node_modules",
                                         "__pycache__",
                                         "log",
                                         ".cache",
                                         ".pytest_cache",
                                         ".mypy_cache",
                                         ".next",
                                         ".nuxt",
                                         ".parcel-cache",
                                         ".gradle",
                                         ".tox",
                                         ".venv",
                                         "venv",
                                         "coverage",
                                         ".terraform",
                                         "tmp",
                                         "temp",
                                         "obj",
                                         "_build",
                                         "cmake-build-debug",
                                         ".turbo",
                                         "vendor",
                                         "deps",
                                         ".eggs",
                                         "public/build",
                                         ".m2",
                                         ".npm",
                                         ".yarn",
                                         ".nuget",
                                         ".pnpm-store",
                                         "go-build",
                                         "*.egg-info",
                                         "*.pyc",
                                         "*.o",
                                         "*.log",
                                         "*.tmp",
                                         ".angular",
                                         "storybook-static",
                                         "bazel-out",
                                         ".svelte-kit",
                                         ".docusaurus",
                                         "logs",
                                         "cache",
                                         ".coverage",
                                         "htmlcov",
                                         ".nyc_output",
                                         ".ruff_cache",
                                         ".hypothesis",
                                         "package-lock.json",
                                         "pnpm-lock.yaml",
                                         "*.lock",
                                         NULL};

/* Words that name build output only inside a project: under an absolute path they name a
 * service's or the system's data ("/srv/cache", "/var/log", "/opt/app/vendor"). A directory
 * named tmp or temp is scratch space wherever it is ("/var/lib/ci-runner/tmp"). */
static const char *const project_only_dirs[] = {"log",    "logs", "cache",  "out",
                                                "vendor", "deps", "target", NULL};

static bool is_project_only(const char *s, size_t n)
{
    for (size_t i = 0; project_only_dirs[i]; i++)
        if (strlen(project_only_dirs[i]) == n && memcmp(s, project_only_dirs[i], n) == 0)
            return true;
    return false;
}

static bool dir_is_build(const char *s, size_t n)
{
    bool absolute = n > 0 && (s[0] == '/' || s[0] == '\\' || (n >= 2 && s[1] == ':'));
    while (n >= 2 && s[0] == '.' && s[1] == '/') {
        s += 2;
        n -= 2;
    }
    while (n > 0 && (s[n - 1] == '/' || s[n - 1] == '*')) {
        n--;
        if (n > 0 && s[n - 1] == '/')
            continue;
    }
    size_t first = 0;
    while (first < n && s[first] != '/')
        first++;
    for (size_t i = 0; build_dirs[i]; i++) {
        const char *b = build_dirs[i];
        size_t k = strlen(b);
        if (b[0] == '*') { /* suffix match on the last component */
            if (n >= k - 1 && memcmp(s + n - (k - 1), b + 1, k - 1) == 0)
                return true;
            continue;
        }
        /* any component equal to a build directory */
        size_t at = 0;
        while (at < n) {
            size_t e = at;
            while (e < n && s[e] != '/')
                e++;
            if (e - at == k && memcmp(s + at, b, k) == 0 && !(absolute && is_project_only(b, k)))
                return true;
            at = e + 1;
        }
    }
    (void)first;
    return false;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* A variable that names a temporary or build location: $tmpdir, ${BUILD_DIR}, $WORKDIR_TMP. */
static bool variable_is_scratch(const char *s, size_t n)
{
    static const char *const words[] = {"tmp",  "temp",     "scratch",     "build", "cache",
                                        "dist", "artifact", "staging_dir", NULL};
    return contains_any_ci(s, n, words);
}

static enum flag_path_kind path_kind(const char *s, size_t n)
{
    while (n > 0 && (*s == '"' || *s == '\'')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == ';' || s[n - 1] == ','))
        n--;
    if (n == 0 || (n == 2 && s[0] == '{' && s[1] == '}')) /* empty, or find's {} */
        return PATH_BUILD;
    if ((has_prefix(s, n, "/tmp/") && n > 5) || (has_prefix(s, n, "/var/tmp/") && n > 9) ||
        has_prefix(s, n, "$TMPDIR") || has_prefix(s, n, "${TMPDIR}") ||
        has_prefix(s, n, "%TEMP%") || has_prefix(s, n, "$env:TEMP"))
        return PATH_BUILD;
    if (s[0] == '$' && variable_is_scratch(s, n))
        return PATH_BUILD;
    /* The whole home, the root, everything in a share: shared whatever follows. */
    if ((n == 1 && (s[0] == '/' || s[0] == '~')) || has_prefix(s, n, "/*") ||
        (n == 2 && has_prefix(s, n, "~/")) || has_prefix(s, n, "~/*") ||
        (n == 5 && has_prefix(s, n, "$HOME")) || (n == 7 && has_prefix(s, n, "${HOME}")) ||
        has_prefix(s, n, "$HOME/*") || has_prefix(s, n, "${HOME}/*"))
        return PATH_SHARED;
    if (dir_is_build(s, n))
        return PATH_BUILD;
    if (has_prefix(s, n, "$HOME/") || has_prefix(s, n, "${HOME}/"))
        return PATH_LOCAL;
    if ((n == 1 && (s[0] == '.' || s[0] == '*')) || has_prefix(s, n, "./*") ||
        has_prefix(s, n, "~/"))
        return PATH_LOCAL;
    if (s[0] == '/' || s[0] == '$' || s[0] == '\\' || (n >= 2 && s[1] == ':') ||
        has_prefix(s, n, "..") || has_prefix(s, n, "gs://") || has_prefix(s, n, "s3://") ||
        has_prefix(s, n, "hdfs://"))
        return PATH_SHARED;
    return PATH_LOCAL;
}

enum flag_path_kind flag_path_classify(const char *v, size_t n)
{
    enum flag_path_kind worst = PATH_BUILD;
    size_t i = 0;
    bool any = false;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t start = i;
        char quote = 0;
        while (i < n && (quote || (v[i] != ' ' && v[i] != '\t' && v[i] != '`'))) {
            if ((v[i] == '"' || v[i] == '\'') && (!quote || quote == v[i]))
                quote = quote ? 0 : v[i];
            i++;
        }
        if (i == start) /* the end, or the backtick closing inline code */
            break;
        if (v[start] == '-' || /* an option, not a target; find's -exec terminators */
            (i - start == 1 && (v[start] == '+' || v[start] == ';')) ||
            (i - start == 2 && v[start] == '\\' && v[start + 1] == ';'))
            continue;
        any = true;
        enum flag_path_kind k = path_kind(v + start, i - start);
        if (k < worst)
            worst = k;
    }
    return any ? worst : PATH_LOCAL;
}
