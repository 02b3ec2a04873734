/*
 * The moderators' history (CONTRACT §7): GET /history lists every draft of the moderator's
 * forum, newest first, 50 a page, under filters given as query arguments (history_query.c),
 * with a chart of the last 30 days and a bulk reject/revoke form (POSTed to /moderation/bulk,
 * moderation_pages.c, which comes back here with the outcome). The exports are
 * history_export.c.
 *
 * Who: moderators only, and only their own forum. A signed-in user who is not a moderator
 * gets 404; an anonymous visitor is sent to sign in.
 *
 * Invariants:
 *  - Pagination is by keyset: `after=<created_at in microseconds>:<draft id>` of the last row
 *    shown; there is no OFFSET and a page never skips or repeats a row.
 *  - What people read is what they read on the other pages: names beside ids, times relative
 *    and absolute in UTC (page_time()), excerpts as plain text, secrets in titles and excerpts
 *    masked as the draft page masks them (draft_secrets), every value escaped by the template.
 *  - The chart is computed at most once a minute per forum (a small cache) so that paging and
 *    filtering do not pay for it; every text in its SVG is escaped (history_chart.c).
 *  - The handler hangs its state on the request (http_request_state) and frees nothing on an
 *    error path.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "clock.h"
#include "db/history.h"
#include "form.h"
#include "history/history_chart.h"
#include "history/history_query.h"
#include "render_markdown.h"
#include "review/draft_secrets.h"
#include "text.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "web/page.h"

#define HISTORY_PAGE_SIZE 50
#define EXCERPT_CHARS     140
#define CHART_TTL_MS      60000 /* the chart is recomputed at most this often per forum */
#define CHART_FORUMS      16

/* --- the chart, cached per forum --- */

struct chart_entry {
    char forum[40];
    char *daily_svg;
    char *agents_svg;
    char as_of[40];
    long long computed_ms;
    bool refreshing;
};

static pthread_mutex_t chart_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chart_entry chart_cache[CHART_FORUMS];

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
    json_t *data, *item, *when;

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
    when = page_time(json_string_at(data, "as_of"), time(NULL));
    snprintf(as_of, as_of_size, "%s",
             json_string_at(when, "absolute") ? json_string_at(when, "absolute") : "now");
    json_decref(when);
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
    char *daily_svg, *agents_svg, as_of[40];
    long long now = clock_monotonic_ms();
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

/* What the handler holds until the request completes (page_state_free). */
struct page_state {
    struct history_query query;
    char *rows_text; /* the page's rows as JSON text */
    char *filters;   /* the filters as a query string, without the cursor */
    char *back;      /* with the cursor: where the bulk form returns */
};

static void page_state_free(void *pointer)
{
    struct page_state *state = pointer;

    free(state->rows_text);
    free(state->filters);
    free(state->back);
    free(state);
}

/*
 * The title and, for a draft without one, the excerpt (the body's start as plain text) of a
 * row, with every secret masked as the draft page masks it (draft_secrets: the stored `secret.`
 * flags and what the scanner finds now, title first so values are numbered as there). The row
 * arrives with the title, the body's start and the flags, and leaves without the last two.
 */
static void row_mask(json_t *row)
{
    struct draft_secrets secrets = {0};
    const json_t *flags = json_object_get(row, "flags");
    const char *fields[] = {"title", "body"};

    for (size_t i = 0; i < 2; i++) {
        const char *text = json_string_at(row, fields[i]);
        json_t *spans = text ? draft_secrets_spans(fields[i], text, flags) : NULL;
        char *masked = spans ? draft_secrets_mask(&secrets, text, spans, NULL) : NULL;
        char *plain = i == 1 && masked
                          ? render_markdown_plain_excerpt(masked, strlen(masked), EXCERPT_CHARS)
                          : NULL;

        /* never the text unmasked: without its masked form, nothing */
        json_object_set_new(row, i == 0 ? "title" : "excerpt",
                            i == 0 ? (masked ? json_string(masked) : json_null())
                                   : json_string(plain ? plain : ""));
        json_decref(spans);
        free(masked);
        free(plain);
    }
    json_object_del(row, "body");
    json_object_del(row, "flags");
    draft_secrets_free(&secrets);
}

