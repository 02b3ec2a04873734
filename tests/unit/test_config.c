/* Configuration loading: values, references, and errors that name file, line and key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static char directory[] = "/tmp/agentgate-config-test.XXXXXX";
static char path[256];

static void write_file(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Loads `text` as a config; returns 0 or -1 with the error in `error`. */
static int load(const char *text, struct config *config, char *error, size_t size)
{
    write_file(path, text);
    return config_load(path, config, error, size);
}

#define VALID_FORUM  "[forum eng]\ninbound_secret = " SECRET "\n"
#define VALID_SERVER "[server]\ndatabase = dbname=x\nauth = dev\n"

/* A config that sets `key` of the table to `value`, with what the rest needs. */
static void config_with_key(const struct config_key_info *key, const char *value, char *out,
                            size_t size)
{
    if (strcmp(key->section, "forum") == 0)
        snprintf(out, size, "%s[forum eng]\n%s = %s\n%s", VALID_SERVER, key->name, value,
                 strcmp(key->name, "inbound_secret") ? "inbound_secret = " SECRET "\n" : "");
    else if (strcmp(key->section, "server") == 0)
        snprintf(out, size, "[server]\n%s = %s\n%s%s%s", key->name, value,
                 strcmp(key->name, "database") ? "database = dbname=x\n" : "",
                 strcmp(key->name, "auth") ? "auth = dev\n" : "", VALID_FORUM);
    else
        snprintf(out, size, "%s[%s]\n%s = %s\n%s", VALID_SERVER, key->section, key->name, value,
                 VALID_FORUM);
}

/* Walks the table of keys: each key's default, written in a file, loads; a nonsense value of
 * each key that checks its value is refused with file, line and key; each key given twice is
 * refused. */
START_TEST(every_key_of_the_table_is_checked)
{
    char text[1024], error[600], expected[300];
    struct config config;

    ck_assert_uint_gt(config_key_count(), 30);
    for (size_t i = 0; i < config_key_count(); i++) {
        struct config_key_info key = config_key_describe(i);
        if (key.default_value && strcmp(key.name, "auth") && strcmp(key.name, "listen")) {
            config_with_key(&key, key.default_value, text, sizeof text);
            ck_assert_msg(load(text, &config, error, sizeof error) == 0,
                          "default of %s does not load: %s", key.name, error);
            config_free(&config);
        }
        snprintf(expected, sizeof expected, "%s: ", key.name);
        if (!key.any_text) {
            config_with_key(&key, "#nonsense value#", text, sizeof text);
            ck_assert_msg(load(text, &config, error, sizeof error) != 0, "%s took nonsense",
                          key.name);
            ck_assert_msg(strstr(error, expected) && strstr(error, "agentgate.conf:"),
                          "%s: error does not name file and key: %s", key.name, error);
        }
        config_with_key(&key, key.default_value ? key.default_value : "x", text, sizeof text);
        {
            char twice[1200];
            const char *line = strstr(text, key.name);
            size_t at = (size_t)(strchr(line, '\n') - text) + 1;
            snprintf(twice, sizeof twice, "%.*s%.*s%s", (int)at, text, (int)(at - (line - text)),
                     line, text + at);
            ck_assert_msg(load(twice, &config, error, sizeof error) != 0, "%s twice accepted",
                          key.name);
            ck_assert_msg(strstr(error, "key given twice") || strstr(error, expected),
                          "%s twice: %s", key.name, error);
        }
    }
}
END_TEST

START_TEST(short_webhook_secret_is_refused)
{
    struct config config;
    char error[600];

    ck_assert_int_ne(load(VALID_SERVER "[forum eng]\ninbound_secret = whsec_AA==\n", &config, error,
                          sizeof error),
                     0);
    ck_assert_ptr_nonnull(strstr(error, "inbound_secret: must be whsec_"));
    ck_assert_ptr_nonnull(strstr(error, "at least 16 bytes"));
}
END_TEST

