/* Fuzz target: the configuration parser (server/config.c config_load) on a file holding the
 * input. The file sits in a private temporary folder beside two secret files ("secret": a
 * valid whsec_ key, "nul": one with a NUL byte) and $AGENTGATE_FUZZ_SECRET is set, so env: and
 * file: values are exercised too. Inputs whose file: values could leave that folder (absolute
 * paths, "..") are skipped: the fuzzer must not read /dev or /proc. Checks: a loaded config has
 * a database and at least one forum with an inbound key; a refusal is one line. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char directory[] = "/tmp/agentgate-fuzz-config.XXXXXX";
static char config_path[sizeof directory + 32];

static void write_file(const char *name, const char *content, size_t length)
{
    char path[sizeof directory + 32];
    FILE *file;

    snprintf(path, sizeof path, "%s/%s", directory, name);
    file = fopen(path, "wb");
    if (!file || fwrite(content, 1, length, file) != length || fclose(file) != 0)
        abort();
}

static void remove_directory(void)
{
    const char *names[] = {"agentgate.conf", "secret", "nul"};
    char path[sizeof directory + 32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", directory, names[i]);
        unlink(path);
    }
    rmdir(directory);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
    (void)argc;
    (void)argv;
    if (!mkdtemp(directory))
        abort();
    atexit(remove_directory);
    write_file("secret", secret, sizeof secret - 1);
    write_file("nul", "whsec_\0abc", 10);
    snprintf(config_path, sizeof config_path, "%s/agentgate.conf", directory);
    setenv("AGENTGATE_FUZZ_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    return 0;
}

/* True when some "file:" in the input could name a path outside the private folder. */
static bool leaves_folder(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 5 <= size; i++) {
        if (memcmp(data + i, "file:", 5) != 0)
            continue;
        size_t end = i + 5;
        if (end < size && data[end] == '/')
            return true;
        while (end < size && data[end] != '\n' && data[end] != '\r')
            end++;
        for (size_t j = i + 5; j + 1 < end; j++)
            if (data[j] == '.' && data[j + 1] == '.')
                return true;
        if (end == i + 5)
            continue;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config config;
    char error[512] = "";

    if (leaves_folder(data, size))
        return 0;
    write_file("agentgate.conf", (const char *)data, size);
    if (config_load(config_path, &config, error, sizeof error) == 0) {
        if (!config.database || config.forum_count == 0)
            abort();
        for (size_t i = 0; i < config.forum_count; i++)
            if (!config.forums[i].has_inbound_key || !config.forums[i].name)
                abort();
        config_free(&config);
    } else if (!error[0] || strchr(error, '\n')) {
        abort(); /* a refusal must be one line naming the cause */
    }
    return 0;
}
