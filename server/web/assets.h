/* The files compiled into agentgate: page templates (server/templates) and static assets
 * (server/static), generated at build time by cmake/embed_files.cmake. */
#ifndef AGENTGATE_ASSETS_H
#define AGENTGATE_ASSETS_H

#include "embedded.h"

extern const struct embedded_file templates_embedded[];
extern const struct embedded_file static_embedded[];

#endif
