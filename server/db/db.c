/* Per-thread PostgreSQL connections and declared statements; see db.h. */
#include "db/db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

#define DB_PREPARED_MAX          64
#define DB_RECONNECT_INTERVAL_MS 1000
#define DB_RETRIES               3

struct db_connection {
    PGconn *conn;
    const struct db_statement *prepared[DB_PREPARED_MAX];
    size_t prepared_count;
    long long last_attempt_ms;
    unsigned long generation;
    bool in_transaction; /* between db_command BEGIN and COMMIT/ROLLBACK, even if it broke */
};

static atomic_ullong db_error_count;

static char *db_conninfo;

static bool db_failure_is_connection(const struct db_connection *db, const PGresult *result);
static pthread_key_t db_thread_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

void db_error_line(const char *message, char *out, size_t out_size)
{
    size_t length;
    if (!message)
        message = "unknown error";
    length = strcspn(message, "\n");
    if (length >= out_size)
        length = out_size - 1;
    memcpy(out, message, length);
    out[length] = '\0';
}

static void db_connection_free(void *pointer)
{
    struct db_connection *db = pointer;
    if (!db)
        return;
    if (db->conn)
        PQfinish(db->conn);
    free(db);
}

static void db_key_create(void)
{
    if (pthread_key_create(&db_thread_key, db_connection_free) != 0)
        abort();
}

void db_configure(const char *conninfo)
{
    free(db_conninfo);
    db_conninfo = strdup(conninfo);
    pthread_once(&db_key_once, db_key_create);
}

PGconn *db_connect(const char *conninfo, char *error, size_t error_size)
{
    /* expand_dbname lets `conninfo` be a URI or key=value string; the keys after it
     * override what it says about timeouts. */
    const char *const keywords[] = {"dbname", "connect_timeout", "application_name",
                                    "client_encoding", NULL};
    const char *const values[] = {conninfo, "5", "agentgate", "UTF8", NULL};
    PGconn *conn = PQconnectdbParams(keywords, values, 1);
    PGresult *result;

    if (!conn) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        db_error_line(PQerrorMessage(conn), error, error_size);
        PQfinish(conn);
        return NULL;
    }
    /* Bound every statement so a stuck query cannot hold an HTTP thread forever; UTC and
     * ISO dates so formatting never depends on the server's settings. */
    result = PQexec(conn, "SET statement_timeout = '15s'; SET TIME ZONE 'UTC';"
                          "SET datestyle = 'ISO, YMD'; SET intervalstyle = 'iso_8601'");
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
        db_error_line(PQerrorMessage(conn), error, error_size);
        PQclear(result);
        PQfinish(conn);
        return NULL;
    }
    PQclear(result);
    return conn;
}

struct db_connection *db_thread_connection(void)
{
    struct db_connection *db;
    char error[256];

    pthread_once(&db_key_once, db_key_create);
    db = pthread_getspecific(db_thread_key);
    if (!db) {
        db = calloc(1, sizeof *db);
        if (!db)
            return NULL;
        if (pthread_setspecific(db_thread_key, db) != 0) {
            free(db);
            return NULL;
        }
    }
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return db;
    if (clock_monotonic_ms() - db->last_attempt_ms < DB_RECONNECT_INTERVAL_MS &&
        db->last_attempt_ms)
        return NULL;
    db->last_attempt_ms = clock_monotonic_ms();
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    db->prepared_count = 0;
    if (!db_conninfo)
        return NULL;
    db->conn = db_connect(db_conninfo, error, sizeof error);
    if (!db->conn) {
        log_warn(NULL, "database unreachable: %s", error);
        return NULL;
    }
    db->last_attempt_ms = 0;
    db->generation++;
    return db;
}

PGconn *db_connection_pgconn(struct db_connection *db)
{
    return db->conn;
}

unsigned long db_connection_generation(const struct db_connection *db)
{
    return db->generation;
}

enum db_status db_query_text(struct db_connection *db, const struct db_statement *statement,
                             const char *const *params, char **text)
{
    enum db_status status;
    PGresult *rows = db_execute(db, statement, params, &status);

    *text = NULL;
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) == 1 && !PQgetisnull(rows, 0, 0)) {
        *text = strdup(PQgetvalue(rows, 0, 0));
        if (!*text)
            status = DB_FAILED;
    }
    PQclear(rows);
    return status;
}

enum db_status db_command(struct db_connection *db, const char *sql)
{
    PGresult *result;
    char error[256];
    bool ok;

