/* flags_internal.h — what the parts of the flag engine share (not for callers: see flags.h).
 *
 * The engine has four parts:
 *   flags_rules.c    reads rule files (the built-in catalogue and a forum's flag_rules file)
 *                    into `struct flag_rule`s, checking every key and naming file and line;
 *   flags_engine.c   compiles the rules' patterns (Hyperscan, PCRE2 to confirm and capture),
 *                    scans a text in one pass and turns matches into flags;
 *   flags_context.c  what a pattern alone cannot tell: Markdown code blocks and their
 *                    language, advice against an action, placeholders, entropy, public vs
 *                    private addresses, local vs shared paths;
 *   flags_checksum.c check digits of card, bank and national identity numbers;
 *   flags_wording.c  the wording check: a warning for a post no rule matched whose words read
 *                    like a family's posts (rules/wording.model);
 *   flags.c          the public entry points (built-in rule set, scan, mask).
 */
#ifndef AGENTGATE_FLAGS_INTERNAL_H
#define AGENTGATE_FLAGS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

enum flag_severity { FLAG_NONE = -1, FLAG_INFO = 0, FLAG_WARNING = 1, FLAG_CRITICAL = 2 };

enum flag_family {
    FAMILY_SECRET,
    FAMILY_ACCESS,
    FAMILY_DESTRUCTIVE,
    FAMILY_PII,
    FAMILY_MENTION,
    FAMILY_COUNT
};

/* Languages of fenced code blocks (bit numbers of a rule's `languages` mask). */
enum flag_language {
    LANG_NONE, /* prose, inline code, or a block whose language is unknown */
    LANG_SHELL,
    LANG_SQL,
    LANG_YAML,
    LANG_HCL,
    LANG_POWERSHELL,
    LANG_JSON,
    LANG_OTHER, /* a named language none of the above (python, js, ini, …) */
    LANG_COUNT
};

enum flag_where { WHERE_ANY, WHERE_CODE, WHERE_PROSE };
enum flag_target { TARGET_NONE, TARGET_PATH };
enum flag_address { ADDRESS_ANY, ADDRESS_PUBLIC };

struct flag_text_list {
    char **items;
    size_t count;
};

/* One rule as read from a rule file. Strings are owned (malloc'd). */
struct flag_rule {
    char *code;    /* "secret.aws_access_key" */
    char *message; /* one line, plain language */
    char *source;  /* "file:line" of its header, for error messages */
    enum flag_family family;
    enum flag_severity severity;
    struct flag_text_list patterns; /* PCRE syntax; group "value" marks the interesting part */
    struct flag_text_list near;     /* lower-case words, one of which must be within near_bytes */
    struct flag_text_list not_near; /* lower-case words none of which may be within near_bytes */
    struct flag_text_list unless_after;  /* drop when one of these is the nearest cue before */
    struct flag_text_list critical_near; /* critical when one of these words is near */
    struct flag_text_list value_in; /* sorted lower-case words: the value must be one of them */
    size_t near_bytes;
    double entropy;              /* minimum bits per character of the value; 0: no check */
    struct flag_text_list allow; /* patterns: a value matching one is not flagged */
    bool placeholders;           /* drop a value that looks like a placeholder */
    enum flag_where where;       /* in code, in prose, anywhere */
    unsigned languages;          /* bit mask of enum flag_language; 0: any */
    bool advice_against;         /* downgrade to info when the text advises against it */
    unsigned excuses;            /* FLAG_EXCUSE_… bits: contexts that hold critical to warning */
    bool drop_in_url;            /* drop a match inside a URL ("user:p=w@host" is no e-mail) */
    enum flag_target target;     /* classify the value as a path */
    enum flag_severity target_local, target_build; /* severities for local / build paths */
    enum flag_address address;
    unsigned checksums; /* bit mask of schemes (flag_checksum_named); 0: no check */
    unsigned count;     /* > 0: one flag when at least `count` distinct matches (mass mentions) */
    unsigned bulk;      /* > 0: critical when the field has at least `bulk` flags of this family */
    struct flag_text_list match, no_match, match_critical, match_warning, match_info;
};

/* A parsed rule file: rules and allow-list patterns. */
struct flag_rule_file {
    struct flag_rule *rules;
    size_t rule_count;
    struct flag_text_list allow; /* global allow-list patterns */
    char **allow_sources;        /* "file:line" of each allow pattern */
    /* A [wording] section's `families`: bit per family the wording check runs for. Without
     * one (wording_set false) it runs for all of them. */
    unsigned wording_families;
    bool wording_set;
};

