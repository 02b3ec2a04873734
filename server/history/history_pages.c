/*
 * The moderators' history (CONTRACT §7): GET /history lists every draft of the moderator's
 * forum, newest first, 50 a page, under filters given as query arguments (state, agent,
 * invoker, decider, from, to, q; `forum` only as the moderator's own), with a chart of the last
 * 30 days and a bulk reject/revoke form (POSTed to /moderation/bulk, moderation_pages.c).
 * GET /history.csv and /history.ndjson stream every matching row.
 *
 * Who: moderators only, and only their own forum. A signed-in user who is not a moderator gets
 * 404 on all three; an anonymous visitor is sent to sign in from the page and gets 404 from the
 * exports (a download is no place for a sign-in form).
 *
 * Invariants:
 *  - Every filter is validated here (400 with a message naming the field) and reaches SQL only
 *    as a parameter (db/history.c); values are echoed only through the escaping template.
 *  - Pagination is by keyset: `after=<created_at in microseconds>:<draft id>` of the last row
 *    shown; there is no OFFSET and a page never skips or repeats a row.
 *  - An export never holds more than one batch of rows (EXPORT_BATCH) and one chunk of output in
 *    memory, whatever the row count. It reads through a cursor on a PostgreSQL connection of its
 *    own, opened by the handler and closed by the response's free callback: the reader callback
 *    runs on libmicrohttpd's threads, where no worker connection may be used. It is audited.
 *  - The chart is computed at most once a minute per forum (a small cache) so that paging and
 *    filtering do not pay for it; every text in its SVG is escaped (history_chart.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "db/history.h"
#include "review/draft_access.h"
#include "form.h"
#include "web/handlers.h"
#include "history/history_chart.h"
#include "web/json_spec.h"
#include "log.h"
#include "web/page.h"

#define HISTORY_PAGE_SIZE 50
#define NAME_CHARS_MAX    128 /* ids and names, as at intake */
#define NAME_BYTES        (NAME_CHARS_MAX * 4 + 1)
#define SEARCH_CHARS_MAX  200
#define SEARCH_BYTES      (SEARCH_CHARS_MAX * 4 + 1)
#define EXPORT_BATCH      1000  /* rows per FETCH */
#define EXPORT_CHUNK      65536 /* bytes formatted ahead of the network */
#define CHART_TTL_MS      60000 /* the chart is recomputed at most this often per forum */
#define CHART_FORUMS      16

/* PostgreSQL type oids of the integer columns an export may carry. */
#define OID_INT8 20
#define OID_INT4 23

static const char *const draft_states[][2] = {
    {"pending", "Pending"},    {"approved", "Approved"},
    {"released", "Published"}, {"release_failed", "Release failed"},
    {"rejected", "Rejected"},  {"expired", "Expired"},
    {"revoked", "Revoked"},
};

/* The request's filters: as typed (trimmed, for the form and links) and as SQL parameters. */
struct history_query {
    char state[16];
    char agent[NAME_BYTES];
    char invoker[NAME_BYTES];
    char decider[NAME_BYTES];
    char from_text[40]; /* as typed */
    char to_text[40];
    char from[40]; /* canonical timestamptz text for SQL */
    char to[40];
    char q[SEARCH_BYTES];
    char after_us[24];
    char after_id[40];
    char error[200]; /* why the request is refused (400), or "" */
};

/* `text`, or NULL when it is NULL or empty (an absent filter). */
static const char *nonempty(const char *text)
{
    return text && *text ? text : NULL;
}

/* The decoded query argument `name` (the first when repeated), or NULL; owned by libmicrohttpd
 * for the request's lifetime. */
static const char *query_arg(struct request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

/* Copies the argument `name`, trimmed of ASCII whitespace, into `out`. Records an error and
 * returns false when it is not UTF-8 or longer than `max_chars` characters. */
static bool arg_copy(struct request *request, const char *name, const char *label, size_t max_chars,
                     char *out, size_t size, struct history_query *query)
{
    const char *value = query_arg(request, name);
    size_t length;

    out[0] = '\0';
    if (!value)
        return true;
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    length = strlen(value);
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\t' ||
                          value[length - 1] == '\r' || value[length - 1] == '\n'))
        length--;
    if (!utf8_valid(value, length)) {
        snprintf(query->error, sizeof query->error, "%s is not valid UTF-8 text.", label);
        return false;
    }
    if (length >= size) {
        snprintf(query->error, sizeof query->error, "%s: at most %zu characters.", label,
                 max_chars);
        return false;
    }
    memcpy(out, value, length);
    out[length] = '\0';
    if (utf8_length(out) > max_chars) {
        snprintf(query->error, sizeof query->error, "%s: at most %zu characters.", label,
                 max_chars);
        out[0] = '\0';
        return false;
    }
    return true;
}

