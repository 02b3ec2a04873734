/* flags.c — hand-written risk detectors for draft text (CONTRACT §8).
 *
 * Every detector is a row in the `detectors` table below: a code, a severity, the bytes its
 * findings can start with (its anchors) and a matcher. Most matchers are asked "does a finding
 * start here?" at byte positions: the driver (flags_scan) walks the text once and, at each
 * position, asks only the matchers anchored there; the five that read settings ("key = value")
 * share one parse of the setting at that position. It collects the spans, sorts them by start
 * offset and appends them to the caller's JSON array. Whole-text detectors (mass mentions)
 * scan once and report spans.
 *
 * Invariants:
 *  - `text` is not NUL-terminated: every read goes through at()/before() or is guarded by an
 *    explicit `i < length` check, so nothing past `length` is ever read. at() answers 0 past
 *    the end, and 0 never belongs to any character class, so loops stop there.
 *  - Spans are byte offsets, start < end <= length; a detector never reports overlapping spans
 *    of its own (the driver resumes after the end of each match).
 *  - No global mutable state: every table is `static const`, all working memory is local or
 *    allocated per call, so concurrent calls are safe.
 *  - Matching is ASCII-only; bytes >= 0x80 (UTF-8) never match a class, so they count as
 *    word boundaries and offsets stay byte offsets.
 *  - Work is linear in the text length times the number of detectors: every look-ahead is
 *    bounded (see the *_MAX constants). In practice most positions (inside words) ask no
 *    matcher at all, and a word start asks a handful.
 *  - Anchors are necessary conditions read off each matcher: a matcher never finds anything at
 *    a position its row does not anchor, so skipping those positions only saves time. When a
 *    matcher changes, its row must change with it.
 *
 * Codes (family.name — severity — what):
 *
 *   secret.aws_access_key             critical  AKIA/ASIA + 16 upper-case letters or digits
 *   secret.private_key                critical  "-----BEGIN … PRIVATE KEY-----" to its END line
 *   secret.github_token               critical  ghp_/gho_/ghs_/ghu_/ghr_ + 30 or more token
 *                                               characters, github_pat_ + 40 or more
 *   secret.slack_token                critical  xoxb-/xoxp-/xoxa-/xoxr-/xoxs-/xoxe- tokens,
 *                                               Slack incoming-webhook URLs
 *   secret.api_key                    critical  well-known API key shapes: sk-… (OpenAI,
 *                                               Anthropic), sk_live_/rk_live_ (Stripe), AIza
 *                                               (Google), glpat- (GitLab), npm_, hf_
 *   secret.jwt                        critical  eyJ….eyJ….signature
 *   secret.bearer_token               critical  "Bearer <token>", "Basic <base64>"
 *   secret.password_in_url            critical  scheme://user:password@host (span: user:password)
 *   secret.password_assignment        critical  password=/passwd:/secret=/api_key=/… with a
 *                                               value that is not a placeholder
 *   access.world_writable             warning   chmod 777/666/o+w/a+w (also -R), chmod() with
 *                                               such a mode, mode: 0777 settings, S_IWOTH
 *   access.public_acl                 critical  public-read(-write), allUsers, AllUsers,
 *                                               allAuthenticatedUsers, --public-access
 *                                               blob|container, BlockPublicAcls false
 *   access.grant_everyone             critical  GRANT … TO PUBLIC, Everyone:F, Everyone full
 *                                               control, "Principal": "*"
 *   access.tls_verification_disabled  warning   verify=False, sslVerify false, --insecure,
 *                                               curl -k, NODE_TLS_REJECT_UNAUTHORIZED=0,
 *                                               InsecureSkipVerify: true, CERT_NONE, …
 *   access.host_key_checking_disabled warning   StrictHostKeyChecking no
 *   access.auth_disabled              critical  auth_enabled: false, --no-auth, --noauth,
 *                                               --skip-grant-tables, --allow-unauthenticated,
 *                                               protected-mode no, an empty Jupyter token,
 *                                               pg_hba.conf "trust" lines, …
 *   access.open_to_internet           warning   0.0.0.0/0, ::/0
 *   destructive.recursive_delete      critical  rm -r/-rf/-fr/--recursive, Remove-Item
 *                                               -Recurse, rmdir /s, del /s
 *   destructive.drop_table            critical  DROP TABLE / DATABASE / SCHEMA
 *   destructive.truncate_table        critical  TRUNCATE TABLE, TRUNCATE name;
 *   destructive.delete_without_where  critical  DELETE FROM name; (ends without a WHERE)
 *   destructive.force_push            critical  git push --force / -f / --force-with-lease /
 *                                               +refspec
 *   destructive.disk_wipe             critical  mkfs … /dev/…, dd of=/dev/… (not /dev/null,
 *                                               /dev/zero, …), wipefs -a
 *   pii.email                         warning   e-mail addresses (not URL user names, ssh/scp
 *                                               targets, git@host:repo remotes, name@2x.png)
 *   pii.phone                         warning   +CC international numbers (8 to 15 digits),
 *                                               NNN-NNN-NNNN, NNN.NNN.NNNN, (NNN) NNN-NNNN
 *   mention.mass_mention              warning   @all, @everyone, @here, @channel; more than 10
 *                                               distinct @user mentions (one flag spanning
 *                                               the first to the last of them)
 *
 * Case: SQL keywords, PowerShell, setting names and ACL names match case-insensitively; shell
 * commands and their flags (rm, chmod, git, curl, dd, mkfs), token prefixes and PEM headers
 * match case-sensitively, as their tools do.
 */
#include "flags.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on every look-ahead, so a scan stays linear in the text length. */
enum {
    IDENT_MAX = 128,        /* a setting or variable name */
    VALUE_MAX = 256,        /* a password or setting value */
    SWITCH_VALUE_MAX = 8,   /* a setting value a detector looks for: "disabled", "0o1777" */
    USERINFO_MAX = 256,     /* user:password in a URL */
    TOKEN_MAX = 8192,       /* a token or key (JWTs can be long) */
    SHELL_TOKENS_MAX = 64,  /* tokens inspected after a command name */
    PEM_LABEL_MAX = 64,     /* "RSA PRIVATE KEY" */
    STATEMENT_MAX = 512,    /* GRANT … TO PUBLIC */
    LINE_WINDOW_MAX = 80,   /* Everyone … full control */
    MENTION_NAME_MAX = 60,  /* a forum user name */
    MASS_MENTION_LIMIT = 10 /* more distinct mentions than this is a mass mention */
};

enum severity { SEVERITY_INFO, SEVERITY_WARNING, SEVERITY_CRITICAL };

struct span {
    size_t start, end;
};

/* ---------------------------------------------------------------- character access ---- */

/* The byte at i, or 0 at and past the end. */
static unsigned char at(const char *t, size_t len, size_t i)
{
    return i < len ? (unsigned char)t[i] : 0;
}

/* The byte before pos, or 0 at the start. pos must be <= the text length. */
static unsigned char before(const char *t, size_t pos)
{
    return pos > 0 ? (unsigned char)t[pos - 1] : 0;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alpha(unsigned char c)
{
    return is_lower((unsigned char)(c | 0x20)); /* setting bit 5 turns only 'A'-'Z' into 'a'-'z' */
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_not_alpha(unsigned char c)
{
    return !is_alpha(c);
}

static bool is_word(unsigned char c)
{
    return is_alnum(c) || c == '_';
}

/* Characters of setting names and variables: DB_PASSWORD, http.sslVerify, --tls-verify. */
static bool is_ident(unsigned char c)
{
    return is_word(c) || c == '-' || c == '.';
}

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_quote(unsigned char c)
{
    return c == '"' || c == '\'';
}

/* True when c is one of the characters of `set` (never for 0). */
static bool in_set(unsigned char c, const char *set)
{
    for (; *set != '\0'; set++)
        if ((unsigned char)*set == c)
            return true;
    return false;
}

static unsigned char to_lower(unsigned char c)
{
    return is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

/* True when the literal `lit` is at pos; `fold` compares ASCII case-insensitively. Compares
 * up to the literal's NUL without measuring it first: most calls fail on the first byte. */
static bool starts_with(const char *t, size_t len, size_t pos, const char *lit, bool fold)
{
    if (pos > len)
        return false;
    for (size_t i = 0; lit[i] != '\0'; i++) {
        if (i >= len - pos)
            return false;
        unsigned char a = (unsigned char)t[pos + i], b = (unsigned char)lit[i];
        if (fold ? to_lower(a) != to_lower(b) : a != b)
            return false;
    }
    return true;
}

/* A string literal and its length, for lists tried at many positions. */
struct literal {
    const char *s;
    size_t n;
};
/* clang-format off */
#define LITERAL(s) {s, sizeof(s) - 1}
/* clang-format on */

/* True when t[from, to) ends with `lit` (case-sensitive). */
static bool ends_with(const char *t, size_t from, size_t to, const char *lit)
{
    size_t n = strlen(lit);
    return to - from >= n && memcmp(t + to - n, lit, n) == 0;
}

/* True when t[start, end) equals `lit` ignoring ASCII case. */
static bool span_equals_ci(const char *t, size_t start, size_t end, const char *lit)
{
    return strlen(lit) == end - start && starts_with(t, end, start, lit, true);
}

/* True when the n bytes at a and at b are equal ignoring ASCII case. */
static bool spans_equal_ci(const char *t, size_t a, size_t b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)t[a + i]) != to_lower((unsigned char)t[b + i]))
            return false;
    return true;
}

