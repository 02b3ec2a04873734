/* libmicrohttpd glue: routing, request contexts, replies and connection limits; see http.h. */
#include "web/http.h"

#include <errno.h>
#include <netdb.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "clock.h"
#include "hex.h"
#include "log.h"
#include "operations/metrics.h"

#define LISTEN_BACKLOG 1024

/* One live connection, for the deadline reaper. Guarded by connections_lock. */
struct connection_entry {
    struct connection_entry *next, *previous;
    int fd;
    long long deadline_ms;        /* the request must have arrived in full by then */
    long long header_deadline_ms; /* its head must have arrived by then (LLONG_MAX: it has) */
    bool busy;                    /* a handler is running: never cut it off mid-transaction */
    bool cut;
};

/* The queue of requests waiting for a database worker. Guarded by jobs_lock. */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_ready = PTHREAD_COND_INITIALIZER;
static struct request *jobs_head, *jobs_tail;
static bool jobs_stopping;
static pthread_t *job_workers;
static unsigned job_worker_count;

static const struct route *routes_table;
static size_t routes_count;
static pthread_mutex_t connections_lock = PTHREAD_MUTEX_INITIALIZER;
static struct connection_entry connections_head = {
    &connections_head, &connections_head, -1, 0, 0, false, false};
static long long request_timeout_ms, header_timeout_ms;
/* "timeout=N": when an idle kept-alive connection is cut (see http_start()) */
static char keep_alive_hint[32];
static pthread_t reaper_thread;
static atomic_bool reaper_running;
/* Replies ready but held back by http_reply_delay(); the reaper sends them when due. */
static pthread_mutex_t delayed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct request *delayed_head;
/* Requests between their head and their completion, and whether serve is stopping. */
static atomic_uint requests_in_flight;
static atomic_bool draining;

void *http_request_state(struct request *request, void *state, void (*state_free)(void *state))
{
    if (request->state_free)
        request->state_free(request->state); /* a handler that replaces its state */
    request->state = state;
    request->state_free = state ? state_free : NULL;
    return state;
}

