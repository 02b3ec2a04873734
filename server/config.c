/*
 * Configuration loading. libinih does the INI syntax; a line-counting reader
 * in front of it lets every error name its line, and refuses lines longer
 * than libinih's fixed buffer instead of letting it split them silently.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct config_parse {
    struct config *config;
    const char *path;
    char *directory;
    FILE *file;
    int line;
    int error_line;
    char error[512];
    struct forum_config *forum; /* the forum section being read */
    unsigned seen_server;       /* bit per server key, to refuse duplicates */
    unsigned seen_forum;
    unsigned seen_delivery;
};

static void parse_fail(struct config_parse *parse, const char *key, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void parse_fail(struct config_parse *parse, const char *key, const char *format, ...)
{
    char message[384];
    va_list args;

    if (parse->error[0])
        return; /* keep the first error */
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    parse->error_line = parse->line;
    if (parse->line > 0)
        snprintf(parse->error, sizeof parse->error, "%s:%d: %s: %s", parse->path, parse->line, key,
                 message);
    else
        snprintf(parse->error, sizeof parse->error, "%s: %s: %s", parse->path, key, message);
}

/* libinih's reader: one line per call, counted; an over-long line is an error. */
static char *config_read_line(char *buffer, int size, void *stream)
{
    struct config_parse *parse = stream;
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length = getline(&line, &capacity, parse->file);

    if (length < 0) {
        free(line);
        return NULL;
    }
    parse->line++;
    if (length >= size) {
        parse_fail(parse, "line", "line is longer than %d bytes", size - 2);
        length = size - 2;
        line[length] = '\n';
        line[length + 1] = '\0';
        length++;
    }
    memcpy(buffer, line, (size_t)length + 1);
    free(line);
    return buffer;
}

static char *string_copy(const char *text)
{
    char *copy = strdup(text);
    if (!copy) {
        fputs("agentgate: out of memory\n", stderr);
        exit(1);
    }
    return copy;
}

static void string_list_free(struct string_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Splits "a, b ,c" into trimmed, non-empty items. */
static void string_list_parse(const char *text, struct string_list *list)
{
    const char *p = text;

    string_list_free(list);
    while (*p) {
        const char *start, *end;
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            char **items = realloc(list->items, (list->count + 1) * sizeof *items);
            if (!items) {
                fputs("agentgate: out of memory\n", stderr);
                exit(1);
            }
            list->items = items;
            list->items[list->count++] = strndup(start, (size_t)(end - start));
        }
    }
}

bool config_parse_duration(const char *text, long *seconds)
{
    long total = 0;
    const char *p = text;

    if (!*p)
        return false;
    while (*p) {
        long value = 0, unit;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 9)
                return false;
            value = value * 10 + (*p++ - '0');
        }
        if (digits == 0)
            return false;
        switch (*p++) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return false;
        }
        if (value > (LONG_MAX - total) / unit)
            return false;
        total += value * unit;
    }
    *seconds = total;
    return true;
}

bool config_parse_rate(const char *text, unsigned *count, long *window_seconds)
{
    const char *slash = strchr(text, '/');
    unsigned long value = 0;
    char unit[32];

    if (strcmp(text, "none") == 0 || strcmp(text, "unlimited") == 0) {
        *count = 0;
        *window_seconds = 0;
        return true;
    }
    if (!slash || slash == text)
        return false;
    for (const char *p = text; p < slash; p++) {
        if (*p < '0' || *p > '9' || value > 100000000UL)
            return false;
        value = value * 10 + (unsigned long)(*p - '0');
    }
    if (value == 0 || strlen(slash + 1) >= sizeof unit)
        return false;
    /* "60/h" means per one hour; "100/10m" per ten minutes. */
    if (slash[1] >= '0' && slash[1] <= '9')
        snprintf(unit, sizeof unit, "%s", slash + 1);
    else
        snprintf(unit, sizeof unit, "1%s", slash + 1);
    if (!config_parse_duration(unit, window_seconds) || *window_seconds == 0)
        return false;
    *count = (unsigned)value;
    return true;
}

bool config_host_is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

static bool parse_unsigned(const char *text, unsigned long min, unsigned long max,
                           unsigned long *out)
{
    char *end;
    unsigned long value;

    if (!*text || *text == '-' || *text == '+')
        return false;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno || *end || value < min || value > max)
        return false;
    *out = value;
    return true;
}