/* Reads `count` decimal digits at `text`; -1 when any is not a digit. */
static int digits(const char *text, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * Parses a UTC date or time: YYYY-MM-DD, optionally followed by T (or a space) and HH:MM,
 * HH:MM:SS or HH:MM:SS.ffffff (1 to 6 fraction digits), optionally ending in Z. Writes it as
 * "YYYY-MM-DD HH:MM:SS.ffffff+00" (which PostgreSQL reads exactly) into `out`. Years 1000-9999.
 */
static bool time_parse(const char *text, char *out, size_t size)
{
    size_t length = strlen(text);
    int year, month, day, hour = 0, minute = 0, second = 0;
    char fraction[7] = "000000";
    size_t at = 10;

    if (length > 0 && (text[length - 1] == 'Z' || text[length - 1] == 'z'))
        length--;
    if (length < 10 || text[4] != '-' || text[7] != '-')
        return false;
    year = digits(text, 4);
    month = digits(text + 5, 2);
    day = digits(text + 8, 2);
    if (year < 1000 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;
    if (length > 10) {
        if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || length < 16 ||
            text[13] != ':')
            return false;
        hour = digits(text + 11, 2);
        minute = digits(text + 14, 2);
        at = 16;
        if (length > 16) {
            if (text[16] != ':' || length < 19)
                return false;
            second = digits(text + 17, 2);
            at = 19;
            if (length > 19) {
                size_t count = length - 20;
                if (text[19] != '.' || count < 1 || count > 6)
                    return false;
                for (size_t i = 0; i < count; i++) {
                    if (text[20 + i] < '0' || text[20 + i] > '9')
                        return false;
                    fraction[i] = text[20 + i];
                }
                at = length;
            }
        }
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
            return false;
    }
    if (at != length)
        return false;
    snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d.%s+00", year, month, day, hour, minute,
             second, fraction);
    return true;
}