const char *http_header(const struct request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

void http_reply_header(struct request *request, const char *name, const char *value)
{
    char *copies[2];

    if (request->extra_header_count >= HTTP_EXTRA_HEADERS_MAX ||
        strlen(value) > HTTP_HEADER_VALUE_MAX || strpbrk(value, "\r\n")) {
        log_error(request->id, "reply header %s refused (too many, too long or with CR/LF)", name);
        request->extra_header_refused = true;
        return;
    }
    copies[0] = strdup(name);
    copies[1] = strdup(value);
    if (!copies[0] || !copies[1]) {
        free(copies[0]);
        free(copies[1]);
        request->extra_header_refused = true;
        return;
    }
    request->extra_headers[request->extra_header_count][0] = copies[0];
    request->extra_headers[request->extra_header_count][1] = copies[1];
    request->extra_header_count++;
}

static bool http_reply_has_header(const struct request *request, const char *name)
{
    for (unsigned i = 0; i < request->extra_header_count; i++)
        if (strcasecmp(request->extra_headers[i][0], name) == 0)
            return true;
    return false;
}

static void request_headers_free(struct request *request)
{
    for (unsigned i = 0; i < request->extra_header_count; i++) {
        free(request->extra_headers[i][0]);
        free(request->extra_headers[i][1]);
    }
    request->extra_header_count = 0;
}

enum MHD_Result http_reply_response(struct request *request, unsigned status,
                                    struct MHD_Response *response, const char *content_type)
{
    enum MHD_Result queued;

    if (!response)
        return MHD_NO;
    if (request->extra_header_refused) {
        /* a header that would have been cut or dropped: answer nothing half-right */
        static const char body[] = "internal error\n";
        MHD_destroy_response(response);
        request_headers_free(request);
        request->extra_header_refused = false;
        status = 500;
        content_type = "text/plain; charset=utf-8";
        response =
            MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!response)
            return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, "X-Request-Id", request->id);
    MHD_add_response_header(response, "Keep-Alive", keep_alive_hint);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    /* Every answer, page or JSON: no script at all, no framing, nothing loaded from elsewhere. */
    MHD_add_response_header(response, "Content-Security-Policy",
                            "default-src 'none'; style-src 'self'; img-src 'self'; "
                            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                            "object-src 'none'");
    MHD_add_response_header(response, "Referrer-Policy", "same-origin");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Cross-Origin-Opener-Policy", "same-origin");
    if (strncmp(request->server->config->public_url, "https://", 8) == 0)
        MHD_add_response_header(response, "Strict-Transport-Security",
                                "max-age=31536000; includeSubDomains");
    for (unsigned i = 0; i < request->extra_header_count; i++)
        MHD_add_response_header(response, request->extra_headers[i][0],
                                request->extra_headers[i][1]);
    request->status = status;
    if (request->deferred) {
        /* on a database worker: queued by on_request() once the connection resumes */
        if (request->pending_response)
            MHD_destroy_response(request->pending_response);
        request->pending_response = response;
        request->pending_status = status;
        return MHD_YES;
    }
    queued = MHD_queue_response(request->connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

enum MHD_Result http_reply_text(struct request *request, unsigned status, const char *content_type,
                                const char *text, size_t length)
{
    return http_reply_response(
        request, status,
        MHD_create_response_from_buffer(length, (void *)text, MHD_RESPMEM_MUST_COPY), content_type);
}

enum MHD_Result http_reply_redirect(struct request *request, unsigned status, const char *location)
{
    http_reply_header(request, "Location", location);
    return http_reply_text(request, status, "text/plain; charset=utf-8", "", 0);
}

enum MHD_Result http_reply_json(struct request *request, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    enum MHD_Result queued;

    json_decref(body);
    if (!text)
        return http_reply_text(request, 500, "application/json",
                               "{\"error\":{\"code\":\"internal_error\",\"message\":\"internal "
                               "error\"}}",
                               62);
    queued = http_reply_text(request, status, "application/json", text, strlen(text));
    free(text);
    return queued;
}

enum MHD_Result http_reply_error(struct request *request, enum agentgate_error error,
                                 const char *field, const char *message)
{
    json_t *detail = json_pack("{s:s, s:s}", "code", error_code(error), "message",
                               message ? message : error_message(error));
    json_t *body;
    unsigned status = error_http_status(error);

    if (detail && field && *field)
        json_object_set_new(detail, "field", json_string(field));
    if (status == 423)
        body = json_pack("{s:s, s:o}", "status", "blocked", "error", detail);
    else
        body = json_pack("{s:o}", "error", detail);
    /* "field" also at the top level, for clients that read it there */
    if (body && field && *field)
        json_object_set_new(body, "field", json_string(field));
    if (status == 503 && !http_reply_has_header(request, "Retry-After"))
        http_reply_header(request, "Retry-After", "5");
    if (status >= 500)
        log_warn(request->id, "%s %s -> %u %s", request->method, request->path, status,
                 error_code(error));
    return http_reply_json(request, status, body);
}

enum MHD_Result http_reply_failure(struct request *request, const struct agentgate_failure *failure)
{
    enum agentgate_error error = error_from_code(failure->code);
    /* an adapter's own code: the request was refused for a reason the adapter states */
    if (error == ERR_INTERNAL)
        error = ERR_INVALID_FIELD;
    return http_reply_error(request, error, failure->field, failure->message);
}

/* Matches `path` against `pattern`, capturing {} segments. */
static bool route_match(const char *pattern, const char *path, struct request *request)
{
    size_t count = 0;

    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t length = strcspn(path, "/");
            if (length == 0 || length >= HTTP_PATH_PARAM_MAX || count >= HTTP_PATH_PARAMS_MAX)
                return false;
            if (request) {
                memcpy(request->params[count], path, length);
                request->params[count][length] = '\0';
            }
            count++;
            path += length;
            pattern += 2;
        } else if (*pattern == *path) {
            pattern++;
            path++;
        } else {
            return false;
        }
    }
    if (*pattern || *path)
        return false;
    if (request)
        request->param_count = count;
    return true;
}

