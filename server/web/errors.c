/* Lookup tables generated from the AGENTGATE_ERRORS list. */
#include "web/errors.h"

#include <string.h>

struct error_entry {
    unsigned status;
    const char *code;
    const char *message;
};

static const struct error_entry error_table[ERR_COUNT] = {[ERR_NONE] = {200, "ok", "ok"},
#define AGENTGATE_ERROR_ENTRY(id, status, code, message) [id] = {status, code, message},
                                                          AGENTGATE_ERRORS(AGENTGATE_ERROR_ENTRY)
#undef AGENTGATE_ERROR_ENTRY
};

static const struct error_entry *error_lookup(enum agentgate_error error)
{
    if ((unsigned)error >= ERR_COUNT)
        return &error_table[ERR_INTERNAL];
    return &error_table[error];
}

unsigned error_http_status(enum agentgate_error error)
{
    return error_lookup(error)->status;
}

const char *error_code(enum agentgate_error error)
{
    return error_lookup(error)->code;
}

const char *error_message(enum agentgate_error error)
{
    return error_lookup(error)->message;
}

enum agentgate_error error_from_db_status(enum db_status status)
{
    return status == DB_UNAVAILABLE ? ERR_DATABASE_UNAVAILABLE : ERR_INTERNAL;
}

enum agentgate_error error_from_code(const char *code)
{
    for (unsigned error = ERR_NONE + 1; error < ERR_COUNT; error++)
        if (code && strcmp(error_table[error].code, code) == 0)
            return (enum agentgate_error)error;
    return ERR_INTERNAL;
}
