/*
 * Schema migrations: migrations/NNNN_name.sql, compiled into the binary.
 * Each is applied in its own transaction and recorded in schema_migrations
 * with the SHA-256 of its text; an applied migration whose text changed, or
 * one the binary does not know, is an error. A session advisory lock makes
 * concurrent `migrate` runs (several instances starting at once) safe.
 */
#ifndef AGENTGATE_MIGRATE_H
#define AGENTGATE_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

struct migration {
    unsigned version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations_embedded[];
extern const unsigned migrations_embedded_count;

/* Applies pending migrations. Returns 0 and the number applied in *applied, or -1 with one
 * line in `error`. */
int migrate_apply(PGconn *conn, unsigned *applied, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Checks the recorded migrations against the embedded ones without changing anything.
 * Returns 0 with the number still to apply in *pending, or -1 with a message (edited or
 * unknown migration, unreachable database). */
int migrate_check(PGconn *conn, unsigned *pending, char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