/* Parses "after=<microseconds>:<uuid>" into the query; false when malformed. */
static bool cursor_parse(const char *text, struct history_query *query)
{
    const char *colon = strchr(text, ':');
    size_t count = colon ? (size_t)(colon - text) : 0;

    if (count < 1 || count > 18 || !draft_id_valid(colon + 1))
        return false;
    for (size_t i = 0; i < count; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    memcpy(query->after_us, text, count);
    query->after_us[count] = '\0';
    snprintf(query->after_id, sizeof query->after_id, "%s", colon + 1);
    return true;
}

/*
 * Reads and validates the filters of this request for `user`'s forum. `with_cursor` reads the
 * page cursor too (exports start at the newest row). Returns false with query->error set.
 */
static bool query_parse(struct request *request, const struct session_identity *user,
                        struct history_query *query, bool with_cursor)
{
    char forum[NAME_BYTES], after[128];

    memset(query, 0, sizeof *query);
    if (!arg_copy(request, "forum", "Forum", NAME_CHARS_MAX, forum, sizeof forum, query))
        return false;
    if (*forum && strcmp(forum, user->forum) != 0) {
        snprintf(query->error, sizeof query->error,
                 "You moderate the forum %s: its history is the only one shown here.", user->forum);
        return false;
    }
    if (!arg_copy(request, "state", "State", 20, query->state, sizeof query->state, query))
        return false;
    if (*query->state) {
        bool known = false;
        for (size_t i = 0; i < sizeof draft_states / sizeof draft_states[0]; i++)
            known = known || strcmp(draft_states[i][0], query->state) == 0;
        if (!known) {
            snprintf(query->error, sizeof query->error,
                     "State must be one of pending, approved, released, release_failed, "
                     "rejected, expired, revoked.");
            query->state[0] = '\0';
            return false;
        }
    }
    if (!arg_copy(request, "agent", "Agent", NAME_CHARS_MAX, query->agent, sizeof query->agent,
                  query) ||
        !arg_copy(request, "invoker", "Invoker", NAME_CHARS_MAX, query->invoker,
                  sizeof query->invoker, query) ||
        !arg_copy(request, "decider", "Decided by", NAME_CHARS_MAX, query->decider,
                  sizeof query->decider, query) ||
        !arg_copy(request, "q", "Search", SEARCH_CHARS_MAX, query->q, sizeof query->q, query) ||
        !arg_copy(request, "from", "From", 32, query->from_text, sizeof query->from_text, query) ||
        !arg_copy(request, "to", "To", 32, query->to_text, sizeof query->to_text, query))
        return false;
    if (*query->from_text && !time_parse(query->from_text, query->from, sizeof query->from)) {
        snprintf(query->error, sizeof query->error,
                 "From: give a UTC date such as 2026-11-01 or a time such as 2026-11-01T09:30.");
        return false;
    }
    if (*query->to_text && !time_parse(query->to_text, query->to, sizeof query->to)) {
        snprintf(query->error, sizeof query->error,
                 "To: give a UTC date such as 2026-11-01 or a time such as 2026-11-01T09:30.");
        return false;
    }
    /* both canonical texts have the same fixed layout, so they compare as times */
    if (*query->from && *query->to && strcmp(query->from, query->to) >= 0) {
        snprintf(query->error, sizeof query->error, "From must be earlier than To.");
        return false;
    }
    if (with_cursor &&
        !arg_copy(request, "after", "The page link", 100, after, sizeof after, query))
        return false;
    if (with_cursor && *after && !cursor_parse(after, query)) {
        snprintf(query->error, sizeof query->error,
                 "The page link is not valid. Start again from the newest drafts.");
        return false;
    }
    return true;
}

/* The SQL filter of a validated query; borrows its strings from `query`. */
static struct history_filter filter_of(const struct history_query *query, const char *forum)
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

/* The filters as a query string ("state=..&agent=.."), without the cursor; malloc'd. */
static char *filters_query_string(const struct history_query *query)
{
    const char *const fields[][2] = {
        {"state", query->state},
        {"agent", query->agent},
        {"invoker", query->invoker},
        {"decider", query->decider},
        {"from", query->from_text},
        {"to", query->to_text},
        {"q", query->q},
    };
    size_t capacity = 1, used = 0;
    char *out;

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        capacity += strlen(fields[i][0]) + 2 + 3 * strlen(fields[i][1]);
    out = malloc(capacity);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char *encoded;
        if (!*fields[i][1])
            continue;
        encoded = form_url_encode(fields[i][1]);
        if (!encoded) {
            free(out);
            return NULL;
        }
        used += (size_t)snprintf(out + used, capacity - used, "%s%s=%s", used ? "&" : "",
                                 fields[i][0], encoded);
        free(encoded);
    }
    return out;
}

/* The label shown for a draft state (the state itself if unknown). */
static const char *state_label(const char *state)
{
    for (size_t i = 0; state && i < sizeof draft_states / sizeof draft_states[0]; i++)
        if (strcmp(draft_states[i][0], state) == 0)
            return draft_states[i][1];
    return state ? state : "";
}

/* Adds what the template shows to each row of a page. */
static void rows_decorate(json_t *rows)
{
    json_t *row;
    size_t index;

    json_array_foreach(rows, index, row)
    {
        const char *state = json_string_at(row, "state");
        const char *created = json_string_at(row, "created_at");
        const char *title = json_string_at(row, "title");
        char when[24] = "", target[300];

        /* "2026-11-24T10:00:00Z" shown as "2026-11-24 10:00" */
        if (created && strlen(created) >= 16)
            snprintf(when, sizeof when, "%.10s %.5s", created, created + 11);
        if (json_string_at(row, "topic_id"))
            snprintf(target, sizeof target, "reply in topic %s", json_string_at(row, "topic_id"));
        else
            snprintf(target, sizeof target, "new topic in %s",
                     json_string_at(row, "category") ? json_string_at(row, "category") : "?");
        json_object_set_new(row, "created_label", json_string(when));
        json_object_set_new(row, "state_label", json_string(state_label(state)));
        json_object_set_new(row, "target_label", json_string(target));
        json_object_set_new(row, "has_title", json_boolean(title && *title));
        json_object_set_new(row, "selectable",
                            json_boolean(state && (strcmp(state, "pending") == 0 ||
                                                   strcmp(state, "approved") == 0)));
    }
}

