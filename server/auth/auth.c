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

#define TOKEN_LENGTH    43
#define COOKIE_NAME_MAX 48
#define SESSION_COOKIE  "agentgate_session"
#define LOGIN_COOKIE    "agentgate_login"

static bool public_url_is_https(const struct config *config)
{
    return strncmp(config->public_url, "https://", 8) == 0;
}

/* A cookie's name: `base`, with the __Host- prefix under https (which requires Secure, Path=/
 * and no Domain, so a sibling host cannot set it). */
static void cookie_name(const struct config *config, const char *base, char out[COOKIE_NAME_MAX])
{
    snprintf(out, COOKIE_NAME_MAX, "%s%s", public_url_is_https(config) ? "__Host-" : "", base);
}

/* Sets cookie `base` to `value` for `max_age` seconds (0 clears it) on this request's reply. */
static void cookie_set(struct request *request, const char *base, const char *value, long max_age)
{
    const struct config *config = request->server->config;
    char name[COOKIE_NAME_MAX], cookie[256];

    cookie_name(config, base, name);
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Lax%s", name,
             value, max_age, public_url_is_https(config) ? "; Secure" : "");
    http_reply_header(request, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
}

static bool token_well_formed(const char *token);

/* The value of cookie `base` when it is a well-formed token, else NULL. */
static const char *cookie_token(const struct request *request, const char *base)
{
    char name[COOKIE_NAME_MAX];
    const char *token;

    cookie_name(request->server->config, base, name);
    token = MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND, name);
    return token_well_formed(token) ? token : NULL;
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

void auth_hmac_hex(const char *key, const char *message, char out[65])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;

    crypto_auth_hmacsha256_init(&state, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)message, strlen(message));
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

/* The CSRF token of the session whose cookie token is `token`. */
static void csrf_derive(const char *token, char out[65])
{
    auth_hmac_hex(token, "agentgate csrf v1", out);
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

/* The peer's address as text; false when libmicrohttpd does not know it. */
static bool peer_address(const struct request *request, char out[INET6_ADDRSTRLEN])
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(request->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    out[0] = '\0';
    if (!info || !info->client_addr)
        return false;
    if (info->client_addr->sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, out,
                         INET6_ADDRSTRLEN) != NULL;
    if (info->client_addr->sa_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)info->client_addr)->sin6_addr,
                         out, INET6_ADDRSTRLEN) != NULL;
    return false;
}

/* Whether `address` is one of trusted_proxies (IPv6 compared as addresses, not as text). */
static bool address_is_trusted_proxy(const struct config *config, const char *address)
{
    unsigned char a[16], b[16];
    bool v6 = strchr(address, ':') != NULL;

    for (size_t i = 0; i < config->trusted_proxies.count; i++) {
        const char *trusted = config->trusted_proxies.items[i];
        if (!v6 && strcmp(address, trusted) == 0)
            return true;
        if (v6 && inet_pton(AF_INET6, address, a) == 1 && inet_pton(AF_INET6, trusted, b) == 1 &&
            memcmp(a, b, 16) == 0)
            return true;
    }
    return false;
}

static bool client_is_trusted_proxy(const struct request *request)
{
    char address[INET6_ADDRSTRLEN];
    return peer_address(request, address) &&
           address_is_trusted_proxy(request->server->config, address);
}

/* The last address of a trusted proxy's X-Forwarded-For (the client it saw), if it is one. */
static bool forwarded_address(const struct request *request, char out[INET6_ADDRSTRLEN])
{
    const char *list = http_header(request, "X-Forwarded-For");
    const char *last;
    unsigned char binary[16];
    size_t length;

    if (!list)
        return false;
    last = strrchr(list, ',');
    last = last ? last + 1 : list;
    last += strspn(last, " \t");
    length = strcspn(last, " \t");
    if (length == 0 || length >= INET6_ADDRSTRLEN || last[length + strspn(last + length, " \t")])
        return false;
    memcpy(out, last, length);
    out[length] = '\0';
    return inet_pton(AF_INET, out, binary) == 1 || inet_pton(AF_INET6, out, binary) == 1;
}

void auth_client_address(const struct request *request, char *out, size_t out_size)
{
    char address[INET6_ADDRSTRLEN], forwarded[INET6_ADDRSTRLEN];
    unsigned char v6[16];

    if (!peer_address(request, address))
        snprintf(address, sizeof address, "unknown");
    else if (address_is_trusted_proxy(request->server->config, address) &&
             forwarded_address(request, forwarded))
        memcpy(address, forwarded, sizeof address);
    if (inet_pton(AF_INET6, address, v6) != 1) {
        snprintf(out, out_size, "%s", address);
        return;
    }
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)v6)) {
        inet_ntop(AF_INET, v6 + 12, out, (socklen_t)out_size);
        return;
    }
    /* one IPv6 client usually holds a whole /64 */
    memset(v6 + 8, 0, 8);
    inet_ntop(AF_INET6, v6, address, sizeof address);
    snprintf(out, out_size, "%s/64", address);
}

/* Whether `text` is UTF-8 without control characters (C0, DEL, C1): nothing that could break a
 * line, a log or a terminal. */
