/* The filters of /history and its exports; see history_query.h. */
#include "history/history_query.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "review/draft_access.h"
#include "utc_time.h"
#include "web/query_arg.h"

const char *const history_states[7][2] = {
    {"pending", "Pending"},    {"approved", "Approved"},
    {"released", "Published"}, {"release_failed", "Release failed"},
    {"rejected", "Rejected"},  {"expired", "Expired"},
    {"revoked", "Revoked"},
};

/* Every filter once: its query argument, the label messages use, its length limit in
 * characters, and where the value as typed lives in struct history_query. */
struct filter_field {
    const char *name;
    const char *label;
    size_t max_chars;
    size_t offset;
    size_t size;
};

#define FILTER_FIELD(name, label, max_chars, member)                                               \
    {                                                                                              \
        name, label, max_chars, offsetof(struct history_query, member),                            \
            sizeof(((struct history_query *)0)->member)                                            \
    }

static const struct filter_field filter_fields[] = {
    FILTER_FIELD("state", "State", 20, state),
    FILTER_FIELD("agent", "Agent", HISTORY_NAME_CHARS_MAX, agent),
    FILTER_FIELD("invoker", "Invoker", HISTORY_NAME_CHARS_MAX, invoker),
    FILTER_FIELD("decider", "Decided by", HISTORY_NAME_CHARS_MAX, decider),
    FILTER_FIELD("from", "From", 32, from_text),
    FILTER_FIELD("to", "To", 32, to_text),
    FILTER_FIELD("q", "Search", HISTORY_SEARCH_CHARS_MAX, q),
};
#define FILTER_COUNT (sizeof filter_fields / sizeof filter_fields[0])

/* The value of filter `i` in `query` (as typed; "" when absent). */
static char *filter_value(const struct history_query *query, size_t i)
{
    return (char *)query + filter_fields[i].offset;
}

const char *history_state_label(const char *state)
{
    for (size_t i = 0; state && i < sizeof history_states / sizeof history_states[0]; i++)
        if (strcmp(history_states[i][0], state) == 0)
            return history_states[i][1];
    return state ? state : "";
}

/* `text`, or NULL when it is NULL or empty (an absent filter). */
static const char *nonempty(const char *text)
{
    return text && *text ? text : NULL;
}

/* Copies the GET argument `name` into `out` (query_arg_copy()), the refusal into query->error. */
static bool arg_copy(struct request *request, const char *name, const char *label, size_t max_chars,
                     char *out, size_t size, struct history_query *query)
{
    return query_arg_copy(request, name, label, max_chars, out, size, query->error,
                          sizeof query->error);
}

/* Parses "after=<microseconds>:<uuid>" into the query; false when malformed. */
static bool cursor_parse(const char *text, struct history_query *query)
{
    const char *colon = strchr(text, ':');
    size_t count = colon ? (size_t)(colon - text) : 0;

    if (count < 1 || count > 18 || strspn(text, "0123456789") != count ||
        !draft_id_valid(colon + 1))
        return false;
    memcpy(query->after_us, text, count);
    query->after_us[count] = '\0';
    snprintf(query->after_id, sizeof query->after_id, "%s", colon + 1);
    return true;
}

/* Checks the values that have a form: a known state, readable times in order, a cursor. */
static bool query_check(struct history_query *query, bool with_cursor)
{
    const char *error = NULL;
    bool known = !*query->state;

    for (size_t i = 0; i < sizeof history_states / sizeof history_states[0]; i++)
        known = known || strcmp(history_states[i][0], query->state) == 0;
    if (!known)
        error = "State must be one of pending, approved, released, release_failed, rejected, "
                "expired, revoked.";
    else if (*query->from_text &&
             !utc_time_parse(query->from_text, query->from, sizeof query->from))
        error = "From: give a UTC date such as 2026-11-01 or a time such as 2026-11-01T09:30.";
    else if (*query->to_text && !utc_time_parse(query->to_text, query->to, sizeof query->to))
        error = "To: give a UTC date such as 2026-11-01 or a time such as 2026-11-01T09:30.";
    /* both canonical texts have the same fixed layout, so they compare as times */
    else if (*query->from && *query->to && strcmp(query->from, query->to) >= 0)
        error = "From must be earlier than To.";
    else if (with_cursor && *query->after && !cursor_parse(query->after, query))
        error = "The page link is not valid. Start again from the newest drafts.";
    if (!error)
        return true;
    snprintf(query->error, sizeof query->error, "%s", error);
    if (!known)
        query->state[0] = '\0';
    return false;
}

bool history_query_parse(struct request *request, const struct session_identity *user,
                         struct history_query *query, bool with_cursor)
{
    char forum[HISTORY_NAME_BYTES];

    memset(query, 0, sizeof *query);
    if (!arg_copy(request, "forum", "Forum", HISTORY_NAME_CHARS_MAX, forum, sizeof forum, query))
        return false;
    if (*forum && strcmp(forum, user->forum) != 0) {
        snprintf(query->error, sizeof query->error,
                 "You moderate the forum %s: its history is the only one shown here.", user->forum);
        return false;
    }
    for (size_t i = 0; i < FILTER_COUNT; i++)
        if (!arg_copy(request, filter_fields[i].name, filter_fields[i].label,
                      filter_fields[i].max_chars, filter_value(query, i), filter_fields[i].size,
                      query))
            return false;
    if (with_cursor &&
        !arg_copy(request, "after", "The page link", 100, query->after, sizeof query->after, query))
        return false;
    return query_check(query, with_cursor);
}

struct history_filter history_query_filter(const struct history_query *query, const char *forum)
{
    struct history_filter filter = {
        forum,
        nonempty(query->state),
        nonempty(query->agent),
        nonempty(query->invoker),
        nonempty(query->decider),
        nonempty(query->from),
        nonempty(query->to),
        nonempty(query->q),
        nonempty(query->after_us),
        nonempty(query->after_id),
    };
    return filter;
}

char *history_query_string(const struct history_query *query, bool with_cursor)
{
    const char *pairs[FILTER_COUNT + 1][2];

    for (size_t i = 0; i < FILTER_COUNT; i++) {
        pairs[i][0] = filter_fields[i].name;
        pairs[i][1] = filter_value(query, i);
    }
    pairs[FILTER_COUNT][0] = "after";
    pairs[FILTER_COUNT][1] = with_cursor ? query->after : "";
    return form_query_string(pairs, FILTER_COUNT + 1);
}

json_t *history_query_json(const struct history_query *query)
{
    json_t *object = json_object();

    for (size_t i = 0; object && i < FILTER_COUNT; i++)
        if (*filter_value(query, i))
            json_object_set_new(object, filter_fields[i].name, json_string(filter_value(query, i)));
    return object;
}

json_t *history_query_form(const struct history_query *query)
{
    json_t *object = json_object();

    for (size_t i = 0; object && i < FILTER_COUNT; i++)
        json_object_set_new(object, filter_fields[i].name, json_string(filter_value(query, i)));
    return object;
}