/* --- the chart, cached per forum --- */

struct chart_entry {
    char forum[40];
    char *daily_svg;
    char *agents_svg;
    char as_of[24];
    long long computed_ms;
    bool refreshing;
};

static pthread_mutex_t chart_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chart_entry chart_cache[CHART_FORUMS];

static long long clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The chart object for the template from a cache entry ({daily_svg, agents_svg, as_of}), or
 * NULL when it holds none. Called with chart_lock held. */
static json_t *chart_json(const struct chart_entry *entry)
{
    if (!entry || !entry->daily_svg || !entry->agents_svg)
        return NULL;
    return json_pack("{s:s, s:s, s:s}", "daily_svg", entry->daily_svg, "agents_svg",
                     entry->agents_svg, "as_of", entry->as_of);
}

/* Queries the figures of `forum` and draws both charts; false on failure. */
static bool chart_compute(struct db_connection *db, const char *forum, char **daily_svg,
                          char **agents_svg, char *as_of, size_t as_of_size)
{
    struct history_chart_day days[31];
    struct history_chart_agent agents[10];
    size_t day_count = 0, agent_count = 0, index;
    char *text = NULL;
    json_t *data, *item;

    *daily_svg = *agents_svg = NULL;
    if (history_chart_data(db, forum, &text) != DB_OK || !text)
        return false;
    data = json_loads(text, 0, NULL);
    free(text);
    if (!data)
        return false;
    json_array_foreach(json_object_get(data, "days"), index, item)
    {
        if (day_count == sizeof days / sizeof days[0])
            break;
        snprintf(days[day_count].day, sizeof days[day_count].day, "%s",
                 json_string_at(item, "day") ? json_string_at(item, "day") : "");
        days[day_count].held = (long)json_integer_value(json_object_get(item, "held"));
        days[day_count].approved = (long)json_integer_value(json_object_get(item, "approved"));
        days[day_count].rejected = (long)json_integer_value(json_object_get(item, "rejected"));
        day_count++;
    }
    json_array_foreach(json_object_get(data, "agents"), index, item)
    {
        if (agent_count == sizeof agents / sizeof agents[0])
            break;
        agents[agent_count].id = json_string_at(item, "id");
        agents[agent_count].name = json_string_at(item, "name");
        agents[agent_count].decisions =
            (long)json_integer_value(json_object_get(item, "decisions"));
        agents[agent_count].median_seconds =
            json_number_value(json_object_get(item, "median_seconds"));
        agent_count++;
    }
    snprintf(as_of, as_of_size, "%s",
             json_string_at(data, "as_of") ? json_string_at(data, "as_of") : "");
    *daily_svg = history_chart_daily_svg(days, day_count);
    *agents_svg = history_chart_agents_svg(agents, agent_count);
    json_decref(data); /* after drawing: the agents borrow their strings from it */
    if (!*daily_svg || !*agents_svg) {
        free(*daily_svg);
        free(*agents_svg);
        *daily_svg = *agents_svg = NULL;
        return false;
    }
    return true;
}

/*
 * The chart of `forum` for the template, or NULL when it cannot be drawn (the page is then
 * shown without it). A fresh copy is reused; a stale one is refreshed by one request at a time
 * while the others still show the stale copy.
 */
