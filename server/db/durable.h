/*
 * Durable intake commits shared between threads (group commit).
 *
 * intake_hold() commits with synchronous_commit off, so that an agent's row lock is not held
 * across a disk flush (sql/intake_hold.sql). Its answer waits for a durable commit that follows
 * it in the same server's WAL: the WAL is one sequence, so flushing a later commit flushes every
 * earlier one. One such commit serves every thread that is waiting when it starts: under load,
 * one flush per batch instead of one per post, and PostgreSQL spends its CPU on holding posts.
 *
 * Usage: mark = db_durable_mark() before the statement that commits asynchronously, then
 * db_durable_wait(db, mark) on the same connection right after it returned.
 */
#ifndef AGENTGATE_DB_DURABLE_H
#define AGENTGATE_DB_DURABLE_H

#include "db/db.h"

/* A point before the commit to be made durable. */
unsigned long long db_durable_mark(void);

/* Returns DB_OK once everything `db` committed since `mark` is on disk (and on a synchronous
 * standby): a durable commit on the same running server, over a connection that was already
 * open at `mark` and stayed open, began after it. DB_UNAVAILABLE when that cannot be known
 * (the connection broke or was replaced): nothing may be acknowledged then. */
enum db_status db_durable_wait(struct db_connection *db, unsigned long long mark)
    __attribute__((warn_unused_result));

/* Durable commits run for db_durable_wait since start, for /metrics. */
unsigned long long db_durable_flushes_total(void);

#endif
