/*
 * Signing in and out (CONTRACT §6).
 *
 * auth = sso, Discourse Connect with the forum as identity provider:
 *   GET /auth/login?forum=F[&return_to=/path] stores a single-use nonce (its
 *   SHA-256, valid 10 minutes, with where to go afterwards) and redirects to the
 *   forum's sso_url with sso = base64("nonce=…&return_sso_url={public_url}/auth/sso")
 *   and sig = hex HMAC-SHA256(sso, sso_secret). GET /auth/sso checks the
 *   signature in constant time (length first), consumes the nonce, and starts a
 *   session. The return URL is fixed by agentgate and the place to go afterwards
 *   was stored server-side with the nonce and is always a local path: nothing in
 *   the forum's answer can redirect the browser elsewhere.
 * auth = dev: GET /auth/dev shows a form to pick any identity, POST /auth/dev
 *   signs in as it. Start-up refuses dev unless listening on loopback.
 * auth = proxy: identity comes from trusted headers (auth.c); /auth/login only
 *   explains that.
 * POST /auth/logout (csrf field, same Origin) ends the session server-side.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "form.h"
#include "web/handlers.h"
#include "log.h"
#include "web/page.h"

#define NONCE_LIFETIME_SECONDS 600
#define RETURN_TO_MAX          512

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

static const struct forum_config *forum_for_login(struct request *request)
{
    const struct config *config = request->server->config;
    const char *name =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "forum");
    if (name)
        return config_forum(config, name);
    return config->forum_count == 1 ? &config->forums[0] : NULL;
}

static void hmac_hex(const char *key, const char *message, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;

    crypto_auth_hmacsha256_init(&state, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)message, strlen(message));
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
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

enum MHD_Result auth_pages_login(struct request *request)
{
    const struct config *config = request->server->config;
    const struct forum_config *forum;
    char return_to[RETURN_TO_MAX], nonce[48], payload[1200], sig[65], location[3000];
    unsigned char nonce_hash[SESSION_HASH_BYTES];
    struct db_connection *db;
    enum db_status status;
    char *encoded_return, *sso_base64, *sso_encoded;
    size_t base64_size;

    return_to_clean(
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "return_to"),
        return_to, sizeof return_to);
    if (config->auth == AUTH_DEV) {
        char *encoded = form_url_encode(return_to);
        snprintf(location, sizeof location, "/auth/dev?return_to=%s", encoded ? encoded : "%2F");
        free(encoded);
        return http_reply_redirect(request, 303, location);
    }
    if (config->auth == AUTH_PROXY)
        return page_reply_error(request, ERR_PROXY_SIGN_IN,
                                "This agentgate takes your identity from the authenticating "
                                "proxy in front of it. Open it through that proxy.");
    forum = forum_for_login(request);
    if (!forum) {
        if (MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "forum"))
            return page_reply_not_found(request);
        return login_choose_forum(request, return_to);
    }

    auth_token_new(nonce, sizeof nonce);
    auth_hash(nonce, nonce_hash);
    db = db_thread_connection();
    status =
        db ? sessions_nonce_store(db, nonce_hash, forum->name, return_to, NONCE_LIFETIME_SECONDS)
           : DB_UNAVAILABLE;
    if (status != DB_OK) {
        return page_reply_error(request, ERR_DATABASE_UNAVAILABLE,
                                "agentgate cannot reach its database. Try again in a moment.");
    }
    {
        char callback[600];
        snprintf(callback, sizeof callback, "%s/auth/sso", config->public_url);
        encoded_return = form_url_encode(callback);
    }
    if (!encoded_return)
        return MHD_NO;
    snprintf(payload, sizeof payload, "nonce=%s&return_sso_url=%s", nonce, encoded_return);
    free(encoded_return);
    base64_size = sodium_base64_ENCODED_LEN(strlen(payload), sodium_base64_VARIANT_ORIGINAL);
    sso_base64 = malloc(base64_size);
    if (!sso_base64)
        return MHD_NO;
    sodium_bin2base64(sso_base64, base64_size, (const unsigned char *)payload, strlen(payload),
                      sodium_base64_VARIANT_ORIGINAL);
    hmac_hex(forum->sso_secret, sso_base64, sig);
    sso_encoded = form_url_encode(sso_base64);
    free(sso_base64);
    if (!sso_encoded)
        return MHD_NO;
    snprintf(location, sizeof location, "%s%ssso=%s&sig=%s", forum->sso_url,
             strchr(forum->sso_url, '?') ? "&" : "?", sso_encoded, sig);
    free(sso_encoded);
    sodium_memzero(nonce, sizeof nonce);
    return http_reply_redirect(request, 303, location);
}

static enum MHD_Result sso_refuse(struct request *request, const char *why)
{
    log_warn(request->id, "sign-in refused: %s", why);
    return page_reply_error(request, ERR_SIGN_IN_REFUSED,
                            "The sign-in answer was not valid (expired, used already, or not "
                            "signed by your forum). Start again from the sign-in page.");
}

enum MHD_Result auth_pages_sso(struct request *request)
{
    const struct config *config = request->server->config;
    const char *sso =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "sso");
    const char *sig =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "sig");
    unsigned char received[crypto_auth_hmacsha256_BYTES], nonce_hash[SESSION_HASH_BYTES];
    char forum_name[40], return_to[RETURN_TO_MAX], callback[600];
    char *sso_copy = NULL, *decoded = NULL;
    size_t decoded_length = 0, received_length = 0, sso_length;
    const struct forum_config *forum = NULL;
    struct session_identity who;
    struct db_connection *db;
    struct form fields = {0};
    const char *nonce, *external_id, *username, *name, *email, *groups, *echoed_return;
    bool found = false, signature_ok = false;
    enum MHD_Result result;

    if (config->auth != AUTH_SSO)
        return page_reply_not_found(request);
    if (!sso || !sig || strlen(sig) != 64 || strlen(sso) > 8192)
        return sso_refuse(request, "missing or malformed sso/sig");
    if (sodium_hex2bin(received, sizeof received, sig, 64, NULL, &received_length, NULL) != 0 ||
        received_length != sizeof received)
        return sso_refuse(request, "signature is not hex");

    /* A '+' of base64 may arrive as a space if the forum did not percent-encode it. */
    sso_length = strlen(sso);
    sso_copy = strdup(sso);
    if (!sso_copy)
        return MHD_NO;
    for (char *p = sso_copy; *p; p++)
        if (*p == ' ')
            *p = '+';
    /* The signature is checked against every configured forum's secret (the payload does not
     * say which forum it is from until it is trusted); one match is enough. */
    for (size_t i = 0; i < config->forum_count; i++) {
        char expected_hex[65];
        unsigned char expected[crypto_auth_hmacsha256_BYTES];
        if (!config->forums[i].sso_secret)
            continue;
        hmac_hex(config->forums[i].sso_secret, sso_copy, expected_hex);
        sodium_hex2bin(expected, sizeof expected, expected_hex, 64, NULL, NULL, NULL);
        if (sodium_memcmp(expected, received, sizeof expected) == 0) {
            signature_ok = true;
            forum = &config->forums[i];
        }
    }
    if (!signature_ok) {
        free(sso_copy);
        return sso_refuse(request, "bad signature");
    }
    decoded = malloc(sso_length + 1);
    if (!decoded ||
        sodium_base642bin((unsigned char *)decoded, sso_length, sso_copy, sso_length, "\n\r",
                          &decoded_length, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(decoded);
        free(sso_copy);
        return sso_refuse(request, "payload is not base64");
    }
    decoded[decoded_length] = '\0';
    free(sso_copy);
    if (strlen(decoded) != decoded_length || !form_parse(decoded, decoded_length, &fields)) {
        free(decoded);
        form_free(&fields);
        return sso_refuse(request, "payload is not a query string");
    }
    free(decoded);
    nonce = form_get(&fields, "nonce");
    external_id = form_get(&fields, "external_id");
    username = form_get(&fields, "username");
    name = form_get(&fields, "name");
    email = form_get(&fields, "email");
    groups = form_get(&fields, "groups");
    echoed_return = form_get(&fields, "return_sso_url");
    snprintf(callback, sizeof callback, "%s/auth/sso", config->public_url);
    if (!nonce || !*nonce || !external_id || !*external_id || !username || !*username ||
        strlen(external_id) > 128 || strlen(username) > 128) {
        form_free(&fields);
        return sso_refuse(request, "payload lacks nonce, external_id or username");
    }
    if (echoed_return && strcmp(echoed_return, callback) != 0) {
        form_free(&fields);
        return sso_refuse(request, "payload names another return_sso_url");
    }

    auth_hash(nonce, nonce_hash);
    db = db_thread_connection();
    if (!db || sessions_nonce_consume(db, nonce_hash, forum_name, sizeof forum_name, return_to,
                                      sizeof return_to, &found) != DB_OK) {
        form_free(&fields);
        return page_reply_error(request, ERR_DATABASE_UNAVAILABLE, "Try again in a moment.");
    }
    if (!found || strcmp(forum_name, forum->name) != 0) {
        form_free(&fields);
        return sso_refuse(request,
                          found ? "nonce of another forum" : "unknown, used or expired nonce");
    }

    memset(&who, 0, sizeof who);
    snprintf(who.forum, sizeof who.forum, "%s", forum->name);
    snprintf(who.user_id, sizeof who.user_id, "%s", external_id);
    snprintf(who.username, sizeof who.username, "%s", username);
    snprintf(who.name, sizeof who.name, "%s", name ? name : "");
    snprintf(who.email, sizeof who.email, "%s", email ? email : "");
    snprintf(who.groups, sizeof who.groups, "%s", groups ? groups : "");
    who.is_moderator = auth_groups_moderate(forum, who.groups);
    snprintf(who.method, sizeof who.method, "sso");
    form_free(&fields);
    if (auth_session_start(request, &who) != DB_OK) {
        return page_reply_error(request, ERR_DATABASE_UNAVAILABLE, "Try again in a moment.");
    }
    log_info(request->id, "signed in: forum=%s user=%s%s", who.forum, who.user_id,
             who.is_moderator ? " (moderator)" : "");
    result = http_reply_redirect(request, 303, return_to);
    return result;
}

