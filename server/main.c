/*
 * agentgate's command line (CONTRACT §2): `agentgate [--config FILE] COMMAND`.
 * Exit codes: 0 success, 1 the operation failed, 2 bad usage or bad config;
 * every failure prints one line on stderr naming the cause.
 */
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "audit/audit.h"
#include "intake/intake_refusals.h"
#include "config.h"
#include "db/outbox.h"
#include "release/delivery.h"
#include "db/agents.h"
#include "db/db.h"
#include "db/migrate.h"
#include "web/handlers.h"
#include "web/http.h"
#include "flags.h"
#include "log.h"
#include "operations/metrics.h"
#include "release/plugin_loader.h"
#include "webhook_signature.h"

#define EXIT_FAILED 1
#define EXIT_USAGE  2

static const char usage_text[] =
    "usage: agentgate [--config FILE] COMMAND\n"
    "commands:\n"
    "  serve [--no-migrate]       run the HTTP service (migrates first unless --no-migrate)\n"
    "  migrate                    apply pending database migrations\n"
    "  killswitch on --reason TEXT | killswitch off\n"
    "                             stop / resume all agents of all forums\n"
    "  agent pause FORUM AGENT --reason TEXT [--revoke-pending]\n"
    "  agent resume FORUM AGENT   stop / resume one agent\n"
    "  delivery retry DRAFT       retry a release_failed draft's delivery now\n"
    "  audit verify [--checkpoint HEAD]\n"
    "                             check the whole audit chain (and that it reaches HEAD)\n"
    "  audit checkpoint           print the audit chain's head (SEQ:HASH) to keep elsewhere\n"
    "  secret new                 print a fresh whsec_ secret\n"
    "  version                    print the version\n";

static int usage_error(const char *message)
{
    fprintf(stderr, "agentgate: %s\n%s", message, usage_text);
    return EXIT_USAGE;
}

static int config_open(const char *path, struct config *config)
{
    char error[600];
    if (config_load(path, config, error, sizeof error) != 0) {
        fprintf(stderr, "agentgate: %s\n", error);
        return EXIT_USAGE;
    }
    log_set_level((enum log_level)config->log_level); /* the config's choices are in that order */
    return 0;
}

/* Who runs a CLI command, for the audit trail. */
static void cli_actor(char *out, size_t out_size)
{
    struct passwd *user = getpwuid(getuid());
    snprintf(out, out_size, "cli:%s", user ? user->pw_name : "unknown");
}

static int command_migrate(const struct config *config, bool quiet)
{
    char error[512];
    unsigned applied;
    bool functions_applied;
    PGconn *conn = db_connect(config->database, error, sizeof error);

    if (!conn) {
        fprintf(stderr, "agentgate: cannot connect to the database: %s\n", error);
        return EXIT_FAILED;
    }
    if (migrate_apply(conn, &applied, &functions_applied, error, sizeof error) != 0) {
        fprintf(stderr, "agentgate: %s\n", error);
        PQfinish(conn);
        return EXIT_FAILED;
    }
    PQfinish(conn);
    if (!quiet || applied || functions_applied)
        printf("agentgate: %u migration(s) applied%s, schema at version %u\n", applied,
               functions_applied ? ", SQL functions updated" : "",
               migrations_embedded_count
                   ? migrations_embedded[migrations_embedded_count - 1].version
                   : 0);
    fflush(stdout);
    return 0;
}

static int schema_check_current(const struct config *config)
{
    char error[512];
    unsigned pending;
    PGconn *conn = db_connect(config->database, error, sizeof error);

    if (!conn) {
        fprintf(stderr, "agentgate: cannot connect to the database: %s\n", error);
        return EXIT_FAILED;
    }
    if (migrate_check(conn, &pending, error, sizeof error) != 0) {
        fprintf(stderr, "agentgate: %s\n", error);
        PQfinish(conn);
        return EXIT_FAILED;
    }
    PQfinish(conn);
    if (pending) {
        fprintf(stderr,
                "agentgate: schema is out of date: %u migration(s) or function set pending; "
                "run `agentgate migrate` (--no-migrate was given)\n",
                pending);
        return EXIT_FAILED;
    }
    return 0;
}

