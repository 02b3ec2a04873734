/* Durable intake commits shared between threads; see durable.h. */
#include "db/durable.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* The durable commit: a transactional WAL message committed with synchronous_commit on (the
 * connection's default). Not idempotent: never retried elsewhere, a reconnect in between
 * counts as "unavailable". */
DB_STATEMENT(durable_flush_statement, "SELECT pg_logical_emit_message(true, 'agentgate', 'intake')",
             0, false);

/* One thread waiting for its commit to become durable, on its own stack. */
struct durable_waiter {
    unsigned long long mark;
    char server[128]; /* db_connection_server() of the connection that committed */
    bool done;        /* a flush that began after the commit has ended */
    bool covered;     /* ... and it covers the commit */
    struct durable_waiter *next;
};

/* What one flush proved: a durable commit on `server` over a connection open since `since`. */
struct durable_flush {
    enum db_status status;
    bool ok; /* status DB_OK over the same connection throughout */
    unsigned long long since;
    const char *server;
};

static pthread_mutex_t durable_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t durable_flushed = PTHREAD_COND_INITIALIZER;
static struct durable_waiter *durable_queue; /* committed, waiting for the next flush */
static bool durable_flushing;
static atomic_ullong durable_flush_count;

/* How many flushes of other threads a commit waits for before it flushes alone. */
#define DURABLE_ROUNDS 4

unsigned long long db_durable_mark(void)
{
    return db_sequence_next();
}

unsigned long long db_durable_flushes_total(void)
{
    return atomic_load(&durable_flush_count);
}

/* Runs one durable commit on `db`. */
static struct durable_flush durable_flush_run(struct db_connection *db)
{
    unsigned long generation = db_connection_generation(db);
    struct durable_flush flush = {DB_FAILED, false, 0, NULL};

    atomic_fetch_add(&durable_flush_count, 1);
    PQclear(db_execute(db, &durable_flush_statement, NULL, &flush.status));
    if (flush.status == DB_OK && db_connection_generation(db) != generation)
        flush.status = DB_UNAVAILABLE;
    if (flush.status == DB_OK) {
        flush.ok = true;
        flush.since = db_connection_since(db);
        flush.server = db_connection_server(db);
    }
    return flush;
}

/* A commit is durable after a later durable commit on the same running server, provided that
 * server did not lose it in between: the flushing connection was open before the commit and
 * lasted until the flush (a crash or restart ends every connection). */
static bool durable_flush_covers(const struct durable_flush *flush,
                                 const struct durable_waiter *waiter)
{
    return flush->ok && flush->since < waiter->mark && strcmp(flush->server, waiter->server) == 0;
}

/* Flushes for every waiter queued so far (the caller among them) on the caller's connection;
 * returns its status. The caller's own commit is covered when it is DB_OK: it ran on the same
 * connection (db_durable_wait's caller has not used it since). */
static enum db_status durable_lead(struct db_connection *db, struct durable_waiter *self)
{
    struct durable_waiter *batch = durable_queue;
    struct durable_flush flush;

    durable_queue = NULL;
    durable_flushing = true;
    pthread_mutex_unlock(&durable_lock);
    flush = durable_flush_run(db);
    pthread_mutex_lock(&durable_lock);
    for (struct durable_waiter *waiter = batch; waiter; waiter = waiter->next) {
        waiter->covered = waiter == self ? flush.ok : durable_flush_covers(&flush, waiter);
        waiter->done = true;
    }
    durable_flushing = false;
    pthread_cond_broadcast(&durable_flushed);
    return flush.status;
}

enum db_status db_durable_wait(struct db_connection *db, unsigned long long mark)
{
    unsigned long generation = db_connection_generation(db);
    struct durable_waiter self = {.mark = mark};
    enum db_status status = DB_OK;
    bool led = false;

    strcpy(self.server, db_connection_server(db));
    pthread_mutex_lock(&durable_lock);
    /* Another thread's flush may not cover this commit (its connection is newer: just
     * reconnected, or it reached another server): then wait for the next one, where this
     * thread may lead. */
    for (int round = 0; round < DURABLE_ROUNDS && !self.covered && !led; round++) {
        self.done = false;
        self.next = durable_queue;
        durable_queue = &self;
        while (!self.done) {
            if (durable_flushing) {
                pthread_cond_wait(&durable_flushed, &durable_lock);
            } else {
                status = durable_lead(db, &self);
                led = true;
            }
        }
    }
    pthread_mutex_unlock(&durable_lock);
    if (self.covered)
        return DB_OK;
    if (led)
        return status; /* its own flush failed */
    /* Still not covered after DURABLE_ROUNDS flushes of others: flush alone, on the
     * connection that committed, which must still be the same one. */
    if (!db_connection_pgconn(db) || db_connection_generation(db) != generation)
        return DB_UNAVAILABLE;
    return durable_flush_run(db).status;
}
