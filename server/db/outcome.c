/* Outcome words from SQL to C enums; see outcome.h. */
#include "db/outcome.h"

#include <string.h>

#include "log.h"

enum db_status db_outcome_read(const struct db_outcome_word *table, size_t count, const char *kind,
                               const char *word, int *value)
{
    for (size_t i = 0; word && i < count; i++)
        if (strcmp(table[i].word, word) == 0) {
            *value = table[i].value;
            return DB_OK;
        }
    log_error(NULL, "%s: unknown outcome \"%s\" (the SQL function and agentgate disagree)", kind,
              word ? word : "(null)");
    return DB_FAILED;
}
