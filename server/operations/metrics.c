/* Prometheus metrics; see metrics.h. The exposition is text format 0.0.4. */
#include "operations/metrics.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/metrics.h"
#include "text.h"
#include "web/handlers.h"

/* Intake outcomes, from the answer: a label per class of answer a forum can get. */
/* clang-format off: clang-format reflows this list differently on every pass */
#define INTAKE_OUTCOMES(X)                                                                         \
    X(HELD, "held")                                                                                \
    X(DUPLICATE, "duplicate")                                                                      \
    X(INVALID, "invalid")                                                                          \
    X(UNAUTHORIZED, "unauthorized")                                                                \
    X(FORBIDDEN, "forbidden")                                                                      \
    X(BLOCKED, "blocked")                                                                          \
    X(RATE_LIMITED, "rate_limited")                                                                \
    X(UNAVAILABLE, "unavailable")                                                                  \
    X(ERROR, "error")
/* clang-format on */

enum intake_outcome {
#define INTAKE_OUTCOME_ENUM(id, label) INTAKE_##id,
    INTAKE_OUTCOMES(INTAKE_OUTCOME_ENUM)
#undef INTAKE_OUTCOME_ENUM
        INTAKE_OUTCOME_COUNT
};

static const char *const intake_labels[] = {
#define INTAKE_OUTCOME_LABEL(id, label) label,
    INTAKE_OUTCOMES(INTAKE_OUTCOME_LABEL)
#undef INTAKE_OUTCOME_LABEL
};

/* Delivery outcomes: one counter per delivery_result, labelled with delivery_result_word(). */
#define DELIVERY_OUTCOME_COUNT ((size_t)DELIVERY_RESULT_COUNT)

static const double duration_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
#define BUCKET_COUNT (sizeof duration_buckets / sizeof duration_buckets[0])

/* One histogram per route, plus one for requests that matched none. */
struct route_histogram {
    atomic_ullong buckets[BUCKET_COUNT]; /* not cumulative: summed when written */
    atomic_ullong count;
    atomic_ullong sum_microseconds;
};

static const struct config *metrics_config;
static const struct route *metrics_routes;
static size_t metrics_route_count;
static atomic_ullong *intake_counters;   /* [forum][outcome] */
static atomic_ullong *delivery_counters; /* [forum][outcome] */
static struct route_histogram *histograms;

int metrics_init(const struct config *config, const struct route *table, size_t route_count)
{
    metrics_config = config;
    metrics_routes = table;
    metrics_route_count = route_count;
    intake_counters = calloc(config->forum_count * INTAKE_OUTCOME_COUNT, sizeof *intake_counters);
    delivery_counters =
        calloc(config->forum_count * DELIVERY_OUTCOME_COUNT, sizeof *delivery_counters);
    histograms = calloc(route_count + 1, sizeof *histograms);
    if (!intake_counters || !delivery_counters || !histograms) {
        metrics_free();
        return -1;
    }
    return 0;
}

void metrics_free(void)
{
    free(intake_counters);
    free(delivery_counters);
    free(histograms);
    intake_counters = delivery_counters = NULL;
    histograms = NULL;
}

static long metrics_forum_index(const char *name)
{
    const struct forum_config *forum = name ? config_forum(metrics_config, name) : NULL;
    return forum ? forum - metrics_config->forums : -1;
}

static enum intake_outcome intake_outcome_of(const struct request *request)
{
    switch (request->status) {
    case 202:
        return request->intake_duplicate ? INTAKE_DUPLICATE : INTAKE_HELD;
    case 401:
        return INTAKE_UNAUTHORIZED;
    case 403:
        return INTAKE_FORBIDDEN;
    case 423:
        return INTAKE_BLOCKED;
    case 429:
        return INTAKE_RATE_LIMITED;
    case 503:
        return INTAKE_UNAVAILABLE;
    default:
        return request->status >= 400 && request->status < 500 ? INTAKE_INVALID : INTAKE_ERROR;
    }
}