static json_t *chart_get(struct db_connection *db, const char *forum)
{
    struct chart_entry *entry = NULL, *oldest = &chart_cache[0];
    char *daily_svg, *agents_svg, as_of[24];
    long long now = clock_ms();
    json_t *chart;
    bool ok;

    pthread_mutex_lock(&chart_lock);
    for (size_t i = 0; i < CHART_FORUMS; i++) {
        if (strcmp(chart_cache[i].forum, forum) == 0) {
            entry = &chart_cache[i];
            break;
        }
        if (chart_cache[i].computed_ms < oldest->computed_ms && !chart_cache[i].refreshing)
            oldest = &chart_cache[i];
    }
    if (entry && entry->daily_svg &&
        (now - entry->computed_ms < CHART_TTL_MS || entry->refreshing)) {
        chart = chart_json(entry);
        pthread_mutex_unlock(&chart_lock);
        return chart;
    }
    if (!entry) {
        if (oldest->refreshing) { /* every slot is being refreshed: draw without caching */
            pthread_mutex_unlock(&chart_lock);
            ok = chart_compute(db, forum, &daily_svg, &agents_svg, as_of, sizeof as_of);
            chart = ok ? json_pack("{s:s, s:s, s:s}", "daily_svg", daily_svg, "agents_svg",
                                   agents_svg, "as_of", as_of)
                       : NULL;
            free(daily_svg);
            free(agents_svg);
            return chart;
        }
        entry = oldest;
        free(entry->daily_svg);
        free(entry->agents_svg);
        memset(entry, 0, sizeof *entry);
        snprintf(entry->forum, sizeof entry->forum, "%s", forum);
    }
    entry->refreshing = true;
    pthread_mutex_unlock(&chart_lock);

    ok = chart_compute(db, forum, &daily_svg, &agents_svg, as_of, sizeof as_of);

    pthread_mutex_lock(&chart_lock);
    entry->refreshing = false;
    if (ok) {
        free(entry->daily_svg);
        free(entry->agents_svg);
        entry->daily_svg = daily_svg;
        entry->agents_svg = agents_svg;
        snprintf(entry->as_of, sizeof entry->as_of, "%s", as_of);
        entry->computed_ms = now;
    }
    chart = chart_json(entry); /* the stale copy, if drawing failed */
    pthread_mutex_unlock(&chart_lock);
    return chart;
}

/* --- the page --- */

/* 503 (with Retry-After) when the database is unreachable, else 500, as pages. */
/*
 * Renders history.html: the filter form with `query`'s values, `rows` (stolen; up to one more
 * than a page, which only says there is an older page), the chart (stolen, may be NULL) and
 * query->error as a notice when set.
 */
static enum MHD_Result history_reply(struct request *request, unsigned status,
                                     const struct session_identity *user,
                                     const struct history_query *query, json_t *rows, json_t *chart)
{
    char *filters = filters_query_string(query);
    json_t *data, *options = json_array();
    bool more = false;
    char *link;
    size_t link_size;

    if (!filters || !options) {
        free(filters);
        json_decref(options);
        json_decref(rows);
        json_decref(chart);
        return page_reply_error(request, ERR_INTERNAL, "The request failed.");
    }
    if (!rows)
        rows = json_array();
    if (json_array_size(rows) > HISTORY_PAGE_SIZE) {
        more = true;
        json_array_remove(rows, HISTORY_PAGE_SIZE);
    }
    rows_decorate(rows);
    for (size_t i = 0; i < sizeof draft_states / sizeof draft_states[0]; i++)
        json_array_append_new(options, json_pack("{s:s, s:s, s:b}", "value", draft_states[i][0],
                                                 "label", draft_states[i][1], "selected",
                                                 strcmp(draft_states[i][0], query->state) == 0));
    data = json_pack("{s:s, s:s, s:o, s:o, s:b, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "title",
                     "History", "forum", user->forum, "rows", rows, "state_options", options,
                     "has_rows", json_array_size(rows) > 0, "filters", "agent", query->agent,
                     "invoker", query->invoker, "decider", query->decider, "from", query->from_text,
                     "to", query->to_text, "q", query->q);
    if (!data) {
        free(filters);
        json_decref(chart);
        return page_reply_error(request, ERR_INTERNAL, "The request failed.");
    }
    if (chart)
        json_object_set_new(data, "chart", chart);
    if (query->error[0])
        json_object_set_new(data, "notice", json_string(query->error));
    link_size = strlen(filters) + 128;
    link = malloc(link_size);
    if (link) {
        snprintf(link, link_size, "/history.csv%s%s", *filters ? "?" : "", filters);
        json_object_set_new(data, "csv_href", json_string(link));
        snprintf(link, link_size, "/history.ndjson%s%s", *filters ? "?" : "", filters);
        json_object_set_new(data, "ndjson_href", json_string(link));
        if (query->after_us[0]) {
            snprintf(link, link_size, "/history%s%s", *filters ? "?" : "", filters);
            json_object_set_new(data, "newest_href", json_string(link));
        }
        if (more) {
            const char *cursor =
                json_string_at(json_array_get(rows, HISTORY_PAGE_SIZE - 1), "cursor");
            char *encoded = cursor ? form_url_encode(cursor) : NULL;
            if (encoded) {
                snprintf(link, link_size, "/history?%s%safter=%s", filters, *filters ? "&" : "",
                         encoded);
                json_object_set_new(data, "older_href", json_string(link));
            }
            free(encoded);
        }
        free(link);
    }
    free(filters);
    return page_reply(request, status, "history.html", data);
}