/* Parses a byte size: digits with an optional k/K, m/M suffix (binary multiples). */
static bool parse_size(const char *text, size_t min, size_t max, size_t *out)
{
    char digits[32];
    size_t length = strlen(text), multiplier = 1;
    unsigned long value;

    if (length == 0 || length >= sizeof digits)
        return false;
    memcpy(digits, text, length + 1);
    switch (digits[length - 1]) {
    case 'k':
    case 'K':
        multiplier = 1024;
        digits[--length] = '\0';
        break;
    case 'm':
    case 'M':
        multiplier = 1024 * 1024;
        digits[--length] = '\0';
        break;
    default:
        break;
    }
    if (!parse_unsigned(digits, 0, ULONG_MAX / multiplier, &value))
        return false;
    value *= multiplier;
    if (value < min || value > max)
        return false;
    *out = value;
    return true;
}

/* Resolves env:NAME and file:PATH. Returns a new string, or NULL after recording an error. */
static char *value_resolve(struct config_parse *parse, const char *key, const char *value)
{
    if (strncmp(value, "env:", 4) == 0) {
        const char *found = getenv(value + 4);
        if (!value[4]) {
            parse_fail(parse, key, "env: needs a variable name");
            return NULL;
        }
        if (!found) {
            parse_fail(parse, key, "environment variable %s is not set", value + 4);
            return NULL;
        }
        return string_copy(found);
    }
    if (strncmp(value, "file:", 5) == 0) {
        char path[PATH_MAX];
        char *content = NULL;
        size_t capacity = 0, length;
        FILE *file;
        ssize_t got;

        if (!value[5]) {
            parse_fail(parse, key, "file: needs a path");
            return NULL;
        }
        if (value[5] == '/')
            snprintf(path, sizeof path, "%s", value + 5);
        else
            snprintf(path, sizeof path, "%s/%s", parse->directory, value + 5);
        file = fopen(path, "r");
        if (!file) {
            parse_fail(parse, key, "cannot read secret file %s: %s", path, strerror(errno));
            return NULL;
        }
        got = getdelim(&content, &capacity, '\0', file);
        fclose(file);
        if (got < 0) {
            free(content);
            content = string_copy("");
            got = 0;
        }
        length = (size_t)got;
        if (strlen(content) != length) {
            free(content);
            parse_fail(parse, key, "secret file %s contains a NUL byte", path);
            return NULL;
        }
        while (length > 0 && (content[length - 1] == '\n' || content[length - 1] == '\r'))
            content[--length] = '\0';
        return content;
    }
    return string_copy(value);
}

enum server_key {
    SK_LISTEN,
    SK_PUBLIC_URL,
    SK_DATABASE,
    SK_AUTH,
    SK_TRUSTED_PROXIES,
    SK_PROXY_FORUM,
    SK_THREADS,
    SK_MAX_CONNECTIONS,
    SK_MAX_CONNECTIONS_PER_IP,
    SK_IDLE_TIMEOUT,
    SK_REQUEST_TIMEOUT,
    SK_CONNECTION_MEMORY_LIMIT,
    SK_PLUGIN_DIR,
    SK_LOG_LEVEL,
    SK_SESSION_LIFETIME,
    SK_SESSION_IDLE_TIMEOUT,
    SK_HTTP_THREADS,
    SK_COUNT
};

static const char *const server_keys[SK_COUNT] = {
    "listen",
    "public_url",
    "database",
    "auth",
    "trusted_proxies",
    "proxy_forum",
    "threads",
    "max_connections",
    "max_connections_per_ip",
    "idle_timeout",
    "request_timeout",
    "connection_memory_limit",
    "plugin_dir",
    "log_level",
    "session_lifetime",
    "session_idle_timeout",
    "http_threads",
};

enum forum_key {
    FK_ADAPTER,
    FK_INBOUND_SECRET,
    FK_RELEASE_URL,
    FK_RELEASE_SECRET,
    FK_FORUM_URL,
    FK_RELEASE_API_KEY,
    FK_SSO_URL,
    FK_SSO_SECRET,
    FK_MODERATOR_GROUPS,
    FK_PENDING_TTL,
    FK_MAX_BODY_BYTES,
    FK_RATE_LIMIT,
    FK_ALLOWED_CATEGORIES,
    FK_SECOND_APPROVER_FOR,
    FK_EXPIRING_NOTICE,
    FK_COUNT
};