/* The case-insensitive word `word` at pos, delimited by non-word characters on both sides;
 * sets *end after it. */
static bool word_at(const char *t, size_t len, size_t pos, const char *word, size_t *end)
{
    if (is_word(before(t, pos)) || !starts_with(t, len, pos, word, true))
        return false;
    size_t e = pos + strlen(word);
    if (is_word(at(t, len, e)))
        return false;
    *end = e;
    return true;
}

/* Index after the run of whitespace (newlines included) starting at i. */
static size_t skip_space(const char *t, size_t len, size_t i)
{
    while (is_space(at(t, len, i)))
        i++;
    return i;
}

/* Index after the run of blanks (spaces, tabs) starting at i. */
static size_t skip_blanks(const char *t, size_t len, size_t i)
{
    while (is_blank(at(t, len, i)))
        i++;
    return i;
}

/* True when every byte of t[start, end) is the same: "xxxx", "****" are placeholders. */
static bool is_repetitive(const char *t, size_t start, size_t end)
{
    for (size_t i = start + 1; i < end; i++)
        if (t[i] != t[start])
            return false;
    return true;
}

static bool span_has(const char *t, size_t start, size_t end, bool (*cls)(unsigned char))
{
    for (size_t i = start; i < end; i++)
        if (cls((unsigned char)t[i]))
            return true;
    return false;
}

/* True when the C string `s` is one of the NULL-terminated list `words`. */
static bool in_list(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if ((*words)[0] == s[0] && strcmp(s, *words) == 0)
            return true;
    return false;
}

/* True when the C string `s` contains any of the NULL-terminated list `words`. */
static bool contains_any(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strstr(s, *words) != NULL)
            return true;
    return false;
}

/* True when the C string `s` ends with any of the NULL-terminated list `words`. */
static bool ends_with_any(const char *s, const char *const *words)
{
    size_t n = strlen(s);
    for (; *words != NULL; words++) {
        size_t m = strlen(*words);
        if (m <= n && strcmp(s + n - m, *words) == 0)
            return true;
    }
    return false;
}

/* Copies t[start, end) lower-cased into out (size out_size), keeping letters and digits only,
 * so "NODE_TLS_REJECT_UNAUTHORIZED", "nodeTlsRejectUnauthorized" and "node-tls-reject-
 * unauthorized" compare equal. Returns false when it does not fit. */
static bool normalize(const char *t, size_t start, size_t end, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!is_alnum(c))
            continue;
        if (o + 1 >= out_size)
            return false;
        out[o++] = (char)to_lower(c);
    }
    out[o] = '\0';
    return true;
}

/* Copies t[start, end) lower-cased into out as is; false when it does not fit. */
static bool lowercase_copy(const char *t, size_t start, size_t end, char *out, size_t out_size)
{
    if (end - start + 1 > out_size)
        return false;
    for (size_t i = start; i < end; i++)
        out[i - start] = (char)to_lower((unsigned char)t[i]);
    out[end - start] = '\0';
    return true;
}

/* ----------------------------------------------------------------- shell commands ---- */

/* Characters that end one shell (or PowerShell, cmd) command. */
static bool is_command_end(unsigned char c)
{
    return c == 0 || c == '\n' || c == '\r' || c == ';' || c == '|' || c == '&' || c == '`' ||
           c == ')';
}

/* The command name `name` at pos as a shell word: not preceded by a word character, '-' or
 * '.', followed by a blank (or the end of the command). `fold` for PowerShell and cmd. */
static bool command_at(const char *t, size_t len, size_t pos, const char *name, bool fold,
                       size_t *end)
{
    unsigned char p = before(t, pos);
    if (is_word(p) || p == '-' || p == '.' || !starts_with(t, len, pos, name, fold))
        return false;
    size_t e = pos + strlen(name);
    unsigned char c = at(t, len, e);
    if (!is_blank(c) && !is_command_end(c))
        return false;
    *end = e;
    return true;
}

/* Reads the next token of the same command from *pos into *tok: skips blanks and
 * backslash-newline continuations; false at the end of the command. Quotes are not parsed. */
static bool shell_next_token(const char *t, size_t len, size_t *pos, struct span *tok)
{
    size_t i = *pos;
    for (;;) {
        unsigned char c = at(t, len, i);
        if (is_blank(c))
            i++;
        else if (c == '\\' && at(t, len, i + 1) == '\n')
            i += 2;
        else if (c == '\\' && at(t, len, i + 1) == '\r' && at(t, len, i + 2) == '\n')
            i += 3;
        else
            break;
    }
    if (is_command_end(at(t, len, i)))
        return false;
    size_t s = i;
    while (!is_blank(at(t, len, i)) && !is_command_end(at(t, len, i)))
        i++;
    tok->start = s;
    tok->end = i;
    *pos = i;
    return true;
}

static bool token_is(const char *t, struct span tok, const char *lit)
{
    size_t n = strlen(lit);
    return tok.end - tok.start == n && memcmp(t + tok.start, lit, n) == 0;
}

/* A bundle of short options ("-rf", "-sSk"): '-' then letters only. */
static bool token_is_short_options(const char *t, struct span tok)
{
    if (tok.end - tok.start < 2 || t[tok.start] != '-')
        return false;
    for (size_t i = tok.start + 1; i < tok.end; i++)
        if (!is_alpha((unsigned char)t[i]))
            return false;
    return true;
}

static bool token_has_char(const char *t, struct span tok, char c)
{
    return memchr(t + tok.start, c, tok.end - tok.start) != NULL;
}

/* ------------------------------------------------------------------------ settings ---- */

static const char *const truthy_values[] = {"true", "1", "yes", "on", "enabled", "enable", NULL};
static const char *const falsy_values[] = {"false", "0",        "no",      "off",
                                           "none",  "disabled", "disable", NULL};

/* The "others" digit of an octal mode ("777", "0666", "0o1777") grants write. */
static bool octal_mode_world_writable(const char *t, size_t start, size_t end)
{
    if (end - start > 2 && t[start] == '0' && (t[start + 1] == 'o' || t[start + 1] == 'O'))
        start += 2;
    if (end - start < 3 || end - start > 4)
        return false;
    for (size_t i = start; i < end; i++)
        if (t[i] < '0' || t[i] > '7')
            return false;
    int others = t[end - 1] - '0';
    return (others & 2) != 0;
}

/* "key = value", "key: value", "key value", "--key=value", "\"key\": \"value\"" … */
struct setting {
    size_t key_start, key_end;        /* the name, as written */
    size_t value_start, value_end;    /* a one-word value, without quotes; may be empty */
    bool assigned;                    /* the separator had '=' or ':' (not blanks only) */
    bool empty_quoted;                /* the value is "" or '' */
    bool truthy, falsy;               /* the value is one of truthy_values, falsy_values */
    char key[IDENT_MAX + 1];          /* the name normalized: lower case, letters and digits */
    char value[SWITCH_VALUE_MAX + 1]; /* the value lower-cased */
};

/* Parses a setting whose name starts at pos. The value must be one word ([A-Za-z0-9_-]).
 * Every setting detector looks for a truthy or falsy value, an octal mode that lets others
 * write or an empty quoted string, so a setting with any other value (most "key value" word
 * pairs of prose) is not parsed further: setting_parse answers false. */
static bool setting_parse(const char *t, size_t len, size_t pos, struct setting *s)
{
    if (is_ident(before(t, pos)) || !is_ident(at(t, len, pos)))
        return false;
    size_t i = pos;
    while (is_ident(at(t, len, i)) && i - pos < IDENT_MAX)
        i++;
    if (is_ident(at(t, len, i)) || t[i - 1] == '.')
        return false; /* too long, or the end of a sentence */
    s->key_start = pos;
    s->key_end = i;
    if (is_quote(at(t, len, i)))
        i++;
    size_t sep = i;
    s->assigned = false;
    while (i - sep < 8) {
        unsigned char c = at(t, len, i);
        if (is_blank(c) || c == ',') {
            i++;
        } else if ((c == '=' || c == ':') && !s->assigned) {
            if (c == '=' && at(t, len, i + 1) == '=')
                return false; /* a comparison */
            s->assigned = true;
            i++;
            if ((c == '=' && at(t, len, i) == '>') || (c == ':' && at(t, len, i) == '='))
                i++;
        } else {
            break;
        }
    }
    if (i == sep)
        return false;
    unsigned char quote = 0;
    if (is_quote(at(t, len, i)))
        quote = (unsigned char)t[i++];
    size_t v = i;
    while ((is_word(at(t, len, i)) || at(t, len, i) == '-') && i - v < VALUE_MAX)
        i++;
    s->value_start = v;
    s->value_end = i;
    s->empty_quoted = false;
    if (i == v) {
        if (quote == 0 || at(t, len, i) != quote)
            return false;
        s->empty_quoted = true;
    } else if (is_word(at(t, len, i)) || (at(t, len, i) == '.' && is_alnum(at(t, len, i + 1)))) {
        return false; /* the value goes on: ssl.CERT_NONE, a long word */
    }
    if (!lowercase_copy(t, v, i, s->value, sizeof s->value))
        return false; /* longer than any value a detector looks for */
    s->truthy = in_list(s->value, truthy_values);
    s->falsy = in_list(s->value, falsy_values);
    if (!s->empty_quoted && !s->truthy && !s->falsy && !octal_mode_world_writable(t, v, i))
        return false;
    return normalize(t, s->key_start, s->key_end, s->key, sizeof s->key);
}

