/* dlopen()-based loading of forum adapters; see plugin_loader.h. */
#include "release/plugin_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "web/json_spec.h"

#define PLUGINS_MAX 16

const struct agentgate_host plugin_host = {
    .abi_version = AGENTGATE_PLUGIN_ABI_VERSION,
    .json_check = json_spec_check,
};

static struct {
    char name[40];
    void *handle;
    const struct agentgate_plugin *plugin;
} loaded[PLUGINS_MAX];
static size_t loaded_count;

static void *plugin_open(const char *directory, const char *name, char *tried, size_t tried_size)
{
    char path[PATH_MAX];
    size_t used = strlen(tried);

    snprintf(path, sizeof path, "%s/%s.so", directory, name);
    snprintf(tried + used, tried_size - used, "%s%s", used ? ", " : "", path);
    if (access(path, R_OK) != 0)
        return NULL;
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static const struct agentgate_plugin *plugin_load(const struct config *config, const char *name,
                                                  char *error, size_t error_size)
{
    char tried[1024] = "", executable[PATH_MAX], directory[PATH_MAX];
    void *handle = NULL;
    agentgate_plugin_entry_fn entry;
    const struct agentgate_plugin *plugin;
    ssize_t length;

    for (size_t i = 0; i < loaded_count; i++)
        if (strcmp(loaded[i].name, name) == 0)
            return loaded[i].plugin;
    if (loaded_count == PLUGINS_MAX) {
        snprintf(error, error_size, "too many adapters");
        return NULL;
    }
    if (config->plugin_dir)
        handle = plugin_open(config->plugin_dir, name, tried, sizeof tried);
    length = readlink("/proc/self/exe", executable, sizeof executable - 1);
    if (!handle && length > 0) {
        char *slash;
        executable[length] = '\0';
        slash = strrchr(executable, '/');
        if (slash)
            *slash = '\0';
        snprintf(directory, sizeof directory, "%s/plugin", executable);
        handle = plugin_open(directory, name, tried, sizeof tried);
        /* An installed tree moved as a whole (DESTDIR staging, a relocated prefix): the adapters
         * sit where `cmake --install` put them relative to the binary. */
        if (!handle) {
            snprintf(directory, sizeof directory, "%s/%s", executable,
                     AGENTGATE_PLUGIN_RELATIVE_DIR);
            handle = plugin_open(directory, name, tried, sizeof tried);
        }
    }
    if (!handle)
        handle = plugin_open(AGENTGATE_PLUGIN_INSTALL_DIR, name, tried, sizeof tried);
    if (!handle) {
        const char *why = dlerror();
        snprintf(error, error_size, "adapter %s not found or not loadable (looked at %s)%s%s", name,
                 tried, why ? ": " : "", why ? why : "");
        return NULL;
    }
    entry = (agentgate_plugin_entry_fn)dlsym(handle, AGENTGATE_PLUGIN_ENTRY_SYMBOL);
    plugin = entry ? entry() : NULL;
    if (!plugin) {
        snprintf(error, error_size, "adapter %s has no %s", name, AGENTGATE_PLUGIN_ENTRY_SYMBOL);
        dlclose(handle);
        return NULL;
    }
    if (plugin->abi_version != AGENTGATE_PLUGIN_ABI_VERSION) {
        snprintf(error, error_size, "adapter %s was built for ABI %u, agentgate needs %u", name,
                 plugin->abi_version, AGENTGATE_PLUGIN_ABI_VERSION);
        dlclose(handle);
        return NULL;
    }
    if (!plugin->decode_intake) {
        snprintf(error, error_size, "adapter %s lacks decode_intake", name);
        dlclose(handle);
        return NULL;
    }
    snprintf(loaded[loaded_count].name, sizeof loaded[loaded_count].name, "%s", name);
    loaded[loaded_count].handle = handle;
    loaded[loaded_count].plugin = plugin;
    loaded_count++;
    return plugin;
}

int plugin_load_all(struct config *config, char *error, size_t error_size)
{
    for (size_t i = 0; i < config->forum_count; i++) {
        struct forum_config *forum = &config->forums[i];
        char message[1200];
        forum->plugin = plugin_load(config, forum->adapter, message, sizeof message);
        if (!forum->plugin) {
            snprintf(error, error_size, "%s:%d: adapter: %s", config->path, forum->line, message);
            return -1;
        }
    }
    return 0;
}

void plugin_unload_all(void)
{
    for (size_t i = 0; i < loaded_count; i++)
        dlclose(loaded[i].handle);
    loaded_count = 0;
}