/* Finds the route; on a path match with another method, fills `allow` and returns NULL. */
static const struct route *route_find(const char *method, const char *path, struct request *request,
                                      char *allow, size_t allow_size)
{
    allow[0] = '\0';
    for (size_t i = 0; i < routes_count; i++) {
        const struct route *route = &routes_table[i];
        if (!route_match(route->pattern, path, NULL))
            continue;
        if (strcmp(route->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0)) {
            route_match(route->pattern, path, request);
            return route;
        }
        if (!strstr(allow, route->method)) {
            size_t used = strlen(allow);
            snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", route->method);
        }
    }
    return NULL;
}

static struct request *request_new(struct server *server, struct MHD_Connection *connection,
                                   const char *method, const char *url)
{
    struct request *request = calloc(1, sizeof *request);
    unsigned char random[8];
    const union MHD_ConnectionInfo *info;

    if (!request)
        return NULL;
    request->server = server;
    request->connection = connection;
    request->started_ms = clock_monotonic_ms();
    atomic_fetch_add(&requests_in_flight, 1);
    randombytes_buf(random, sizeof random);
    hex_encode(random, sizeof random, request->id);
    snprintf(request->method, sizeof request->method, "%s", method);
    snprintf(request->path, sizeof request->path, "%s", url);
    info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info)
        request->connection_entry = info->socket_context;
    return request;
}

/* The request's head is in: the header deadline no longer applies to it. */
static void connection_headers_arrived(struct request *request)
{
    struct connection_entry *entry = request->connection_entry;
    if (!entry)
        return;
    pthread_mutex_lock(&connections_lock);
    entry->header_deadline_ms = LLONG_MAX;
    pthread_mutex_unlock(&connections_lock);
}

static void connection_set_busy(struct request *request, bool busy)
{
    struct connection_entry *entry = request->connection_entry;
    if (!entry)
        return;
    pthread_mutex_lock(&connections_lock);
    entry->busy = busy;
    pthread_mutex_unlock(&connections_lock);
}