void metrics_observe_request(const struct request *request, double seconds)
{
    size_t route = request->route ? (size_t)(request->route - metrics_routes) : metrics_route_count;
    struct route_histogram *histogram;

    if (!histograms)
        return;
    histogram = &histograms[route <= metrics_route_count ? route : metrics_route_count];
    for (size_t i = 0; i < BUCKET_COUNT; i++) {
        if (seconds <= duration_buckets[i]) {
            atomic_fetch_add(&histogram->buckets[i], 1);
            break;
        }
    }
    atomic_fetch_add(&histogram->count, 1);
    atomic_fetch_add(&histogram->sum_microseconds, (unsigned long long)(seconds * 1e6));
    if (request->route && request->route->handle == intake_handle && request->forum) {
        long forum = request->forum - metrics_config->forums;
        atomic_fetch_add(
            &intake_counters[forum * INTAKE_OUTCOME_COUNT + intake_outcome_of(request)], 1);
    }
}

void metrics_count_delivery(const char *forum_name, enum delivery_result result)
{
    long forum = metrics_forum_index(forum_name);
    if (forum < 0 || !delivery_counters || (size_t)result >= DELIVERY_OUTCOME_COUNT)
        return;
    atomic_fetch_add(&delivery_counters[(size_t)forum * DELIVERY_OUTCOME_COUNT + result], 1);
}

bool metrics_client_allowed(const struct request *request)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(request->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char client[INET6_ADDRSTRLEN];
    const struct sockaddr *address = info ? info->client_addr : NULL;

    if (!address)
        return false;
    if (address->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)address)->sin_addr, client, sizeof client);
    else if (address->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)address)->sin6_addr, client,
                  sizeof client);
    else
        return false;
    for (size_t i = 0; i < metrics_config->metrics_from.count; i++) {
        unsigned char a[16], b[16];
        const char *allowed = metrics_config->metrics_from.items[i];
        int family = strchr(allowed, ':') ? AF_INET6 : AF_INET;
        /* compare as addresses, so ::1 and 0:0::1 are the same */
        if (inet_pton(family, allowed, a) == 1 && inet_pton(family, client, b) == 1 &&
            memcmp(a, b, family == AF_INET ? 4 : 16) == 0)
            return true;
    }
    return false;
}

/* Label values are forum names, route patterns and fixed words: none needs escaping but a
 * route's braces are fine inside quotes. */
static void metrics_write_counters(struct text_buffer *text)
{
    const struct config *config = metrics_config;

    text_buffer_printf(text, "# HELP agentgate_intake_total Intake requests by forum and outcome.\n"
                             "# TYPE agentgate_intake_total counter\n");
    for (size_t f = 0; f < config->forum_count; f++)
        for (size_t o = 0; o < INTAKE_OUTCOME_COUNT; o++)
            text_buffer_printf(text, "agentgate_intake_total{forum=\"%s\",outcome=\"%s\"} %llu\n",
                               config->forums[f].name, intake_labels[o],
                               atomic_load(&intake_counters[f * INTAKE_OUTCOME_COUNT + o]));
    text_buffer_printf(text, "# HELP agentgate_deliveries_total Delivery attempts by forum and "
                             "outcome.\n# TYPE agentgate_deliveries_total counter\n");
    for (size_t f = 0; f < config->forum_count; f++)
        for (size_t o = 0; o < DELIVERY_OUTCOME_COUNT; o++)
            text_buffer_printf(
                text, "agentgate_deliveries_total{forum=\"%s\",outcome=\"%s\"} %llu\n",
                config->forums[f].name, delivery_result_word((enum delivery_result)o),
                atomic_load(&delivery_counters[f * DELIVERY_OUTCOME_COUNT + o]));
    text_buffer_printf(
        text,
        "# HELP agentgate_db_errors_total Failed statements and broken connections.\n"
        "# TYPE agentgate_db_errors_total counter\nagentgate_db_errors_total %llu\n",
        db_errors_total());
}

