/* Sessions, cookies, CSRF and Origin checks; see auth.h. */
#include "auth/auth.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form.h"
#include "log.h"

#define TOKEN_LENGTH 43

static bool public_url_is_https(const struct config *config)
{
    return strncmp(config->public_url, "https://", 8) == 0;
}

static const char *cookie_name(const struct config *config)
{
    return public_url_is_https(config) ? "__Host-agentgate_session" : "agentgate_session";
}

void auth_hash(const char *text, unsigned char out[SESSION_HASH_BYTES])
{
    crypto_hash_sha256(out, (const unsigned char *)text, strlen(text));
}

void auth_token_new(char *out, size_t out_size)
{
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2base64(out, out_size, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(bytes, sizeof bytes);
}

static bool token_well_formed(const char *token)
{
    if (!token || strlen(token) != TOKEN_LENGTH)
        return false;
    for (const char *p = token; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static void csrf_derive(const char *token, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;

    crypto_auth_hmacsha256_init(&state, (const unsigned char *)token, strlen(token));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)"agentgate csrf v1", 17);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

bool auth_groups_moderate(const struct forum_config *forum, const char *groups)
{
    const char *p = groups;

    while (p && *p) {
        size_t length = strcspn(p, ",");
        const char *start = p;
        while (length > 0 && *start == ' ') {
            start++;
            length--;
        }
        while (length > 0 && start[length - 1] == ' ')
            length--;
        for (size_t i = 0; i < forum->moderator_groups.count; i++) {
            const char *group = forum->moderator_groups.items[i];
            if (strlen(group) == length && strncasecmp(group, start, length) == 0)
                return true;
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return false;
}

static bool client_is_trusted_proxy(const struct request *request)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(request->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct config *config = request->server->config;
    char address[INET6_ADDRSTRLEN] = "";

    if (!info || !info->client_addr)
        return false;
    if (info->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, address,
                  sizeof address);
    else if (info->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)info->client_addr)->sin6_addr, address,
                  sizeof address);
    for (size_t i = 0; i < config->trusted_proxies.count; i++) {
        unsigned char a[16], b[16];
        int family = strchr(config->trusted_proxies.items[i], ':') ? AF_INET6 : AF_INET;
        if (strchr(address, ':') != NULL) {
            if (family == AF_INET6 && inet_pton(AF_INET6, address, a) == 1 &&
                inet_pton(AF_INET6, config->trusted_proxies.items[i], b) == 1 &&
                memcmp(a, b, 16) == 0)
                return true;
        } else if (family == AF_INET && strcmp(address, config->trusted_proxies.items[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Looks up the cookie's session. */
static struct session_identity *session_from_cookie(struct request *request)
{
    const char *token = MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND,
                                                    cookie_name(request->server->config));
    unsigned char hash[SESSION_HASH_BYTES];
    struct session_identity *who;
    struct db_connection *db;
    bool found = false;

    if (!token_well_formed(token))
        return NULL;
    db = db_thread_connection();
    if (!db)
        return NULL;
    who = calloc(1, sizeof *who);
    if (!who)
        return NULL;
    auth_hash(token, hash);
    if (sessions_touch(db, hash, who, &found) != DB_OK || !found) {
        free(who);
        return NULL;
    }
    snprintf(request->session_token, sizeof request->session_token, "%s", token);
    csrf_derive(token, request->csrf);
    return who;
}

/* auth = proxy: the identity in trusted headers, carried by a session for its CSRF token. */
static struct session_identity *session_from_proxy(struct request *request)
{
    const struct config *config = request->server->config;
    const struct forum_config *forum = config_forum(config, config->proxy_forum);
    const char *user = http_header(request, "X-Forwarded-User");
    const char *username = http_header(request, "X-Forwarded-Preferred-Username");
    const char *groups = http_header(request, "X-Forwarded-Groups");
    struct session_identity *who, wanted = {0};

    if (!user || !*user)
        return NULL;
    if (!client_is_trusted_proxy(request)) {
        log_warn(request->id, "ignored X-Forwarded-User from an address not in trusted_proxies");
        return NULL;
    }
    if (!forum || strlen(user) >= sizeof wanted.user_id || !utf8_valid(user, strlen(user)))
        return NULL;
    snprintf(wanted.forum, sizeof wanted.forum, "%s", forum->name);
    snprintf(wanted.user_id, sizeof wanted.user_id, "%s", user);
    snprintf(wanted.username, sizeof wanted.username, "%s",
             username && *username ? username : user);
    snprintf(wanted.groups, sizeof wanted.groups, "%s", groups ? groups : "");
    wanted.is_moderator = auth_groups_moderate(forum, wanted.groups);
    snprintf(wanted.method, sizeof wanted.method, "proxy");
    if (!utf8_valid(wanted.username, strlen(wanted.username)) ||
        !utf8_valid(wanted.groups, strlen(wanted.groups)))
        return NULL;

    who = session_from_cookie(request);
    if (who && strcmp(who->forum, wanted.forum) == 0 && strcmp(who->user_id, wanted.user_id) == 0 &&
        who->is_moderator == wanted.is_moderator)
        return who;
    free(who);
    request->csrf[0] = '\0';
    if (auth_session_start(request, &wanted) != DB_OK)
        return NULL;
    who = malloc(sizeof *who);
    if (who)
        *who = wanted;
    return who;
}

const struct session_identity *auth_user(struct request *request)
{
    if (request->user_resolved)
        return request->user;
    request->user_resolved = true;
    if (request->server->config->auth == AUTH_PROXY)
        request->user = session_from_proxy(request);
    else
        request->user = session_from_cookie(request);
    return request->user;
}

bool auth_csrf_valid(const struct request *request, const char *token)
{
    if (!token || strlen(token) != 64 || strlen(request->csrf) != 64)
        return false;
    return sodium_memcmp(token, request->csrf, 64) == 0;
}

/* The scheme://host[:port] part of public_url. */
static size_t origin_length(const char *url)
{
    const char *authority = strstr(url, "://");
    if (!authority)
        return strlen(url);
    authority += 3;
    return (size_t)(authority - url) + strcspn(authority, "/");
}

bool auth_origin_valid(const struct request *request)
{
    const char *public_url = request->server->config->public_url;
    size_t length = origin_length(public_url);
    const char *origin = http_header(request, "Origin");
    const char *referer;

    if (origin)
        return strlen(origin) == length && strncmp(origin, public_url, length) == 0;
    referer = http_header(request, "Referer");
    return referer && strncmp(referer, public_url, length) == 0 && referer[length] == '/';
}

enum db_status auth_session_start(struct request *request, const struct session_identity *who)
{
    const struct config *config = request->server->config;
    unsigned char hash[SESSION_HASH_BYTES];
    char token[48], cookie[256];
    struct db_connection *db = db_thread_connection();
    enum db_status status;

    if (!db)
        return DB_UNAVAILABLE;
    auth_token_new(token, sizeof token);
    auth_hash(token, hash);
    status = sessions_open(db, hash, who, config->session_lifetime_seconds,
                           config->session_idle_seconds);
    if (status != DB_OK) {
        sodium_memzero(token, sizeof token);
        return status;
    }
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
             cookie_name(config), token, config->session_lifetime_seconds,
             public_url_is_https(config) ? "; Secure" : "");
    http_reply_header(request, "Set-Cookie", cookie);
    snprintf(request->session_token, sizeof request->session_token, "%s", token);
    csrf_derive(token, request->csrf);
    sodium_memzero(token, sizeof token);
    sodium_memzero(cookie, sizeof cookie);
    return DB_OK;
}

void auth_session_end(struct request *request)
{
    const struct config *config = request->server->config;
    const char *token =
        MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND, cookie_name(config));
    char cookie[160];

    if (token_well_formed(token)) {
        unsigned char hash[SESSION_HASH_BYTES];
        struct db_connection *db = db_thread_connection();
        auth_hash(token, hash);
        if (!db || sessions_close(db, hash) != DB_OK)
            log_warn(request->id, "could not end the session in the database");
    }
    snprintf(cookie, sizeof cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             cookie_name(config), public_url_is_https(config) ? "; Secure" : "");
    http_reply_header(request, "Set-Cookie", cookie);
}