/* Parses Content-Length; false when absent. */
static bool request_content_length(struct request *request, unsigned long long *length)
{
    const char *text = http_header(request, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    if (!text || !*text)
        return false;
    *length = strtoull(text, &end, 10);
    return *end == '\0';
}

/* The first call for a request, with its head: creates the request, finds its route and
 * answers at once what cannot go further (draining, no route, wrong method, refused by the
 * route's prepare, a declared body over the limit). */
static enum MHD_Result request_head(struct server *server, struct MHD_Connection *connection,
                                    const char *url, const char *method, void **request_context)
{
    struct request *request = request_new(server, connection, method, url);
    unsigned long long content_length;
    char allow[64];

    if (!request)
        return MHD_NO;
    *request_context = request;
    connection_headers_arrived(request);
    /* decided before the log line: whoever sees "head received" may rely on the request being
     * served to its end, even if a stop begins a moment later */
    bool stopping = atomic_load(&draining);
    log_debug(request->id, "%s %s: %s", request->method, request->path,
              stopping ? "refused, stopping" : "head received");
    request->route = route_find(method, url, request, allow, sizeof allow);
    if (stopping) {
        /* stopping: nothing new starts; the client retries elsewhere or later */
        http_reply_header(request, MHD_HTTP_HEADER_CONNECTION, "close");
        request->early_error = ERR_SHUTTING_DOWN;
    } else if (!request->route) {
        if (allow[0]) {
            http_reply_header(request, "Allow", allow);
            request->early_error = ERR_METHOD_NOT_ALLOWED;
        } else {
            request->early_error = ERR_NOT_FOUND;
        }
    } else {
        request->body_limit = request->route->body_limit;
        if (request->route->prepare)
            request->early_error = request->route->prepare(request);
    }
    if (request->early_error == ERR_NONE && request_content_length(request, &content_length) &&
        content_length > request->body_limit)
        request->early_error = ERR_BODY_TOO_LARGE;
    if (request->early_error != ERR_NONE)
        return http_reply_error(request, request->early_error, NULL, NULL);
    return MHD_YES;
}

/* A piece of the body: kept up to the route's limit, discarded after an early answer, and the
 * request answered 413 (or dropped) once it outgrows the limit or the request timeout. */
static enum MHD_Result request_body_chunk(struct request *request, const char *upload_data,
                                          size_t chunk)
{
    if (request->early_error != ERR_NONE || request->body_too_large)
        return MHD_YES; /* discarding */
    if (clock_monotonic_ms() - request->started_ms > request_timeout_ms)
        return MHD_NO;
    if (chunk > request->body_limit - request->body_length) {
        request->body_too_large = true;
        free(request->body);
        request->body = NULL;
        request->body_length = 0;
        /* Answer now if libmicrohttpd lets us; it then discards the rest of the body. */
        if (http_reply_error(request, ERR_BODY_TOO_LARGE, NULL, NULL) == MHD_YES)
            request->early_error = ERR_BODY_TOO_LARGE;
        return MHD_YES;
    }
    if (request->body_length + chunk > request->body_capacity) {
        size_t capacity = request->body_capacity ? request->body_capacity : 4096;
        char *grown;
        while (capacity < request->body_length + chunk)
            capacity *= 2;
        if (capacity > request->body_limit)
            capacity = request->body_limit;
        grown = realloc(request->body, capacity + 1);
        if (!grown)
            return MHD_NO;
        request->body = grown;
        request->body_capacity = capacity;
    }
    memcpy(request->body + request->body_length, upload_data, chunk);
    request->body_length += chunk;
    return MHD_YES;
}

/* The whole body is in: hands the request to a database worker (suspending the connection),
 * or, while shutting down with no workers left, runs its handler on this thread. */
static enum MHD_Result request_dispatch(struct MHD_Connection *connection, struct request *request)
{
    if (!request->body) {
        request->body = malloc(1);
        if (!request->body)
            return MHD_NO;
    }
    request->body[request->body_length] = '\0';
    connection_set_busy(request, true);
    request->dispatched = true;
    pthread_mutex_lock(&jobs_lock);
    if (!jobs_stopping && job_worker_count > 0) {
        request->deferred = true;
        MHD_suspend_connection(connection);
        request->next_job = NULL;
        if (jobs_tail)
            jobs_tail->next_job = request;
        else
            jobs_head = request;
        jobs_tail = request;
        pthread_cond_signal(&jobs_ready);
        pthread_mutex_unlock(&jobs_lock);
        return MHD_YES;
    }
    pthread_mutex_unlock(&jobs_lock);
    /* shutting down: the workers are gone, answer on this thread */
    return request->route->handle(request);
}

/* libmicrohttpd's access handler: called with the head, then with each piece of the body, then
 * once more when the body is complete, and again after a worker resumed the connection. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **request_context)
{
    struct request *request = *request_context;
    (void)version;

    if (!request)
        return request_head(cls, connection, url, method, request_context);
    if (*upload_data_size > 0) {
        size_t chunk = *upload_data_size;
        *upload_data_size = 0;
        return request_body_chunk(request, upload_data, chunk);
    }
    if (request->pending_response) {
        /* resumed: the database worker has prepared the reply */
        enum MHD_Result queued =
            MHD_queue_response(connection, request->pending_status, request->pending_response);
        MHD_destroy_response(request->pending_response);
        request->pending_response = NULL;
        /* still busy: the deadline bounds a request's arrival, not the sending of its answer
         * (a long export); on_completed() clears it */
        return queued;
    }
    if (request->dispatched)
        return request->handler_failed ? MHD_NO : MHD_YES;
    if (request->early_error != ERR_NONE)
        return MHD_YES; /* already answered */
    if (request->body_too_large)
        return http_reply_error(request, ERR_BODY_TOO_LARGE, NULL, NULL);
    return request_dispatch(connection, request);
}