/* Parses rule text (`name` is used in error messages as "name:line: …") and appends its rules
 * and allow entries to `into`. Returns 0, or -1 with a message in `error`; on -1 `into` keeps
 * what it had before the call. */
int flag_rules_parse(const char *name, const char *text, size_t length, struct flag_rule_file *into,
                     char *error, size_t error_size) __attribute__((warn_unused_result));
void flag_rule_file_free(struct flag_rule_file *file);

/* Makes room for one more item in a growable array (*items of *cap items, count used),
 * doubling it (at least 16). Returns 0, or -1 when memory runs out (the array unchanged). */
int flag_array_reserve(void **items, size_t *cap, size_t count, size_t item_size)
    __attribute__((warn_unused_result));

const char *flag_severity_name(enum flag_severity severity);
const char *flag_family_name(enum flag_family family);

/* ---- context (flags_context.c) ---- */

/* Markdown structure of one text, computed once per scan when a rule needs it. */
struct flag_block {
    size_t start, end; /* content bytes (fenced block body, or inline code span) */
    size_t fence;      /* offset of the opening fence line (or the backtick) */
    enum flag_language language;
    bool fenced;
};
/* A heading line outside code ("## What not to do", or a line that is all bold): the section
 * it opens runs to the next heading. */
struct flag_heading {
    size_t start, end; /* the heading line's bytes */
};
struct flag_markdown {
    struct flag_block *blocks; /* sorted by start, non-overlapping */
    size_t count;
    struct flag_heading *headings; /* sorted by start */
    size_t heading_count;
};

int flag_markdown_parse(const char *text, size_t length, struct flag_markdown *out)
    __attribute__((warn_unused_result));
void flag_markdown_free(struct flag_markdown *md);
/* The block containing offset `at`, or NULL when `at` is in prose. */
const struct flag_block *flag_markdown_find(const struct flag_markdown *md, size_t at);
/* flag_words_in over text[from, to); when `at` is in a fenced block, without the other fenced
 * blocks there: an excuse written in another code block ("environment: sandbox" in the next
 * step's config) is not about the command at `at`. Prose counts whichever block it follows. */
bool flag_words_in_own_text(const char *text, const struct flag_markdown *md, size_t at,
                            size_t from, size_t to, const struct flag_text_list *words);

/* True when the text around [start, end) advises against what it shows ("never run …",
 * "don't make the bucket public", a "# don't do this" comment before the code). */
bool flag_advised_against(const char *text, size_t length, const struct flag_markdown *md,
                          size_t start, size_t end);
/* Contexts that keep a would-be critical flag at warning (a rule's `critical_unless`). */
enum {
    FLAG_EXCUSE_SCRATCH = 1u << 0,     /* the target is scratch: one job's, test's or run's */
    FLAG_EXCUSE_HARMLESS = 1u << 1,    /* the text says it is no secret, a hash, an example */
    FLAG_EXCUSE_TIGHTENING = 1u << 2,  /* access is revoked or locked, not given */
    FLAG_EXCUSE_RECOVERABLE = 1u << 3, /* a backup taken first, a reversible step */
    FLAG_EXCUSE_WEB_PORT = 1u << 4,    /* opened to all on HTTP(S) ports: public by design */
    FLAG_EXCUSE_SANDBOX = 1u << 5,     /* a credential of a sandbox or a throwaway local service */
    FLAG_EXCUSE_LOGGED = 1u << 6       /* a line of log output: a record of what ran, not advice */
};
/* The first of `excuses` (FLAG_EXCUSE_… bits) whose cues occur in the text that speaks about
 * [start, end): its sentence in prose; in a fenced block its line, the line above, the
 * indented lines above up to their stanza's opening line, and the sentence before the block.
 * 0 for none. */
unsigned flag_critical_excuse(const char *text, size_t length, const struct flag_markdown *md,
                              size_t start, size_t end, unsigned excuses);
/* What the stakes and sensitive-data steps found for each family's last block or paragraph:
 * every match in one block shares the answer, so the cue lists are read once per block. Zero
 * it once per scan. */
struct flag_frame_memo {
    size_t key[FAMILY_COUNT]; /* 2 × block's fence, or 2 × paragraph's start + 1; plus 1 (0:
                                 nothing yet) */
    bool found[FAMILY_COUNT];
};
/* True when the prose that frames [start, …) says what is at stake: the match is in a fenced
 * block and the paragraph leading into the block or the paragraph after it holds one of the
 * family's stakes cues (destructive: production, shared, no other copy, can't be undone;
 * access: internet-facing, a public IP, every user, customer data) or one of `words`. */