/* Ends the process with exit 0 if a graceful stop overruns shutdown_timeout (a delivery whose
 * forum hangs, say): what is not finished is in the database and another process, or this
 * one after a restart, picks it up. */
static void *serve_stop_watchdog(void *argument)
{
    const struct config *config = argument;
    struct timespec deadline = {.tv_sec = config->shutdown_timeout_seconds};
    nanosleep(&deadline, NULL);
    log_warn(NULL, "shutdown_timeout (%lds) reached: exiting with work still in flight",
             config->shutdown_timeout_seconds);
    _exit(0);
    return NULL;
}

/* SIGTERM/SIGINT: stop accepting, let requests in flight and the deliveries in progress
 * finish, then stop, all within shutdown_timeout. */
static void serve_stop(struct server *server, int signal_number)
{
    const struct config *config = server->config;
    pthread_t watchdog;

    log_info(NULL, "signal %d: stopping (at most %lds)", signal_number,
             config->shutdown_timeout_seconds);
    if (pthread_create(&watchdog, NULL, serve_stop_watchdog, (void *)config) == 0)
        pthread_detach(watchdog);
    http_drain(server, config->shutdown_timeout_seconds * 1000);
    intake_refusals_stop();
    delivery_stop();
    audit_sealer_stop();
    db_thread_release();
    log_info(NULL, "stopped");
}

/* Starts what `serve` runs, in order: the built-in flag rules, metrics, the HTTP front, the
 * delivery workers and the audit sealer. On failure stops what it started, says why on stderr
 * and returns EXIT_FAILED; 0 otherwise. */
static int serve_start(struct server *server, struct config *config)
{
    char error[1400];

    /* the built-in flag rules load once, here, not on the first intake */
    if (!flags_builtin(error, sizeof error)) {
        fprintf(stderr, "agentgate: built-in flag rules: %s\n", error);
        return EXIT_FAILED;
    }
    db_configure(config->database);
    if (metrics_init(config, routes, routes_count_total) != 0) {
        fprintf(stderr, "agentgate: out of memory\n");
        return EXIT_FAILED;
    }
    if (http_listen(server, error, sizeof error) != 0)
        goto fail;
    config_use_bound_port(config, server->port);
    if (http_start(server, routes, routes_count_total, error, sizeof error) != 0)
        goto fail;
    if (delivery_start(config, error, sizeof error) != 0) {
        http_stop(server);
        goto fail;
    }
    if (audit_sealer_start(config, error, sizeof error) != 0) {
        http_stop(server);
        delivery_stop();
        goto fail;
    }
    if (intake_refusals_start(error, sizeof error) != 0) {
        http_stop(server);
        delivery_stop();
        audit_sealer_stop();
        goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "agentgate: %s\n", error);
    return EXIT_FAILED;
}

/* Says what `serve` listens on, and warns of settings that leave part of it unusable. */
static void serve_announce(const struct server *server)
{
    const struct config *config = server->config;

    /* Shown whatever log_level says: with `listen = host:0` it is how one learns the port. */
    log_notice(NULL, "agentgate %s listening on %s%s%s:%u (public URL %s, auth %s)",
               AGENTGATE_VERSION, server->ipv6 ? "[" : "", config->listen_host,
               server->ipv6 ? "]" : "", server->port, config->public_url,
               config->auth == AUTH_DEV     ? "dev"
               : config->auth == AUTH_PROXY ? "proxy"
                                            : "sso");
    for (size_t i = 0; i < config->forum_count; i++)
        if (strcmp(config->forums[i].adapter, "generic") == 0 &&
            (!config->forums[i].release_url || !config->forums[i].has_release_key))
            log_warn(NULL,
                     "forum %s has no release_url and release_secret: approved drafts cannot be "
                     "released and will end as release_failed",
                     config->forums[i].name);
    if (config->auth == AUTH_DEV)
        log_warn(NULL, "auth = dev: anyone who can reach %s can sign in as anyone",
                 config->public_url);
}