enum MHD_Result history_pages_list(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct history_query query;
    struct history_filter filter;
    struct db_connection *db;
    enum db_status status;
    char *text = NULL;
    json_t *rows;

    if (!user)
        return page_reply_sign_in(request);
    if (!user->is_moderator)
        return page_reply_not_found(request);
    if (!query_parse(request, user, &query, true))
        return history_reply(request, 400, user, &query, NULL, NULL);
    filter = filter_of(&query, user->forum);
    db = db_thread_connection();
    status = db ? history_page(db, &filter, HISTORY_PAGE_SIZE + 1, &text) : DB_UNAVAILABLE;
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    rows = json_loads(text ? text : "[]", 0, NULL);
    free(text);
    if (!json_is_array(rows)) {
        json_decref(rows);
        return page_reply_db_failure(request, DB_FAILED);
    }
    return history_reply(request, 200, user, &query, rows, chart_get(db, user->forum));
}

/* --- exports --- */

/* The state of one export stream, owned by its libmicrohttpd response. */
struct export_stream {
    struct history_export *export; /* NULL once the cursor is exhausted */
    bool csv;
    PGresult *rows; /* the current batch */
    int next_row;
    bool last_batch; /* the cursor has nothing after `rows` */
    char *out;       /* formatted bytes not yet handed to libmicrohttpd */
    size_t out_length;
    size_t out_offset;
    size_t out_capacity;
    long long rows_sent;
    char request_id[17];
};

/* Makes room for `extra` more output bytes; false when memory runs out. */
static bool out_reserve(struct export_stream *stream, size_t extra)
{
    size_t capacity;
    char *grown;

    if (stream->out_length + extra <= stream->out_capacity)
        return true;
    capacity = stream->out_capacity ? stream->out_capacity : EXPORT_CHUNK;
    while (capacity < stream->out_length + extra)
        capacity *= 2;
    grown = realloc(stream->out, capacity);
    if (!grown)
        return false;
    stream->out = grown;
    stream->out_capacity = capacity;
    return true;
}

/* Appends one byte; the caller reserved room for it. */
static void out_byte(struct export_stream *stream, char byte)
{
    stream->out[stream->out_length++] = byte;
}

/*
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A
 * value a spreadsheet would read as a formula (starting with = + - @ TAB or CR) gets a leading
 * single quote and is quoted, so it stays text.
 */
static bool csv_field(struct export_stream *stream, const char *value, size_t length)
{
    bool formula = length > 0 && (value[0] == '=' || value[0] == '+' || value[0] == '-' ||
                                  value[0] == '@' || value[0] == '\t' || value[0] == '\r');
    bool quote = formula;

    for (size_t i = 0; i < length && !quote; i++)
        quote = value[i] == ',' || value[i] == '"' || value[i] == '\r' || value[i] == '\n';
    if (!out_reserve(stream, 2 * length + 3))
        return false;
    if (quote)
        out_byte(stream, '"');
    if (formula)
        out_byte(stream, '\'');
    for (size_t i = 0; i < length; i++) {
        if (value[i] == '"')
            out_byte(stream, '"');
        out_byte(stream, value[i]);
    }
    if (quote)
        out_byte(stream, '"');
    return true;
}

/* A JSON string (the text is UTF-8 from PostgreSQL): quotes, backslashes and control
 * characters escaped. */
static bool json_string_out(struct export_stream *stream, const char *value, size_t length)
{
    static const char hex[] = "0123456789abcdef";

    if (!out_reserve(stream, 6 * length + 2))
        return false;
    out_byte(stream, '"');
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '"' || c == '\\') {
            out_byte(stream, '\\');
            out_byte(stream, (char)c);
        } else if (c == '\n') {
            out_byte(stream, '\\');
            out_byte(stream, 'n');
        } else if (c == '\r') {
            out_byte(stream, '\\');
            out_byte(stream, 'r');
        } else if (c == '\t') {
            out_byte(stream, '\\');
            out_byte(stream, 't');
        } else if (c < 0x20 || c == 0x7F) {
            memcpy(stream->out + stream->out_length, "\\u00", 4);
            stream->out_length += 4;
            out_byte(stream, hex[c >> 4]);
            out_byte(stream, hex[c & 15]);
        } else {
            out_byte(stream, (char)c);
        }
    }
    out_byte(stream, '"');
    return true;
}