bool flag_frame_states_stakes(const char *text, size_t length, const struct flag_markdown *md,
                              size_t start, enum flag_family family,
                              const struct flag_text_list *words, struct flag_frame_memo *memo);
/* True when personal data at `start` comes with data of a sensitive kind (a diagnosis, a
 * medication, a child's school, a criminal record, biometrics): in a fenced block the block
 * and the paragraphs before and after it, elsewhere the match's paragraph. */
bool flag_record_is_sensitive(const char *text, size_t length, const struct flag_markdown *md,
                              size_t start, struct flag_frame_memo *memo);
/* True when the value is a password hash in a known format ("$2b$…", "pbkdf2_sha256$…"). */
bool flag_is_digest(const char *value, size_t length);
/* True when the bytes look like a placeholder, not a real value ("<your-token>", "${PASS}",
 * "xxxxxxxx", "changeme", "…EXAMPLE"). */
bool flag_is_placeholder(const char *value, size_t length);
/* True when offset `at` lies inside a URL: the token around it (up to white space, a quote or
 * a bracket) has "://" before `at`. */
bool flag_inside_url(const char *text, size_t at);
/* Shannon entropy in bits per byte. */
double flag_entropy(const char *value, size_t length);
/* True when the value (an IPv4 address, optionally with /prefix) is a public address: not
 * private, loopback, link-local, shared, documentation, or unspecified. Non-IPv4: true. */
bool flag_address_public(const char *value, size_t length);

/* ---- checksums (flags_checksum.c) ---- */

/* Index of the checksum scheme called `name` ("luhn", "iban", "dni", …), or -1. */
int flag_checksum_named(const char *name);
/* Name of scheme `index`, or NULL past the last one. */
const char *flag_checksum_name(unsigned index);
/* True when the value (separators ' ', '-', '.', '/' ignored) has the shape and check digits
 * of at least one scheme of `mask` (bit i: scheme i). */
bool flag_checksum_valid(unsigned mask, const char *value, size_t length);

enum flag_path_kind { PATH_SHARED, PATH_LOCAL, PATH_BUILD };
/* Classifies the targets of a command (the value: one or more space-separated paths) by the
 * most dangerous one: an absolute or home or variable path is shared, a relative path local,
 * build output and temporary files (./build, node_modules, /tmp/…) build. */
enum flag_path_kind flag_path_classify(const char *value, size_t length);

/* True when a lower-case word of `words` occurs (ASCII case-insensitively, at word
 * boundaries) in text[from, to). */
bool flag_words_in(const char *text, size_t from, size_t to, const struct flag_text_list *words);
/* flag_words_in, skipping a word whose sentence says its stake is spared ("production isn't
 * touched", "the shared volume is unaffected"), as the built-in stake cues do. */
bool flag_stake_words_in(const char *text, size_t length, size_t from, size_t to,
                         const struct flag_text_list *words);
/* Whether text[0, length) is one of the sorted lower-case `words`, ignoring ASCII case. A
 * value_in word is at most FLAG_VALUE_IN_WORD_MAX bytes (the rule parser refuses longer). */
enum { FLAG_VALUE_IN_WORD_MAX = 255 };
bool flag_word_listed(const char *text, size_t length, const struct flag_text_list *words);
/* Offset just past the last occurrence of a word of `words` in text[from, to), or 0 when there
 * is none (so a later cue compares greater). */
size_t flag_words_last(const char *text, size_t from, size_t to,
                       const struct flag_text_list *words);

/* ---- the wording check (flags_wording.c) ---- */

/* What the model says for one family: its threshold, and the code and message of its flag. */
struct flag_wording_family {
    double threshold;
    char *code;    /* "access.reads_like" */
    char *message; /* one line, plain language */
};
/* A family whose threshold the text's score passed, and the line with the most evidence. */
struct flag_wording_hit {
    enum flag_family family;
    size_t start, end;
};
/* Scores text[0, length) for every family not in `skip` and writes the families it reads like
 * into hits (*count of them, in family order). Returns 0, or -1 when memory runs out or the
 * built-in model cannot be read (a defect of the build). Thread-safe. */
int flag_wording_judge(const char *text, size_t length, const bool skip[FAMILY_COUNT],
                       struct flag_wording_hit hits[FAMILY_COUNT], size_t *count)
    __attribute__((warn_unused_result));
/* The model's entry for `family`, or NULL when it has none. */
const struct flag_wording_family *flag_wording_family(enum flag_family family);

#endif /* AGENTGATE_FLAGS_INTERNAL_H */
