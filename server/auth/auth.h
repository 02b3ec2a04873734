/*
 * Who is signed in (CONTRACT §6), for pages: server-side sessions identified
 * by a random cookie whose SHA-256 alone is stored; the CSRF token is derived
 * from the cookie's token (an HMAC), so it needs no storage and dies with the
 * session. `auth = proxy` takes the identity from headers set by a trusted
 * proxy only; from anyone else those headers are ignored and logged.
 *
 * A Discourse Connect sign-in is bound to the browser that started it by a
 * pre-login cookie (agentgate_login, 10 minutes) whose SHA-256 is stored with
 * the nonce. Identities are kept whole or refused: a field longer than its
 * place in struct session_identity, not UTF-8, or holding a control character
 * refuses the sign-in (a cut groups list could end in a moderator group).
 *
 * Invariants: a new token at every sign-in (no session fixation); the cookies
 * are HttpOnly, SameSite=Lax, Path=/, and Secure with the __Host- prefix when
 * public_url is https; tokens and CSRF values are compared in constant time.
 */
#ifndef AGENTGATE_AUTH_H
#define AGENTGATE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "db/sessions.h"
#include "web/http.h"

/* HMAC-SHA-256 of `message` under `key` (both text) as 64 lower-case hex digits and a NUL: the
 * CSRF token (keyed by the session token) and Discourse Connect's sig (keyed by sso_secret). */
void auth_hmac_hex(const char *key, const char *message, char out[65]);

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

/* The identity fields a sign-in brings, as the identity provider sent them (NULL: absent). */
struct identity_fields {
    const char *user_id;
    const char *username; /* absent or empty: the user id */
    const char *name;
    const char *email;
    const char *groups; /* comma-separated */
};

/* Why an identity was refused: the field (for people: "name", "groups", …), its length in
 * bytes, and the most agentgate keeps, or 0 when the field is not text (invalid UTF-8 or a
 * control character). */
struct identity_refusal {
    const char *field;
    size_t length;
    size_t limit;
};

/* Fills `who` for `forum` and `method` ("sso", "proxy", "dev") from `fields`, whole: false, with
 * *refusal naming the first field that is too long or not text, and `who` unusable. The user
 * id must be given (refused as not text when empty). */
bool auth_identity_fill(struct session_identity *who, const struct forum_config *forum,
                        const char *method, const struct identity_fields *fields,
                        struct identity_refusal *refusal) __attribute__((warn_unused_result));

enum auth_proxy_identity {
    AUTH_PROXY_NONE,    /* no identity headers, or not from a trusted proxy */
    AUTH_PROXY_OK,      /* *who filled */
    AUTH_PROXY_REFUSED, /* *refusal says which header does not fit */
};

/* auth = proxy: the identity this request's trusted proxy headers carry. */
enum auth_proxy_identity auth_proxy_identity(struct request *request, struct session_identity *who,
                                             struct identity_refusal *refusal);

/* The client address a per-address limit counts: the peer, or, when the peer is one of
 * trusted_proxies, the last address of its X-Forwarded-For; an IPv6 client by its /64
 * ("2001:db8:1:2::/64"). `out` holds AUTH_CLIENT_ADDRESS_MAX bytes. */
#define AUTH_CLIENT_ADDRESS_MAX 64
void auth_client_address(const struct request *request, char *out, size_t out_size);

/* The pre-login cookie: this browser's token when it sent a well-formed one, else NULL. */
const char *auth_login_cookie(const struct request *request);
/* Sets the pre-login cookie to `token` (a new auth_token_new() value) for `seconds`. */
void auth_login_cookie_set(struct request *request, const char *token, long seconds);
/* Clears the pre-login cookie in this reply. */
void auth_login_cookie_clear(struct request *request);

/* Whether `groups` (comma-separated) meets the forum's moderator groups. */
bool auth_groups_moderate(const struct forum_config *forum, const char *groups);

/* SHA-256 of a text, for tokens and nonces. */
void auth_hash(const char *text, unsigned char out[SESSION_HASH_BYTES]);

/* A random URL-safe token of 32 bytes (43 characters) into out (at least 44 bytes). */
void auth_token_new(char *out, size_t out_size);

#endif
