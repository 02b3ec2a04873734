/*
 * The configuration file (CONTRACT §3): an INI file read with libinih. Every
 * value may be written `env:NAME` or `file:PATH` (relative paths are relative
 * to the config file). Unknown sections and keys, bad values, duplicates and
 * missing required keys are refused with "FILE:LINE: KEY: message".
 *
 * Ownership: config_load() fills a struct config that owns all its strings;
 * config_free() releases it. Secrets are kept only as parsed keys or in
 * fields named *_secret / *_api_key, and are never logged.
 */
#ifndef AGENTGATE_CONFIG_H
#define AGENTGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "webhook_signature.h"

struct agentgate_plugin;
struct flags_ruleset;

enum auth_mode { AUTH_SSO, AUTH_PROXY, AUTH_DEV };
enum second_approver { SECOND_APPROVER_NONE, SECOND_APPROVER_CRITICAL, SECOND_APPROVER_ANY_FLAG };

struct string_list {
    char **items;
    size_t count;
};

struct forum_config {
    char *name;
    char *adapter;
    struct webhook_key inbound_key;
    bool has_inbound_key; /* must follow its key: the config table sets both */
    char *release_url;
    struct webhook_key release_key;
    bool has_release_key; /* must follow its key */
    char *forum_url;
    char *release_api_key;
    char *sso_url;
    char *sso_secret;
    struct string_list moderator_groups;
    long pending_ttl_seconds;
    size_t max_body_bytes;
    unsigned rate_limit_count; /* 0: unlimited */
    long rate_limit_window_seconds;
    bool all_categories_allowed;
    struct string_list allowed_categories;
    enum second_approver second_approver_for;
    long expiring_notice_seconds;          /* draft.expiring this long before expiry; 0: never */
    char *flag_rules;                      /* this forum's own flag rules file, or NULL */
    struct flags_ruleset *flag_ruleset;    /* built-in + flag_rules, loaded with the config;
                                              NULL: the built-in rules alone */
    int line;                              /* where its section starts */
    const struct agentgate_plugin *plugin; /* set by plugin_load_all() */
};

#define DELIVERY_SCHEDULE_MAX 24

struct delivery_config {
    long schedule_seconds[DELIVERY_SCHEDULE_MAX]; /* delay before attempt 1, 2, ... */
    size_t schedule_count;
    long connect_timeout_ms;
    long timeout_ms;
    unsigned workers;
};

struct config {
    char *path;
    char *listen_host;
    unsigned listen_port;
    char *public_url;
    bool public_url_from_listen; /* not configured: derived from listen (and the bound port) */
    char *database;
    enum auth_mode auth;
    struct string_list trusted_proxies;
    char *proxy_forum;
    unsigned threads;      /* database workers, one PostgreSQL connection each */
    unsigned http_threads; /* libmicrohttpd's poll() threads */
    unsigned max_connections;
    unsigned max_connections_per_ip;
    long idle_timeout_seconds;
    long header_timeout_seconds; /* a request's head must arrive within this */
    long request_timeout_seconds;
    long shutdown_timeout_seconds;
    struct string_list metrics_from; /* addresses that may read /metrics */
    size_t connection_memory_limit;
    long session_lifetime_seconds; /* absolute */
    long session_idle_seconds;
    unsigned sign_in_rate_count; /* sign-ins an address may start per window; 0: unlimited */
    long sign_in_rate_window_seconds;
    char *plugin_dir;
    int log_level; /* enum log_level: debug, info, warn, error */
    struct forum_config *forums;
    size_t forum_count;
    struct delivery_config delivery;
};

/* Loads `path` into *config. Returns 0, or -1 with one line "FILE:LINE: KEY: message" in
 * `error`. On failure *config holds nothing to free. */
int config_load(const char *path, struct config *config, char *error, size_t error_size)
    __attribute__((warn_unused_result));
void config_free(struct config *config);

/* Records the port `serve` bound (the kernel's choice for `listen = host:0`), and rebuilds
 * public_url from it unless public_url was configured. Call before any thread reads them. */
void config_use_bound_port(struct config *config, unsigned port);

/* The table of configuration keys, for tests and documentation: section ("server", "forum",
 * "delivery"), name, default as written in a file (NULL: none), and whether any text is a
 * valid value. */
struct config_key_info {
    const char *section;
    const char *name;
    const char *default_value;
    bool any_text;
};
size_t config_key_count(void);
struct config_key_info config_key_describe(size_t index);

/* The forum of that name, or NULL. */
const struct forum_config *config_forum(const struct config *config, const char *name);

/* Parses "30s", "5m", "72h", "2d" or sums such as "1h30m" into seconds; false when invalid. */
bool config_parse_duration(const char *text, long *seconds) __attribute__((warn_unused_result));

/* Parses "60/h", "100/1m", "none" (0 = unlimited). */
bool config_parse_rate(const char *text, unsigned *count, long *window_seconds)
    __attribute__((warn_unused_result));

/* True when `host` is a loopback address or "localhost". */
bool config_host_is_loopback(const char *host);

#endif