START_TEST(valid_config_loads_with_defaults)
{
    struct config config;
    char error[600];
    const struct forum_config *forum;

    ck_assert_int_eq(load(VALID_SERVER VALID_FORUM, &config, error, sizeof error), 0);
    ck_assert_str_eq(config.listen_host, "127.0.0.1");
    ck_assert_uint_eq(config.listen_port, 8080);
    ck_assert_str_eq(config.public_url, "http://127.0.0.1:8080");
    ck_assert_uint_eq(config.sign_in_rate_count, 30);
    ck_assert_int_eq(config.sign_in_rate_window_seconds, 60);
    forum = config_forum(&config, "eng");
    ck_assert_ptr_nonnull(forum);
    ck_assert_str_eq(forum->adapter, "generic");
    ck_assert_int_eq(forum->pending_ttl_seconds, 72 * 3600);
    ck_assert_uint_eq(forum->max_body_bytes, 65536);
    ck_assert_uint_eq(forum->rate_limit_count, 60);
    ck_assert_int_eq(forum->rate_limit_window_seconds, 3600);
    ck_assert(forum->all_categories_allowed);
    ck_assert_uint_eq(forum->inbound_key.length, 24);
    ck_assert_ptr_null(config_forum(&config, "other"));
    config_free(&config);
}
END_TEST

START_TEST(contract_example_loads)
{
    struct config config;
    char error[600];
    const struct forum_config *forum;
    const char *text = "[server]\n"
                       "listen = 127.0.0.1:8080             ; host:port\n"
                       "public_url = http://127.0.0.1:8080  ; used in review links\n"
                       "database = postgresql:///agentgate  ; libpq URI\n"
                       "auth = proxy\n"
                       "trusted_proxies = 127.0.0.1\n"
                       "proxy_forum = eng\n"
                       "\n[forum eng]\n"
                       "adapter = generic\n"
                       "inbound_secret = " SECRET "\n"
                       "release_url = http://forum.example/agentgate/release\n"
                       "release_secret = whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n"
                       "forum_url = http://forum.example\n"
                       "release_api_key = k123\n"
                       "sso_url = http://forum.example/session/sso_provider\n"
                       "sso_secret = s3cret\n"
                       "moderator_groups = moderators, admins\n"
                       "pending_ttl = 72h\n"
                       "max_body_bytes = 65536\n"
                       "rate_limit = 60/h\n"
                       "allowed_categories = infra, help\n"
                       "second_approver_for = critical\n";

    ck_assert_msg(load(text, &config, error, sizeof error) == 0, "%s", error);
    forum = config_forum(&config, "eng");
    ck_assert_uint_eq(forum->moderator_groups.count, 2);
    ck_assert_str_eq(forum->moderator_groups.items[1], "admins");
    ck_assert(!forum->all_categories_allowed);
    ck_assert_uint_eq(forum->allowed_categories.count, 2);
    ck_assert_str_eq(forum->allowed_categories.items[0], "infra");
    ck_assert_int_eq(forum->second_approver_for, SECOND_APPROVER_CRITICAL);
    ck_assert_int_eq(config.auth, AUTH_PROXY);
    config_free(&config);
}
END_TEST

struct error_case {
    const char *name;
    const char *text;
    const char *expected; /* substring of the error after "FILE" */
};