static const char *const forum_keys[FK_COUNT] = {
    "adapter",
    "inbound_secret",
    "release_url",
    "release_secret",
    "forum_url",
    "release_api_key",
    "sso_url",
    "sso_secret",
    "moderator_groups",
    "pending_ttl",
    "max_body_bytes",
    "rate_limit",
    "allowed_categories",
    "second_approver_for",
    "expiring_notice",
};

static int key_index(const char *const *keys, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(keys[i], name) == 0)
            return i;
    return -1;
}

static bool url_is_http(const char *url)
{
    return (strncmp(url, "http://", 7) == 0 && url[7]) ||
           (strncmp(url, "https://", 8) == 0 && url[8]);
}

static int server_set(struct config_parse *parse, const char *name, const char *value)
{
    struct config *config = parse->config;
    int key = key_index(server_keys, SK_COUNT, name);
    unsigned long number;
    char *text;

    if (key < 0) {
        parse_fail(parse, name, "unknown key in [server]");
        return 0;
    }
    if (parse->seen_server & (1u << key)) {
        parse_fail(parse, name, "key given twice");
        return 0;
    }
    parse->seen_server |= 1u << key;
    text = value_resolve(parse, name, value);
    if (!text)
        return 0;

    switch ((enum server_key)key) {
    case SK_LISTEN: {
        char *colon = strrchr(text, ':');
        char *host;
        /* port 0: the kernel picks a free port at start-up (see config_use_bound_port) */
        if (!colon || colon == text || !parse_unsigned(colon + 1, 0, 65535, &number)) {
            parse_fail(parse, name, "must be host:port");
            goto fail;
        }
        *colon = '\0';
        host = text;
        if (host[0] == '[') {
            size_t length = strlen(host);
            if (length < 3 || host[length - 1] != ']') {
                parse_fail(parse, name, "must be host:port");
                goto fail;
            }
            host[length - 1] = '\0';
            host++;
        }
        free(config->listen_host);
        config->listen_host = string_copy(host);
        config->listen_port = (unsigned)number;
        break;
    }
    case SK_PUBLIC_URL:
        if (!url_is_http(text)) {
            parse_fail(parse, name, "must be an http:// or https:// URL");
            goto fail;
        }
        while (strlen(text) > 8 && text[strlen(text) - 1] == '/')
            text[strlen(text) - 1] = '\0';
        free(config->public_url);
        config->public_url = string_copy(text);
        break;
    case SK_DATABASE:
        if (!*text) {
            parse_fail(parse, name, "must not be empty");
            goto fail;
        }
        free(config->database);
        config->database = string_copy(text);
        break;
    case SK_AUTH:
        if (strcmp(text, "sso") == 0)
            config->auth = AUTH_SSO;
        else if (strcmp(text, "proxy") == 0)
            config->auth = AUTH_PROXY;
        else if (strcmp(text, "dev") == 0)
            config->auth = AUTH_DEV;
        else {
            parse_fail(parse, name, "must be sso, proxy or dev");
            goto fail;
        }
        break;
    case SK_TRUSTED_PROXIES:
        string_list_parse(text, &config->trusted_proxies);
        for (size_t i = 0; i < config->trusted_proxies.count; i++) {
            struct in6_addr address;
            const char *item = config->trusted_proxies.items[i];
            if (inet_pton(AF_INET, item, &address) != 1 &&
                inet_pton(AF_INET6, item, &address) != 1) {
                parse_fail(parse, name, "%s is not an IP address", item);
                goto fail;
            }
        }
        break;
    case SK_PROXY_FORUM:
        free(config->proxy_forum);
        config->proxy_forum = string_copy(text);
        break;
    case SK_THREADS:
        if (!parse_unsigned(text, 1, 256, &number)) {
            parse_fail(parse, name, "must be a number from 1 to 256");
            goto fail;
        }
        config->threads = (unsigned)number;
        break;
    case SK_HTTP_THREADS:
        if (!parse_unsigned(text, 1, 64, &number)) {
            parse_fail(parse, name, "must be a number from 1 to 64");
            goto fail;
        }
        config->http_threads = (unsigned)number;
        break;
    case SK_MAX_CONNECTIONS:
        if (!parse_unsigned(text, 1, 65536, &number)) {
            parse_fail(parse, name, "must be a number from 1 to 65536");
            goto fail;
        }
        config->max_connections = (unsigned)number;
        break;
    case SK_MAX_CONNECTIONS_PER_IP:
        if (!parse_unsigned(text, 1, 65536, &number)) {
            parse_fail(parse, name, "must be a number from 1 to 65536");
            goto fail;
        }
        config->max_connections_per_ip = (unsigned)number;
        break;
    case SK_IDLE_TIMEOUT:
    case SK_REQUEST_TIMEOUT: {
        long seconds;
        if (!config_parse_duration(text, &seconds) || seconds < 1 || seconds > 3600) {
            parse_fail(parse, name, "must be a duration from 1s to 1h, such as 30s");
            goto fail;
        }
        if (key == SK_IDLE_TIMEOUT)
            config->idle_timeout_seconds = seconds;
        else
            config->request_timeout_seconds = seconds;
        break;
    }
    case SK_SESSION_LIFETIME:
    case SK_SESSION_IDLE_TIMEOUT: {
        long seconds;
        if (!config_parse_duration(text, &seconds) || seconds < 60 || seconds > 30 * 86400) {
            parse_fail(parse, name, "must be a duration from 1m to 30d, such as 12h");
            goto fail;
        }
        if (key == SK_SESSION_LIFETIME)
            config->session_lifetime_seconds = seconds;
        else
            config->session_idle_seconds = seconds;
        break;
    }
    case SK_CONNECTION_MEMORY_LIMIT:
        if (!parse_size(text, 8192, 16 * 1024 * 1024, &config->connection_memory_limit)) {
            parse_fail(parse, name, "must be a size from 8K to 16M");
            goto fail;
        }
        break;
    case SK_PLUGIN_DIR:
        free(config->plugin_dir);
        config->plugin_dir = string_copy(text);
        break;
    case SK_LOG_LEVEL:
        if (strcmp(text, "debug") && strcmp(text, "info") && strcmp(text, "warn") &&
            strcmp(text, "error")) {
            parse_fail(parse, name, "must be debug, info, warn or error");
            goto fail;
        }
        free(config->log_level);
        config->log_level = string_copy(text);
        break;
    case SK_COUNT:
        break;
    }
    free(text);
    return 1;
fail:
    free(text);
    return 0;
}