static int command_serve(struct config *config, int argc, char **argv)
{
    bool migrate = true;
    struct server server = {.config = config, .listen_fd = -1};
    char error[1400];
    sigset_t signals;
    int signal_number = 0, status;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-migrate") == 0)
            migrate = false;
        else
            return usage_error("serve takes only --no-migrate");
    }
    if (plugin_load_all(config, error, sizeof error) != 0) {
        fprintf(stderr, "agentgate: %s\n", error);
        return EXIT_USAGE;
    }
    status = migrate ? command_migrate(config, true) : schema_check_current(config);
    if (status != 0)
        goto out;

    /* Signals go to sigwait() below, never to a pool thread. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    status = serve_start(&server, config);
    if (status != 0)
        goto out;
    serve_announce(&server);
    sigwait(&signals, &signal_number);
    serve_stop(&server, signal_number);
out:
    metrics_free();
    plugin_unload_all();
    return status;
}

static int command_killswitch(const struct config *config, int argc, char **argv)
{
    const char *reason = NULL;
    bool engage, was;
    char actor[96];
    struct db_connection *db;
    enum db_status status;

    if (argc < 1)
        return usage_error("killswitch needs on or off");
    if (strcmp(argv[0], "on") == 0) {
        engage = true;
        if (argc != 3 || strcmp(argv[1], "--reason") != 0 || !*argv[2])
            return usage_error("killswitch on needs --reason TEXT");
        reason = argv[2];
    } else if (strcmp(argv[0], "off") == 0) {
        engage = false;
        /* CONTRACT §2 keeps `killswitch off` without a reason working; a reason given is kept */
        if (argc == 3 && strcmp(argv[1], "--reason") == 0 && *argv[2])
            reason = argv[2];
        else if (argc != 1)
            return usage_error("killswitch off takes only an optional --reason TEXT");
    } else {
        return usage_error("killswitch needs on or off");
    }
    cli_actor(actor, sizeof actor);
    db_configure(config->database);
    db = db_thread_connection();
    status = db ? agents_killswitch_set(db, engage, reason, actor, NULL, &was) : DB_UNAVAILABLE;
    db_thread_release();
    if (status != DB_OK) {
        fprintf(stderr, "agentgate: %s\n",
                status == DB_UNAVAILABLE ? "cannot reach the database"
                                         : "could not set the kill switch");
        return EXIT_FAILED;
    }
    printf("kill switch %s (was %s)\n", engage ? "on: all agents are stopped" : "off",
           was ? "on" : "off");
    return 0;
}

static int command_agent(const struct config *config, int argc, char **argv)
{
    const char *reason = NULL;
    bool pause, revoke_pending = false;
    char actor[96];
    int revoked = 0;
    struct db_connection *db;
    enum db_status status;

    if (argc < 3)
        return usage_error("agent needs pause|resume FORUM AGENT");
    if (strcmp(argv[0], "pause") == 0)
        pause = true;
    else if (strcmp(argv[0], "resume") == 0)
        pause = false;
    else
        return usage_error("agent needs pause or resume");
    if (!config_forum(config, argv[1])) {
        fprintf(stderr, "agentgate: no forum named %s in %s\n", argv[1], config->path);
        return EXIT_USAGE;
    }
    if (!*argv[2])
        return usage_error("agent id must not be empty");
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else if (pause && strcmp(argv[i], "--revoke-pending") == 0)
            revoke_pending = true;
        else
            return usage_error("unexpected argument to agent");
    }
    if (pause && (!reason || !*reason))
        return usage_error("agent pause needs --reason TEXT");
    cli_actor(actor, sizeof actor);
    db_configure(config->database);
    db = db_thread_connection();
    status = db ? agents_set_paused(db, argv[1], argv[2], pause, reason, actor, NULL,
                                    revoke_pending, &revoked)
                : DB_UNAVAILABLE;
    db_thread_release();
    if (status != DB_OK) {
        fprintf(stderr, "agentgate: %s\n",
                status == DB_UNAVAILABLE ? "cannot reach the database"
                                         : "could not change the agent");
        return EXIT_FAILED;
    }
    if (pause)
        printf("agent %s of forum %s paused; %d pending draft(s) revoked\n", argv[2], argv[1],
               revoked);
    else
        printf("agent %s of forum %s resumed\n", argv[2], argv[1]);
    return 0;
}

