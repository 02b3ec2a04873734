/*
 * Who is signed in (CONTRACT §6), for pages: server-side sessions identified
 * by a random cookie whose SHA-256 alone is stored; the CSRF token is derived
 * from the cookie's token (an HMAC), so it needs no storage and dies with the
 * session. `auth = proxy` takes the identity from headers set by a trusted
 * proxy only; from anyone else those headers are ignored and logged.
 *
 * Invariants: a new token at every sign-in (no session fixation); the cookie
 * is HttpOnly, SameSite=Lax, and Secure with the __Host- prefix when
 * public_url is https; tokens and CSRF values are compared in constant time.
 */
#ifndef AGENTGATE_AUTH_H
#define AGENTGATE_AUTH_H

#include <stdbool.h>

#include "db/sessions.h"
#include "web/http.h"

/* The signed-in user of this request, or NULL. Looked up once per request. */
const struct session_identity *auth_user(struct request *request);

/* True when `token` is this request's session CSRF token. */
bool auth_csrf_valid(const struct request *request, const char *token);

/* True when the request's Origin (or, lacking it, Referer) is agentgate's own public URL. */
bool auth_origin_valid(const struct request *request);

/* Signs `who` in: stores a new session and sets its cookie on this request's reply. */
enum db_status auth_session_start(struct request *request, const struct session_identity *who)
    __attribute__((warn_unused_result));

/* Ends this request's session (if any) and clears the cookie. */
void auth_session_end(struct request *request);

/* Whether `groups` (comma-separated) meets the forum's moderator groups. */
bool auth_groups_moderate(const struct forum_config *forum, const char *groups);

/* SHA-256 of a text, for tokens and nonces. */
void auth_hash(const char *text, unsigned char out[SESSION_HASH_BYTES]);

/* A random URL-safe token of 32 bytes (43 characters) into out (at least 44 bytes). */
void auth_token_new(char *out, size_t out_size);

#endif