/* The header line of a CSV export: the cursor's column names. */
static bool csv_header(struct export_stream *stream)
{
    int columns = PQnfields(stream->rows);

    for (int c = 0; c < columns; c++) {
        const char *name = PQfname(stream->rows, c);
        if (c) {
            if (!out_reserve(stream, 1))
                return false;
            out_byte(stream, ',');
        }
        if (!csv_field(stream, name, strlen(name)))
            return false;
    }
    if (!out_reserve(stream, 2))
        return false;
    out_byte(stream, '\r');
    out_byte(stream, '\n');
    return true;
}

/* Formats row `row` of the current batch as one CSV record or one NDJSON line. */
static bool row_format(struct export_stream *stream, int row)
{
    int columns = PQnfields(stream->rows);

    if (!out_reserve(stream, 2))
        return false;
    if (!stream->csv)
        out_byte(stream, '{');
    for (int c = 0; c < columns; c++) {
        bool null = PQgetisnull(stream->rows, row, c);
        const char *value = PQgetvalue(stream->rows, row, c);
        size_t length = (size_t)PQgetlength(stream->rows, row, c);
        Oid type = PQftype(stream->rows, c);

        if (stream->csv) {
            if (c) {
                if (!out_reserve(stream, 1))
                    return false;
                out_byte(stream, ',');
            }
            if (!null && !csv_field(stream, value, length))
                return false;
            continue;
        }
        if (c) {
            if (!out_reserve(stream, 1))
                return false;
            out_byte(stream, ',');
        }
        if (!json_string_out(stream, PQfname(stream->rows, c), strlen(PQfname(stream->rows, c))) ||
            !out_reserve(stream, length + 5))
            return false;
        out_byte(stream, ':');
        if (null) {
            memcpy(stream->out + stream->out_length, "null", 4);
            stream->out_length += 4;
        } else if (type == OID_INT4 || type == OID_INT8) {
            memcpy(stream->out + stream->out_length, value, length);
            stream->out_length += length;
        } else if (!json_string_out(stream, value, length)) {
            return false;
        }
    }
    if (!out_reserve(stream, 2))
        return false;
    if (stream->csv) {
        out_byte(stream, '\r');
        out_byte(stream, '\n');
    } else {
        out_byte(stream, '}');
        out_byte(stream, '\n');
    }
    stream->rows_sent++;
    return true;
}

/* libmicrohttpd's reader: hands out formatted bytes, formatting the next rows and fetching the
 * next batch when they run out. Runs on an HTTP thread; uses only the export's connection. */