static int command_delivery(const struct config *config, int argc, char **argv)
{
    enum outbox_retry_outcome outcome = OUTBOX_RETRY_NOT_FOUND;
    struct db_connection *db;
    enum db_status status;
    char actor[96];

    if (argc != 2 || strcmp(argv[0], "retry") != 0)
        return usage_error("delivery needs retry DRAFT");
    if (strlen(argv[1]) != 36)
        return usage_error("DRAFT must be a draft id (a UUID)");
    cli_actor(actor, sizeof actor);
    db_configure(config->database);
    db = db_thread_connection();
    status = db ? outbox_retry_draft(db, argv[1], actor, NULL, &outcome) : DB_UNAVAILABLE;
    db_thread_release();
    if (status != DB_OK) {
        fprintf(stderr, "agentgate: %s\n",
                status == DB_UNAVAILABLE ? "cannot reach the database" : "retry failed");
        return EXIT_FAILED;
    }
    switch (outcome) {
    case OUTBOX_RETRIED:
        printf("draft %s: delivery queued again\n", argv[1]);
        return 0;
    case OUTBOX_RETRY_NOT_FOUND:
        fprintf(stderr, "agentgate: draft %s does not exist\n", argv[1]);
        return EXIT_FAILED;
    case OUTBOX_RETRY_NOT_FAILED:
        break;
    }
    fprintf(stderr, "agentgate: draft %s is not release_failed; nothing to retry\n", argv[1]);
    return EXIT_FAILED;
}

/* How long `audit verify` / `audit checkpoint` wait for another process's sealer to seal
 * the events that were committed when they started. */
#define AUDIT_CLI_SEAL_WAIT_MS 5000

/* `audit verify [--checkpoint SEQ:HEX]` and `audit checkpoint` (CONTRACT §2): both seal what is
 * pending first. verify: exit 0 with a one-line summary when intact, 1 naming the first broken
 * event; checkpoint: prints SEQ:HEX of the head. */