static void metrics_write_histograms(struct text_buffer *text)
{
    text_buffer_printf(text, "# HELP agentgate_http_request_duration_seconds Time from a request's "
                             "head to its answer, by route.\n"
                             "# TYPE agentgate_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= metrics_route_count; r++) {
        const struct route_histogram *histogram = &histograms[r];
        const char *method = r < metrics_route_count ? metrics_routes[r].method : "";
        const char *pattern = r < metrics_route_count ? metrics_routes[r].pattern : "unmatched";
        unsigned long long cumulative = 0;
        for (size_t b = 0; b < BUCKET_COUNT; b++) {
            cumulative += atomic_load(&histogram->buckets[b]);
            text_buffer_printf(text,
                               "agentgate_http_request_duration_seconds_bucket{route=\"%s %s\","
                               "le=\"%g\"} %llu\n",
                               method, pattern, duration_buckets[b], cumulative);
        }
        text_buffer_printf(
            text,
            "agentgate_http_request_duration_seconds_bucket{route=\"%s %s\",le=\"+Inf\"}"
            " %llu\n"
            "agentgate_http_request_duration_seconds_sum{route=\"%s %s\"} %.6f\n"
            "agentgate_http_request_duration_seconds_count{route=\"%s %s\"} %llu\n",
            method, pattern, atomic_load(&histogram->count), method, pattern,
            (double)atomic_load(&histogram->sum_microseconds) / 1e6, method, pattern,
            atomic_load(&histogram->count));
    }
}

/* The gauges PostgreSQL knows: drafts by state, the delivery backlog. */
static enum db_status metrics_write_gauges(struct text_buffer *text, struct db_connection *db)
{
    static const char *const states[] = {"pending",  "approved", "released", "release_failed",
                                         "rejected", "expired",  "revoked"};
    PGresult *rows;
    enum db_status status = metrics_read_drafts(db, &rows);

    if (status != DB_OK)
        return status;
    text_buffer_printf(text, "# HELP agentgate_drafts Drafts by forum and state.\n"
                             "# TYPE agentgate_drafts gauge\n");
    for (size_t f = 0; f < metrics_config->forum_count; f++) {
        for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
            const char *count = "0";
            for (int row = 0; row < PQntuples(rows); row++)
                if (strcmp(PQgetvalue(rows, row, 0), metrics_config->forums[f].name) == 0 &&
                    strcmp(PQgetvalue(rows, row, 1), states[s]) == 0)
                    count = PQgetvalue(rows, row, 2);
            text_buffer_printf(text, "agentgate_drafts{forum=\"%s\",state=\"%s\"} %s\n",
                               metrics_config->forums[f].name, states[s], count);
        }
    }
    PQclear(rows);
    status = metrics_read_outbox(db, &rows);
    if (status != DB_OK)
        return status;
    text_buffer_printf(text,
                       "# HELP agentgate_delivery_backlog Events waiting to reach their forum.\n"
                       "# TYPE agentgate_delivery_backlog gauge\nagentgate_delivery_backlog %s\n"
                       "# HELP agentgate_delivery_oldest_due_seconds How long the oldest due event "
                       "has waited.\n"
                       "# TYPE agentgate_delivery_oldest_due_seconds gauge\n"
                       "agentgate_delivery_oldest_due_seconds %s\n",
                       PQgetvalue(rows, 0, 0), PQgetvalue(rows, 0, 1));
    PQclear(rows);
    return DB_OK;
}

static void metrics_text_free(void *data)
{
    text_buffer_free(data);
    free(data);
}

enum MHD_Result metrics_serve(struct request *request)
{
    struct text_buffer *text =
        http_request_state(request, calloc(1, sizeof *text), metrics_text_free);
    struct db_connection *db;
    enum db_status status;

    if (!metrics_client_allowed(request))
        return http_reply_error(request, ERR_NOT_FOUND, NULL, NULL);
    if (!text)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    text_buffer_printf(text, "# HELP agentgate_build_info The running agentgate.\n"
                             "# TYPE agentgate_build_info gauge\n"
                             "agentgate_build_info{version=\"" AGENTGATE_VERSION "\"} 1\n");
    metrics_write_counters(text);
    metrics_write_histograms(text);
    db = db_thread_connection();
    status = db ? metrics_write_gauges(text, db) : DB_UNAVAILABLE;
    if (status != DB_OK)
        return http_reply_error(request, error_from_db_status(status), NULL, NULL);
    if (text->failed)
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    return http_reply_text(request, 200, "text/plain; version=0.0.4; charset=utf-8", text->data,
                           text->length);
}