/* The span reported for a setting: its name up to the end of its value. */
static void setting_span(const struct setting *s, struct span *out)
{
    out->start = s->key_start;
    out->end = s->empty_quoted ? s->value_end + 1 : s->value_end;
}

/* A literal command-line flag ("--insecure") delimited by non-identifier characters. */
static bool flag_literal_at(const char *t, size_t len, size_t pos, const char *const *list,
                            struct span *out)
{
    if (at(t, len, pos) != '-' || is_ident(before(t, pos)))
        return false;
    for (const char *const *f = list; *f != NULL; f++) {
        if (!starts_with(t, len, pos, *f, false))
            continue;
        size_t e = pos + strlen(*f);
        if (!is_ident(at(t, len, e))) {
            *out = (struct span){pos, e};
            return true;
        }
    }
    return false;
}

/* --------------------------------------------------------------------- placeholders ---- */

/* True when t[start, end) is not a real secret: too short, a template or variable
 * ("$PASS", "<password>", "${{ secrets.X }}", "{{pw}}", "%PASS%"), a mask ("****", "xxxx",
 * "..."), a code expression ("getenv(…)", "os.environ[…]"), or a stock word ("password",
 * "changeme", "your_password", …). */
static bool is_placeholder(const char *t, size_t start, size_t end)
{
    static const char *const stock[] = {
        "password", "passwd",      "pass",     "secret",     "changeme",    "change_me", "example",
        "redacted", "hidden",      "none",     "null",       "nil",         "true",      "false",
        "empty",    "undefined",   "dummy",    "mypassword", "my_password", "token",     "apikey",
        "api_key",  "placeholder", "required", "optional",   "string",      NULL};
    static const char *const code_prefixes[] = {"os.",      "process.", "self.",     "this.",
                                                "env.",     "config.",  "settings.", "secrets.",
                                                "request.", "params.",  "args.",     NULL};
    if (end - start < 4)
        return true;
    unsigned char first = (unsigned char)t[start], last = (unsigned char)t[end - 1];
    if (in_set(first, "$<{%[(*") || last == '>' || last == '}')
        return true;
    if (is_repetitive(t, start, end) || memchr(t + start, '(', end - start) != NULL)
        return true;
    for (size_t i = start; i + 3 <= end; i++)
        if (t[i] == '.' && t[i + 1] == '.' && t[i + 2] == '.')
            return true;
    char lower[VALUE_MAX + 1];
    if (!lowercase_copy(t, start, end, lower, sizeof lower))
        return false;
    if (in_list(lower, stock) || strncmp(lower, "your", 4) == 0)
        return true;
    for (const char *const *p = code_prefixes; *p != NULL; p++)
        if (strncmp(lower, *p, strlen(*p)) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------------ findings ---- */

/* One finding of one detector, collected before sorting. */
struct match {
    size_t start, end;
    size_t detector; /* index into `detectors` */
};

struct match_list {
    struct match *items;
    size_t count, capacity;
};

static int match_list_push(struct match_list *l, size_t start, size_t end, size_t detector)
{
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 16;
        if (capacity > SIZE_MAX / sizeof(struct match))
            return -1;
        struct match *items = realloc(l->items, capacity * sizeof *items);
        if (items == NULL)
            return -1;
        l->items = items;
        l->capacity = capacity;
    }
    l->items[l->count++] = (struct match){start, end, detector};
    return 0;
}

/* ============================================================== secret.* detectors ==== */

static bool match_aws_access_key(const char *t, size_t len, size_t pos, struct span *out)
{
    if (!starts_with(t, len, pos, "AKIA", false) && !starts_with(t, len, pos, "ASIA", false))
        return false;
    if (is_alnum(before(t, pos)))
        return false;
    size_t i = pos + 4;
    while (i - pos < 20 && (is_upper(at(t, len, i)) || is_digit(at(t, len, i))))
        i++;
    if (i - pos != 20 || is_alnum(at(t, len, i)) || is_repetitive(t, pos + 4, i))
        return false;
    *out = (struct span){pos, i};
    return true;
}

/* Index after a PEM label ("RSA PRIVATE KEY") followed by "-----", or 0. */
static size_t pem_label_end(const char *t, size_t len, size_t i, size_t *label_end)
{
    size_t start = i;
    while (i - start < PEM_LABEL_MAX &&
           (is_upper(at(t, len, i)) || is_digit(at(t, len, i)) || at(t, len, i) == ' '))
        i++;
    if (!starts_with(t, len, i, "-----", false))
        return 0;
    *label_end = i;
    return i + 5;
}

static bool match_private_key(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char begin[] = "-----BEGIN ";
    if (!starts_with(t, len, pos, begin, false))
        return false;
    size_t label = pos + strlen(begin), label_end = 0;
    size_t end = pem_label_end(t, len, label, &label_end);
    if (end == 0 || (!ends_with(t, label, label_end, "PRIVATE KEY") &&
                     !ends_with(t, label, label_end, "PRIVATE KEY BLOCK")))
        return false;
    /* The whole block is secret: extend to its END line, unless another block starts first. */
    for (size_t j = end; j < len; j++) {
        if (t[j] != '-')
            continue;
        if (starts_with(t, len, j, "-----BEGIN ", false))
            break;
        if (starts_with(t, len, j, "-----END ", false)) {
            size_t unused = 0, e = pem_label_end(t, len, j + 9, &unused);
            if (e != 0)
                end = e;
            break;
        }
    }
    *out = (struct span){pos, end};
    return true;
}

/* Index after the run of [A-Za-z0-9] and the characters of `extra` (may be NULL) at i. */
static size_t token_run(const char *t, size_t len, size_t i, const char *extra)
{
    size_t start = i;
    while (i - start < TOKEN_MAX) {
        unsigned char c = at(t, len, i);
        if (!is_alnum(c) && (extra == NULL || !in_set(c, extra)))
            break;
        i++;
    }
    return i;
}

static bool match_github_token(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char *const classic[] = {"ghp_", "gho_", "ghs_", "ghu_", "ghr_", NULL};
    if (at(t, len, pos) != 'g' || is_word(before(t, pos)))
        return false;
    size_t body = 0, min = 0;
    const char *extra = NULL;
    if (starts_with(t, len, pos, "github_pat_", false)) {
        body = pos + strlen("github_pat_");
        min = 40;
        extra = "_";
    } else {
        for (const char *const *p = classic; *p != NULL && body == 0; p++)
            if (starts_with(t, len, pos, *p, false))
                body = pos + 4;
        min = 30;
    }
    if (body == 0)
        return false;
    size_t end = token_run(t, len, body, extra);
    if (end - body < min || is_repetitive(t, body, end))
        return false;
    *out = (struct span){pos, end};
    return true;
}

static bool match_slack_token(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char webhook[] = "hooks.slack.com/services/";
    if (starts_with(t, len, pos, webhook, false) && !is_ident(before(t, pos))) {
        size_t body = pos + strlen(webhook), end = token_run(t, len, body, "/_");
        if (end - body < 20)
            return false;
        *out = (struct span){pos, end};
        return true;
    }
    unsigned char kind = at(t, len, pos + 3); /* xoxb- bot, xoxp- user, xoxa- app, … */
    if (!starts_with(t, len, pos, "xox", false) || is_word(before(t, pos)) ||
        !in_set(kind, "abeprs") || at(t, len, pos + 4) != '-')
        return false;
    size_t body = pos + 5, end = token_run(t, len, body, "-");
    if (end - body < 10 || !span_has(t, body, end, is_digit))
        return false;
    *out = (struct span){pos, end};
    return true;
}

struct key_shape {
    const char *prefix;
    size_t min_body;   /* characters after the prefix */
    const char *extra; /* allowed besides [A-Za-z0-9] */
    bool needs_digit;
};

static bool match_api_key(const char *t, size_t len, size_t pos, struct span *out)
{
    static const struct key_shape shapes[] = {
        {"sk-", 20, "_-", true},       /* OpenAI sk-…, sk-proj-…; Anthropic sk-ant-… */
        {"sk_live_", 16, NULL, false}, /* Stripe secret key */
        {"rk_live_", 16, NULL, false}, /* Stripe restricted key */
        {"AIza", 35, "_-", false},     /* Google API key */
        {"glpat-", 20, "_-", false},   /* GitLab personal access token */
        {"npm_", 36, NULL, false},     /* npm access token */
        {"hf_", 30, NULL, false},      /* Hugging Face token */
    };
    unsigned char p = before(t, pos);
    if (is_word(p) || p == '-')
        return false;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const struct key_shape *s = &shapes[k];
        if (!starts_with(t, len, pos, s->prefix, false))
            continue;
        size_t body = pos + strlen(s->prefix), end = token_run(t, len, body, s->extra);
        if (end - body < s->min_body || is_repetitive(t, body, end) ||
            (s->needs_digit && !span_has(t, body, end, is_digit)))
            return false;
        *out = (struct span){pos, end};
        return true;
    }
    return false;
}

