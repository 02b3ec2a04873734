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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "log.h"
#include "text.h"

#define CONFIG_KEYS_MAX 64

struct config_parse {
    struct config *config;
    const char *path;
    char *directory;
    FILE *file;
    int line;
    int error_line;
    char error[512];
    struct forum_config *forum;    /* the forum section being read */
    bool seen[3][CONFIG_KEYS_MAX]; /* per section and key of the table: given already */
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
        const char *start = p;
        size_t length = strcspn(p, ",");

        p += length + (p[length] == ',');
        text_trim_span(&start, &length);
        if (length > 0) {
            char **items = realloc(list->items, (list->count + 1) * sizeof *items);
            if (!items) {
                fputs("agentgate: out of memory\n", stderr);
                exit(1);
            }
            list->items = items;
            list->items[list->count++] = strndup(start, length);
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

static bool url_is_http(const char *url)
{
    return (strncmp(url, "http://", 7) == 0 && url[7]) ||
           (strncmp(url, "https://", 8) == 0 && url[8]);
}

static bool name_valid(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length > 32)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

/*
 * The configuration keys, declared once: section, name, how the value is read and checked
 * (the setter), where it is stored, its default (written as in the file and read by the same
 * setter, so defaults pass the same checks), bounds, and the "must be ..." hint of its error.
 */
struct config_key;
/* A value being set: its text (env: and file: resolved), and the reason it is not valid when
 * a setter can say more than the key's hint. */
struct config_value {
    char *text;
    char why[300];
};

/* Reads value->text into `target`; false when it is not valid. */
typedef bool (*config_setter)(const struct config_key *key, void *target,
                              struct config_value *value);

enum config_section { SECTION_SERVER, SECTION_FORUM, SECTION_DELIVERY };

struct config_key {
    enum config_section section;
    const char *name;
    config_setter set;
    size_t offset; /* in struct config (server, delivery) or struct forum_config (forum) */
    const char *default_value;
    long min, max; /* numbers; seconds for durations; bytes for sizes */
    const char *const *choices;
    const char *hint;
};

static bool set_string(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    char **field = target;
    if (key->min > 0 && !*text)
        return false;
    free(*field);
    *field = string_copy(text);
    return true;
}

static bool set_url(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    if (!url_is_http(text))
        return false;
    /* max = 1 (public_url): trailing slashes dropped, as paths are appended to it */
    while (key->max && strlen(text) > 8 && text[strlen(text) - 1] == '/')
        text[strlen(text) - 1] = '\0'; /* public_url: no trailing slash */
    return set_string(key, target, value);
}

static bool set_name(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    return name_valid(text) && set_string(key, target, value);
}

static bool set_unsigned(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    unsigned long number;
    if (!parse_unsigned(text, (unsigned long)key->min, (unsigned long)key->max, &number))
        return false;
    *(unsigned *)target = (unsigned)number;
    return true;
}

static bool set_duration(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    long seconds;
    if (!config_parse_duration(text, &seconds) || seconds < key->min || seconds > key->max)
        return false;
    *(long *)target = seconds;
    return true;
}

/* A duration kept in milliseconds. */
static bool set_duration_ms(const struct config_key *key, void *target, struct config_value *value)
{
    long seconds;
    if (!set_duration(key, &seconds, value))
        return false;
    *(long *)target = seconds * 1000;
    return true;
}

/* A duration, or "none" for 0. */
static bool set_duration_or_none(const struct config_key *key, void *target,
                                 struct config_value *value)
{
    char *text = value->text;
    if (strcmp(text, "none") == 0) {
        *(long *)target = 0;
        return true;
    }
    return set_duration(key, target, value);
}

static bool set_size(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    return parse_size(text, (size_t)key->min, (size_t)key->max, target);
}

/* One of key->choices; the index is stored (the enums list their values in that order). */
static bool set_choice(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    for (int i = 0; key->choices[i]; i++) {
        if (strcmp(key->choices[i], text) == 0) {
            *(int *)target = i;
            return true;
        }
    }
    return false;
}

static bool set_list(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    (void)key;
    string_list_parse(text, target);
    return true;
}

static bool set_address_list(const struct config_key *key, void *target, struct config_value *value)
{
    struct string_list *list = target;
    set_list(key, target, value);
    for (size_t i = 0; i < list->count; i++) {
        struct in6_addr address;
        if (inet_pton(AF_INET, list->items[i], &address) != 1 &&
            inet_pton(AF_INET6, list->items[i], &address) != 1) {
            snprintf(value->why, sizeof value->why, "%s is not an IP address", list->items[i]);
            return false;
        }
    }
    return true;
}

/* host:port, [v6]:port; port 0 lets the kernel pick one (serve logs which). */
static bool set_listen(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    struct config *config = target;
    char *colon = strrchr(text, ':');
    unsigned long port;
    char *host = text;
    (void)key;

    if (!colon || colon == text || !parse_unsigned(colon + 1, 0, 65535, &port))
        return false;
    *colon = '\0';
    if (host[0] == '[') {
        size_t length = strlen(host);
        if (length < 3 || host[length - 1] != ']')
            return false;
        host[length - 1] = '\0';
        host++;
    }
    free(config->listen_host);
    config->listen_host = string_copy(host);
    config->listen_port = (unsigned)port;
    return true;
}

/* A whsec_ secret of at least key->min bytes; sets the has_* flag that follows the key. */
static bool set_webhook_key(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    struct webhook_key *parsed = target;
    bool *present = (bool *)((char *)target + sizeof *parsed);
    if (strncmp(text, "whsec_", 6) != 0 || !webhook_key_parse(text, parsed) ||
        parsed->length < (size_t)key->min)
        return false;
    *present = true;
    return true;
}

static bool set_rate(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    struct forum_config *forum = target;
    (void)key;
    return config_parse_rate(text, &forum->rate_limit_count, &forum->rate_limit_window_seconds);
}

/* [server] sign_in_rate_limit: how many sign-ins one client address may start per window. */
static bool set_sign_in_rate(const struct config_key *key, void *target, struct config_value *value)
{
    struct config *config = target;
    (void)key;
    return config_parse_rate(value->text, &config->sign_in_rate_count,
                             &config->sign_in_rate_window_seconds);
}

static bool set_categories(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    struct forum_config *forum = target;
    (void)key;
    string_list_parse(text, &forum->allowed_categories);
    forum->all_categories_allowed = forum->allowed_categories.count == 1 &&
                                    strcmp(forum->allowed_categories.items[0], "*") == 0;
    return forum->allowed_categories.count > 0;
}

static bool set_schedule(const struct config_key *key, void *target, struct config_value *value)
{
    char *text = value->text;
    struct delivery_config *delivery = target;
    struct string_list items = {0};
    bool ok = true;
    long seconds;

    string_list_parse(text, &items);
    delivery->schedule_count = 0;
    for (size_t i = 0; ok && i < items.count; i++) {
        ok = i < DELIVERY_SCHEDULE_MAX && config_parse_duration(items.items[i], &seconds) &&
             seconds <= key->max;
        if (ok)
            delivery->schedule_seconds[delivery->schedule_count++] = seconds;
    }
    string_list_free(&items);
    return ok && delivery->schedule_count > 0;
}

/* set_choice() stores an int; set_webhook_key() finds the has_* flag right after the key. */
_Static_assert(sizeof(enum auth_mode) == sizeof(int), "enum auth_mode is an int");
_Static_assert(sizeof(enum second_approver) == sizeof(int), "enum second_approver is an int");
_Static_assert(offsetof(struct forum_config, has_inbound_key) ==
                   offsetof(struct forum_config, inbound_key) + sizeof(struct webhook_key),
               "has_inbound_key follows inbound_key");
_Static_assert(offsetof(struct forum_config, has_release_key) ==
                   offsetof(struct forum_config, release_key) + sizeof(struct webhook_key),
               "has_release_key follows release_key");

static const char *const auth_choices[] = {"sso", "proxy", "dev", NULL};
static const char *const log_level_choices[] = {"debug", "info", "warn", "error", NULL};
static const char *const second_approver_choices[] = {"none", "critical", "any-flag", NULL};

#define SERVER(field)   offsetof(struct config, field)
#define FORUM(field)    offsetof(struct forum_config, field)
#define DELIVERY(field) offsetof(struct config, delivery.field)

/* The Standard Webhooks schedule: at once, then 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h and 24h. */
#define DEFAULT_SCHEDULE "0s, 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h"

static const struct config_key config_keys[] = {
    /* section, name, setter, offset, default, min, max, choices, hint */
    {SECTION_SERVER, "listen", set_listen, 0, "127.0.0.1:8080", 0, 0, NULL, "must be host:port"},
    {SECTION_SERVER, "public_url", set_url, SERVER(public_url), NULL, 0, 1, NULL,
     "must be an http:// or https:// URL"},
    {SECTION_SERVER, "database", set_string, SERVER(database), NULL, 1, 0, NULL,
     "must not be empty"},
    {SECTION_SERVER, "auth", set_choice, SERVER(auth), "sso", 0, 0, auth_choices,
     "must be sso, proxy or dev"},
    {SECTION_SERVER, "trusted_proxies", set_address_list, SERVER(trusted_proxies), NULL, 0, 0, NULL,
     "must be a list of IP addresses"},
    {SECTION_SERVER, "proxy_forum", set_string, SERVER(proxy_forum), NULL, 0, 0, NULL, ""},
    {SECTION_SERVER, "metrics_from", set_address_list, SERVER(metrics_from), "127.0.0.1, ::1", 0, 0,
     NULL, "must be a list of IP addresses"},
    {SECTION_SERVER, "shutdown_timeout", set_duration, SERVER(shutdown_timeout_seconds), "10s", 1,
     3600, NULL, "must be a duration from 1s to 1h, such as 10s"},
    {SECTION_SERVER, "threads", set_unsigned, SERVER(threads), "8", 1, 256, NULL,
     "must be a number from 1 to 256"},
    {SECTION_SERVER, "http_threads", set_unsigned, SERVER(http_threads), "4", 1, 64, NULL,
     "must be a number from 1 to 64"},
    {SECTION_SERVER, "max_connections", set_unsigned, SERVER(max_connections), "1024", 1, 65536,
     NULL, "must be a number from 1 to 65536"},
    {SECTION_SERVER, "max_connections_per_ip", set_unsigned, SERVER(max_connections_per_ip), "128",
     1, 65536, NULL, "must be a number from 1 to 65536"},
    {SECTION_SERVER, "idle_timeout", set_duration, SERVER(idle_timeout_seconds), "15s", 1, 3600,
     NULL, "must be a duration from 1s to 1h, such as 30s"},
    {SECTION_SERVER, "header_timeout", set_duration, SERVER(header_timeout_seconds), "10s", 1, 3600,
     NULL, "must be a duration from 1s to 1h, such as 10s"},
    {SECTION_SERVER, "request_timeout", set_duration, SERVER(request_timeout_seconds), "30s", 1,
     3600, NULL, "must be a duration from 1s to 1h, such as 30s"},
    {SECTION_SERVER, "connection_memory_limit", set_size, SERVER(connection_memory_limit), "64K",
     8192, 16 * 1024 * 1024, NULL, "must be a size from 8K to 16M"},
    {SECTION_SERVER, "plugin_dir", set_string, SERVER(plugin_dir), NULL, 0, 0, NULL, ""},
    {SECTION_SERVER, "log_level", set_choice, SERVER(log_level), "info", 0, 0, log_level_choices,
     "must be debug, info, warn or error"},
    {SECTION_SERVER, "session_lifetime", set_duration, SERVER(session_lifetime_seconds), "12h", 60,
     30 * 86400, NULL, "must be a duration from 1m to 30d, such as 12h"},
    {SECTION_SERVER, "session_idle_timeout", set_duration, SERVER(session_idle_seconds), "2h", 60,
     30 * 86400, NULL, "must be a duration from 1m to 30d, such as 12h"},
    {SECTION_SERVER, "sign_in_rate_limit", set_sign_in_rate, 0, "30/m", 0, 0, NULL,
     "must be COUNT/UNIT such as 30/m, or none"},

    {SECTION_FORUM, "adapter", set_name, FORUM(adapter), "generic", 0, 0, NULL,
     "adapter name must be 1 to 32 of a-z, 0-9, - and _"},
    {SECTION_FORUM, "inbound_secret", set_webhook_key, FORUM(inbound_key), NULL,
     WEBHOOK_KEY_MIN_BYTES, 0, NULL,
     "must be whsec_ followed by base64 of at least 16 bytes (see `agentgate secret new`)"},
    {SECTION_FORUM, "release_url", set_url, FORUM(release_url), NULL, 0, 0, NULL,
     "must be an http:// or https:// URL"},
    {SECTION_FORUM, "release_secret", set_webhook_key, FORUM(release_key), NULL,
     WEBHOOK_KEY_MIN_BYTES, 0, NULL,
     "must be whsec_ followed by base64 of at least 16 bytes (see `agentgate secret new`)"},
    {SECTION_FORUM, "forum_url", set_url, FORUM(forum_url), NULL, 0, 0, NULL,
     "must be an http:// or https:// URL"},
    {SECTION_FORUM, "release_api_key", set_string, FORUM(release_api_key), NULL, 1, 0, NULL,
     "must not be empty"},
    {SECTION_FORUM, "sso_url", set_url, FORUM(sso_url), NULL, 0, 0, NULL,
     "must be an http:// or https:// URL"},
    {SECTION_FORUM, "sso_secret", set_string, FORUM(sso_secret), NULL, 1, 0, NULL,
     "must not be empty"},
    {SECTION_FORUM, "moderator_groups", set_list, FORUM(moderator_groups), "moderators, admins", 0,
     0, NULL, ""},
    {SECTION_FORUM, "pending_ttl", set_duration, FORUM(pending_ttl_seconds), "72h", 60, 365 * 86400,
     NULL, "must be a duration of at least 1m, such as 72h"},
    {SECTION_FORUM, "max_body_bytes", set_size, FORUM(max_body_bytes), "65536", 256,
     16 * 1024 * 1024, NULL, "must be a size from 256 to 16M bytes"},
    {SECTION_FORUM, "rate_limit", set_rate, 0, "60/h", 0, 0, NULL,
     "must be COUNT/UNIT such as 60/h, or none"},
    {SECTION_FORUM, "allowed_categories", set_categories, 0, "*", 0, 0, NULL,
     "must be * or a list of categories"},
    {SECTION_FORUM, "second_approver_for", set_choice, FORUM(second_approver_for), "none", 0, 0,
     second_approver_choices, "must be none, critical or any-flag"},
    {SECTION_FORUM, "expiring_notice", set_duration_or_none, FORUM(expiring_notice_seconds), "12h",
     0, 365 * 86400, NULL, "must be a duration such as 12h, or none"},
    {SECTION_FORUM, "flag_rules", set_string, FORUM(flag_rules), NULL, 1, 0, NULL,
     "must name a rules file"},

    {SECTION_DELIVERY, "retry_schedule", set_schedule, DELIVERY(schedule_seconds), DEFAULT_SCHEDULE,
     0, 7 * 86400, NULL, "must be a list of at most 24 durations up to 7d, such as 0s, 5s, 5m"},
    {SECTION_DELIVERY, "connect_timeout", set_duration_ms, DELIVERY(connect_timeout_ms), "5s", 1,
     300, NULL, "must be a duration from 1s to 5m"},
    {SECTION_DELIVERY, "timeout", set_duration_ms, DELIVERY(timeout_ms), "10s", 1, 300, NULL,
     "must be a duration from 1s to 5m"},
    {SECTION_DELIVERY, "workers", set_unsigned, DELIVERY(workers), "4", 0, 64, NULL,
     "must be a number from 0 to 64"},
};

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

static const char *const section_names[] = {"[server]", "[forum]", "[delivery]"};

size_t config_key_count(void)
{
    return CONFIG_KEY_COUNT;
}

struct config_key_info config_key_describe(size_t index)
{
    static const char *const sections[] = {"server", "forum", "delivery"};
    const struct config_key *key = &config_keys[index];
    return (struct config_key_info){
        .section = sections[key->section],
        .name = key->name,
        .default_value = key->default_value,
        .any_text = key->set == set_string || key->set == set_list || key->set == set_categories,
    };
}

/* Where `key` is stored: in the config, or in the forum being read. */
static void *config_key_target(struct config *config, struct forum_config *forum,
                               const struct config_key *key)
{
    if (key->set == set_listen)
        return config;
    if (key->section == SECTION_FORUM)
        return (char *)forum + key->offset;
    if (key->set == set_schedule)
        return &config->delivery;
    return (char *)config + key->offset;
}

/* Sets every key of `section` that has a default; the table's defaults are known to parse. */
static void config_apply_defaults(struct config *config, struct forum_config *forum,
                                  enum config_section section)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        const struct config_key *key = &config_keys[i];
        char *text;
        if (key->section != section || !key->default_value)
            continue;
        text = string_copy(key->default_value);
        struct config_value value = {.text = text};
        if (!key->set(key, config_key_target(config, forum, key), &value))
            abort(); /* a default that does not parse is a bug in the table above */
        free(text);
    }
}