/* Adds what the template shows to each row of a page: the time, the state's label, where it
 * goes, the people (names beside ids), the excerpt, and whether it may be ticked. */
static void rows_decorate(json_t *rows)
{
    time_t now = time(NULL);
    json_t *row;
    size_t index;

    json_array_foreach(rows, index, row)
    {
        const char *state = json_string_at(row, "state");
        const char *topic = json_string_at(row, "topic_id");
        const char *category = json_string_at(row, "category");
        char target[300];

        if (topic)
            snprintf(target, sizeof target, "reply in topic %s", topic);
        else
            snprintf(target, sizeof target, "new topic in %s", category ? category : "?");
        row_mask(row);
        json_object_set_new(row, "created", page_time(json_string_at(row, "created_at"), now));
        json_object_set_new(row, "decided", page_time(json_string_at(row, "decided_at"), now));
        json_object_set_new(row, "state_label", json_string(history_state_label(state)));
        json_object_set_new(row, "target_label", json_string(target));
        json_object_set_new(
            row, "agent",
            page_person_json(json_string_at(row, "agent_name"), json_string_at(row, "agent_id")));
        json_object_set_new(row, "invoker",
                            page_person_json(json_string_at(row, "invoker_name"),
                                             json_string_at(row, "invoker_id")));
        json_object_set_new(row, "decider",
                            page_person_json(json_string_at(row, "decided_by"),
                                             json_string_at(row, "decided_by_id")));
        json_object_set_new(
            row, "has_title",
            json_boolean(json_string_at(row, "title") && *json_string_at(row, "title")));
        json_object_set_new(row, "selectable",
                            json_boolean(state && (strcmp(state, "pending") == 0 ||
                                                   strcmp(state, "approved") == 0)));
    }
}

/* A count from the query string (the bulk form's outcome): 0 to 9999, else -1. */
static int count_arg(struct request *request, const char *name)
{
    const char *text = page_query(request, name);
    size_t length = text ? strlen(text) : 0;

    if (length < 1 || length > 4 || strspn(text, "0123456789") != length)
        return -1;
    return atoi(text);
}

/* The notice after a bulk action (moderation_pages.c redirects here with done=rejected|revoked,
 * changed=N, selected=M): fixed words and two numbers, nothing else from the request. */
static json_t *done_notice(struct request *request)
{
    const char *done = page_query(request, "done");
    int changed = count_arg(request, "changed"), selected = count_arg(request, "selected");
    bool reject = done && strcmp(done, "rejected") == 0;
    char text[200];

    if (!done || (!reject && strcmp(done, "revoked") != 0) || changed < 0 || selected < changed)
        return NULL;
    if (changed == selected)
        snprintf(text, sizeof text, "%s %d draft%s.", reject ? "Rejected" : "Revoked", changed,
                 changed == 1 ? "" : "s");
    else
        snprintf(text, sizeof text,
                 "%s %d of the %d selected drafts; the others were already decided and were "
                 "left as they were.",
                 reject ? "Rejected" : "Revoked", changed, selected);
    return json_string(text);
}

/* The state filter's options for the form, the chosen one selected. */
static json_t *state_options(const struct history_query *query)
{
    json_t *options = json_array();

    for (size_t i = 0; options && i < sizeof history_states / sizeof history_states[0]; i++)
        json_array_append_new(options, json_pack("{s:s, s:s, s:b}", "value", history_states[i][0],
                                                 "label", history_states[i][1], "selected",
                                                 strcmp(history_states[i][0], query->state) == 0));
    return options;
}