static int command_audit(const struct config *config, int argc, char **argv)
{
    struct audit_checkpoint checkpoint;
    bool verify, with_checkpoint = false;
    struct audit_report report;
    struct db_connection *db;
    enum audit_verdict verdict;
    char error[512], hex[AUDIT_HASH_HEX_SIZE];
    long long unsealed_id;
    PGconn *probe;

    if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
        verify = true;
        if (argc == 3 && strcmp(argv[1], "--checkpoint") == 0) {
            if (!audit_checkpoint_parse(argv[2], &checkpoint))
                return usage_error("--checkpoint needs the SEQ:HASH that audit checkpoint printed");
            with_checkpoint = true;
        } else if (argc != 1) {
            return usage_error("audit verify takes only --checkpoint SEQ:HASH");
        }
    } else if (argc == 1 && strcmp(argv[0], "checkpoint") == 0) {
        verify = false;
    } else {
        return usage_error("audit needs verify [--checkpoint SEQ:HASH] or checkpoint");
    }
    probe = db_connect(config->database, error, sizeof error);
    if (!probe) {
        fprintf(stderr, "agentgate: cannot connect to the database: %s\n", error);
        return EXIT_FAILED;
    }
    PQfinish(probe);
    db_configure(config->database);
    db = db_thread_connection();
    if (!db || audit_chain_seal(db, AUDIT_CLI_SEAL_WAIT_MS, &unsealed_id) != DB_OK) {
        db_thread_release();
        fprintf(stderr, "agentgate: cannot seal the pending audit events\n");
        return EXIT_FAILED;
    }
    if (unsealed_id) {
        db_thread_release();
        fprintf(stderr,
                "agentgate: audit chain incomplete: event id %lld, committed before this check "
                "began, is still not sealed after %d s (sealing fails or cannot keep up; see the "
                "serve log)\n",
                unsealed_id, AUDIT_CLI_SEAL_WAIT_MS / 1000);
        return EXIT_FAILED;
    }
    if (!verify) {
        long long unsealed, oldest_ms;
        enum db_status status =
            audit_events_head(db, &report.head_seq, report.head_hash, &unsealed, &oldest_ms);
        db_thread_release();
        if (status != DB_OK) {
            fprintf(stderr, "agentgate: cannot read the audit chain's head\n");
            return EXIT_FAILED;
        }
        audit_hash_hex(report.head_hash, hex);
        printf("%lld:%s\n", report.head_seq, hex);
        return 0;
    }
    verdict = audit_chain_verify(db, 0, with_checkpoint ? &checkpoint : NULL, &report);
    db_thread_release();
    if (verdict == AUDIT_ERROR) {
        fprintf(stderr, "agentgate: %s\n", report.problem);
        return EXIT_FAILED;
    }
    audit_hash_hex(report.head_hash, hex);
    if (verdict == AUDIT_BROKEN) {
        fprintf(stderr, "agentgate: audit chain broken: %s\n", report.problem);
        return EXIT_FAILED;
    }
    printf("audit chain intact: %lld events, head %lld:%s", report.checked, report.head_seq, hex);
    if (with_checkpoint)
        printf(", reaches checkpoint %lld", checkpoint.seq);
    if (report.unsealed)
        printf(" (%lld newer events not sealed yet)", report.unsealed);
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = "./agentgate.conf";
    struct config config;
    const char *command;
    int index = 1, status;

    if (sodium_init() < 0) {
        fputs("agentgate: cannot initialise libsodium\n", stderr);
        return EXIT_FAILED;
    }
    /* Before the configuration is read: a forum's flag_rules are compiled while it is, and
     * load the built-in rules' database compiled at build time (when this CPU can use it)
     * instead of compiling them again. */
    flags_precompiled_register(flags_precompiled_bytes, flags_precompiled_length);
    while (index < argc && strncmp(argv[index], "--", 2) == 0) {
        if (strcmp(argv[index], "--config") == 0 && index + 1 < argc) {
            config_path = argv[index + 1];
            index += 2;
        } else if (strncmp(argv[index], "--config=", 9) == 0) {
            config_path = argv[index] + 9;
            index++;
        } else if (strcmp(argv[index], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else {
            return usage_error("unknown option");
        }
    }
    if (index >= argc)
        return usage_error("no command given");
    command = argv[index++];

    /* Commands that need no configuration. */
    if (strcmp(command, "version") == 0) {
        printf("agentgate %s (plugin ABI %u)\n", AGENTGATE_VERSION, AGENTGATE_PLUGIN_ABI_VERSION);
        return 0;
    }
    if (strcmp(command, "secret") == 0) {
        char secret[80];
        if (index >= argc || strcmp(argv[index], "new") != 0 || index + 1 != argc)
            return usage_error("secret needs new");
        webhook_secret_generate(secret, sizeof secret);
        puts(secret);
        sodium_memzero(secret, sizeof secret);
        return 0;
    }
    if (strcmp(command, "serve") && strcmp(command, "migrate") && strcmp(command, "killswitch") &&
        strcmp(command, "agent") && strcmp(command, "delivery") && strcmp(command, "audit"))
        return usage_error("unknown command");

    status = config_open(config_path, &config);
    if (status != 0)
        return status;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(command, "serve") == 0)
        status = command_serve(&config, argc - index, argv + index);
    else if (strcmp(command, "migrate") == 0)
        status = index == argc ? command_migrate(&config, false)
                               : usage_error("migrate takes no arguments");
    else if (strcmp(command, "killswitch") == 0)
        status = command_killswitch(&config, argc - index, argv + index);
    else if (strcmp(command, "delivery") == 0)
        status = command_delivery(&config, argc - index, argv + index);
    else if (strcmp(command, "audit") == 0)
        status = command_audit(&config, argc - index, argv + index);
    else
        status = command_agent(&config, argc - index, argv + index);
    config_free(&config);
    curl_global_cleanup();
    return status;
}
