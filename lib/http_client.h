/*
 * Outbound HTTP for deliveries (libcurl): one client per delivery worker,
 * reused across requests. Redirects are never followed, TLS is verified,
 * only http and https are spoken, connect and total time are bounded, and the
 * answer kept is capped (a forum cannot make agentgate buffer without end).
 */
#ifndef AGENTGATE_HTTP_CLIENT_H
#define AGENTGATE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_CLIENT_ANSWER_MAX (256 * 1024)

struct http_client;

struct http_client_header {
    const char *name;
    const char *value;
};

struct http_client_result {
    long status;     /* 0 when no HTTP answer arrived */
    char error[256]; /* transport error, "" when an answer arrived */
    char *body;      /* malloc'd, NUL-terminated; may be NULL */
    size_t body_length;
    long retry_after_seconds; /* from Retry-After (seconds or date); -1 when absent */
    bool abort_requested;     /* "webhook-delivery: abort-message" */
    long duration_ms;
};

/* A new client that names itself `user_agent` (copied, at most 63 bytes) and has these
 * timeouts; NULL on failure. */
struct http_client *http_client_new(const char *user_agent, long connect_timeout_ms,
                                    long timeout_ms) __attribute__((warn_unused_result));
void http_client_free(struct http_client *client);

/* Sends one request. Fills *result (call http_client_result_clear() after). Returns false only
 * when the request could not be set up at all. */
bool http_client_send(struct http_client *client, const char *method, const char *url,
                      const struct http_client_header *headers, size_t header_count,
                      const char *body, size_t body_length, struct http_client_result *result)
    __attribute__((warn_unused_result));
void http_client_result_clear(struct http_client_result *result);

#endif