/* Sets data[key] to "<path>?<filters>&<extra>", leaving out what is empty. */
static void link_set(json_t *data, const char *key, const char *path, const char *filters,
                     const char *extra)
{
    char *link = text_format("%s%s%s%s%s", path, *filters || *extra ? "?" : "", filters,
                             *filters && *extra ? "&" : "", extra);

    if (link)
        json_object_set_new(data, key, json_string(link));
    free(link);
}

/* The links of the page: exports with the same filters, the newest page, the next older one
 * (from the cursor of the last row shown, when there is more). */
static void links_set(json_t *data, const struct page_state *state, json_t *rows, bool more)
{
    const char *cursor = json_string_at(json_array_get(rows, HISTORY_PAGE_SIZE - 1), "cursor");
    char *encoded = more && cursor ? form_url_encode(cursor) : NULL;
    char *after = encoded ? text_format("after=%s", encoded) : NULL;

    link_set(data, "csv_href", "/history.csv", state->filters, "");
    link_set(data, "ndjson_href", "/history.ndjson", state->filters, "");
    if (state->query.after_us[0])
        link_set(data, "newest_href", "/history", state->filters, "");
    if (after) {
        link_set(data, "older_href", "/history", state->filters, after);
    }
    free(after);
    free(encoded);
}

/*
 * The template's data: the filter form with the query's values, `rows` (stolen; up to one more
 * than a page, which only says there is an older page), the chart (stolen, may be NULL), the
 * refusal (query.error) or the bulk form's outcome as a notice, and the links. NULL when
 * memory runs out.
 */
static json_t *page_view(struct request *request, const struct session_identity *user,
                         const struct page_state *state, json_t *rows, json_t *chart)
{
    bool more = json_array_size(rows) > HISTORY_PAGE_SIZE;
    json_t *data, *notice;

    if (more)
        json_array_remove(rows, HISTORY_PAGE_SIZE);
    rows_decorate(rows);
    data = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:s}", "title", "History", "forum",
                     user->forum, "has_rows", json_array_size(rows) > 0, "rows", rows,
                     "state_options", state_options(&state->query), "filters",
                     history_query_form(&state->query), "back", state->back);
    if (!data) {
        json_decref(chart);
        return NULL;
    }
    if (chart)
        json_object_set_new(data, "chart", chart);
    if (state->query.error[0])
        json_object_set_new(data, "notice", json_string(state->query.error));
    else if ((notice = done_notice(request)))
        json_object_set_new(data, "done_notice", notice);
    links_set(data, state, rows, more);
    return data;
}

enum MHD_Result history_pages_list(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct page_state *state =
        http_request_state(request, calloc(1, sizeof *state), page_state_free);
    enum db_status status = DB_FAILED;
    struct history_filter filter;
    struct db_connection *db;
    json_t *rows, *data;
    bool valid;

    if (!user)
        return page_reply_sign_in(request);
    if (!user->is_moderator)
        return page_reply_not_found(request);
    if (!state)
        goto fail;
    valid = history_query_parse(request, user, &state->query, true);
    state->filters = history_query_string(&state->query, false);
    state->back = history_query_string(&state->query, true);
    if (!state->filters || !state->back)
        goto fail;
    if (!valid)
        return page_reply(request, error_http_status(ERR_INVALID_FILTER), "history.html",
                          page_view(request, user, state, json_array(), NULL));
    filter = history_query_filter(&state->query, user->forum);
    db = db_thread_connection();
    status =
        db ? history_page(db, &filter, HISTORY_PAGE_SIZE + 1, &state->rows_text) : DB_UNAVAILABLE;
    if (status != DB_OK)
        goto fail;
    rows = json_loads(state->rows_text ? state->rows_text : "[]", 0, NULL);
    if (!json_is_array(rows)) {
        json_decref(rows);
        status = DB_FAILED;
        goto fail;
    }
    data = page_view(request, user, state, rows, chart_get(db, user->forum));
    if (!data)
        goto fail;
    return page_reply(request, 200, "history.html", data);
fail:
    return page_reply_db_failure(request, status);
}
