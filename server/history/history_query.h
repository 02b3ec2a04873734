/*
 * The filters of /history and its exports (CONTRACT §7): forum, state, agent, invoker, decider,
 * time range and text, read from a request's query arguments, validated, and written back as a
 * query string (links, the bulk form's way back) or as JSON (the export's audit event).
 *
 * Invariants: one table (history_query.c) names every filter once, with its label, its length
 * limit and where its value lives, and every reader and writer of filters goes through it. A
 * value reaches SQL only as a parameter (db/history.c) and a page only through the escaping
 * template. A refused request gets a sentence naming the field (query->error).
 */
#ifndef AGENTGATE_HISTORY_QUERY_H
#define AGENTGATE_HISTORY_QUERY_H

#include <jansson.h>
#include <stdbool.h>

#include "db/history.h"
#include "db/sessions.h"
#include "web/http.h"

#define HISTORY_NAME_CHARS_MAX   128 /* ids and names, as at intake */
#define HISTORY_NAME_BYTES       (HISTORY_NAME_CHARS_MAX * 4 + 1)
#define HISTORY_SEARCH_CHARS_MAX 200
#define HISTORY_SEARCH_BYTES     (HISTORY_SEARCH_CHARS_MAX * 4 + 1)

/* The request's filters: as typed (trimmed, for the form and links) and as SQL parameters. */
struct history_query {
    char state[16];
    char agent[HISTORY_NAME_BYTES];
    char invoker[HISTORY_NAME_BYTES];
    char decider[HISTORY_NAME_BYTES];
    char from_text[40]; /* as typed */
    char to_text[40];
    char from[40]; /* canonical timestamptz text for SQL */
    char to[40];
    char q[HISTORY_SEARCH_BYTES];
    char after[128]; /* the page cursor as typed */
    char after_us[24];
    char after_id[40];
    char error[200]; /* why the request is refused (400), or "" */
};

/* The draft states in the order pages list them, with the label people read. */
extern const char *const history_states[7][2];

/* The label shown for a draft state (the state itself if unknown, "" for NULL). */
const char *history_state_label(const char *state);

/*
 * Reads and validates the filters of this request for `user`'s forum. `with_cursor` reads the
 * page cursor too (exports start at the newest row). Returns false with query->error set.
 */
bool history_query_parse(struct request *request, const struct session_identity *user,
                         struct history_query *query, bool with_cursor)
    __attribute__((warn_unused_result));

/* The SQL filter of a validated query; borrows its strings from `query`. */
struct history_filter history_query_filter(const struct history_query *query, const char *forum);

/* The filters as a URL query string ("state=..&agent=..", values encoded), with the cursor when
 * `with_cursor`; "" when none. malloc'd, NULL when memory runs out. */
char *history_query_string(const struct history_query *query, bool with_cursor);

/* The filters as a JSON object of the ones given, by argument name (new reference), or NULL. */
json_t *history_query_json(const struct history_query *query);

/* The filters for the form: an object with every filter by argument name, "" when absent. */
json_t *history_query_form(const struct history_query *query);

#endif
