/* What the flag tools (flagscan, flagcost) share: the rule set they run with and CPU timing. */
#ifndef AGENTGATE_TESTS_FLAGS_TOOL_H
#define AGENTGATE_TESTS_FLAGS_TOOL_H

#include "flags.h"

#include <stdio.h>
#include <time.h>

/* The built-in rules, or with `--rules FILE` the built-in rules plus that forum file, as
 * flag_rules gives serve. Registers the precompiled database and returns the rule set (*loaded:
 * what to free with flags_ruleset_free, NULL for the built-in set), or NULL after printing why as
 * `program`. */
static inline const struct flags_ruleset *ruleset_arg(const char *program, const char *path,
                                                      struct flags_ruleset **loaded)
{
    char error[16384];
    const struct flags_ruleset *rs;

    *loaded = NULL;
    flags_precompiled_register(flags_precompiled_bytes, flags_precompiled_length);
    if (path)
        rs = flags_ruleset_load(path, loaded, error, sizeof error) == 0 ? *loaded : NULL;
    else
        rs = flags_builtin(error, sizeof error);
    if (!rs)
        fprintf(stderr, "%s: %s\n", program, error);
    return rs;
}

/* The families, in the order the tools print them. */
static const char *const tool_families[] = {"secret", "access", "destructive", "pii", "mention"};
enum { TOOL_FAMILIES = sizeof tool_families / sizeof *tool_families };

/* CPU time of this thread: on a shared machine, wall time would count other processes. */
static inline double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