/* Index after one base64url JWT segment starting with "eyJ" of at least 10 characters, or 0. */
static size_t jwt_segment(const char *t, size_t len, size_t i)
{
    if (!starts_with(t, len, i, "eyJ", false))
        return 0;
    size_t end = token_run(t, len, i, "_-");
    return end - i >= 10 ? end : 0;
}

static bool jwt_at(const char *t, size_t len, size_t pos, size_t *end)
{
    size_t header = jwt_segment(t, len, pos);
    if (header == 0 || at(t, len, header) != '.')
        return false;
    size_t payload = jwt_segment(t, len, header + 1);
    if (payload == 0 || at(t, len, payload) != '.')
        return false;
    *end = token_run(t, len, payload + 1, "_-"); /* the signature may be empty (alg none) */
    return true;
}

static bool match_jwt(const char *t, size_t len, size_t pos, struct span *out)
{
    unsigned char p = before(t, pos);
    size_t end = 0;
    if (is_word(p) || p == '-' || p == '.' || !jwt_at(t, len, pos, &end))
        return false;
    *out = (struct span){pos, end};
    return true;
}

static bool match_bearer_token(const char *t, size_t len, size_t pos, struct span *out)
{
    size_t kw = 0;
    bool bearer = word_at(t, len, pos, "bearer", &kw);
    if (!bearer && !word_at(t, len, pos, "basic", &kw))
        return false;
    size_t tok = skip_blanks(t, len, kw);
    if (tok == kw)
        return false;
    size_t end = token_run(t, len, tok, bearer ? "-._~+/" : "+/");
    while (at(t, len, end) == '=' && end - tok < TOKEN_MAX)
        end++;
    if (is_word(at(t, len, end)) || is_repetitive(t, tok, end))
        return false;
    size_t jwt_end = 0;
    if (bearer) {
        if (end - tok < 16 || !span_has(t, tok, end, is_digit) ||
            !span_has(t, tok, end, is_alpha) || jwt_at(t, len, tok, &jwt_end))
            return false; /* a JWT is reported as secret.jwt */
    } else if (end - tok < 8 || (!span_has(t, tok, end, is_digit) && t[end - 1] != '=')) {
        return false;
    }
    *out = (struct span){pos, end};
    return true;
}

static bool is_scheme_char(unsigned char c)
{
    return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

static bool match_password_in_url(const char *t, size_t len, size_t pos, struct span *out)
{
    if (!is_alpha(at(t, len, pos)) || is_scheme_char(before(t, pos)))
        return false;
    size_t i = pos;
    while (is_scheme_char(at(t, len, i)) && i - pos < 32)
        i++;
    if (!starts_with(t, len, i, "://", false))
        return false;
    size_t user = i + 3, colon = 0, at_sign = 0;
    for (size_t j = user; j < len && j - user < USERINFO_MAX; j++) {
        unsigned char c = (unsigned char)t[j];
        if (is_space(c) || c < 0x20 || in_set(c, "/?#\"'`<>"))
            break;
        if (c == ':' && colon == 0)
            colon = j;
        else if (c == '@')
            at_sign = j;
    }
    if (at_sign == 0 || colon == 0 || colon > at_sign)
        return false;
    unsigned char host = at(t, len, at_sign + 1);
    if ((!is_alnum(host) && host != '[') || is_placeholder(t, colon + 1, at_sign))
        return false;
    *out = (struct span){user, at_sign};
    return true;
}

/* Does the identifier t[start, end) name a secret? It must end with a keyword: DB_PASSWORD,
 * db.password, x-api-key, dbPassword, PGPASSWORD; not PASSWORDS or password_hint. */
static bool names_secret(const char *t, size_t start, size_t end)
{
    static const struct literal keywords[] = {
        LITERAL("password"),    LITERAL("passwd"),        LITERAL("passphrase"),
        LITERAL("secret"),      LITERAL("api_key"),       LITERAL("apikey"),
        LITERAL("api-key"),     LITERAL("access_key"),    LITERAL("secret_key"),
        LITERAL("private_key"), LITERAL("auth_token"),    LITERAL("access_token"),
        LITERAL("api_token"),   LITERAL("refresh_token"), LITERAL("client_secret")};
    unsigned char last = to_lower(before(t, end));
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
        size_t n = keywords[k].n;
        if ((unsigned char)keywords[k].s[n - 1] == last && end - start >= n &&
            starts_with(t, end, end - n, keywords[k].s, true))
            return true;
    }
    return false;
}

static bool match_password_assignment(const char *t, size_t len, size_t pos, struct span *out)
{
    if (is_ident(before(t, pos)) || !is_ident(at(t, len, pos)))
        return false;
    size_t key_end = pos;
    while (is_ident(at(t, len, key_end)) && key_end - pos < IDENT_MAX)
        key_end++;
    if (is_ident(at(t, len, key_end)) || !names_secret(t, pos, key_end))
        return false;
    size_t i = key_end;
    if (is_quote(at(t, len, i)))
        i++;
    i = skip_blanks(t, len, i);
    unsigned char op = at(t, len, i);
    if (op == '=' && at(t, len, i + 1) != '=') {
        i += at(t, len, i + 1) == '>' ? 2 : 1;
    } else if (op == ':' && at(t, len, i + 1) != ':') {
        i += at(t, len, i + 1) == '=' ? 2 : 1;
    } else if (!(t[pos] == '-' && i > key_end)) {
        return false; /* only "--password value" may go without an operator */
    } else {
        op = ' ';
    }
    i = skip_blanks(t, len, i);
    size_t v = i, v_end = i;
    unsigned char quote = at(t, len, i);
    if (is_quote(quote)) {
        v = v_end = i + 1;
        while (v_end < len && t[v_end] != quote && t[v_end] != '\n' && v_end - v < VALUE_MAX)
            v_end++;
        if (at(t, len, v_end) != quote)
            return false;
    } else {
        while (v_end < len && v_end - v < VALUE_MAX) {
            unsigned char c = (unsigned char)t[v_end];
            if (is_space(c) || c < 0x20 || in_set(c, "&,;\"'`)]}<"))
                break;
            v_end++;
        }
        while (v_end > v && t[v_end - 1] == '.')
            v_end--; /* the end of a sentence */
        /* "Password: Reset it …" is prose: after ':' a short bare value needs a digit or a
         * symbol to look like a password. */
        if (op == ':' && v_end - v < 12 && !span_has(t, v, v_end, is_not_alpha))
            return false;
    }
    if (v_end == v || is_placeholder(t, v, v_end))
        return false;
    *out = (struct span){pos, v_end};
    return true;
}

/* ============================================================== access.* detectors ==== */

/* A symbolic mode ("o+w", "a=rwx", "u+x,go+w") that gives others write permission. */
static bool symbolic_mode_world_writable(const char *t, size_t start, size_t end)
{
    size_t i = start;
    while (i < end) {
        bool others = false;
        for (; i < end && in_set(t[i], "ugoa"); i++)
            others = others || t[i] == 'o' || t[i] == 'a';
        if (i == end || !in_set(t[i], "+-="))
            return false;
        while (i < end && in_set(t[i], "+-=")) {
            bool grants = t[i] != '-';
            for (i++; i < end && in_set(t[i], "rwxXstugo"); i++)
                if (t[i] == 'w' && grants && others)
                    return true;
        }
        if (i < end && t[i] != ',')
            return false;
        i++;
    }
    return false;
}

static bool mode_token_world_writable(const char *t, struct span tok)
{
    size_t s = tok.start, e = tok.end;
    if (e - s >= 2 && is_quote((unsigned char)t[s]) && t[e - 1] == t[s]) {
        s++;
        e--;
    }
    return octal_mode_world_writable(t, s, e) || symbolic_mode_world_writable(t, s, e);
}

static bool match_world_writable(const char *t, size_t len, size_t pos,
                                 const struct setting *setting, struct span *out)
{
    static const char *const mode_keys[] = {"mode",        "filemode", "dirmode", "directorymode",
                                            "permissions", "chmod",    NULL};
    if (starts_with(t, len, pos, "S_IWOTH", false) && !is_alnum(before(t, pos)) &&
        !is_word(at(t, len, pos + 7))) {
        *out = (struct span){pos, pos + 7};
        return true;
    }
    size_t call = pos + 5; /* os.chmod(path, 0o777), fs.chmodSync(path, 0o666) */
    if (starts_with(t, len, call, "Sync", false))
        call += 4;
    if (starts_with(t, len, pos, "chmod", false) && !is_word(before(t, pos)) &&
        at(t, len, call) == '(') {
        for (size_t i = call + 1;
             i < len && i - pos < STATEMENT_MAX && t[i] != ')' && t[i] != '\n';) {
            size_t s = i;
            while (i < len && (is_alnum((unsigned char)t[i]) || is_quote((unsigned char)t[i])))
                i++;
            if (i > s && mode_token_world_writable(t, (struct span){s, i})) {
                *out = (struct span){pos, i};
                return true;
            }
            if (i == s)
                i++;
        }
        return false;
    }
    size_t i = 0;
    if (command_at(t, len, pos, "chmod", false, &i)) {
        struct span tok;
        for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++) {
            if (t[tok.start] == '-' && !mode_token_world_writable(t, tok))
                continue; /* -R, --recursive, --reference=… */
            if (!mode_token_world_writable(t, tok))
                return false;
            *out = (struct span){pos, tok.end};
            return true;
        }
        return false;
    }
    if (setting != NULL && setting->assigned && in_list(setting->key, mode_keys) &&
        octal_mode_world_writable(t, setting->value_start, setting->value_end)) {
        setting_span(setting, out);
        return true;
    }
    return false;
}

