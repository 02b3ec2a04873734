/* Tables of files compiled into a binary (cmake/embed_files.cmake writes them), each ending
 * with a {NULL, NULL, 0} entry. */
#ifndef AGENTGATE_EMBEDDED_H
#define AGENTGATE_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;           /* path relative to its folder, e.g. "draft.html" */
    const unsigned char *bytes; /* NUL-terminated */
    size_t length;
};

/* The file of that name in `table`, or NULL. */
const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name);

#endif