static bool forum_name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > 32)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

static struct forum_config *forum_begin(struct config_parse *parse, const char *name)
{
    struct config *config = parse->config;
    struct forum_config *forums, *forum;

    if (!forum_name_valid(name)) {
        parse_fail(parse, "forum", "forum name must be 1 to 32 of a-z, 0-9, - and _");
        return NULL;
    }
    if (config_forum(config, name)) {
        parse_fail(parse, "forum", "[forum %s] appears twice", name);
        return NULL;
    }
    forums = realloc(config->forums, (config->forum_count + 1) * sizeof *forums);
    if (!forums) {
        fputs("agentgate: out of memory\n", stderr);
        exit(1);
    }
    config->forums = forums;
    forum = &forums[config->forum_count++];
    memset(forum, 0, sizeof *forum);
    forum->name = string_copy(name);
    forum->adapter = string_copy("generic");
    forum->pending_ttl_seconds = 72 * 3600;
    forum->max_body_bytes = 65536;
    forum->rate_limit_count = 60;
    forum->rate_limit_window_seconds = 3600;
    forum->all_categories_allowed = true;
    forum->second_approver_for = SECOND_APPROVER_NONE;
    forum->expiring_notice_seconds = 12 * 3600;
    string_list_parse("moderators, admins", &forum->moderator_groups);
    forum->line = parse->line;
    parse->seen_forum = 0;
    return forum;
}

