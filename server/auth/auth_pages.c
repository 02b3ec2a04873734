/*
 * Signing in and out (CONTRACT §6).
 *
 * auth = sso, Discourse Connect with the forum as identity provider:
 *   GET /auth/login?forum=F[&return_to=/path] stores a single-use nonce (its
 *   SHA-256, valid 10 minutes, with where to go afterwards and the SHA-256 of
 *   this browser's pre-login cookie, which it sets) and redirects to the forum's
 *   sso_url with sso = base64("nonce=…&return_sso_url={public_url}/auth/sso")
 *   and sig = hex HMAC-SHA256(sso, sso_secret). Each client address may start
 *   `sign_in_rate_limit` sign-ins (a token bucket in the database, so every
 *   `serve` process counts alike); beyond it, 429 with Retry-After and nothing
 *   stored. GET /auth/sso checks the signature in constant time (length
 *   first), consumes the nonce, refuses it unless this browser holds the
 *   pre-login cookie it was issued to (a callback URL opened elsewhere signs
 *   nobody in: no login CSRF), refuses identity fields that do not fit whole,
 *   and starts a session. The return URL is fixed by agentgate and the place
 *   to go afterwards was stored server-side with the nonce and is always a
 *   local path: nothing in the forum's answer can redirect the browser
 *   elsewhere.
 * auth = dev: GET /auth/dev shows a form to pick any identity, POST /auth/dev
 *   signs in as it. Start-up refuses dev unless listening on loopback.
 * auth = proxy: identity comes from trusted headers (auth.c); /auth/login
 *   explains that, or why the proxy's identity was refused.
 * POST /auth/logout (csrf field, same Origin) ends the session server-side.
 *
 * Each handler keeps what it allocates in one state hung on the request and
 * has one failure exit, auth_reply_failure(); its steps return false with a
 * struct auth_failure filled in.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "form.h"
#include "log.h"
#include "text.h"
#include "web/handlers.h"
#include "web/page.h"

#define NONCE_LIFETIME_SECONDS 600
#define RETURN_TO_MAX          512

#define SSO_ANSWER_INVALID                                                                         \
    "The sign-in answer was not valid (expired, used already, or not signed by your forum). "      \
    "Start again from the sign-in page."

/* Why a step failed: the registry error, a sentence for people (empty: the registry's message)
 * and what to log (empty: nothing beyond the request line). */
struct auth_failure {
    enum agentgate_error error;
    char detail[400];
    char log_reason[160];
};

static bool auth_fail(struct auth_failure *failure, enum agentgate_error error,
                      const char *log_reason, const char *detail)
{
    failure->error = error;
    snprintf(failure->detail, sizeof failure->detail, "%s", detail ? detail : "");
    snprintf(failure->log_reason, sizeof failure->log_reason, "%s", log_reason ? log_reason : "");
    return false;
}

static bool auth_fail_db(struct auth_failure *failure, enum db_status status)
{
    if (status == DB_UNAVAILABLE)
        return auth_fail(failure, ERR_DATABASE_UNAVAILABLE, NULL,
                         "agentgate cannot reach its database. Try again in a moment.");
    return auth_fail(failure, ERR_INTERNAL, "database call failed", "The sign-in failed.");
}

/* An identity that does not fit whole is refused, never cut. */
static bool auth_fail_identity(struct auth_failure *failure, const struct identity_refusal *refusal)
{
    char detail[sizeof failure->detail], reason[sizeof failure->log_reason];

    if (refusal->limit)
        snprintf(detail, sizeof detail,
                 "Your account's %s is %zu bytes long; agentgate keeps at most %zu bytes and "
                 "never cuts an identity, so it cannot sign you in. Ask the forum's "
                 "administrators to shorten it.",
                 refusal->field, refusal->length, refusal->limit);
    else
        snprintf(detail, sizeof detail,
                 "Your account's %s is empty or holds characters agentgate does not accept "
                 "(invalid UTF-8 or control characters), so it cannot sign you in. Ask the "
                 "forum's administrators to correct it.",
                 refusal->field);
    snprintf(reason, sizeof reason, "identity %s of %zu bytes %s", refusal->field, refusal->length,
             refusal->limit ? "is too long" : "is not text");
    return auth_fail(failure, ERR_IDENTITY_REFUSED, reason, detail);
}

