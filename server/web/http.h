/*
 * The HTTP front: libmicrohttpd with a poll() thread pool, a routing table,
 * one request context per request, and every reply built here.
 *
 * Request lifetime: a struct request is allocated on libmicrohttpd's first
 * callback for a request and freed only in the completion callback, which
 * also calls the handler's state cleanup once (http_request_state). Handlers
 * hang what they allocate on the request and never free on error paths. A
 * handler is called once, after the whole body has arrived, and must queue
 * exactly one reply through the http_reply_* functions.
 *
 * Threads: a few HTTP threads (poll) read requests, check limits and answer
 * what the headers alone decide; then the connection is suspended and the
 * handler runs on one of `threads` database workers, each owning one
 * PostgreSQL connection, so every worker's session is used whichever HTTP
 * thread a keep-alive connection landed on. The reply is queued when the
 * connection resumes. Errors decided from the headers alone (unknown
 * route, 405, 413 by Content-Length, 415) are answered before the body is
 * read.
 *
 * Limits: connection count, connections per IP, idle timeout, per-connection
 * memory, the route's body limit (checked against Content-Length before
 * reading and while reading chunked bodies) and an absolute deadline per
 * request enforced by a reaper thread, so a client dribbling bytes cannot hold
 * a connection forever.
 */
#ifndef AGENTGATE_HTTP_H
#define AGENTGATE_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "agentgate/plugin.h"
#include "config.h"
#include "db/sessions.h"
#include "web/errors.h"

#define HTTP_PATH_PARAMS_MAX   3
#define HTTP_EXTRA_HEADERS_MAX 8
#define HTTP_HEADER_VALUE_MAX  8192
#define HTTP_PATH_PARAM_MAX    128

struct request;
struct server;

typedef enum MHD_Result (*http_handler_fn)(struct request *request);
/* Called once the headers are in: may set request->body_limit or return an error to answer
 * at once (ERR_NONE to go on). */
typedef enum agentgate_error (*http_prepare_fn)(struct request *request);

struct route {
    const char *method;
    const char *pattern; /* "/v1/forums/{}/posts": {} matches one non-empty segment */
    http_prepare_fn prepare;
    http_handler_fn handle;
    size_t body_limit; /* default; 0 means no body */
};

struct request {
    struct server *server;
    struct MHD_Connection *connection;
    const struct route *route;
    char id[17];
    char params[HTTP_PATH_PARAMS_MAX][HTTP_PATH_PARAM_MAX];
    size_t param_count;
    char *body;
    size_t body_length;
    size_t body_capacity;
    size_t body_limit;
    bool body_too_large;
    enum agentgate_error early_error;
    long long started_ms;
    unsigned status;
    const struct forum_config *forum; /* set by routes under /v1/forums/{forum} */
    void *connection_entry;           /* the reaper's record of this connection */
    struct session_identity *user;    /* the signed-in user, once auth_user() looked */
    bool user_resolved;
    char session_token[48]; /* the cookie's token, for the CSRF token */
    char csrf[65];
    char *extra_headers[HTTP_EXTRA_HEADERS_MAX][2]; /* name, value; malloc'd */
    unsigned extra_header_count;
    bool extra_header_refused; /* one did not fit: the reply becomes a 500 */
    /* Handlers run on a database worker while the connection is suspended; their reply is
     * kept here and queued when libmicrohttpd resumes the connection. */
    bool deferred;
    bool dispatched;
    bool handler_failed;
    struct MHD_Response *pending_response;
    unsigned pending_status;
    struct request *next_job; /* in the queue for a worker, then in the list of delayed replies */
    long long reply_not_before_ms; /* see http_reply_delay(); 0: at once */
    char method[16];
    char path[256];
    bool intake_duplicate; /* intake answered a replayed webhook-id (for /metrics) */
    /* The handler's state and its cleanup, called once from the completion callback. */
    void *state;
    void (*state_free)(void *state);
};

struct server {
    const struct config *config;
    struct MHD_Daemon *daemon;
    unsigned schema_version; /* the newest migration this binary knows */
    int listen_fd;           /* bound by http_listen(), handed to libmicrohttpd by http_start() */
    bool ipv6;
    unsigned port; /* the bound port: the kernel's choice when `listen` gives port 0 */
};

/* Binds and listens on `listen` (port 0: a free port the kernel picks) and records the port, so
 * it is known before any thread serves. Returns 0, or -1 with a message. */
int http_listen(struct server *server, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Starts serving `config` with `routes` (n entries) on the socket http_listen() bound. Returns
 * 0, or -1 with a message. */
int http_start(struct server *server, const struct route *routes, size_t route_count, char *error,
               size_t error_size) __attribute__((warn_unused_result));
void http_stop(struct server *server);

/* Hangs `state` on the request: `state_free(state)` runs once, when the request is complete,
 * whatever the handler answered. Returns `state` (NULL when it is NULL: out of memory). A
 * request holds one state; handlers keep everything they allocate in it. */
void *http_request_state(struct request *request, void *state, void (*state_free)(void *state));

/* A request header, or NULL. */
const char *http_header(const struct request *request, const char *name);

/* Replies. `body` is stolen (json_decref'd here). Each returns the result of queueing. */
enum MHD_Result http_reply_json(struct request *request, unsigned status, json_t *body);
enum MHD_Result http_reply_error(struct request *request, enum agentgate_error error,
                                 const char *field, const char *message);
/* The error answer for a failure a JSON spec check or an adapter reported: its code (through
 * the registry, so the status is the registry's), field and message. */
enum MHD_Result http_reply_failure(struct request *request,
                                   const struct agentgate_failure *failure);
/* Sends `text` with `content_type`, copying it. */
enum MHD_Result http_reply_text(struct request *request, unsigned status, const char *content_type,
                                const char *text, size_t length);
/* Sends a response built by the caller (e.g. MHD_create_response_from_callback for a stream),
 * adding the common security headers and the Content-Type; takes ownership of `response`.
 * Use this, never MHD_queue_response(): handlers run on database workers and the reply is
 * queued when the connection resumes. */
enum MHD_Result http_reply_response(struct request *request, unsigned status,
                                    struct MHD_Response *response, const char *content_type);
/* A redirect (302/303) to `location` (a path on agentgate or a URL agentgate built). */
enum MHD_Result http_reply_redirect(struct request *request, unsigned status, const char *location);
/* The reply this handler queues goes out no sooner than `delay_ms` from now. Meanwhile the
 * connection stays suspended and holds no database worker: for answers that should cost a
 * client that floods the server time, not the server (a 429 an agent far over its limit gets
 * from memory). Only a handler running on a database worker is delayed; during a stop, replies
 * go out at once. */
void http_reply_delay(struct request *request, long long delay_ms);

/* Adds a header to the reply of this request (both strings are copied). A header is never
 * cut: one more than HTTP_EXTRA_HEADERS_MAX, a value over HTTP_HEADER_VALUE_MAX bytes or with
 * CR/LF turns the reply into a 500 (logged), so a Location or cookie is sent whole or not at
 * all. */
void http_reply_header(struct request *request, const char *name, const char *value);

/* Stops accepting connections, lets requests in flight finish for up to `timeout_ms`, then
 * stops the database workers and the daemon (http_stop). Returns the number of requests still
 * in flight when it gave up (0 when all finished). */
unsigned http_drain(struct server *server, long long timeout_ms);

#endif