static int forum_set(struct config_parse *parse, const char *name, const char *value)
{
    struct forum_config *forum = parse->forum;
    int key = key_index(forum_keys, FK_COUNT, name);
    char *text;

    if (key < 0) {
        parse_fail(parse, name, "unknown key in [forum %s]", forum->name);
        return 0;
    }
    if (parse->seen_forum & (1u << key)) {
        parse_fail(parse, name, "key given twice");
        return 0;
    }
    parse->seen_forum |= 1u << key;
    text = value_resolve(parse, name, value);
    if (!text)
        return 0;

    switch ((enum forum_key)key) {
    case FK_ADAPTER:
        if (!forum_name_valid(text)) {
            parse_fail(parse, name, "adapter name must be 1 to 32 of a-z, 0-9, - and _");
            goto fail;
        }
        free(forum->adapter);
        forum->adapter = string_copy(text);
        break;
    case FK_INBOUND_SECRET:
    case FK_RELEASE_SECRET: {
        struct webhook_key *target =
            key == FK_INBOUND_SECRET ? &forum->inbound_key : &forum->release_key;
        if (strncmp(text, "whsec_", 6) != 0 || !webhook_key_parse(text, target)) {
            parse_fail(parse, name,
                       "must be whsec_ followed by base64 (see `agentgate secret new`)");
            goto fail;
        }
        if (key == FK_INBOUND_SECRET)
            forum->has_inbound_key = true;
        else
            forum->has_release_key = true;
        break;
    }
    case FK_RELEASE_URL:
    case FK_FORUM_URL:
    case FK_SSO_URL: {
        char **target = key == FK_RELEASE_URL ? &forum->release_url
                        : key == FK_FORUM_URL ? &forum->forum_url
                                              : &forum->sso_url;
        if (!url_is_http(text)) {
            parse_fail(parse, name, "must be an http:// or https:// URL");
            goto fail;
        }
        free(*target);
        *target = string_copy(text);
        break;
    }
    case FK_RELEASE_API_KEY:
    case FK_SSO_SECRET: {
        char **target = key == FK_RELEASE_API_KEY ? &forum->release_api_key : &forum->sso_secret;
        if (!*text) {
            parse_fail(parse, name, "must not be empty");
            goto fail;
        }
        free(*target);
        *target = string_copy(text);
        break;
    }
    case FK_MODERATOR_GROUPS:
        string_list_parse(text, &forum->moderator_groups);
        break;
    case FK_PENDING_TTL:
        if (!config_parse_duration(text, &forum->pending_ttl_seconds) ||
            forum->pending_ttl_seconds < 60) {
            parse_fail(parse, name, "must be a duration of at least 1m, such as 72h");
            goto fail;
        }
        break;
    case FK_MAX_BODY_BYTES:
        if (!parse_size(text, 256, 16 * 1024 * 1024, &forum->max_body_bytes)) {
            parse_fail(parse, name, "must be a size from 256 to 16M bytes");
            goto fail;
        }
        break;
    case FK_RATE_LIMIT:
        if (!config_parse_rate(text, &forum->rate_limit_count, &forum->rate_limit_window_seconds)) {
            parse_fail(parse, name, "must be COUNT/UNIT such as 60/h, or none");
            goto fail;
        }
        break;
    case FK_ALLOWED_CATEGORIES:
        string_list_parse(text, &forum->allowed_categories);
        forum->all_categories_allowed = forum->allowed_categories.count == 1 &&
                                        strcmp(forum->allowed_categories.items[0], "*") == 0;
        if (forum->allowed_categories.count == 0) {
            parse_fail(parse, name, "must be * or a list of categories");
            goto fail;
        }
        break;
    case FK_SECOND_APPROVER_FOR:
        if (strcmp(text, "none") == 0)
            forum->second_approver_for = SECOND_APPROVER_NONE;
        else if (strcmp(text, "critical") == 0)
            forum->second_approver_for = SECOND_APPROVER_CRITICAL;
        else if (strcmp(text, "any-flag") == 0)
            forum->second_approver_for = SECOND_APPROVER_ANY_FLAG;
        else {
            parse_fail(parse, name, "must be none, critical or any-flag");
            goto fail;
        }
        break;
    case FK_EXPIRING_NOTICE:
        if (strcmp(text, "none") == 0) {
            forum->expiring_notice_seconds = 0;
        } else if (!config_parse_duration(text, &forum->expiring_notice_seconds)) {
            parse_fail(parse, name, "must be a duration such as 12h, or none");
            goto fail;
        }
        break;
    case FK_COUNT:
        break;
    }
    free(text);
    return 1;
fail:
    free(text);
    return 0;
}