/* A database worker: runs handlers of suspended connections, then resumes them. */
static void *job_worker_run(void *argument)
{
    (void)argument;
    for (;;) {
        struct request *request;
        pthread_mutex_lock(&jobs_lock);
        while (!jobs_head && !jobs_stopping)
            pthread_cond_wait(&jobs_ready, &jobs_lock);
        request = jobs_head;
        if (!request) {
            pthread_mutex_unlock(&jobs_lock);
            break; /* stopping and nothing left */
        }
        jobs_head = request->next_job;
        if (!jobs_head)
            jobs_tail = NULL;
        pthread_mutex_unlock(&jobs_lock);

        if (request->route->handle(request) != MHD_YES && !request->pending_response)
            request->handler_failed = true;
        if (request->reply_not_before_ms > clock_monotonic_ms()) {
            pthread_mutex_lock(&delayed_lock);
            request->next_job = delayed_head;
            delayed_head = request;
            pthread_mutex_unlock(&delayed_lock);
            continue;
        }
        request->deferred = false;
        MHD_resume_connection(request->connection);
    }
    db_thread_release();
    return NULL;
}

void http_reply_delay(struct request *request, long long delay_ms)
{
    request->reply_not_before_ms = clock_monotonic_ms() + delay_ms;
}

/* Sends the delayed replies that are due (all of them with `all`). */
static void delayed_replies_send(bool all)
{
    long long now = clock_monotonic_ms();
    struct request **link, *request;

    pthread_mutex_lock(&delayed_lock);
    for (link = &delayed_head; (request = *link) != NULL;) {
        if (!all && request->reply_not_before_ms > now) {
            link = &request->next_job;
            continue;
        }
        *link = request->next_job;
        request->deferred = false;
        MHD_resume_connection(request->connection);
    }
    pthread_mutex_unlock(&delayed_lock);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **request_context,
                         enum MHD_RequestTerminationCode termination)
{
    struct request *request = *request_context;
    struct connection_entry *entry;
    (void)cls;
    (void)connection;