static bool match_public_acl(const char *t, size_t len, size_t pos, const struct setting *setting,
                             struct span *out)
{
    static const char *const names[] = {"public-read-write", "public-read", "allAuthenticatedUsers",
                                        "allUsers", NULL};
    static const char *const block_keys[] = {"blockpublicacls",   "blockpublicpolicy",
                                             "ignorepublicacls",  "restrictpublicbuckets",
                                             "blockpublicaccess", NULL};
    if (!is_ident(before(t, pos))) {
        for (const char *const *n = names; *n != NULL; n++) {
            if (!starts_with(t, len, pos, *n, true))
                continue;
            size_t e = pos + strlen(*n);
            if (!is_word(at(t, len, e)) && at(t, len, e) != '-') {
                *out = (struct span){pos, e};
                return true;
            }
        }
    }
    if (starts_with(t, len, pos, "--public-access", false) && !is_ident(before(t, pos))) {
        size_t i = pos + strlen("--public-access"), e = 0;
        if (at(t, len, i) == '=')
            i++;
        i = skip_blanks(t, len, i);
        if (word_at(t, len, i, "blob", &e) || word_at(t, len, i, "container", &e)) {
            *out = (struct span){pos, e};
            return true;
        }
    }
    if (setting != NULL && setting->falsy && contains_any(setting->key, block_keys)) {
        setting_span(setting, out);
        return true;
    }
    return false;
}

static bool match_grant_everyone(const char *t, size_t len, size_t pos, struct span *out)
{
    size_t e = 0;
    if (word_at(t, len, pos, "grant", &e)) {
        /* GRANT … TO PUBLIC within the same statement. */
        for (size_t i = e; i < len && i - pos < STATEMENT_MAX && t[i] != ';'; i++) {
            size_t to_end = 0, public_end = 0;
            if (word_at(t, len, i, "to", &to_end) && is_space(at(t, len, to_end)) &&
                word_at(t, len, skip_space(t, len, to_end), "public", &public_end)) {
                *out = (struct span){pos, public_end};
                return true;
            }
        }
        return false;
    }
    if (word_at(t, len, pos, "everyone", &e)) {
        if (at(t, len, e) == ':') { /* icacls: Everyone:F, Everyone:(OI)(CI)M */
            size_t i = e + 1;
            while ((is_alpha(at(t, len, i)) || at(t, len, i) == '(' || at(t, len, i) == ')' ||
                    at(t, len, i) == ',') &&
                   i - e < 32)
                i++;
            for (size_t j = e + 1; j < i; j++)
                if (t[j] == 'F' || t[j] == 'M' || t[j] == 'W') {
                    *out = (struct span){pos, i};
                    return true;
                }
        }
        static const char *const full[] = {"full control", "fullcontrol", "full_control",
                                           "full-control", NULL};
        for (size_t i = e; i < len && i - e < LINE_WINDOW_MAX && t[i] != '\n'; i++)
            for (const char *const *f = full; *f != NULL; f++)
                if (starts_with(t, len, i, *f, true)) {
                    *out = (struct span){pos, i + strlen(*f)};
                    return true;
                }
        return false;
    }
    if (word_at(t, len, pos, "principal", &e)) { /* IAM: "Principal": "*" or {"AWS": "*"} */
        size_t i = e;
        if (at(t, len, i) == '"')
            i++;
        i = skip_space(t, len, i);
        if (at(t, len, i) != ':')
            return false;
        i = skip_space(t, len, i + 1);
        if (at(t, len, i) == '{') {
            i = skip_space(t, len, i + 1);
            if (!starts_with(t, len, i, "\"AWS\"", false))
                return false;
            i = skip_space(t, len, i + 5);
            if (at(t, len, i) != ':')
                return false;
            i = skip_space(t, len, i + 1);
        }
        if (!starts_with(t, len, i, "\"*\"", false))
            return false;
        *out = (struct span){pos, i + 3};
        return true;
    }
    return false;
}

/* Settings whose truthy value switches a check off, and whose falsy value does. */
static const char *const tls_off_when_true[] = {
    "insecure",   "noverify",    "skipverify",         "skiptlsverify", "disablessl",
    "disabletls", "sslnoverify", "nocheckcertificate", "trustallcerts", NULL};
static const char *const tls_transports[] = {"ssl", "tls", "https", "cert", "peer", "host", NULL};
static const char *const tls_off_when_false[] = {"rejectunauthorized", "checkhostname", "strictssl",
                                                 NULL};

static bool tls_setting_disables(const struct setting *s)
{
    /* Bare words need an operator: "verify false positives" is prose, "verify=False" is not. */
    if (!s->assigned && (strcmp(s->key, "verify") == 0 || strcmp(s->key, "insecure") == 0))
        return false;
    if (contains_any(s->key, tls_off_when_true))
        return s->truthy;
    if (!s->falsy)
        return false;
    bool verify = strcmp(s->key, "verify") == 0 ||
                  (strstr(s->key, "verify") != NULL && contains_any(s->key, tls_transports));
    return verify || contains_any(s->key, tls_off_when_false);
}

/* curl … -k: the -k (or a bundle such as -sSk) in a curl command. */
static bool curl_insecure_at(const char *t, size_t len, size_t pos, struct span *out)
{
    size_t i = 0;
    if (!command_at(t, len, pos, "curl", false, &i))
        return false;
    struct span tok;
    for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++)
        if (token_is_short_options(t, tok) && token_has_char(t, tok, 'k')) {
            *out = tok;
            return true;
        }
    return false;
}

static bool match_tls_verification_disabled(const char *t, size_t len, size_t pos,
                                            const struct setting *setting, struct span *out)
{
    static const char *const flags[] = {"--insecure-skip-tls-verify",
                                        "--insecure",
                                        "--no-check-certificate",
                                        "--no-verify-ssl",
                                        "--skip-tls-verify",
                                        "--kubelet-insecure-tls",
                                        NULL};
    static const char *const constants[] = {"VERIFY_NONE", "CERT_NONE", NULL};
    if (flag_literal_at(t, len, pos, flags, out) || curl_insecure_at(t, len, pos, out))
        return true;
    if (!is_alnum(before(t, pos))) {
        for (const char *const *c = constants; *c != NULL; c++) {
            if (!starts_with(t, len, pos, *c, false))
                continue;
            size_t e = pos + strlen(*c);
            if (!is_word(at(t, len, e))) {
                *out = (struct span){pos, e};
                return true;
            }
        }
    }
    if (setting != NULL && tls_setting_disables(setting)) {
        setting_span(setting, out);
        return true;
    }
    return false;
}

static bool match_host_key_checking_disabled(const char *t, size_t len, size_t pos,
                                             const struct setting *setting, struct span *out)
{
    static const char *const names[] = {"stricthostkeychecking", NULL};
    static const char *const off[] = {"no", "off", "false", NULL};
    (void)t; /* the setting is all it reads */
    (void)len;
    (void)pos;
    if (setting == NULL || !in_list(setting->value, off) || !ends_with_any(setting->key, names))
        return false;
    setting_span(setting, out);
    return true;
}

/* pg_hba.conf: "host all all 0.0.0.0/0 trust" lets anyone in without a password. */
static bool pg_hba_trust_at(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char *const types[] = {"hostssl", "hostnossl", "host", "local", NULL};
    if (pos > 0 && t[pos - 1] != '\n')
        return false;
    size_t i = skip_blanks(t, len, pos);
    const char *const *type = types;
    for (; *type != NULL; type++)
        if (starts_with(t, len, i, *type, false) && is_blank(at(t, len, i + strlen(*type))))
            break;
    if (*type == NULL)
        return false;
    struct span last = {0, 0};
    for (i += strlen(*type); i < len && t[i] != '\n' && t[i] != '#' && i - pos < STATEMENT_MAX;) {
        i = skip_blanks(t, len, i);
        size_t s = i;
        while (i < len && !is_space((unsigned char)t[i]) && t[i] != '#')
            i++;
        if (i == s)
            break; /* '\r' or another space that is not a blank */
        last = (struct span){s, i};
    }
    if (last.end == 0 || !token_is(t, last, "trust"))
        return false;
    *out = (struct span){skip_blanks(t, len, pos), last.end};
    return true;
}

static bool auth_setting_disables(const struct setting *s)
{
    static const char *const off_when_true[] = {"noauth",          "disableauth",
                                                "authdisabled",    "skipauth",
                                                "allowanonymous",  "anonymousenable",
                                                "anonymousaccess", "allowunauthenticated",
                                                "skipgranttables", NULL};
    static const char *const off_when_false[] = {"authenabled",     "authenticationenabled",
                                                 "requireauth",     "requireauthentication",
                                                 "authrequired",    "authenticationrequired",
                                                 "securityenabled", "protectedmode",
                                                 "verifysignature", NULL};
    static const char *const bare[] = {"auth", "authentication", "authorization", "security", NULL};
    static const char *const empty_token[] = {"notebookapptoken", "serverapptoken",
                                              "notebookapppassword", "serverapppassword", NULL};
    if (s->empty_quoted)
        return s->assigned && ends_with_any(s->key, empty_token);
    if (contains_any(s->key, off_when_true))
        return s->truthy;
    if (in_list(s->key, bare))
        return s->assigned && s->falsy;
    return s->falsy && ends_with_any(s->key, off_when_false);
}