/* [delivery]: retry_schedule, connect_timeout, timeout, workers. */
static int delivery_set(struct config_parse *parse, const char *name, const char *value)
{
    struct delivery_config *delivery = &parse->config->delivery;
    static const char *const keys[] = {"retry_schedule", "connect_timeout", "timeout", "workers"};
    int key = key_index(keys, 4, name);
    char *text;
    long seconds;
    unsigned long number;

    if (key < 0) {
        parse_fail(parse, name, "unknown key in [delivery]");
        return 0;
    }
    if (parse->seen_delivery & (1u << key)) {
        parse_fail(parse, name, "key given twice");
        return 0;
    }
    parse->seen_delivery |= 1u << key;
    text = value_resolve(parse, name, value);
    if (!text)
        return 0;
    switch (key) {
    case 0: {
        struct string_list items = {0};
        string_list_parse(text, &items);
        delivery->schedule_count = 0;
        for (size_t i = 0; i < items.count; i++) {
            if (i >= DELIVERY_SCHEDULE_MAX || !config_parse_duration(items.items[i], &seconds) ||
                seconds > 7 * 86400) {
                string_list_free(&items);
                parse_fail(parse, name,
                           "must be a list of at most 24 durations up to 7d, such as 0s, 5s, 5m");
                goto fail;
            }
            delivery->schedule_seconds[delivery->schedule_count++] = seconds;
        }
        string_list_free(&items);
        if (delivery->schedule_count == 0) {
            parse_fail(parse, name, "must list at least one attempt");
            goto fail;
        }
        break;
    }
    case 1:
    case 2:
        if (!config_parse_duration(text, &seconds) || seconds < 1 || seconds > 300) {
            parse_fail(parse, name, "must be a duration from 1s to 5m");
            goto fail;
        }
        if (key == 1)
            delivery->connect_timeout_ms = seconds * 1000;
        else
            delivery->timeout_ms = seconds * 1000;
        break;
    case 3:
        if (!parse_unsigned(text, 0, 64, &number)) {
            parse_fail(parse, name, "must be a number from 0 to 64");
            goto fail;
        }
        delivery->workers = (unsigned)number;
        break;
    }
    free(text);
    return 1;
fail:
    free(text);
    return 0;
}

static int config_on_value(void *user, const char *section, const char *name, const char *value)
{
    struct config_parse *parse = user;

    if (parse->error[0])
        return 1; /* the first error is reported; skip the rest quietly */
    if (strcmp(section, "server") == 0) {
        parse->forum = NULL;
        return server_set(parse, name, value);
    }
    if (strcmp(section, "delivery") == 0) {
        parse->forum = NULL;
        return delivery_set(parse, name, value);
    }
    if (strncmp(section, "forum ", 6) == 0) {
        const char *forum_name = section + 6;
        while (*forum_name == ' ')
            forum_name++;
        if (!parse->forum || strcmp(parse->forum->name, forum_name) != 0) {
            parse->forum = forum_begin(parse, forum_name);
            if (!parse->forum)
                return 0;
        }
        return forum_set(parse, name, value);
    }
    parse_fail(parse, name, "unknown section [%s]", section);
    return 0;
}

static void forum_free(struct forum_config *forum)
{
    free(forum->name);
    free(forum->adapter);
    free(forum->release_url);
    free(forum->forum_url);
    if (forum->release_api_key) {
        explicit_bzero(forum->release_api_key, strlen(forum->release_api_key));
        free(forum->release_api_key);
    }
    free(forum->sso_url);
    if (forum->sso_secret) {
        explicit_bzero(forum->sso_secret, strlen(forum->sso_secret));
        free(forum->sso_secret);
    }
    string_list_free(&forum->moderator_groups);
    string_list_free(&forum->allowed_categories);
    explicit_bzero(&forum->inbound_key, sizeof forum->inbound_key);
    explicit_bzero(&forum->release_key, sizeof forum->release_key);
}

void config_free(struct config *config)
{
    for (size_t i = 0; i < config->forum_count; i++)
        forum_free(&config->forums[i]);
    free(config->forums);
    free(config->path);
    free(config->listen_host);
    free(config->public_url);
    if (config->database) {
        explicit_bzero(config->database, strlen(config->database));
        free(config->database);
    }
    string_list_free(&config->trusted_proxies);
    free(config->proxy_forum);
    free(config->plugin_dir);
    free(config->log_level);
    memset(config, 0, sizeof *config);
}

const struct forum_config *config_forum(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->forum_count; i++)
        if (strcmp(config->forums[i].name, name) == 0)
            return &config->forums[i];
    return NULL;
}