    if (db && (strncmp(sql, "COMMIT", 6) == 0 || strncmp(sql, "ROLLBACK", 8) == 0))
        db->in_transaction = false; /* whatever the outcome, the transaction is over */
    if (!db || !db->conn)
        return DB_UNAVAILABLE;
    if (strncmp(sql, "BEGIN", 5) == 0)
        db->in_transaction = true;
    result = PQexec(db->conn, sql);
    ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    if (!ok) {
        bool gone = db_failure_is_connection(db, result);
        atomic_fetch_add(&db_error_count, 1);
        db_error_line(PQerrorMessage(db->conn), error, sizeof error);
        PQclear(result);
        if (gone) {
            PQfinish(db->conn);
            db->conn = NULL;
            db->prepared_count = 0;
            db->last_attempt_ms = 0;
            return DB_UNAVAILABLE;
        }
        log_error(NULL, "%s failed: %s", sql, error);
        return DB_FAILED;
    }
    PQclear(result);
    return DB_OK;
}

void db_thread_release(void)
{
    struct db_connection *db;
    pthread_once(&db_key_once, db_key_create);
    db = pthread_getspecific(db_thread_key);
    if (db) {
        db_connection_free(db);
        pthread_setspecific(db_thread_key, NULL);
    }
}

static bool db_is_prepared(const struct db_connection *db, const struct db_statement *statement)
{
    for (size_t i = 0; i < db->prepared_count; i++)
        if (db->prepared[i] == statement)
            return true;
    return false;
}

static bool db_connection_broken(const struct db_connection *db)
{
    return PQstatus(db->conn) != CONNECTION_OK;
}

/* True when a failure means the server is gone or going rather than that the statement is
 * wrong: the connection broke, libpq itself reported the error (no SQLSTATE: "server closed the
 * connection unexpectedly"), or the server is shutting down or refusing connections
 * (57P01-57P04, class 08). */
static bool db_failure_is_connection(const struct db_connection *db, const PGresult *result)
{
    const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;

    if (db_connection_broken(db) || !sqlstate)
        return true;
    return strncmp(sqlstate, "57P", 3) == 0 || strncmp(sqlstate, "08", 2) == 0;
}

/* One attempt. Returns the result, or NULL with *status set. */
static PGresult *db_execute_once(struct db_connection *db, const struct db_statement *statement,
                                 const char *const *params, enum db_status *status, bool *retryable)
{
    PGresult *result;
    const char *sqlstate;
    char error[256];

    *retryable = false;
    if (!db_is_prepared(db, statement)) {
        result = PQprepare(db->conn, statement->name, statement->sql, statement->param_count, NULL);
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
            db_error_line(PQerrorMessage(db->conn), error, sizeof error);
            if (db_failure_is_connection(db, result)) {
                PQclear(result);
                *status = DB_UNAVAILABLE;
                *retryable = true; /* nothing was executed */
                return NULL;
            }
            PQclear(result);
            log_error(NULL, "cannot prepare %s: %s", statement->name, error);
            *status = DB_FAILED;
            return NULL;
        }
        PQclear(result);
        if (db->prepared_count < DB_PREPARED_MAX)
            db->prepared[db->prepared_count++] = statement;
    }
    result =
        PQexecPrepared(db->conn, statement->name, statement->param_count, params, NULL, NULL, 0);
    switch (PQresultStatus(result)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        *status = DB_OK;
        return result;
    default:
        break;
    }
    db_error_line(PQerrorMessage(db->conn), error, sizeof error);
    sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    if (db_failure_is_connection(db, result)) {
        *status = DB_UNAVAILABLE;
        *retryable = statement->idempotent;
    } else if (sqlstate && (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)) {
        *status = DB_FAILED;
        *retryable = true;
    } else {
        log_error(NULL, "statement %s failed: %s", statement->name, error);
        *status = DB_FAILED;
    }
    PQclear(result);
    return NULL;
}

unsigned long long db_errors_total(void)
{
    return atomic_load(&db_error_count);
}

PGresult *db_execute(struct db_connection *db, const struct db_statement *statement,
                     const char *const *params, enum db_status *status)
{
    for (int attempt = 0; attempt < DB_RETRIES; attempt++) {
        bool retryable, in_transaction;
        PGresult *result;

        if (!db || !db->conn || db_connection_broken(db)) {
            if (db && db->in_transaction) {
                /* the explicit transaction is gone with its connection: only its owner can
                 * start it again, as a whole */
                *status = DB_UNAVAILABLE;
                return NULL;
            }
            db = db_thread_connection();
            if (!db) {
                *status = DB_UNAVAILABLE;
                return NULL;
            }
        }
        /* A statement on its own is a whole transaction and may be retried; inside an explicit
         * transaction a retry could only fail (the transaction is aborted) or, after a
         * reconnect, run outside the transaction it belonged to. */
        in_transaction = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
        result = db_execute_once(db, statement, params, status, &retryable);
        if (result)
            return result;
        atomic_fetch_add(&db_error_count, 1);
        if (in_transaction)
            retryable = false;
        if (*status == DB_UNAVAILABLE) {
            /* Drop the connection even if libpq still calls it open, and reconnect straight
             * away once: a restarted server is usually back already. */
            PQfinish(db->conn);
            db->conn = NULL;
            db->prepared_count = 0;
            db->last_attempt_ms = 0;
            db = NULL;
        }
        if (!retryable)
            return NULL;
    }
    return NULL;
}