static ssize_t export_read(void *cls, uint64_t position, char *buffer, size_t max)
{
    struct export_stream *stream = cls;
    enum db_status status;
    (void)position;

    for (;;) {
        if (stream->out_offset < stream->out_length) {
            size_t count = stream->out_length - stream->out_offset;
            if (count > max)
                count = max;
            memcpy(buffer, stream->out + stream->out_offset, count);
            stream->out_offset += count;
            return (ssize_t)count;
        }
        stream->out_offset = stream->out_length = 0;
        if (stream->rows && stream->next_row < PQntuples(stream->rows)) {
            while (stream->next_row < PQntuples(stream->rows) && stream->out_length < EXPORT_CHUNK)
                if (!row_format(stream, stream->next_row++)) {
                    log_error(stream->request_id, "history export: out of memory");
                    return MHD_CONTENT_READER_END_WITH_ERROR;
                }
            continue;
        }
        PQclear(stream->rows);
        stream->rows = NULL;
        stream->next_row = 0;
        if (stream->last_batch || !stream->export) {
            /* done: give the connection back before the client has read the last bytes */
            history_export_close(stream->export);
            stream->export = NULL;
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        stream->rows = history_export_fetch(stream->export, EXPORT_BATCH, &status);
        if (!stream->rows) {
            /* the client sees a cut-off transfer (no final chunk), never a silently short file */
            log_warn(stream->request_id, "history export cut after %lld rows: database %s",
                     stream->rows_sent, status == DB_UNAVAILABLE ? "unreachable" : "error");
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        stream->last_batch = PQntuples(stream->rows) < EXPORT_BATCH;
    }
}

/* libmicrohttpd's free callback: the stream ends, whether complete, cut or never sent. */
static void export_free(void *cls)
{
    struct export_stream *stream = cls;

    log_info(stream->request_id, "history export: %lld rows sent (%s)", stream->rows_sent,
             stream->csv ? "csv" : "ndjson");
    PQclear(stream->rows);
    history_export_close(stream->export);
    free(stream->out);
    free(stream);
}

/* The same failures for exports, in plain text. */
static enum MHD_Result export_db_failure(struct request *request, enum db_status status)
{
    static const char unavailable[] = "Database unavailable; try again in a moment.\n";
    static const char failed[] = "The export failed.\n";

    if (status == DB_UNAVAILABLE) {
        http_reply_header(request, "Retry-After", "5");
        return http_reply_text(request, 503, "text/plain; charset=utf-8", unavailable,
                               sizeof unavailable - 1);
    }
    return http_reply_text(request, 500, "text/plain; charset=utf-8", failed, sizeof failed - 1);
}

/* The filters as a JSON object text for the audit event; malloc'd, NULL on failure. */
static char *filters_json(const struct history_query *query)
{
    json_t *object = json_object();
    const char *const fields[][2] = {
        {"state", query->state},
        {"agent", query->agent},
        {"invoker", query->invoker},
        {"decider", query->decider},
        {"from", query->from_text},
        {"to", query->to_text},
        {"q", query->q},
    };
    char *text;

    if (!object)
        return NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (*fields[i][1])
            json_object_set_new(object, fields[i][0], json_string(fields[i][1]));
    text = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    return text;
}

/* GET /history.csv and /history.ndjson: every row matching the filters, streamed. */
static enum MHD_Result history_export(struct request *request, bool csv)
{
    const struct session_identity *user = auth_user(request);
    struct export_stream *stream;
    struct history_query query;
    struct history_filter filter;
    struct MHD_Response *response;
    struct db_connection *db;
    enum db_status status;
    char *audit_filters;

    if (!user || !user->is_moderator)
        return page_reply_not_found(request);
    if (!query_parse(request, user, &query, false)) {
        char message[sizeof query.error + 1];
        snprintf(message, sizeof message, "%s\n", query.error);
        return http_reply_text(request, 400, "text/plain; charset=utf-8", message, strlen(message));
    }
    filter = filter_of(&query, user->forum);
    audit_filters = filters_json(&query);
    db = db_thread_connection();
    status = !audit_filters ? DB_FAILED
             : db           ? history_audit_export(db, user->forum, user->user_id, user->username,
                                         csv ? "csv" : "ndjson", audit_filters)
                            : DB_UNAVAILABLE;
    free(audit_filters);
    if (status != DB_OK)
        return export_db_failure(request, status);

    stream = calloc(1, sizeof *stream);
    if (!stream)
        return export_db_failure(request, DB_FAILED);
    stream->csv = csv;
    snprintf(stream->request_id, sizeof stream->request_id, "%s", request->id);
    stream->export = history_export_open(request->server->config->database, &filter, &status);
    /* the first batch is read now, so a failing query is an error status, not a short file */
    if (stream->export)
        stream->rows = history_export_fetch(stream->export, EXPORT_BATCH, &status);
    if (!stream->rows || (csv && !csv_header(stream))) {
        PQclear(stream->rows);
        history_export_close(stream->export);
        free(stream->out);
        free(stream);
        return export_db_failure(request, status == DB_OK ? DB_FAILED : status);
    }
    stream->last_batch = PQntuples(stream->rows) < EXPORT_BATCH;
    response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, export_read, stream,
                                                 export_free);
    if (!response) {
        export_free(stream);
        return export_db_failure(request, DB_FAILED);
    }
    log_info(request->id, "history export (%s) by moderator %s", csv ? "csv" : "ndjson",
             user->user_id);
    http_reply_header(request, "Content-Disposition",
                      csv ? "attachment; filename=history.csv"
                          : "attachment; filename=history.ndjson");
    return http_reply_response(request, 200, response,
                               csv ? "text/csv; charset=utf-8; header=present"
                                   : "application/x-ndjson; charset=utf-8");
}

enum MHD_Result history_pages_export_csv(struct request *request)
{
    return history_export(request, true);
}

enum MHD_Result history_pages_export_ndjson(struct request *request)
{
    return history_export(request, false);
}