static const struct error_case error_cases[] = {
    {"unknown key", VALID_SERVER "colour = blue\n" VALID_FORUM, ":4: colour: unknown key"},
    {"unknown section", VALID_SERVER VALID_FORUM "[deliveries]\nx = 1\n", ":7: x: unknown section"},
    {"unknown delivery key", VALID_SERVER VALID_FORUM "[delivery]\nretries = 3\n",
     ":7: retries: unknown key in [delivery]"},
    {"bad retry schedule", VALID_SERVER VALID_FORUM "[delivery]\nretry_schedule = 0s, soon\n",
     ":7: retry_schedule: must be a list"},
    {"bad delivery timeout", VALID_SERVER VALID_FORUM "[delivery]\ntimeout = 0s\n",
     ":7: timeout: must be a duration"},
    {"bad expiring notice", VALID_SERVER VALID_FORUM "expiring_notice = soon\n",
     ":6: expiring_notice:"},
    {"bad auth", "[server]\ndatabase = x\nauth = magic\n" VALID_FORUM, ":3: auth: must be"},
    {"duplicate key", VALID_SERVER "auth = dev\n" VALID_FORUM, ":4: auth: key given twice"},
    {"bad listen", VALID_SERVER "listen = nowhere\n" VALID_FORUM, ":4: listen: must be host:port"},
    {"bad port", VALID_SERVER "listen = 127.0.0.1:99999\n" VALID_FORUM, ":4: listen:"},
    {"bad public_url", VALID_SERVER "public_url = ftp://x\n" VALID_FORUM, ":4: public_url:"},
    {"missing database", "[server]\nauth = dev\n" VALID_FORUM, ": database: [server] needs"},
    {"no forum", VALID_SERVER, ": forum: at least one"},
    {"missing inbound secret", VALID_SERVER "[forum eng]\nadapter = generic\n",
     ":5: inbound_secret: [forum eng] needs"},
    {"bad secret", VALID_SERVER "[forum eng]\ninbound_secret = hunter2\n", ":5: inbound_secret:"},
    {"bad ttl", VALID_SERVER VALID_FORUM "pending_ttl = 72\n", ":6: pending_ttl:"},
    {"bad rate", VALID_SERVER VALID_FORUM "rate_limit = lots\n", ":6: rate_limit:"},
    {"bad sign-in rate", VALID_SERVER "sign_in_rate_limit = fast\n" VALID_FORUM,
     ":4: sign_in_rate_limit: must be COUNT/UNIT"},
    {"bad body size", VALID_SERVER VALID_FORUM "max_body_bytes = -1\n", ":6: max_body_bytes:"},
    {"bad second approver", VALID_SERVER VALID_FORUM "second_approver_for = all\n",
     ":6: second_approver_for:"},
    {"bad forum name", VALID_SERVER "[forum Eng!]\ninbound_secret = " SECRET "\n", ":5: forum:"},
    {"forum twice", VALID_SERVER VALID_FORUM "[server]\nthreads = 2\n" VALID_FORUM,
     ":9: forum: [forum eng] appears twice"},
    {"dev off loopback", "[server]\ndatabase = x\nauth = dev\nlisten = 0.0.0.0:8080\n" VALID_FORUM,
     ": auth: auth = dev"},
    {"sso needs urls", "[server]\ndatabase = x\nauth = sso\n" VALID_FORUM,
     ":5: sso_url: auth = sso needs"},
    {"proxy needs trusted proxies", "[server]\ndatabase = x\nauth = proxy\n" VALID_FORUM,
     ": trusted_proxies: auth = proxy needs"},
    {"bad proxy address", "[server]\ndatabase = x\nauth = proxy\ntrusted_proxies = nope\n",
     ":4: trusted_proxies: nope is not an IP address"},
    {"missing env", VALID_SERVER "[forum eng]\ninbound_secret = env:AGENTGATE_TEST_UNSET_VAR\n",
     ":5: inbound_secret: environment variable AGENTGATE_TEST_UNSET_VAR is not set"},
    {"missing file", VALID_SERVER "[forum eng]\ninbound_secret = file:/nonexistent/secret\n",
     ":5: inbound_secret: cannot read secret file"},
    {"syntax error", VALID_SERVER "this is not ini\n" VALID_FORUM, ":4: syntax:"},
};

START_TEST(errors_name_file_line_and_key)
{
    const struct error_case *c = &error_cases[_i];
    struct config config;
    char error[600], expected[700];

    ck_assert_msg(load(c->text, &config, error, sizeof error) == -1, "%s: accepted", c->name);
    snprintf(expected, sizeof expected, "%s%s", path, c->expected);
    ck_assert_msg(strstr(error, expected) != NULL, "%s: error was \"%s\", expected \"%s\"", c->name,
                  error, expected);
    ck_assert_msg(strstr(error, "LaLaSw") == NULL, "%s: secret in error", c->name);
}
END_TEST

