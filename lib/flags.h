/* flags.h — the risk scanner that marks what a reviewer must look at in a draft (CONTRACT §8).
 *
 * agentgate scans every text field of a held post (title, body, …) for secrets, advice that
 * broadens access, destructive commands, personal data and mass mentions. Each finding is a
 * "flag": a code whose first part names its family (secret., access., destructive., pii.,
 * mention.), a severity, a one-line message and the byte span of the match inside the field.
 * The draft page shows flags highlighted and, for secrets, masked with flags_mask().
 *
 * What is flagged is data, not code: a rule catalogue (the files rules/NAME.rules, compiled into
 * the binary) read into a rule set, to which a forum's `flag_rules = PATH` file adds its own rules
 * and allow-list entries in the same format (README.md, "Flag rules"). The matching engine is
 * Hyperscan (one pass over the text for all patterns) with PCRE2 to confirm each candidate and
 * capture its parts; where Hyperscan is not built in or the CPU lacks SSSE3, PCRE2 alone.
 *
 * Invariants: a rule set is immutable once built and may be shared by any number of threads;
 * a scan never reads outside [text, text + length), accepts any bytes (not only UTF-8), and is
 * deterministic: the same input always gives the same flags in the same order.
 */
#ifndef AGENTGATE_FLAGS_H
#define AGENTGATE_FLAGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct flags_ruleset;

/* The built-in rule set, compiled on first use (thread-safe). Returns NULL when it cannot be
 * compiled (a defect of the shipped rules, or memory), writing why into error (may be NULL).
 * Call it at start-up so a broken build fails there. Never free the result. */
const struct flags_ruleset *flags_builtin(char *error, size_t error_size);

/* Loads a forum's rule file: the built-in rules plus the rules and allow-list entries of the
 * file at `path` (the file's rules take precedence where flags of one family overlap). Every
 * pattern is compiled and every example of the file's rules is checked; any problem is an error
 * naming the file and line ("rules.conf:12: …") written into `error`. Returns 0 and sets *out (free
 * with flags_ruleset_free), or -1 leaving *out NULL. */
int flags_ruleset_load(const char *path, struct flags_ruleset **out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Like flags_ruleset_load with the file's text given (`name` stands for the file in errors).
 * with_builtin false gives a rule set of that text alone (tests, benchmarks). */
int flags_ruleset_parse(const char *name, const char *text, size_t length, int with_builtin,
                        struct flags_ruleset **out, char *error, size_t error_size)
    __attribute__((warn_unused_result));

void flags_ruleset_free(struct flags_ruleset *ruleset);

/* Number of rules in the set, and per family ("secret", …; NULL for all). */
size_t flags_ruleset_rule_count(const struct flags_ruleset *ruleset, const char *family);

/* Scans every rule's examples (match, no_match, match_critical, match_warning, match_info)
 * against the whole set. Returns the number of failing examples, describing them in `error`
 * one a line, as many as fit ("rules/secret.rules:12: [secret.x] match example 2 gives no
 * flag: …"); -1 on memory failure. */
int flags_ruleset_check_examples(const struct flags_ruleset *ruleset, char *error,
                                 size_t error_size);

/* A Hyperscan database compiled at build time (flags_ruleset_serialize's bytes, written into
 * the program by tools/flags_precompile): rule sets whose built-in part has exactly those
 * patterns load it, with each pattern's match width, instead of compiling and analysing them
 * (about a CPU second for the built-in rules). Call before flags_builtin(); `bytes` must stay
 * valid. Ignored without Hyperscan. */
void flags_precompiled_register(const unsigned char *bytes, size_t length);

/* The built-in rules' database, defined in the build's flags_precompiled.c (written by
 * tools/flags_precompile), which the programs that register it link in. */
extern const unsigned char flags_precompiled_bytes[];
extern const size_t flags_precompiled_length;

/* The rule set's Hyperscan database with its fingerprint and widths, for
 * flags_precompiled_register(): 0 and a malloc'd buffer, or -1 when it has none (PCRE2 alone). */
int flags_ruleset_serialize(const struct flags_ruleset *ruleset, unsigned char **bytes,
                            size_t *length) __attribute__((warn_unused_result));

/* Calls `each` for every pattern of the rule set, in database order, with its rule's code and
 * family, the expression Hyperscan runs for it and that expression's Hyperscan flags: what
 * tests/bench/flags.sh --by-rule compiles one rule at a time to see what each costs. Returns 0;
 * 1 when the rule set scans with PCRE2 alone; -1 when an expression cannot be rebuilt. */
typedef void flags_expression_fn(void *context, const char *code, const char *family,
                                 const char *expression, unsigned hyperscan_flags);
int flags_ruleset_each_expression(const struct flags_ruleset *ruleset, flags_expression_fn *each,
                                  void *context);

/* "hyperscan" or "pcre2": the engine the rule set scans with. */
const char *flags_ruleset_engine(const struct flags_ruleset *ruleset);

/* Scans one text field for risks (CONTRACT §8) with `ruleset` (NULL: the built-in rules, as
 * for a forum without flag_rules) and appends every flag found to
 * the JSON array `flags` as {"code", "severity": "info"|"warning"|"critical", "field", "start",
 * "end", "message"} where start/end are byte offsets into `text` (end exclusive). `text` is
 * `length` bytes (not necessarily NUL-terminated, any bytes). Flags appear in order of start
 * offset within one call. Returns 0, or -1 when memory runs out, when the built-in rules cannot
 * be compiled, or on invalid arguments (NULL field, `flags` not an array, NULL text with a
 * non-zero length); on -1 `flags` is left as it was. Thread-safe. */
int flags_scan_with(const struct flags_ruleset *ruleset, const char *field, const char *text,
                    size_t length, json_t *flags) __attribute__((warn_unused_result));

/* flags_scan_with() with the built-in rule set. */
int flags_scan(const char *field, const char *text, size_t length, json_t *flags)
    __attribute__((warn_unused_result));

/* Whether a flag of this code marks a secret value at its span, which pages mask and Redact
 * removes: a secret rule's flag. The wording check's secret flag (secret.reads_like) marks the
 * line whose words read like a credential: the approver must read that line, and it is prose,
 * not a value to cut out. */
bool flags_code_marks_secret(const char *code);

/* Writes into out (size out_size, NUL-terminated) the text of a span with secrets masked:
 * keeps the first 4 characters and replaces the rest by '*' (for display).
 * Characters are UTF-8 characters, one '*' per masked character. When out is too small the
 * result is cut at a character boundary; out_size 0 (or out NULL) writes nothing. */
void flags_mask(const char *text, size_t length, char *out, size_t out_size);

#endif /* AGENTGATE_FLAGS_H */