    if (!request)
        return;
    entry = request->connection_entry;
    if (entry) {
        /* The next request on a kept-alive connection gets its own deadline. */
        pthread_mutex_lock(&connections_lock);
        entry->deadline_ms = clock_monotonic_ms() + request_timeout_ms;
        entry->header_deadline_ms = clock_monotonic_ms() + header_timeout_ms;
        entry->busy = false;
        pthread_mutex_unlock(&connections_lock);
    }
    metrics_observe_request(request, (double)(clock_monotonic_ms() - request->started_ms) / 1000.0);
    log_info(request->id, "%s %s %u %lldms%s", request->method, request->path, request->status,
             clock_monotonic_ms() - request->started_ms,
             termination == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
    if (request->pending_response)
        MHD_destroy_response(request->pending_response);
    if (request->state_free)
        request->state_free(request->state);
    request_headers_free(request);
    free(request->user);
    sodium_memzero(request->session_token, sizeof request->session_token);
    free(request->body);
    free(request);
    *request_context = NULL;
    atomic_fetch_sub(&requests_in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct connection_entry *entry;
    (void)cls;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        entry = calloc(1, sizeof *entry);
        if (!entry || !info) {
            free(entry);
            *socket_context = NULL;
            return;
        }
        entry->fd = info->connect_fd;
        entry->deadline_ms = clock_monotonic_ms() + request_timeout_ms;
        entry->header_deadline_ms = clock_monotonic_ms() + header_timeout_ms;
        pthread_mutex_lock(&connections_lock);
        entry->next = connections_head.next;
        entry->previous = &connections_head;
        connections_head.next->previous = entry;
        connections_head.next = entry;
        pthread_mutex_unlock(&connections_lock);
        *socket_context = entry;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        entry = *socket_context;
        if (!entry)
            return;
        /* Removed before libmicrohttpd closes the descriptor, so the reaper never touches a
         * descriptor number that was reused by another connection. */
        pthread_mutex_lock(&connections_lock);
        entry->previous->next = entry->next;
        entry->next->previous = entry->previous;
        pthread_mutex_unlock(&connections_lock);
        free(entry);
        *socket_context = NULL;
    }
}

/* Shuts down connections past their deadline; libmicrohttpd then sees the end and closes them. */
static void *reaper_run(void *argument)
{
    (void)argument;
    while (atomic_load(&reaper_running)) {
        long long now;
        unsigned late_heads = 0, late_bodies = 0;
        struct timespec pause = {0, 250 * 1000 * 1000};
        nanosleep(&pause, NULL);
        delayed_replies_send(false);
        now = clock_monotonic_ms();
        pthread_mutex_lock(&connections_lock);
        for (struct connection_entry *entry = connections_head.next; entry != &connections_head;
             entry = entry->next) {
            if (entry->busy || entry->cut)
                continue;
            if (now > entry->header_deadline_ms)
                late_heads++;
            else if (now > entry->deadline_ms)
                late_bodies++;
            else
                continue;
            shutdown(entry->fd, SHUT_RDWR);
            entry->cut = true;
        }
        pthread_mutex_unlock(&connections_lock);
        /* one line per sweep, not per connection: a flood of slow clients cannot flood the log */
        if (late_heads || late_bodies)
            log_info(NULL,
                     "connections cut: %u without a complete head within %llds, %u without "
                     "a complete request within %llds",
                     late_heads, header_timeout_ms / 1000, late_bodies, request_timeout_ms / 1000);
    }
    return NULL;
}

static void on_mhd_log(void *cls, const char *format, va_list args)
{
    char message[512];
    (void)cls;
    vsnprintf(message, sizeof message, format, args);
    message[strcspn(message, "\n")] = '\0';
    log_event(LOG_DEBUG, NULL, "libmicrohttpd: %s", message);
}

int http_listen(struct server *server, char *error, size_t error_size)
{
    const struct config *config = server->config;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *address;
    struct sockaddr_storage bound;
    socklen_t bound_length = sizeof bound;
    char port[8];
    int fd, one = 1, status, failure;

    snprintf(port, sizeof port, "%u", config->listen_port);
    status = getaddrinfo(config->listen_host, port, &hints, &address);
    if (status != 0) {
        snprintf(error, error_size, "cannot resolve listen address %s: %s", config->listen_host,
                 gai_strerror(status));
        return -1;
    }
    fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                address->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (address->ai_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, address->ai_addr, address->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &bound_length) != 0) {
        failure = errno;
        snprintf(error, error_size, "cannot listen on %s:%u: %s", config->listen_host,
                 config->listen_port, strerror(failure));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(address);
        return -1;
    }
    server->ipv6 = address->ai_family == AF_INET6;
    freeaddrinfo(address);
    server->listen_fd = fd;
    server->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                     : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int http_start(struct server *server, const struct route *routes, size_t route_count, char *error,
               size_t error_size)
{
    const struct config *config = server->config;
    /* poll(), not epoll: libmicrohttpd 0.9.75 can abort the process when an epoll daemon with
     * its own threads is quiesced (MHD_quiesce_daemon and a worker's MHD_epoll both remove the
     * listening socket from the epoll set, and the loser panics). Quiescing is how a stop
     * refuses new connections, and with poll() it only wakes the threads. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;

    routes_table = routes;
    routes_count = route_count;
    request_timeout_ms = config->request_timeout_seconds * 1000;
    header_timeout_ms = config->header_timeout_seconds * 1000;
    /* An idle kept-alive connection is cut when its next head is late (the reaper, after
     * header_timeout) or when it stays idle (libmicrohttpd, after idle_timeout), whichever comes
     * first. Saying when lets a client close it first instead of sending a request into a
     * connection that is being closed, which it would see as a failure with no answer. */
    snprintf(keep_alive_hint, sizeof keep_alive_hint, "timeout=%u",
             config->header_timeout_seconds < config->idle_timeout_seconds
                 ? (unsigned)config->header_timeout_seconds
                 : (unsigned)config->idle_timeout_seconds);
    atomic_store(&draining, false);
    if (server->ipv6)
        flags |= MHD_USE_IPv6;
    /* libmicrohttpd takes over the socket http_listen() bound, and closes it when stopped */
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_LISTEN_SOCKET, server->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)config->http_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)config->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)config->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)config->idle_timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)config->connection_memory_limit,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
    if (!server->daemon) {
        close(server->listen_fd);
        server->listen_fd = -1;
        snprintf(error, error_size, "cannot serve on %s:%u", config->listen_host, server->port);
        return -1;
    }
    server->listen_fd = -1;
    jobs_stopping = false;
    job_workers = calloc(config->threads, sizeof *job_workers);
    if (!job_workers) {
        MHD_stop_daemon(server->daemon);
        server->daemon = NULL;
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    for (job_worker_count = 0; job_worker_count < config->threads; job_worker_count++)
        if (pthread_create(&job_workers[job_worker_count], NULL, job_worker_run, NULL) != 0)
            break;
    atomic_store(&reaper_running, true);
    if (pthread_create(&reaper_thread, NULL, reaper_run, NULL) != 0) {
        MHD_stop_daemon(server->daemon);
        server->daemon = NULL;
        snprintf(error, error_size, "cannot start the connection reaper thread");
        return -1;
    }
    return 0;
}

