/*
 * Loads forum adapters (include/agentgate/plugin.h) by name. Search order:
 * `plugin_dir` from the config, then `plugin/` beside the running binary (the
 * build tree), then the install directory. Names are restricted to
 * [a-z0-9_-] by the config, so a name can never walk out of those folders.
 * Loaded adapters stay loaded until plugin_unload_all().
 */
#ifndef AGENTGATE_PLUGIN_LOADER_H
#define AGENTGATE_PLUGIN_LOADER_H

#include <agentgate/plugin.h>
#include <stddef.h>

#include "config.h"

/* The callbacks agentgate offers adapters. */
extern const struct agentgate_host plugin_host;

/* Loads the adapter of every forum into forum->plugin. Returns 0, or -1 with a message. */
int plugin_load_all(struct config *config, char *error, size_t error_size)
    __attribute__((warn_unused_result));
void plugin_unload_all(void);

#endif
