/* The rule set a flag tool (flagscan, flagcost) runs with: the built-in rules, or with
 * `--rules FILE` the built-in rules plus that forum file, as flag_rules gives serve. */
#ifndef AGENTGATE_TESTS_FLAGS_RULESET_ARG_H
#define AGENTGATE_TESTS_FLAGS_RULESET_ARG_H

#include "flags.h"

#include <stdio.h>

/* Registers the precompiled database and returns the rule set (*loaded: what to free with
 * flags_ruleset_free, NULL for the built-in set), or NULL after printing why as `program`. */
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

#endif