void http_stop(struct server *server)
{
    if (!server->daemon)
        return;
    /* Workers finish (and resume) every queued request before they exit; requests arriving
     * after that run on the HTTP threads. No connection stays suspended, as
     * MHD_stop_daemon() requires. */
    pthread_mutex_lock(&jobs_lock);
    jobs_stopping = true;
    pthread_cond_broadcast(&jobs_ready);
    pthread_mutex_unlock(&jobs_lock);
    for (unsigned i = 0; i < job_worker_count; i++)
        pthread_join(job_workers[i], NULL);
    free(job_workers);
    job_workers = NULL;
    job_worker_count = 0;
    atomic_store(&reaper_running, false);
    pthread_join(reaper_thread, NULL);
    delayed_replies_send(true);
    MHD_stop_daemon(server->daemon);
    server->daemon = NULL;
    /* a quiesced daemon leaves its listening socket to us (http_drain) */
    if (server->listen_fd >= 0) {
        close(server->listen_fd);
        server->listen_fd = -1;
    }
}

unsigned http_drain(struct server *server, long long timeout_ms)
{
    long long deadline = clock_monotonic_ms() + timeout_ms;
    unsigned left;

    if (!server->daemon)
        return 0;
    atomic_store(&draining, true);
    {
        /* Stop accepting: the HTTP threads no longer poll the listening socket, and shutdown()
         * takes it out of the listening state, so the kernel refuses new connections from now
         * on. It is closed only after the daemon stopped: closed now, its number could be
         * reused by a new descriptor while a thread still in poll() goes on to accept() it. */
        server->listen_fd = MHD_quiesce_daemon(server->daemon);
        if (server->listen_fd >= 0)
            shutdown(server->listen_fd, SHUT_RDWR);
        /* said once it is true, so that whoever watches the log can rely on it */
        log_info(NULL, "no longer accepting connections");
    }
    while ((left = atomic_load(&requests_in_flight)) > 0 && clock_monotonic_ms() < deadline) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (left)
        log_warn(NULL, "stopping with %u request(s) still in flight after %llds", left,
                 timeout_ms / 1000);
    http_stop(server);
    return left;
}
