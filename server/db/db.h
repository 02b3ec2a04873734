/*
 * PostgreSQL access. Each HTTP pool thread owns one PGconn (libpq allows one
 * thread per connection at a time), created on first use and reconnected
 * after failures, with at most one connection attempt per second so a down
 * database costs a request nothing but a fast 503. Statements are declared
 * with DB_STATEMENT, prepared lazily once per connection and again after a
 * reconnect. Every statement is parameterised; nothing is ever spliced into
 * SQL text.
 */
#ifndef AGENTGATE_DB_H
#define AGENTGATE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct db_statement {
    const char *name;
    const char *sql;
    int param_count;
    /* May be sent again after the connection broke mid-call: re-running it cannot
     * apply a change twice (e.g. guarded by a unique key). */
    bool idempotent;
};

#define DB_STATEMENT(variable, text, params, is_idempotent)                                        \
    static const struct db_statement variable = {#variable, text, params, is_idempotent}

enum db_status {
    DB_OK,          /* the statement ran; the result is the caller's */
    DB_UNAVAILABLE, /* no connection, or it broke: answer 503 */
    DB_FAILED,      /* the statement failed (constraint, bug): answer 500 */
};

struct db_connection;

/* Remembers the conninfo (libpq URI or key=value) for every later connection. */
void db_configure(const char *conninfo);

/* The calling thread's connection, connected if needed; NULL when the database is
 * unreachable. Owned by the thread; released when the thread exits. */
struct db_connection *db_thread_connection(void) __attribute__((warn_unused_result));

/* Runs a declared statement with text parameters (NULL for SQL NULL). On DB_OK returns a
 * PGresult the caller must PQclear(); otherwise NULL. A statement on its own is a whole
 * transaction: serialization failures, deadlocks and (for idempotent statements) broken
 * connections are retried up to 3 times. Inside an explicit transaction (db_command BEGIN)
 * nothing is retried: the caller runs the transaction again as a whole, or gives up. */
PGresult *db_execute(struct db_connection *db, const struct db_statement *statement,
                     const char *const *params, enum db_status *status)
    __attribute__((warn_unused_result));

/* Opens a standalone connection (for CLI commands). Returns NULL with a message in `error`. */
PGconn *db_connect(const char *conninfo, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Runs a declared statement whose answer is one text value (row 0, column 0), e.g. a JSON
 * document built in SQL. On DB_OK *text is a malloc'd copy the caller frees, or NULL when there
 * was no row or the value was NULL; otherwise *text is NULL. */
enum db_status db_query_text(struct db_connection *db, const struct db_statement *statement,
                             const char *const *params, char **text)
    __attribute__((warn_unused_result));

/* Runs a transaction-control or session command (BEGIN, COMMIT, ROLLBACK, LISTEN) as is. */
enum db_status db_command(struct db_connection *db, const char *sql)
    __attribute__((warn_unused_result));

/* The libpq connection underneath (for LISTEN/NOTIFY), and a number that changes whenever it
 * was replaced by a reconnect (so LISTEN can be issued again). */
PGconn *db_connection_pgconn(struct db_connection *db);
unsigned long db_connection_generation(const struct db_connection *db);

/* Failed statements and broken connections since start, for /metrics. */
unsigned long long db_errors_total(void);

/* Closes the calling thread's connection now. */
void db_thread_release(void);

/* Writes PQerrorMessage's first line into `out`, never more. */
void db_error_line(const char *message, char *out, size_t out_size);

#endif