static bool match_auth_disabled(const char *t, size_t len, size_t pos,
                                const struct setting *setting, struct span *out)
{
    static const char *const flags[] = {
        "--no-auth", "--noauth", "--disable-auth", "--skip-grant-tables", "--allow-unauthenticated",
        NULL};
    if (flag_literal_at(t, len, pos, flags, out) || pg_hba_trust_at(t, len, pos, out))
        return true;
    if (setting != NULL && auth_setting_disables(setting)) {
        setting_span(setting, out);
        return true;
    }
    return false;
}

static bool match_open_to_internet(const char *t, size_t len, size_t pos, struct span *out)
{
    unsigned char p = before(t, pos);
    size_t e = 0;
    if (starts_with(t, len, pos, "0.0.0.0/0", false) && !is_alnum(p) && p != '.' && p != ':')
        e = pos + 9;
    else if (starts_with(t, len, pos, "::/0", false) && !is_hex(p) && p != ':' && p != '.')
        e = pos + 4;
    if (e == 0 || is_alnum(at(t, len, e)) || (at(t, len, e) == '.' && is_digit(at(t, len, e + 1))))
        return false;
    *out = (struct span){pos, e};
    return true;
}

/* ========================================================= destructive.* detectors ==== */

static bool match_recursive_delete(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char *const powershell[] = {"Remove-Item", "ri",    "del", "erase",
                                             "rd",          "rmdir", NULL};
    struct span tok;
    size_t i = 0;
    if (command_at(t, len, pos, "rm", false, &i)) {
        bool recursive = false, cached = false;
        size_t options_end = 0;
        for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++) {
            if (t[tok.start] != '-' || token_is(t, tok, "--") || token_is(t, tok, "-"))
                break; /* options end at the first operand */
            if (token_is(t, tok, "--recursive"))
                recursive = true;
            else if (token_is(t, tok, "--cached")) /* git rm --cached keeps the files */
                cached = true;
            else if (token_is_short_options(t, tok) &&
                     (token_has_char(t, tok, 'r') || token_has_char(t, tok, 'R')))
                recursive = true;
            options_end = tok.end;
        }
        if (!recursive || cached)
            return false;
        *out = (struct span){pos, options_end};
        return true;
    }
    for (const char *const *c = powershell; *c != NULL; c++) {
        if (!command_at(t, len, pos, *c, true, &i))
            continue;
        for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++) {
            size_t name_end = tok.start;
            while (name_end < tok.end && t[name_end] != ':')
                name_end++;
            /* -Recurse (or an unambiguous prefix, -r), or /s for cmd's rd and del. */
            bool is_prefix =
                name_end - tok.start >= 2 && name_end - tok.start <= 8 && t[tok.start] == '-';
            for (size_t k = tok.start; is_prefix && k < name_end; k++)
                if (to_lower((unsigned char)t[k]) != (unsigned char)"-recurse"[k - tok.start])
                    is_prefix = false;
            if (is_prefix || span_equals_ci(t, tok.start, tok.end, "/s")) {
                *out = (struct span){pos, tok.end};
                return true;
            }
        }
        return false;
    }
    return false;
}

static bool match_drop_table(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char *const objects[] = {"table", "database", "schema", NULL};
    size_t e = 0;
    if (!word_at(t, len, pos, "drop", &e) || !is_space(at(t, len, e)))
        return false;
    size_t i = skip_space(t, len, e);
    for (const char *const *o = objects; *o != NULL; o++)
        if (word_at(t, len, i, *o, &e)) {
            *out = (struct span){pos, e};
            return true;
        }
    return false;
}

/* Index after an SQL table name (users, public.users, "Users", `users`, [users]), or i. */
static size_t sql_name_end(const char *t, size_t len, size_t i)
{
    size_t start = i;
    for (unsigned char c = at(t, len, i);
         i - start < IDENT_MAX && (is_word(c) || in_set(c, ".\"`[]")); c = at(t, len, ++i))
        ;
    while (i > start && t[i - 1] == '.')
        i--;
    return i;
}

static bool match_truncate_table(const char *t, size_t len, size_t pos, struct span *out)
{
    size_t e = 0;
    if (!word_at(t, len, pos, "truncate", &e) || !is_space(at(t, len, e)))
        return false;
    size_t i = skip_space(t, len, e), table_end = 0;
    if (word_at(t, len, i, "table", &table_end)) {
        *out = (struct span){pos, table_end};
        return true;
    }
    /* "TRUNCATE users;" — upper-case keyword and a statement end, so prose does not match. */
    size_t name_end = sql_name_end(t, len, i);
    if (!starts_with(t, len, pos, "TRUNCATE", false) || name_end == i ||
        at(t, len, skip_blanks(t, len, name_end)) != ';')
        return false;
    *out = (struct span){pos, name_end};
    return true;
}

static bool match_delete_without_where(const char *t, size_t len, size_t pos, struct span *out)
{
    size_t e = 0;
    if (!word_at(t, len, pos, "delete", &e) || !is_space(at(t, len, e)))
        return false;
    size_t i = skip_space(t, len, e);
    if (!word_at(t, len, i, "from", &e) || !is_space(at(t, len, e)))
        return false;
    i = skip_space(t, len, e);
    size_t name_end = sql_name_end(t, len, i);
    if (name_end == i)
        return false;
    size_t next = skip_space(t, len, name_end);
    if (next < len && t[next] != ';')
        return false; /* WHERE, USING, or prose goes on */
    *out = (struct span){pos, name_end};
    return true;
}

static bool match_force_push(const char *t, size_t len, size_t pos, struct span *out)
{
    static const char *const global_with_arg[] = {"-C",          "-c",          "--git-dir",
                                                  "--work-tree", "--namespace", NULL};
    size_t i = 0;
    if (!command_at(t, len, pos, "git", false, &i))
        return false;
    struct span tok;
    bool push = false;
    for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++) {
        if (!push) {
            if (t[tok.start] != '-') {
                if (!token_is(t, tok, "push"))
                    return false; /* another subcommand */
                push = true;
                continue;
            }
            for (const char *const *g = global_with_arg; *g != NULL; g++)
                if (token_is(t, tok, *g)) {
                    shell_next_token(t, len, &i, &tok);
                    break;
                }
            continue;
        }
        bool force = token_is(t, tok, "--force") || token_is(t, tok, "--force-with-lease") ||
                     starts_with(t, tok.end, tok.start, "--force-with-lease=", false) ||
                     (token_is_short_options(t, tok) && token_has_char(t, tok, 'f')) ||
                     (t[tok.start] == '+' && tok.end - tok.start > 1);
        if (force) {
            *out = (struct span){pos, tok.end};
            return true;
        }
    }
    return false;
}

/* Devices that are harmless to write to. */
static bool is_harmless_device(const char *t, size_t start, size_t end)
{
    static const char *const harmless[] = {"null", "zero", "stdout", "stderr",
                                           "tty",  "fd/1", "fd/2",   NULL};
    for (const char *const *h = harmless; *h != NULL; h++)
        if (span_equals_ci(t, start, end, *h))
            return true;
    return false;
}

static bool match_disk_wipe(const char *t, size_t len, size_t pos, struct span *out)
{
    struct span tok;
    size_t i = 0;
    if (command_at(t, len, pos, "dd", false, &i)) {
        for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++) {
            static const char of[] = "of=/dev/";
            if (starts_with(t, tok.end, tok.start, of, false) && tok.end > tok.start + strlen(of) &&
                !is_harmless_device(t, tok.start + strlen(of), tok.end)) {
                *out = (struct span){pos, tok.end};
                return true;
            }
        }
        return false;
    }
    if (command_at(t, len, pos, "wipefs", false, &i)) {
        for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++)
            if (token_is(t, tok, "--all") ||
                (token_is_short_options(t, tok) && token_has_char(t, tok, 'a'))) {
                *out = (struct span){pos, tok.end};
                return true;
            }
        return false;
    }
    unsigned char p = before(t, pos);
    if (is_word(p) || p == '-' || p == '.')
        return false;
    size_t e = 0;
    if (starts_with(t, len, pos, "mkfs", false))
        e = pos + 4;
    else if (starts_with(t, len, pos, "mke2fs", false))
        e = pos + 6;
    else
        return false;
    if (at(t, len, e) == '.') /* mkfs.ext4 */
        e = token_run(t, len, e + 1, NULL);
    if (!is_blank(at(t, len, e)))
        return false;
    i = e;
    for (int n = 0; n < SHELL_TOKENS_MAX && shell_next_token(t, len, &i, &tok); n++)
        if (starts_with(t, tok.end, tok.start, "/dev/", false) && tok.end > tok.start + 5) {
            *out = (struct span){pos, tok.end};
            return true;
        }
    return false;
}

/* ================================================================= pii.* detectors ==== */