enum MHD_Result auth_pages_dev_form(struct request *request)
{
    const struct config *config = request->server->config;
    char return_to[RETURN_TO_MAX];
    json_t *forums;

    if (config->auth != AUTH_DEV)
        return page_reply_not_found(request);
    forums = json_array();
    return_to_clean(
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, "return_to"),
        return_to, sizeof return_to);
    for (size_t i = 0; i < config->forum_count; i++)
        json_array_append_new(forums, json_pack("{s:s}", "name", config->forums[i].name));
    return page_reply(request, 200, "dev_login.html",
                      json_pack("{s:s, s:o, s:s}", "title", "Sign in (development)", "forums",
                                forums, "return_to", return_to));
}

enum MHD_Result auth_pages_dev_sign_in(struct request *request)
{
    const struct config *config = request->server->config;
    const struct forum_config *forum;
    struct session_identity who;
    struct form form;
    const char *forum_name, *user_id, *username, *name, *groups;
    char return_to[RETURN_TO_MAX];

    if (config->auth != AUTH_DEV)
        return page_reply_not_found(request);
    if (!auth_origin_valid(request))
        return page_reply_error(request, ERR_FOREIGN_ORIGIN,
                                "This form was not sent from agentgate's own page.");
    if (!form_parse(request->body, request->body_length, &form)) {
        form_free(&form);
        return page_reply_error(request, ERR_BAD_FORM, "The form could not be read.");
    }
    forum_name = form_get(&form, "forum");
    user_id = form_get(&form, "user_id");
    username = form_get(&form, "username");
    name = form_get(&form, "name");
    groups = form_get(&form, "groups");
    forum = forum_name ? config_forum(config, forum_name) : NULL;
    if (!forum || !user_id || !*user_id || strlen(user_id) > 128 ||
        (username && strlen(username) > 128) || (name && strlen(name) > 256) ||
        (groups && strlen(groups) > 1000)) {
        form_free(&form);
        return page_reply_error(request, ERR_BAD_FORM,
                                "Pick a forum and give a user id (at most 128 characters).");
    }
    memset(&who, 0, sizeof who);
    snprintf(who.forum, sizeof who.forum, "%s", forum->name);
    snprintf(who.user_id, sizeof who.user_id, "%s", user_id);
    snprintf(who.username, sizeof who.username, "%s", username && *username ? username : user_id);
    snprintf(who.name, sizeof who.name, "%s", name ? name : "");
    snprintf(who.groups, sizeof who.groups, "%s", groups ? groups : "");
    who.is_moderator = auth_groups_moderate(forum, who.groups);
    snprintf(who.method, sizeof who.method, "dev");
    return_to_clean(form_get(&form, "return_to"), return_to, sizeof return_to);
    form_free(&form);
    if (auth_session_start(request, &who) != DB_OK) {
        return page_reply_error(request, ERR_DATABASE_UNAVAILABLE, "Try again in a moment.");
    }
    return http_reply_redirect(request, 303, return_to);
}

enum MHD_Result auth_pages_logout(struct request *request)
{
    struct form form;

    if (!auth_origin_valid(request))
        return page_reply_error(request, ERR_FOREIGN_ORIGIN,
                                "This form was not sent from agentgate's own page.");
    if (!form_parse(request->body, request->body_length, &form) || !auth_user(request) ||
        !auth_csrf_valid(request, form_get(&form, "csrf"))) {
        form_free(&form);
        return page_reply_error(request, ERR_CSRF_INVALID,
                                "The form's security token is missing or stale.");
    }
    form_free(&form);
    auth_session_end(request);
    free(request->user);
    request->user = NULL;
    request->csrf[0] = '\0';
    return page_reply(request, 200, "signed_out.html", json_pack("{s:s}", "title", "Signed out"));
}
