/*
 * Outcome words from SQL, as C enums. The SQL functions answer with a word
 * ('held', 'forbidden', 'retried', ...); the C side converts that word once,
 * here in db/, and callers switch on the enum. Each kind of outcome has ONE
 * table of (word, value) pairs, kept in the db/ file that reads that kind.
 * A word the table does not know means the SQL and the C disagree (a bug
 * after an edit of one of them): it is logged once, where it is read, and the
 * call fails with DB_FAILED; it is never mapped to a guess.
 */
#ifndef AGENTGATE_DB_OUTCOME_H
#define AGENTGATE_DB_OUTCOME_H

#include <stddef.h>

#include "db/db.h"

struct db_outcome_word {
    const char *word; /* as the SQL function returns it */
    int value;        /* the enum value it stands for */
};

#define DB_OUTCOME_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* Sets *value to the value `word` stands for in `table` (`count` entries) and returns DB_OK;
 * for a word that is not there (or NULL) logs "<kind>: unknown outcome" and returns DB_FAILED,
 * leaving *value alone. `kind` names the SQL function (or statement) in that message. */
enum db_status db_outcome_read(const struct db_outcome_word *table, size_t count, const char *kind,
                               const char *word, int *value) __attribute__((warn_unused_result));

#endif