/* Checks what only the whole file can tell: required keys and combinations. */
static void config_check_complete(struct config_parse *parse)
{
    struct config *config = parse->config;

    parse->line = 0;
    if (!config->database) {
        parse_fail(parse, "database", "[server] needs database");
        return;
    }
    if (config->forum_count == 0) {
        parse_fail(parse, "forum", "at least one [forum NAME] section is required");
        return;
    }
    if (config->auth == AUTH_DEV && !config_host_is_loopback(config->listen_host)) {
        parse_fail(parse, "auth",
                   "auth = dev lets anyone sign in as anyone; it needs a loopback listen address");
        return;
    }
    if (config->auth == AUTH_PROXY) {
        if (config->trusted_proxies.count == 0) {
            parse_fail(parse, "trusted_proxies", "auth = proxy needs trusted_proxies");
            return;
        }
        if (!config->proxy_forum || !config_forum(config, config->proxy_forum)) {
            parse_fail(parse, "proxy_forum", "auth = proxy needs proxy_forum naming a [forum]");
            return;
        }
    }
    for (size_t i = 0; i < config->forum_count; i++) {
        struct forum_config *forum = &config->forums[i];
        parse->line = forum->line;
        if (!forum->has_inbound_key) {
            parse_fail(parse, "inbound_secret", "[forum %s] needs inbound_secret", forum->name);
            return;
        }
        if (config->auth == AUTH_SSO && (!forum->sso_url || !forum->sso_secret)) {
            parse_fail(parse, forum->sso_url ? "sso_secret" : "sso_url",
                       "auth = sso needs sso_url and sso_secret in [forum %s]", forum->name);
            return;
        }
    }
}

/* The default public_url: http://host:port of `listen`. The caller frees it. */
static char *public_url_from_listen(const struct config *config)
{
    char url[300];
    bool v6 = strchr(config->listen_host, ':') != NULL;

    snprintf(url, sizeof url, v6 ? "http://[%s]:%u" : "http://%s:%u", config->listen_host,
             config->listen_port);
    return string_copy(url);
}

void config_use_bound_port(struct config *config, unsigned port)
{
    config->listen_port = port;
    if (config->public_url_from_listen) {
        free(config->public_url);
        config->public_url = public_url_from_listen(config);
    }
}

int config_load(const char *path, struct config *config, char *error, size_t error_size)
{
    struct config_parse parse = {.config = config, .path = path};
    char *slash;
    int result;

    memset(config, 0, sizeof *config);
    config->path = string_copy(path);
    config->listen_host = string_copy("127.0.0.1");
    config->listen_port = 8080;
    config->auth = AUTH_SSO;
    config->threads = 32;
    config->http_threads = 4;
    config->max_connections = 1024;
    config->max_connections_per_ip = 128;
    config->idle_timeout_seconds = 15;
    config->request_timeout_seconds = 30;
    config->connection_memory_limit = 64 * 1024;
    config->log_level = string_copy("info");
    {
        /* the Standard Webhooks schedule: immediately, then 5s, 5m, 30m, 2h, 5h, 10h, 14h,
         * 20h and 24h later */
        static const long schedule[] = {0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};
        memcpy(config->delivery.schedule_seconds, schedule, sizeof schedule);
        config->delivery.schedule_count = sizeof schedule / sizeof schedule[0];
        config->delivery.connect_timeout_ms = 5000;
        config->delivery.timeout_ms = 10000;
        config->delivery.workers = 4;
    }
    config->session_lifetime_seconds = 12 * 3600;
    config->session_idle_seconds = 2 * 3600;

    parse.directory = string_copy(path);
    slash = strrchr(parse.directory, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(parse.directory, ".");

    parse.file = fopen(path, "r");
    if (!parse.file) {
        snprintf(error, error_size, "%s:0: config: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    result = ini_parse_stream(config_read_line, &parse, config_on_value, &parse);
    fclose(parse.file);
    if (result > 0 && (!parse.error[0] || result < parse.error_line)) {
        parse.error[0] = '\0';
        parse.line = result;
        parse_fail(&parse, "syntax", "expected [section] or key = value");
    }
    if (!parse.error[0])
        config_check_complete(&parse);
    if (parse.error[0]) {
        snprintf(error, error_size, "%s", parse.error);
        goto fail;
    }
    if (!config->public_url) {
        config->public_url_from_listen = true;
        config->public_url = public_url_from_listen(config);
    }
    free(parse.directory);
    return 0;
fail:
    free(parse.directory);
    config_free(config);
    return -1;
}
