/*
 * Schema migrations and SQL functions, both compiled into the binary.
 *
 * Migrations (migrations/NNNN_name.sql) change the schema. Each is applied in
 * its own transaction and recorded in schema_migrations with the SHA-256 of
 * its text; an applied migration whose text changed, or one the binary does
 * not know, is an error.
 *
 * SQL functions (sql/, one file per function, in the order of
 * sql/functions.list) are re-applied as a set, in one transaction, after the
 * migrations whenever their combined SHA-256 differs from the one recorded in
 * schema_functions; a set recorded by a newer agentgate is never replaced by
 * an older one's.
 *
 * A session advisory lock makes concurrent `migrate` runs (several instances
 * starting at once) safe.
 */
#ifndef AGENTGATE_MIGRATE_H
#define AGENTGATE_MIGRATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct migration {
    unsigned version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations_embedded[];
extern const unsigned migrations_embedded_count;

struct sql_function_file {
    const char *name; /* "intake_hold.sql" */
    const char *sql;
};

extern const struct sql_function_file sql_functions_embedded[];
extern const unsigned sql_functions_embedded_count;

/* Applies pending migrations, then the SQL functions when they changed. Returns 0 with the
 * number of migrations applied in *applied and whether the functions were re-applied, or -1
 * with one line in `error`. */
int migrate_apply(PGconn *conn, unsigned *applied, bool *functions_applied, char *error,
                  size_t error_size) __attribute__((warn_unused_result));

/* Checks the recorded migrations and functions against the embedded ones without changing
 * anything. Returns 0 with the number of steps still to apply in *pending (migrations, plus one
 * when the functions differ), or -1 with a message (edited or unknown migration, unreachable
 * database). */
int migrate_check(PGconn *conn, unsigned *pending, char *error, size_t error_size)
    __attribute__((warn_unused_result));

#endif
