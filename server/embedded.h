/* Files compiled into the binary: page templates (server/templates) and static assets
 * (server/static), each table ending with a {NULL, NULL, 0} entry. */
#ifndef AGENTGATE_EMBEDDED_H
#define AGENTGATE_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;           /* path relative to its folder, e.g. "draft.html" */
    const unsigned char *bytes; /* NUL-terminated */
    size_t length;
};

extern const struct embedded_file templates_embedded[];
extern const struct embedded_file static_embedded[];

/* The file of that name in `table`, or NULL. */
const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name);

#endif