static bool identity_text(const char *text, size_t length)
{
    if (!utf8_valid(text, length))
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)text[i + 1] < 0xa0))
            return false;
    }
    return true;
}

/* Copies `value` (NULL: empty) whole into `out`, or refuses it as `field`. */
static bool identity_field_copy(char *out, size_t size, const char *field, const char *value,
                                struct identity_refusal *refusal)
{
    size_t length = value ? strlen(value) : 0;

    if (length >= size || !identity_text(value ? value : "", length)) {
        *refusal = (struct identity_refusal){field, length, length >= size ? size - 1 : 0};
        return false;
    }
    memcpy(out, value ? value : "", length + 1);
    return true;
}

bool auth_identity_fill(struct session_identity *who, const struct forum_config *forum,
                        const char *method, const struct identity_fields *fields,
                        struct identity_refusal *refusal)
{
    const char *username =
        fields->username && *fields->username ? fields->username : fields->user_id;

    memset(who, 0, sizeof *who);
    if (!fields->user_id || !*fields->user_id) {
        *refusal = (struct identity_refusal){"user id", 0, 0};
        return false;
    }
    if (!identity_field_copy(who->user_id, sizeof who->user_id, "user id", fields->user_id,
                             refusal) ||
        !identity_field_copy(who->username, sizeof who->username, "username", username, refusal) ||
        !identity_field_copy(who->name, sizeof who->name, "name", fields->name, refusal) ||
        !identity_field_copy(who->email, sizeof who->email, "email", fields->email, refusal) ||
        !identity_field_copy(who->groups, sizeof who->groups, "groups", fields->groups, refusal))
        return false;
    snprintf(who->forum, sizeof who->forum, "%s", forum->name);
    snprintf(who->method, sizeof who->method, "%s", method);
    who->is_moderator = auth_groups_moderate(forum, who->groups);
    return true;
}

enum auth_proxy_identity auth_proxy_identity(struct request *request, struct session_identity *who,
                                             struct identity_refusal *refusal)
{
    const struct config *config = request->server->config;
    const struct forum_config *forum = config_forum(config, config->proxy_forum);
    const char *user = http_header(request, "X-Forwarded-User");

    if (!user || !*user || !forum)
        return AUTH_PROXY_NONE;
    if (!client_is_trusted_proxy(request)) {
        log_warn(
            request->id,
            "ignored X-Forwarded-User from an address not in trusted_proxies (it claimed %.200s)",
            user);
        return AUTH_PROXY_NONE;
    }
    if (!auth_identity_fill(who, forum, "proxy",
                            &(struct identity_fields){
                                .user_id = user,
                                .username = http_header(request, "X-Forwarded-Preferred-Username"),
                                .groups = http_header(request, "X-Forwarded-Groups"),
                            },
                            refusal))
        return AUTH_PROXY_REFUSED;
    return AUTH_PROXY_OK;
}

/* Looks up the cookie's session. */
static struct session_identity *session_from_cookie(struct request *request)
{
    const char *token = cookie_token(request, SESSION_COOKIE);
    unsigned char hash[SESSION_HASH_BYTES];
    struct session_identity *who;
    struct db_connection *db;
    bool found = false;

    if (!token)
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
    struct session_identity *who, wanted;
    struct identity_refusal refusal;

    switch (auth_proxy_identity(request, &wanted, &refusal)) {
    case AUTH_PROXY_NONE:
        return NULL;
    case AUTH_PROXY_REFUSED:
        log_warn(request->id, "proxy identity refused: %s is %zu bytes%s", refusal.field,
                 refusal.length, refusal.limit ? " (too long)" : " and not text");
        return NULL;
    case AUTH_PROXY_OK:
        break;
    }
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
    char token[48];
    struct db_connection *db = db_thread_connection();
    enum db_status status;

    if (!db)
        return DB_UNAVAILABLE;
    auth_token_new(token, sizeof token);
    auth_hash(token, hash);
    status = sessions_open(db, hash, who, config->session_lifetime_seconds,
                           config->session_idle_seconds);
    if (status == DB_OK) {
        cookie_set(request, SESSION_COOKIE, token, config->session_lifetime_seconds);
        snprintf(request->session_token, sizeof request->session_token, "%s", token);
        csrf_derive(token, request->csrf);
    }
    sodium_memzero(token, sizeof token);
    return status;
}

void auth_session_end(struct request *request)
{
    const char *token = cookie_token(request, SESSION_COOKIE);

    if (token) {
        unsigned char hash[SESSION_HASH_BYTES];
        struct db_connection *db = db_thread_connection();
        auth_hash(token, hash);
        if (!db || sessions_close(db, hash) != DB_OK)
            log_warn(request->id, "could not end the session in the database");
    }
    cookie_set(request, SESSION_COOKIE, "", 0);
}

const char *auth_login_cookie(const struct request *request)
{
    return cookie_token(request, LOGIN_COOKIE);
}

void auth_login_cookie_set(struct request *request, const char *token, long seconds)
{
    cookie_set(request, LOGIN_COOKIE, token, seconds);
}

void auth_login_cookie_clear(struct request *request)
{
    cookie_set(request, LOGIN_COOKIE, "", 0);
}
