/* Applying and checking schema migrations; see migrate.h. */
#include "db/migrate.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

/* "AGMI": the session advisory lock held while migrating. */
#define MIGRATE_LOCK_KEY 1095191881

/* The SHA-256 of every function file's name and text, in list order. */
static void sql_functions_checksum(char out[65])
{
    crypto_hash_sha256_state state;
    unsigned char hash[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_init(&state);
    for (unsigned i = 0; i < sql_functions_embedded_count; i++) {
        const struct sql_function_file *file = &sql_functions_embedded[i];
        crypto_hash_sha256_update(&state, (const unsigned char *)file->name,
                                  strlen(file->name) + 1);
        crypto_hash_sha256_update(&state, (const unsigned char *)file->sql, strlen(file->sql) + 1);
    }
    crypto_hash_sha256_final(&state, hash);
    sodium_bin2hex(out, 65, hash, sizeof hash);
}

/* Compares two dotted versions ("0.10.2" > "0.9.9"): <0, 0 or >0. */
static int version_compare(const char *a, const char *b)
{
    while (*a || *b) {
        unsigned long x = strtoul(a, (char **)&a, 10), y = strtoul(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if ((*a && (*a < '0' || *a > '9')) || (*b && (*b < '0' || *b > '9')))
            return strcmp(a, b);
    }
    return 0;
}

/* The rows of a query that takes no parameters, or NULL with its error in `error`. */
static PGresult *rows_query(PGconn *conn, const char *sql, char *error, size_t error_size)
{
    PGresult *result = PQexec(conn, sql);

    if (PQresultStatus(result) == PGRES_TUPLES_OK)
        return result;
    db_error_line(PQerrorMessage(conn), error, error_size);
    PQclear(result);
    return NULL;
}

/* Sets *exists to whether the bookkeeping table `table` is there yet. Returns 0, or -1 with an
 * error. */
static int table_exists(PGconn *conn, const char *table, bool *exists, char *error,
                        size_t error_size)
{
    const char *params[1] = {table};
    PGresult *result =
        PQexecParams(conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        db_error_line(PQerrorMessage(conn), error, error_size);
        PQclear(result);
        return -1;
    }
    *exists = strcmp(PQgetvalue(result, 0, 0), "t") == 0;
    PQclear(result);
    return 0;
}

/* Whether the embedded functions must be applied: *stale true when schema_functions records
 * another set and no newer agentgate recorded it. Before migration 0010 there is no table and
 * the functions are stale by definition. Returns 0, or -1 with an error. */
static int sql_functions_compare(PGconn *conn, bool *stale, char *error, size_t error_size)
{
    char expected[65];
    PGresult *result;
    bool exists;

    *stale = true;
    if (table_exists(conn, "schema_functions", &exists, error, error_size) != 0)
        return -1;
    if (!exists)
        return 0;
    result = rows_query(conn, "SELECT checksum, agentgate_version FROM schema_functions", error,
                        error_size);
    if (!result)
        return -1;
    sql_functions_checksum(expected);
    if (PQntuples(result) == 1)
        *stale = strcmp(PQgetvalue(result, 0, 0), expected) != 0 &&
                 version_compare(PQgetvalue(result, 0, 1), AGENTGATE_VERSION) <= 0;
    PQclear(result);
    return 0;
}

static void migration_checksum(const struct migration *migration, char out[65])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)migration->sql, strlen(migration->sql));
    sodium_bin2hex(out, 65, hash, sizeof hash);
}

static bool command_ok(PGconn *conn, const char *sql, char *error, size_t error_size)
{
    PGresult *result = PQexec(conn, sql);
    bool ok =
        PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
    if (!ok)
        db_error_line(PQerrorMessage(conn), error, error_size);
    PQclear(result);
    return ok;
}

/* Compares what the database recorded with the embedded list. *applied_mask gets one flag per
 * embedded migration. Returns 0, or -1 with an error. */
static int migrations_compare(PGconn *conn, bool *applied_mask, char *error, size_t error_size)
{
    PGresult *result;
    bool exists;

    if (table_exists(conn, "schema_migrations", &exists, error, error_size) != 0)
        return -1;
    if (!exists)
        return 0;
    result =
        rows_query(conn, "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
                   error, error_size);
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        unsigned version = (unsigned)strtoul(PQgetvalue(result, row, 0), NULL, 10);
        const char *name = PQgetvalue(result, row, 1);
        const char *checksum = PQgetvalue(result, row, 2);
        bool known = false;
        for (unsigned i = 0; i < migrations_embedded_count; i++) {
            char expected[65];
            if (migrations_embedded[i].version != version)
                continue;
            known = true;
            migration_checksum(&migrations_embedded[i], expected);
            if (strcmp(expected, checksum) != 0) {
                snprintf(error, error_size,
                         "migration %04u_%s was edited after it was applied (checksum differs); "
                         "add a new migration instead",
                         version, migrations_embedded[i].name);
                PQclear(result);
                return -1;
            }
            applied_mask[i] = true;
        }
        if (!known) {
            snprintf(error, error_size,
                     "database has migration %04u_%s, which this agentgate does not know: "
                     "it is older than the schema",
                     version, name);
            PQclear(result);
            return -1;
        }
    }
    PQclear(result);
    return 0;
}