START_TEST(long_line_is_refused_with_its_number)
{
    struct config config;
    char error[600], text[1024];
    char long_value[400];
    memset(long_value, 'a', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    snprintf(text, sizeof text, VALID_SERVER "proxy_forum = %s\n" VALID_FORUM, long_value);
    ck_assert_int_eq(load(text, &config, error, sizeof error), -1);
    ck_assert_msg(strstr(error, ":4: line: line is longer than") != NULL, "%s", error);
}
END_TEST

START_TEST(env_and_file_references_resolve)
{
    struct config config;
    char error[600], secret_path[300];

    snprintf(secret_path, sizeof secret_path, "%s/inbound.secret", directory);
    write_file(secret_path, SECRET "\n");
    setenv("AGENTGATE_TEST_DATABASE", "dbname=from_env", 1);
    ck_assert_msg(load("[server]\ndatabase = env:AGENTGATE_TEST_DATABASE\nauth = dev\n"
                       "[forum eng]\ninbound_secret = file:inbound.secret\n",
                       &config, error, sizeof error) == 0,
                  "%s", error);
    ck_assert_str_eq(config.database, "dbname=from_env");
    ck_assert_uint_eq(config_forum(&config, "eng")->inbound_key.length, 24);
    config_free(&config);
    unlink(secret_path);
}
END_TEST

START_TEST(durations_parse)
{
    long seconds;
    ck_assert(config_parse_duration("72h", &seconds) && seconds == 72 * 3600);
    ck_assert(config_parse_duration("1h30m", &seconds) && seconds == 5400);
    ck_assert(config_parse_duration("2d", &seconds) && seconds == 172800);
    ck_assert(config_parse_duration("45s", &seconds) && seconds == 45);
    ck_assert(!config_parse_duration("72", &seconds));
    ck_assert(!config_parse_duration("h", &seconds));
    ck_assert(!config_parse_duration("", &seconds));
    ck_assert(!config_parse_duration("5w", &seconds));
    ck_assert(!config_parse_duration("-5s", &seconds));
    ck_assert(!config_parse_duration("9999999999h", &seconds));
}
END_TEST

START_TEST(rates_parse)
{
    unsigned count;
    long window;
    ck_assert(config_parse_rate("60/h", &count, &window) && count == 60 && window == 3600);
    ck_assert(config_parse_rate("100/10m", &count, &window) && count == 100 && window == 600);
    ck_assert(config_parse_rate("none", &count, &window) && count == 0);
    ck_assert(!config_parse_rate("0/h", &count, &window));
    ck_assert(!config_parse_rate("60", &count, &window));
    ck_assert(!config_parse_rate("/h", &count, &window));
    ck_assert(!config_parse_rate("60/x", &count, &window));
}
END_TEST

START_TEST(port_zero_takes_the_bound_port)
{
    struct config config;
    char error[600];

    /* port 0: the kernel picks; the default public_url follows the port serve bound */
    ck_assert_int_eq(
        load(VALID_SERVER "listen = 127.0.0.1:0\n" VALID_FORUM, &config, error, sizeof error), 0);
    ck_assert_uint_eq(config.listen_port, 0);
    config_use_bound_port(&config, 43127);
    ck_assert_uint_eq(config.listen_port, 43127);
    ck_assert_str_eq(config.public_url, "http://127.0.0.1:43127");
    config_free(&config);

    ck_assert_int_eq(
        load(VALID_SERVER "listen = [::1]:0\n" VALID_FORUM, &config, error, sizeof error), 0);
    config_use_bound_port(&config, 43128);
    ck_assert_str_eq(config.public_url, "http://[::1]:43128");
    config_free(&config);

    /* a configured public_url (a proxy in front) is kept as written */
    ck_assert_int_eq(load(VALID_SERVER
                          "listen = 127.0.0.1:0\npublic_url = https://gate.example\n" VALID_FORUM,
                          &config, error, sizeof error),
                     0);
    config_use_bound_port(&config, 43129);
    ck_assert_str_eq(config.public_url, "https://gate.example");
    config_free(&config);
}
END_TEST

START_TEST(loopback_detection)
{
    ck_assert(config_host_is_loopback("127.0.0.1"));
    ck_assert(config_host_is_loopback("127.1.2.3"));
    ck_assert(config_host_is_loopback("::1"));
    ck_assert(config_host_is_loopback("localhost"));
    ck_assert(!config_host_is_loopback("0.0.0.0"));
    ck_assert(!config_host_is_loopback("10.0.0.1"));
    ck_assert(!config_host_is_loopback("::"));
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("config", "core", &tc);
    int status;

    if (!mkdtemp(directory))
        return 1;
    snprintf(path, sizeof path, "%s/agentgate.conf", directory);
    tcase_add_test(tc, valid_config_loads_with_defaults);
    tcase_add_test(tc, every_key_of_the_table_is_checked);
    tcase_add_test(tc, short_webhook_secret_is_refused);
    tcase_add_test(tc, contract_example_loads);
    tcase_add_loop_test(tc, errors_name_file_line_and_key, 0,
                        sizeof error_cases / sizeof error_cases[0]);
    tcase_add_test(tc, long_line_is_refused_with_its_number);
    tcase_add_test(tc, env_and_file_references_resolve);
    tcase_add_test(tc, durations_parse);
    tcase_add_test(tc, rates_parse);
    tcase_add_test(tc, port_zero_takes_the_bound_port);
    tcase_add_test(tc, loopback_detection);
    status = unit_run(suite);
    unlink(path);
    rmdir(directory);
    return status;
}