static const struct config_key *config_key_find(enum config_section section, const char *name)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
        if (config_keys[i].section == section && strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    return NULL;
}

static struct forum_config *forum_begin(struct config_parse *parse, const char *name)
{
    struct config *config = parse->config;
    struct forum_config *forums, *forum;

    if (!name_valid(name)) {
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
    forum->line = parse->line;
    config_apply_defaults(config, forum, SECTION_FORUM);
    memset(parse->seen[SECTION_FORUM], 0, sizeof parse->seen[SECTION_FORUM]);
    return forum;
}

/* One `name = value` line of `section`. */
static int config_set(struct config_parse *parse, enum config_section section, const char *name,
                      const char *value)
{
    const struct config_key *key = config_key_find(section, name);
    size_t index;
    char *text;
    bool ok;

    if (!key) {
        if (section == SECTION_FORUM)
            parse_fail(parse, name, "unknown key in [forum %s]", parse->forum->name);
        else
            parse_fail(parse, name, "unknown key in %s", section_names[section]);
        return 0;
    }
    index = (size_t)(key - config_keys);
    if (parse->seen[section][index]) {
        parse_fail(parse, name, "key given twice");
        return 0;
    }
    parse->seen[section][index] = true;
    text = value_resolve(parse, name, value);
    if (!text)
        return 0;
    {
        struct config_value parsed = {.text = text};
        ok = key->set(key, config_key_target(parse->config, parse->forum, key), &parsed);
        if (!ok)
            parse_fail(parse, name, "%s", parsed.why[0] ? parsed.why : key->hint);
    }
    explicit_bzero(text, strlen(text)); /* it may have been a secret */
    free(text);
    return ok;
}

static int config_on_value(void *user, const char *section, const char *name, const char *value)
{
    struct config_parse *parse = user;

    if (parse->error[0])
        return 1; /* the first error is reported; skip the rest quietly */
    if (strcmp(section, "server") == 0) {
        parse->forum = NULL;
        return config_set(parse, SECTION_SERVER, name, value);
    }
    if (strcmp(section, "delivery") == 0) {
        parse->forum = NULL;
        return config_set(parse, SECTION_DELIVERY, name, value);
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
        return config_set(parse, SECTION_FORUM, name, value);
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
    free(forum->flag_rules);
    flags_ruleset_free(forum->flag_ruleset);
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
    string_list_free(&config->metrics_from);
    free(config->proxy_forum);
    free(config->plugin_dir);
    memset(config, 0, sizeof *config);
}

const struct forum_config *config_forum(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->forum_count; i++)
        if (strcmp(config->forums[i].name, name) == 0)
            return &config->forums[i];
    return NULL;
}

/* Compiles the forum's own flag rules (with the built-in ones) now, so that a bad rule file
 * stops start-up naming its file and line, like any configuration error. */
static bool config_load_flag_rules(struct config_parse *parse, struct forum_config *forum)
{
    char path[PATH_MAX], error[1024];

    if (forum->flag_rules[0] == '/')
        snprintf(path, sizeof path, "%s", forum->flag_rules);
    else
        snprintf(path, sizeof path, "%s/%s", parse->directory, forum->flag_rules);
    if (flags_ruleset_load(path, &forum->flag_ruleset, error, sizeof error) != 0) {
        error[strcspn(error, "\n")] = '\0'; /* the first problem is the one named */
        parse_fail(parse, "flag_rules", "[forum %s]: %s", forum->name, error);
        return false;
    }
    return true;
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
        if (forum->flag_rules && !config_load_flag_rules(parse, forum))
            return;
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
    config_apply_defaults(config, NULL, SECTION_SERVER);
    config_apply_defaults(config, NULL, SECTION_DELIVERY);

    parse.directory = string_copy(path);
    slash = strrchr(parse.directory, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(parse.directory, ".");

    parse.file = fopen(path, "r");
    if (!parse.file) {
        snprintf(error, error_size, "%s: cannot open the configuration: %s (give --config FILE)",
                 path, strerror(errno));
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