static bool is_local_part_char(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* True when pos is inside the user-info part of a URL (https://user@host). */
static bool in_url_userinfo(const char *t, size_t pos)
{
    for (size_t j = pos; j >= 3 && pos - j < USERINFO_MAX; j--) {
        unsigned char c = (unsigned char)t[j - 1];
        if (is_space(c) || is_quote(c) || c == '<' || c == '(')
            return false;
        if (c == '/' && t[j - 2] == '/' && t[j - 3] == ':')
            return true;
    }
    return false;
}

/* True when the word before pos is a remote shell command: "ssh root@db.example.com" names
 * an account on a host, not an e-mail address. */
static bool after_remote_shell(const char *t, size_t pos)
{
    static const char *const commands[] = {"ssh", "scp", "sftp", "mosh", "ssh-copy-id", NULL};
    size_t end = pos;
    while (end > 0 && is_blank((unsigned char)t[end - 1]))
        end--;
    if (end == pos)
        return false;
    size_t start = end;
    while (start > 0 && end - start < 16 && !is_space((unsigned char)t[start - 1]))
        start--;
    for (const char *const *c = commands; *c != NULL; c++)
        if (end - start == strlen(*c) && memcmp(t + start, *c, end - start) == 0)
            return true;
    return false;
}

static bool match_email(const char *t, size_t len, size_t pos, struct span *out)
{
    unsigned char c = at(t, len, pos), p = before(t, pos);
    if (!is_word(c) || is_local_part_char(p) || p == '@')
        return false;
    size_t i = pos;
    while (is_local_part_char(at(t, len, i)) && i - pos <= 64)
        i++;
    if (at(t, len, i) != '@' || t[i - 1] == '.' || in_url_userinfo(t, pos) ||
        after_remote_shell(t, pos))
        return false;
    size_t domain = i + 1, label = domain, labels = 0;
    for (i = domain;; i++) {
        label = i;
        while ((is_alnum(at(t, len, i)) || at(t, len, i) == '-') && i - label < 63)
            i++;
        if (i == label || t[label] == '-' || t[i - 1] == '-')
            return false;
        labels++;
        if (!(at(t, len, i) == '.' && is_alnum(at(t, len, i + 1))))
            break;
    }
    size_t end = i;
    unsigned char next = at(t, len, end);
    if (labels < 2 || end - label < 2 || is_word(next) || next == '-' || next == '@')
        return false;
    for (size_t k = label; k < end; k++)
        if (!is_alpha((unsigned char)t[k]))
            return false; /* the top-level domain is letters: not name@1.2.3 */
    if (next == ':' && at(t, len, end + 1) != 0 && !is_space(at(t, len, end + 1)))
        return false; /* git@github.com:org/repo.git */
    if (is_digit((unsigned char)t[domain]) && to_lower(at(t, len, domain + 1)) == 'x' &&
        at(t, len, domain + 2) == '.')
        return false; /* logo@2x.png */
    *out = (struct span){pos, end};
    return true;
}

/* Index after `n` digits at i, or 0. */
static size_t digits_at(const char *t, size_t len, size_t i, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!is_digit(at(t, len, i + k)))
            return 0;
    return i + n;
}

/* +CC international numbers: '+', then digits in groups separated by one space, '-' or '.',
 * optionally one "(0)" or "(555)" group; 8 to 15 digits in all (E.164). */
static size_t international_phone_end(const char *t, size_t len, size_t pos)
{
    size_t i = pos + 1, digits = 0, end = 0;
    if (!is_digit(at(t, len, i)))
        return 0;
    while (i < len && digits <= 15) {
        unsigned char c = (unsigned char)t[i];
        if (is_digit(c)) {
            digits++;
            end = ++i;
        } else if ((c == ' ' || c == '-' || c == '.') &&
                   (is_digit(before(t, i)) || before(t, i) == ')') &&
                   (is_digit(at(t, len, i + 1)) || at(t, len, i + 1) == '(')) {
            i++;
        } else if (c == '(') {
            size_t j = i + 1;
            while (is_digit(at(t, len, j)) && j - i <= 4)
                j++;
            if (j == i + 1 || at(t, len, j) != ')')
                break;
            digits += j - i - 1;
            i = j + 1;
        } else {
            break;
        }
    }
    return digits >= 8 && digits <= 15 ? end : 0;
}

/* North American forms: NNN-NNN-NNNN, NNN.NNN.NNNN, (NNN) NNN-NNNN, with an optional "1-". */
static size_t national_phone_end(const char *t, size_t len, size_t pos)
{
    size_t i = pos;
    if (at(t, len, i) == '1' && in_set(at(t, len, i + 1), "-. ") &&
        (is_digit(at(t, len, i + 2)) || at(t, len, i + 2) == '('))
        i += 2;
    if (at(t, len, i) == '(') {
        size_t area = digits_at(t, len, i + 1, 3);
        if (area == 0 || at(t, len, area) != ')')
            return 0;
        i = area + 1;
        if (at(t, len, i) == ' ')
            i++;
        size_t exchange = digits_at(t, len, i, 3);
        unsigned char sep = at(t, len, exchange);
        if (exchange == 0 || !in_set(sep, "-. "))
            return 0;
        return digits_at(t, len, exchange + 1, 4);
    }
    size_t area = digits_at(t, len, i, 3);
    unsigned char sep = at(t, len, area);
    if (area == 0 || (sep != '-' && sep != '.'))
        return 0;
    size_t exchange = digits_at(t, len, area + 1, 3);
    if (exchange == 0 || at(t, len, exchange) != sep)
        return 0;
    return digits_at(t, len, exchange + 1, 4);
}

static bool match_phone(const char *t, size_t len, size_t pos, struct span *out)
{
    unsigned char c = at(t, len, pos), p = before(t, pos);
    if (is_alnum(p) || in_set(p, "+-./_:,=#"))
        return false;
    size_t end = 0;
    if (c == '+')
        end = international_phone_end(t, len, pos);
    else if (is_digit(c) || c == '(')
        end = national_phone_end(t, len, pos);
    if (end == 0)
        return false;
    unsigned char next = at(t, len, end);
    if (is_word(next) || ((next == '.' || next == '-' || next == ':' || next == '/') &&
                          is_digit(at(t, len, end + 1))))
        return false; /* part of a longer number, a version or a date */
    *out = (struct span){pos, end};
    return true;
}

/* ============================================================= mention.* detectors ==== */

static bool is_mention_char(unsigned char c)
{
    return is_word(c) || c == '.' || c == '-';
}

/* The mention "@name" at i: sets *name_start and *end (end excludes trailing '.' and '-'). */
static bool mention_at(const char *t, size_t len, size_t i, size_t *name_start, size_t *end)
{
    unsigned char p = before(t, i);
    if (at(t, len, i) != '@' || is_local_part_char(p) || p == '@' || p == '/' || p == '`' ||
        !is_word(at(t, len, i + 1)))
        return false;
    size_t e = i + 1;
    while (is_mention_char(at(t, len, e)) && e - i <= MENTION_NAME_MAX)
        e++;
    while (t[e - 1] == '.' || t[e - 1] == '-')
        e--;
    *name_start = i + 1;
    *end = e;
    return true;
}

/* @all, @everyone, @here, @channel each; and more than MASS_MENTION_LIMIT distinct other
 * mentions as one span from the first to the last of them. */
static int scan_mass_mentions(const char *t, size_t len, struct match_list *out, size_t detector)
{
    static const char *const broadcast[] = {"all", "everyone", "here", "channel", NULL};
    struct span distinct[MASS_MENTION_LIMIT + 1];
    size_t ndistinct = 0, first = 0, last_end = 0;
    for (size_t i = 0; i < len; i++) {
        size_t name = 0, end = 0;
        if (t[i] != '@' || !mention_at(t, len, i, &name, &end))
            continue;
        bool is_broadcast = false;
        for (const char *const *b = broadcast; *b != NULL; b++)
            is_broadcast = is_broadcast || span_equals_ci(t, name, end, *b);
        if (is_broadcast) {
            if (match_list_push(out, i, end, detector) != 0)
                return -1;
        } else {
            if (last_end == 0)
                first = i;
            last_end = end;
            bool seen = false;
            for (size_t k = 0; k < ndistinct && !seen; k++)
                seen = distinct[k].end - distinct[k].start == end - name &&
                       spans_equal_ci(t, distinct[k].start, name, end - name);
            if (!seen && ndistinct <= MASS_MENTION_LIMIT)
                distinct[ndistinct++] = (struct span){name, end};
        }
        i = end - 1;
    }
    if (ndistinct > MASS_MENTION_LIMIT && match_list_push(out, first, last_end, detector) != 0)
        return -1;
    return 0;
}

/* ==================================================================== the detectors ==== */

/* Answers whether a finding starts at pos (its span may begin later, e.g. curl … -k). */
typedef bool (*match_fn)(const char *text, size_t length, size_t pos, struct span *found);
/* The same for detectors that also read the setting parsed at pos (NULL when there is none). */
typedef bool (*setting_match_fn)(const char *text, size_t length, size_t pos,
                                 const struct setting *setting, struct span *found);
/* Scans the whole text and pushes its findings. Returns 0, or -1 when memory runs out. */
typedef int (*scan_fn)(const char *text, size_t length, struct match_list *out, size_t detector);

/* Character classes a finding can start with (struct detector, `first_classes`). */
enum {
    FIRST_DIGIT = 1 << 0, /* [0-9] */
    FIRST_ALPHA = 1 << 1, /* [A-Za-z] */
    FIRST_WORD = 1 << 2,  /* [A-Za-z0-9_] */
    FIRST_IDENT = 1 << 3  /* [A-Za-z0-9_.-], setting names */
};

/* A position matcher is only asked at positions that can start one of its findings: the byte
 * there is in `first` or one of `first_classes`, and unless `mid_word` is set, the byte before
 * is not a letter or digit. A match_setting matcher is also asked wherever a setting parses
 * (`first` lists the anchors of its other findings). These are necessary conditions read off
 * each matcher, so skipping the other positions changes nothing but the time taken. */
struct detector {
    const char *code;
    enum severity severity;
    const char *first;      /* the bytes a finding can start with, besides first_classes */
    unsigned first_classes; /* FIRST_* */
    bool mid_word;          /* a finding may start right after a letter or digit */
    match_fn match;         /* exactly one of match, match_setting and scan */
    setting_match_fn match_setting;
    scan_fn scan;
};

static const struct detector detectors[] = {
    {"secret.aws_access_key", SEVERITY_CRITICAL, .first = "A", .match = match_aws_access_key},
    {"secret.private_key", SEVERITY_CRITICAL, .first = "-", .mid_word = true,
     .match = match_private_key},
    {"secret.github_token", SEVERITY_CRITICAL, .first = "g", .match = match_github_token},
    {"secret.slack_token", SEVERITY_CRITICAL, .first = "hx", .match = match_slack_token},
    {"secret.api_key", SEVERITY_CRITICAL, .first = "srAgnh", .match = match_api_key},
    {"secret.jwt", SEVERITY_CRITICAL, .first = "e", .match = match_jwt},
    {"secret.bearer_token", SEVERITY_CRITICAL, .first = "bB", .match = match_bearer_token},
    {"secret.password_in_url", SEVERITY_CRITICAL, .first_classes = FIRST_ALPHA,
     .match = match_password_in_url},
    {"secret.password_assignment", SEVERITY_CRITICAL, .first_classes = FIRST_IDENT,
     .match = match_password_assignment},
    {"access.world_writable", SEVERITY_WARNING, .first = "Sc",
     .match_setting = match_world_writable},
    {"access.public_acl", SEVERITY_CRITICAL, .first = "pPaA-", .match_setting = match_public_acl},
    {"access.grant_everyone", SEVERITY_CRITICAL, .first = "gGeEpP", .match = match_grant_everyone},
    {"access.tls_verification_disabled", SEVERITY_WARNING, .first = "-cVC",
     .match_setting = match_tls_verification_disabled},
    {"access.host_key_checking_disabled", SEVERITY_WARNING,
     .match_setting = match_host_key_checking_disabled},
    {"access.auth_disabled", SEVERITY_CRITICAL, .first = "- \thl", /* pg_hba.conf lines */
     .match_setting = match_auth_disabled},
    {"access.open_to_internet", SEVERITY_WARNING, .first = "0:", .mid_word = true,
     .match = match_open_to_internet},
    {"destructive.recursive_delete", SEVERITY_CRITICAL, .first = "rRdDeE",
     .match = match_recursive_delete},
    {"destructive.drop_table", SEVERITY_CRITICAL, .first = "dD", .match = match_drop_table},
    {"destructive.truncate_table", SEVERITY_CRITICAL, .first = "tT", .match = match_truncate_table},
    {"destructive.delete_without_where", SEVERITY_CRITICAL, .first = "dD",
     .match = match_delete_without_where},
    {"destructive.force_push", SEVERITY_CRITICAL, .first = "g", .match = match_force_push},
    {"destructive.disk_wipe", SEVERITY_CRITICAL, .first = "dwm", .match = match_disk_wipe},
    {"pii.email", SEVERITY_WARNING, .first_classes = FIRST_WORD, .match = match_email},
    {"pii.phone", SEVERITY_WARNING, .first = "+(", .first_classes = FIRST_DIGIT,
     .match = match_phone},
    {"mention.mass_mention", SEVERITY_WARNING, .scan = scan_mass_mentions},
};

enum { DETECTOR_COUNT = sizeof detectors / sizeof detectors[0] };
_Static_assert(DETECTOR_COUNT <= 32, "detector sets are 32-bit masks");

static const char *severity_name(enum severity s)
{
    switch (s) {
    case SEVERITY_INFO:
        return "info";
    case SEVERITY_WARNING:
        return "warning";
    case SEVERITY_CRITICAL:
        return "critical";
    }
    return "info";
}

/* Sets of detectors, bit d for detectors[d]. */
struct anchors {
    uint32_t by_byte[256]; /* by first byte: from `first` and `first_classes` */
    uint32_t mid_word;     /* may start right after a letter or digit */
    uint32_t settings;     /* match_setting matchers, asked where a setting parses */
};

static void anchors_init(struct anchors *a)
{
    uint32_t digit = 0, alpha = 0, word = 0, ident = 0; /* by FIRST_* class */
    memset(a, 0, sizeof *a);
    for (size_t d = 0; d < DETECTOR_COUNT; d++) {
        const struct detector *det = &detectors[d];
        uint32_t bit = (uint32_t)1 << d;
        for (const char *c = det->first; c != NULL && *c != '\0'; c++)
            a->by_byte[(unsigned char)*c] |= bit;
        digit |= (det->first_classes & FIRST_DIGIT) ? bit : 0;
        alpha |= (det->first_classes & FIRST_ALPHA) ? bit : 0;
        word |= (det->first_classes & FIRST_WORD) ? bit : 0;
        ident |= (det->first_classes & FIRST_IDENT) ? bit : 0;
        a->mid_word |= det->mid_word ? bit : 0;
        a->settings |= (det->match_setting != NULL) ? bit : 0;
    }
    for (unsigned c = 0; c < 128; c++) { /* no class has a byte >= 0x80 */
        unsigned char b = (unsigned char)c;
        a->by_byte[c] |= (is_digit(b) ? digit : 0) | (is_alpha(b) ? alpha : 0) |
                         (is_word(b) ? word : 0) | (is_ident(b) ? ident : 0);
    }
}

/* Runs every position matcher over the text in one pass. At each position only the matchers
 * whose findings can start there are asked, and the setting there is parsed at most once for
 * all of them. Each matcher resumes after the end of its own last finding, exactly as if it
 * walked the text alone. */
static int run_matchers(const char *t, size_t len, struct match_list *out)
{
    struct anchors a;
    size_t resume[DETECTOR_COUNT] = {0}; /* a matcher is not asked before this offset */
    anchors_init(&a);
    for (size_t pos = 0; pos < len; pos++) {
        unsigned char c = (unsigned char)t[pos];
        uint32_t anchored = a.by_byte[c];
        uint32_t candidates = anchored | (is_ident(c) ? a.settings : 0);
        if (candidates != 0 && is_alnum(before(t, pos)))
            candidates &= a.mid_word;
        struct setting setting;
        bool has_setting = false;
        if ((candidates & a.settings) != 0) {
            has_setting = setting_parse(t, len, pos, &setting);
            if (!has_setting)
                candidates &= anchored; /* the others only look for a setting here */
        }
        for (; candidates != 0; candidates &= candidates - 1) {
            size_t d = (size_t)__builtin_ctz(candidates);
            if (pos < resume[d])
                continue;
            const struct detector *det = &detectors[d];
            struct span s;
            bool found;
            if (det->match != NULL)
                found = det->match(t, len, pos, &s);
            else
                found = det->match_setting(t, len, pos, has_setting ? &setting : NULL, &s);
            if (!found || s.start < pos || s.end <= s.start || s.end > len)
                continue;
            if (match_list_push(out, s.start, s.end, d) != 0)
                return -1;
            resume[d] = s.end;
        }
    }
    return 0;
}

static int compare_matches(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->detector != y->detector)
        return x->detector < y->detector ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Removes the elements appended to `flags` after its first `size` ones. */
static void flags_truncate(json_t *flags, size_t size)
{
    while (json_array_size(flags) > size)
        json_array_remove(flags, json_array_size(flags) - 1);
}

int flags_scan(const char *field, const char *text, size_t length, json_t *flags)
{
    if (field == NULL || !json_is_array(flags) || (text == NULL && length > 0))
        return -1;
    struct match_list found = {NULL, 0, 0};
    int rc = run_matchers(text, length, &found);
    for (size_t d = 0; d < DETECTOR_COUNT && rc == 0; d++)
        if (detectors[d].scan != NULL)
            rc = detectors[d].scan(text, length, &found, d);
    if (rc == 0 && found.count > 1)
        qsort(found.items, found.count, sizeof found.items[0], compare_matches);
    size_t original_size = json_array_size(flags);
    for (size_t k = 0; k < found.count && rc == 0; k++) {
        const struct match *m = &found.items[k];
        const struct detector *d = &detectors[m->detector];
        json_t *flag = json_pack("{s:s, s:s, s:s, s:I, s:I}", "code", d->code, "severity",
                                 severity_name(d->severity), "field", field, "start",
                                 (json_int_t)m->start, "end", (json_int_t)m->end);
        if (flag == NULL || json_array_append_new(flags, flag) != 0)
            rc = -1;
    }
    if (rc != 0)
        flags_truncate(flags, original_size);
    free(found.items);
    return rc;
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