/* The one failure exit of the handlers here. */
static enum MHD_Result auth_reply_failure(struct request *request,
                                          const struct auth_failure *failure)
{
    if (failure->log_reason[0])
        log_warn(request->id, "sign-in refused: %s", failure->log_reason);
    return page_reply_error(request, failure->error, failure->detail[0] ? failure->detail : NULL);
}

/* Starts a session for `who`. */
static bool sign_in(struct request *request, const struct session_identity *who,
                    struct auth_failure *failure)
{
    enum db_status status = auth_session_start(request, who);
    return status == DB_OK || auth_fail_db(failure, status);
}

/* A local path to go to after sign-in: "/" followed by no "/" or "\" (no //host), no control
 * characters. Anything else becomes "/". */
static void return_to_clean(const char *wanted, char *out, size_t size)
{
    bool ok = wanted && wanted[0] == '/' && wanted[1] != '/' && wanted[1] != '\\' &&
              strlen(wanted) < RETURN_TO_MAX && strlen(wanted) < size;
    for (const char *p = wanted; ok && *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == '\\')
            ok = false;
    snprintf(out, size, "%s", ok ? wanted : "/");
}

static const char *query_value(struct request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- GET /auth/login ---- */

struct login_state {
    char return_to[RETURN_TO_MAX];
    char nonce[48];
    char browser[48]; /* the pre-login cookie's token */
    char *callback_encoded, *payload, *sso_base64, *sso_encoded, *location;
};

static void login_state_free(void *data)
{
    struct login_state *state = data;

    sodium_memzero(state->nonce, sizeof state->nonce);
    sodium_memzero(state->browser, sizeof state->browser);
    free(state->callback_encoded);
    free(state->payload);
    free(state->sso_base64);
    free(state->sso_encoded);
    free(state->location);
    free(state);
}

static const struct forum_config *forum_for_login(struct request *request)
{
    const struct config *config = request->server->config;
    const char *name = query_value(request, "forum");
    if (name)
        return config_forum(config, name);
    return config->forum_count == 1 ? &config->forums[0] : NULL;
}

static enum MHD_Result login_choose_forum(struct request *request, const char *return_to)
{
    const struct config *config = request->server->config;
    json_t *forums = json_array();

    for (size_t i = 0; i < config->forum_count; i++) {
        char *encoded = form_url_encode(return_to);
        char href[900];
        snprintf(href, sizeof href, "/auth/login?forum=%s&return_to=%s", config->forums[i].name,
                 encoded ? encoded : "%2F");
        free(encoded);
        json_array_append_new(
            forums, json_pack("{s:s, s:s}", "name", config->forums[i].name, "href", href));
    }
    return page_reply(request, 200, "login.html",
                      json_pack("{s:s, s:o}", "title", "Sign in", "forums", forums));
}

static enum MHD_Result login_redirect_dev(struct request *request, const char *return_to)
{
    char location[RETURN_TO_MAX * 3 + 40];
    char *encoded = form_url_encode(return_to);

    snprintf(location, sizeof location, "/auth/dev?return_to=%s", encoded ? encoded : "%2F");
    free(encoded);
    return http_reply_redirect(request, 303, location);
}

/* auth = proxy: nothing to do here but say why the proxy's identity does not sign anyone in. */
static enum MHD_Result login_through_proxy(struct request *request)
{
    struct session_identity who;
    struct identity_refusal refusal;
    struct auth_failure failure;

    if (auth_proxy_identity(request, &who, &refusal) == AUTH_PROXY_REFUSED)
        auth_fail_identity(&failure, &refusal);
    else
        auth_fail(&failure, ERR_PROXY_SIGN_IN, NULL,
                  "This agentgate takes your identity from the authenticating proxy in front of "
                  "it. Open it through that proxy.");
    return auth_reply_failure(request, &failure);
}

/* The address started too many sign-ins: 429, and when to try again. */
static bool login_rate_limited(struct request *request, int retry_after,
                               struct auth_failure *failure)
{
    char seconds[16], detail[160];

    snprintf(seconds, sizeof seconds, "%d", retry_after);
    http_reply_header(request, "Retry-After", seconds);
    snprintf(detail, sizeof detail,
             "Too many sign-ins were started from your address. Wait %d seconds, then try again.",
             retry_after);
    return auth_fail(failure, ERR_SIGN_IN_RATE_LIMITED, NULL, detail);
}

/* Stores a nonce bound to this browser, within the address's rate limit. */
static bool login_nonce_issue(struct request *request, const struct forum_config *forum,
                              struct login_state *state, struct auth_failure *failure)
{
    const struct config *config = request->server->config;
    const char *browser = auth_login_cookie(request);
    unsigned char nonce_hash[SESSION_HASH_BYTES], browser_hash[SESSION_HASH_BYTES];
    char address[AUTH_CLIENT_ADDRESS_MAX];
    struct db_connection *db = db_thread_connection();
    enum db_status status;
    int retry_after = 0;

    auth_token_new(state->nonce, sizeof state->nonce);
    /* a second sign-in started in another tab keeps the browser's cookie, so either can finish */
    if (browser)
        snprintf(state->browser, sizeof state->browser, "%s", browser);
    else
        auth_token_new(state->browser, sizeof state->browser);
    auth_hash(state->nonce, nonce_hash);
    auth_hash(state->browser, browser_hash);
    auth_client_address(request, address, sizeof address);
    status = db ? sessions_nonce_issue(db,
                                       &(struct sso_nonce_issue){
                                           .nonce_hash = nonce_hash,
                                           .browser_hash = browser_hash,
                                           .forum = forum->name,
                                           .return_to = state->return_to,
                                           .lifetime_seconds = NONCE_LIFETIME_SECONDS,
                                           .address = address,
                                           .capacity = config->sign_in_rate_count,
                                           .window_seconds = config->sign_in_rate_window_seconds,
                                       },
                                       &retry_after)
                : DB_UNAVAILABLE;
    if (status != DB_OK)
        return auth_fail_db(failure, status);
    return retry_after == 0 || login_rate_limited(request, retry_after, failure);
}

/* The forum's sso_url with sso = base64(nonce, return_sso_url) and its signature. */
static bool login_location_build(struct request *request, const struct forum_config *forum,
                                 struct login_state *state, struct auth_failure *failure)
{
    char *callback = text_format("%s/auth/sso", request->server->config->public_url), sig[65];
    size_t base64_size;

    state->callback_encoded = callback ? form_url_encode(callback) : NULL;
    free(callback);
    if (state->callback_encoded)
        state->payload =
            text_format("nonce=%s&return_sso_url=%s", state->nonce, state->callback_encoded);
    if (!state->payload)
        return auth_fail(failure, ERR_INTERNAL, "out of memory", NULL);
    base64_size = sodium_base64_ENCODED_LEN(strlen(state->payload), sodium_base64_VARIANT_ORIGINAL);
    state->sso_base64 = malloc(base64_size);
    if (!state->sso_base64)
        return auth_fail(failure, ERR_INTERNAL, "out of memory", NULL);
    sodium_bin2base64(state->sso_base64, base64_size, (const unsigned char *)state->payload,
                      strlen(state->payload), sodium_base64_VARIANT_ORIGINAL);
    auth_hmac_hex(forum->sso_secret, state->sso_base64, sig);
    state->sso_encoded = form_url_encode(state->sso_base64);
    if (state->sso_encoded)
        state->location =
            text_format("%s%ssso=%s&sig=%s", forum->sso_url,
                        strchr(forum->sso_url, '?') ? "&" : "?", state->sso_encoded, sig);
    return state->location || auth_fail(failure, ERR_INTERNAL, "out of memory", NULL);
}

enum MHD_Result auth_pages_login(struct request *request)
{
    const struct config *config = request->server->config;
    struct login_state *state =
        http_request_state(request, calloc(1, sizeof *state), login_state_free);
    const struct forum_config *forum;
    struct auth_failure failure;

    if (!state) {
        auth_fail(&failure, ERR_INTERNAL, "out of memory", NULL);
        return auth_reply_failure(request, &failure);
    }
    return_to_clean(query_value(request, "return_to"), state->return_to, sizeof state->return_to);
    if (config->auth == AUTH_DEV)
        return login_redirect_dev(request, state->return_to);
    if (config->auth == AUTH_PROXY)
        return login_through_proxy(request);
    forum = forum_for_login(request);
    if (!forum && query_value(request, "forum"))
        return page_reply_not_found(request);
    if (!forum)
        return login_choose_forum(request, state->return_to);
    if (login_nonce_issue(request, forum, state, &failure) &&
        login_location_build(request, forum, state, &failure)) {
        auth_login_cookie_set(request, state->browser, NONCE_LIFETIME_SECONDS);
        return http_reply_redirect(request, 303, state->location);
    }
    return auth_reply_failure(request, &failure);
}

/* ---- GET /auth/sso ---- */

struct sso_state {
    char *sso;     /* the sso parameter, with '+' restored */
    char *payload; /* its base64 decoded, NUL-terminated */
    struct form fields;
    const struct forum_config *forum; /* whose sso_secret signed it */
    struct sso_nonce_taken nonce;
    struct session_identity who;
};

static void sso_state_free(void *data)
{
    struct sso_state *state = data;

    form_free(&state->fields);
    free(state->sso);
    free(state->payload);
    free(state);
}

static bool sso_refuse(struct auth_failure *failure, const char *log_reason)
{
    return auth_fail(failure, ERR_SIGN_IN_REFUSED, log_reason, SSO_ANSWER_INVALID);
}

/* The answer's signature, checked against every configured forum's secret (the payload does not
 * say which forum it is from until it is trusted); one match is enough. */
static bool sso_signature_check(struct request *request, struct sso_state *state,
                                struct auth_failure *failure)
{
    const struct config *config = request->server->config;
    const char *sso = query_value(request, "sso"), *sig = query_value(request, "sig");
    unsigned char received[crypto_auth_hmacsha256_BYTES];
    size_t received_length = 0;

    if (!sso || !sig || strlen(sig) != 64 || strlen(sso) > 8192)
        return sso_refuse(failure, "missing or malformed sso/sig");
    if (sodium_hex2bin(received, sizeof received, sig, 64, NULL, &received_length, NULL) != 0 ||
        received_length != sizeof received)
        return sso_refuse(failure, "signature is not hex");
    state->sso = strdup(sso);
    if (!state->sso)
        return auth_fail(failure, ERR_INTERNAL, "out of memory", NULL);
    /* A '+' of base64 may arrive as a space if the forum did not percent-encode it. */
    for (char *p = state->sso; *p; p++)
        if (*p == ' ')
            *p = '+';
    for (size_t i = 0; i < config->forum_count; i++) {
        char expected_hex[65];
        unsigned char expected[crypto_auth_hmacsha256_BYTES];
        if (!config->forums[i].sso_secret)
            continue;
        auth_hmac_hex(config->forums[i].sso_secret, state->sso, expected_hex);
        sodium_hex2bin(expected, sizeof expected, expected_hex, 64, NULL, NULL, NULL);
        if (sodium_memcmp(expected, received, sizeof expected) == 0)
            state->forum = &config->forums[i];
    }
    return state->forum || sso_refuse(failure, "bad signature");
}

/* Decodes and parses the signed payload; it must name the nonce, the user, and (if it echoes
 * one) agentgate's own return_sso_url. */
static bool sso_payload_read(struct request *request, struct sso_state *state,
                             struct auth_failure *failure)
{
    size_t length = strlen(state->sso), decoded_length = 0;
    const char *nonce, *external_id, *username, *echoed;
    char callback[600];

    state->payload = malloc(length + 1);
    if (!state->payload)
        return auth_fail(failure, ERR_INTERNAL, "out of memory", NULL);
    if (sodium_base642bin((unsigned char *)state->payload, length, state->sso, length, "\n\r",
                          &decoded_length, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return sso_refuse(failure, "payload is not base64");
    state->payload[decoded_length] = '\0';
    if (strlen(state->payload) != decoded_length ||
        !form_parse(state->payload, decoded_length, &state->fields))
        return sso_refuse(failure, "payload is not a query string");
    nonce = form_get(&state->fields, "nonce");
    external_id = form_get(&state->fields, "external_id");
    username = form_get(&state->fields, "username");
    echoed = form_get(&state->fields, "return_sso_url");
    if (!nonce || !*nonce || !external_id || !*external_id || !username || !*username)
        return sso_refuse(failure, "payload lacks nonce, external_id or username");
    snprintf(callback, sizeof callback, "%s/auth/sso", request->server->config->public_url);
    if (echoed && strcmp(echoed, callback) != 0)
        return sso_refuse(failure, "payload names another return_sso_url");
    return true;
}

/* Consumes the nonce: live, of this forum, and issued to this very browser. */
static bool sso_nonce_take(struct request *request, struct sso_state *state,
                           struct auth_failure *failure)
{
    const char *browser = auth_login_cookie(request);
    unsigned char nonce_hash[SESSION_HASH_BYTES], browser_hash[SESSION_HASH_BYTES];
    struct db_connection *db = db_thread_connection();
    enum db_status status;

    auth_hash(form_get(&state->fields, "nonce"), nonce_hash);
    if (browser)
        auth_hash(browser, browser_hash);
    status =
        db ? sessions_nonce_consume(db, nonce_hash, browser ? browser_hash : NULL, &state->nonce)
           : DB_UNAVAILABLE;
    if (status != DB_OK)
        return auth_fail_db(failure, status);
    if (!state->nonce.found)
        return sso_refuse(failure, "unknown, used or expired nonce");
    if (!state->nonce.same_browser)
        return auth_fail(failure, ERR_SIGN_IN_REFUSED,
                         browser ? "answer opened in another browser than the one that started "
                                   "the sign-in"
                                 : "answer opened without the pre-login cookie",
                         "This sign-in was started in another browser (or this browser's "
                         "sign-in cookie expired), so it signs nobody in here. To sign in, start "
                         "again from agentgate's sign-in page in this browser.");
    auth_login_cookie_clear(request);
    if (strcmp(state->nonce.forum, state->forum->name) != 0)
        return sso_refuse(failure, "nonce of another forum");
    return true;
}

static bool sso_identity_take(struct sso_state *state, struct auth_failure *failure)
{
    struct identity_refusal refusal;
    const struct form *fields = &state->fields;

    if (!auth_identity_fill(&state->who, state->forum, "sso",
                            &(struct identity_fields){
                                .user_id = form_get(fields, "external_id"),
                                .username = form_get(fields, "username"),
                                .name = form_get(fields, "name"),
                                .email = form_get(fields, "email"),
                                .groups = form_get(fields, "groups"),
                            },
                            &refusal))
        return auth_fail_identity(failure, &refusal);
    return true;
}

enum MHD_Result auth_pages_sso(struct request *request)
{
    struct sso_state *state;
    struct auth_failure failure;

    if (request->server->config->auth != AUTH_SSO)
        return page_reply_not_found(request);
    state = http_request_state(request, calloc(1, sizeof *state), sso_state_free);
    if (!state) {
        auth_fail(&failure, ERR_INTERNAL, "out of memory", NULL);
    } else if (sso_signature_check(request, state, &failure) &&
               sso_payload_read(request, state, &failure) &&
               sso_nonce_take(request, state, &failure) && sso_identity_take(state, &failure) &&
               sign_in(request, &state->who, &failure)) {
        log_info(request->id, "signed in: forum=%s user=%s%s", state->who.forum, state->who.user_id,
                 state->who.is_moderator ? " (moderator)" : "");
        return http_reply_redirect(request, 303, state->nonce.return_to);
    }
    return auth_reply_failure(request, &failure);
}

/* ---- GET and POST /auth/dev ---- */

enum MHD_Result auth_pages_dev_form(struct request *request)
{
    const struct config *config = request->server->config;
    char return_to[RETURN_TO_MAX];
    json_t *forums;

    if (config->auth != AUTH_DEV)
        return page_reply_not_found(request);
    forums = json_array();
    return_to_clean(query_value(request, "return_to"), return_to, sizeof return_to);
    for (size_t i = 0; i < config->forum_count; i++)
        json_array_append_new(forums, json_pack("{s:s}", "name", config->forums[i].name));
    return page_reply(request, 200, "dev_login.html",
                      json_pack("{s:s, s:o, s:s}", "title", "Sign in (development)", "forums",
                                forums, "return_to", return_to));
}

struct form_state {
    struct form form;
    struct session_identity who;
    char return_to[RETURN_TO_MAX];
};

static void form_state_free(void *data)
{
    struct form_state *state = data;
    form_free(&state->form);
    free(state);
}

/* The posted form, from agentgate's own page. */
static bool form_read(struct request *request, struct form_state *state,
                      struct auth_failure *failure)
{
    if (!auth_origin_valid(request))
        return auth_fail(failure, ERR_FOREIGN_ORIGIN, NULL,
                         "This form was not sent from agentgate's own page.");
    if (!form_parse(request->body, request->body_length, &state->form))
        return auth_fail(failure, ERR_BAD_FORM, NULL, "The form could not be read.");
    return true;
}

/* The identity picked on the dev form, whole. */
static bool dev_identity_take(struct request *request, struct form_state *state,
                              struct auth_failure *failure)
{
    const struct form *form = &state->form;
    const char *forum_name = form_get(form, "forum"), *user_id = form_get(form, "user_id");
    const struct forum_config *forum =
        forum_name ? config_forum(request->server->config, forum_name) : NULL;
    struct identity_refusal refusal;

    if (!forum || !user_id || !*user_id)
        return auth_fail(failure, ERR_BAD_FORM, NULL,
                         "Pick a forum and give a user id (at most 128 characters).");
    if (!auth_identity_fill(&state->who, forum, "dev",
                            &(struct identity_fields){
                                .user_id = user_id,
                                .username = form_get(form, "username"),
                                .name = form_get(form, "name"),
                                .groups = form_get(form, "groups"),
                            },
                            &refusal))
        return auth_fail_identity(failure, &refusal);
    return_to_clean(form_get(form, "return_to"), state->return_to, sizeof state->return_to);
    return true;
}

enum MHD_Result auth_pages_dev_sign_in(struct request *request)
{
    struct form_state *state;
    struct auth_failure failure;

    if (request->server->config->auth != AUTH_DEV)
        return page_reply_not_found(request);
    state = http_request_state(request, calloc(1, sizeof *state), form_state_free);
    if (!state)
        auth_fail(&failure, ERR_INTERNAL, "out of memory", NULL);
    else if (form_read(request, state, &failure) && dev_identity_take(request, state, &failure) &&
             sign_in(request, &state->who, &failure))
        return http_reply_redirect(request, 303, state->return_to);
    return auth_reply_failure(request, &failure);
}

/* ---- POST /auth/logout ---- */

/* From agentgate's own page, with this session's CSRF token. */
static bool logout_check(struct request *request, struct form_state *state,
                         struct auth_failure *failure)
{
    if (!auth_origin_valid(request))
        return auth_fail(failure, ERR_FOREIGN_ORIGIN, NULL,
                         "This form was not sent from agentgate's own page.");
    if (!form_parse(request->body, request->body_length, &state->form) || !auth_user(request) ||
        !auth_csrf_valid(request, form_get(&state->form, "csrf")))
        return auth_fail(failure, ERR_CSRF_INVALID, NULL,
                         "The form's security token is missing or stale.");
    return true;
}

enum MHD_Result auth_pages_logout(struct request *request)
{
    struct form_state *state =
        http_request_state(request, calloc(1, sizeof *state), form_state_free);
    struct auth_failure failure;

    if (!state) {
        auth_fail(&failure, ERR_INTERNAL, "out of memory", NULL);
    } else if (logout_check(request, state, &failure)) {
        auth_session_end(request);
        free(request->user);
        request->user = NULL;
        request->csrf[0] = '\0';
        return page_reply(request, 200, "signed_out.html",
                          json_pack("{s:s}", "title", "Signed out"));
    }
    return auth_reply_failure(request, &failure);
}