int migrate_check(PGconn *conn, unsigned *pending, char *error, size_t error_size)
{
    bool *applied = calloc(migrations_embedded_count + 1, sizeof *applied);
    int status;

    if (!applied) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    status = migrations_compare(conn, applied, error, error_size);
    *pending = 0;
    for (unsigned i = 0; i < migrations_embedded_count; i++)
        if (!applied[i])
            (*pending)++;
    free(applied);
    if (status == 0) {
        bool stale;
        status = sql_functions_compare(conn, &stale, error, error_size);
        if (status == 0 && stale)
            (*pending)++;
    }
    return status;
}

/* Runs a statement with text parameters that returns no rows; false with its error. */
static bool params_command_ok(PGconn *conn, const char *sql, int count, const char *const *params,
                              char *error, size_t error_size)
{
    PGresult *result = PQexecParams(conn, sql, count, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;

    if (!ok)
        db_error_line(PQerrorMessage(conn), error, error_size);
    PQclear(result);
    return ok;
}

/* Ends the transaction: COMMIT when `ok`, else (or when the COMMIT fails) ROLLBACK. Returns 0
 * when committed, or -1 (the error was written by whatever failed). */
static int transaction_finish(PGconn *conn, bool ok, char *error, size_t error_size)
{
    char message[200];

    if (ok && command_ok(conn, "COMMIT", error, error_size))
        return 0;
    if (!command_ok(conn, "ROLLBACK", message, sizeof message)) {
        /* the connection is gone; the server rolls back on its own */
    }
    return -1;
}

static int migration_run(PGconn *conn, const struct migration *migration, char *error,
                         size_t error_size)
{
    char checksum[65], version[16], message[200];
    const char *params[3] = {version, migration->name, checksum};
    bool ok;

    if (!command_ok(conn, "BEGIN", error, error_size))
        return -1;
    ok = command_ok(conn, migration->sql, message, sizeof message);
    if (!ok)
        snprintf(error, error_size, "migration %04u_%s failed: %s", migration->version,
                 migration->name, message);
    migration_checksum(migration, checksum);
    snprintf(version, sizeof version, "%u", migration->version);
    ok = ok && params_command_ok(conn,
                                 "INSERT INTO schema_migrations (version, name, checksum) "
                                 "VALUES ($1, $2, $3)",
                                 3, params, error, error_size);
    return transaction_finish(conn, ok, error, error_size);
}

/* Applies every function file and records the set, in one transaction. */
static int sql_functions_run(PGconn *conn, char *error, size_t error_size)
{
    char checksum[65], message[200];
    const char *params[2] = {checksum, AGENTGATE_VERSION};
    bool ok = true;

    if (!command_ok(conn, "BEGIN", error, error_size))
        return -1;
    for (unsigned i = 0; ok && i < sql_functions_embedded_count; i++) {
        ok = command_ok(conn, sql_functions_embedded[i].sql, message, sizeof message);
        if (!ok)
            snprintf(error, error_size, "sql/%s failed: %s", sql_functions_embedded[i].name,
                     message);
    }
    sql_functions_checksum(checksum);
    ok = ok && params_command_ok(conn,
                                 "INSERT INTO schema_functions (checksum, agentgate_version) "
                                 "VALUES ($1, $2) ON CONFLICT (singleton) DO UPDATE SET "
                                 "checksum = EXCLUDED.checksum, "
                                 "agentgate_version = EXCLUDED.agentgate_version, "
                                 "applied_at = now()",
                                 2, params, error, error_size);
    return transaction_finish(conn, ok, error, error_size);
}

int migrate_apply(PGconn *conn, unsigned *applied_count, bool *functions_applied, char *error,
                  size_t error_size)
{
    char lock_sql[96], unlock_message[200];
    bool *applied = NULL;
    int status = -1;

    *applied_count = 0;
    *functions_applied = false;
    /* Nothing to do is the common case, and needs no privilege beyond reading: the serving
     * role may run this without CREATE rights. */
    {
        unsigned pending;
        if (migrate_check(conn, &pending, error, error_size) != 0)
            return -1;
        if (pending == 0)
            return 0;
    }
    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_lock(%d)", MIGRATE_LOCK_KEY);
    if (!command_ok(conn, lock_sql, error, error_size))
        return -1;
    if (!command_ok(conn,
                    "SET client_min_messages = warning;"
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())",
                    error, error_size))
        goto unlock;
    applied = calloc(migrations_embedded_count + 1, sizeof *applied);
    if (!applied) {
        snprintf(error, error_size, "out of memory");
        goto unlock;
    }
    if (migrations_compare(conn, applied, error, error_size) != 0)
        goto unlock;
    for (unsigned i = 0; i < migrations_embedded_count; i++) {
        if (applied[i])
            continue;
        if (migration_run(conn, &migrations_embedded[i], error, error_size) != 0)
            goto unlock;
        (*applied_count)++;
    }
    {
        bool stale;
        if (sql_functions_compare(conn, &stale, error, error_size) != 0)
            goto unlock;
        if (stale) {
            if (sql_functions_run(conn, error, error_size) != 0)
                goto unlock;
            *functions_applied = true;
        }
    }
    status = 0;
unlock:
    free(applied);
    snprintf(lock_sql, sizeof lock_sql, "SELECT pg_advisory_unlock(%d)", MIGRATE_LOCK_KEY);
    if (!command_ok(conn, lock_sql, unlock_message, sizeof unlock_message)) {
        /* the lock ends with the session anyway */
    }
    return status;
}
