/*
 * The delivery workers inside `serve` (CONTRACT §5): they tell the forum of
 * every decision, expiry and revocation, in order per draft, until the forum
 * has accepted it or retries run out.
 *
 * Each worker is a thread with its own PostgreSQL connection. It LISTENs on
 * agentgate_outbox, so a committed decision wakes it at once, and it also
 * wakes when the next retry falls due (and at least every 5 s, the backstop).
 * One event is delivered per transaction: the outbox row is claimed with
 * FOR UPDATE SKIP LOCKED and stays locked while the forum is called, so with
 * several workers and several `serve` processes each event is delivered by
 * one of them at a time. The attempt, its outcome and the state change it
 * causes commit together; a crash before that commit means the event is sent
 * again later under the same webhook-id (a duplicate the forum drops), never
 * that it is lost.
 *
 * Just before an approval goes out, the agent is checked again: kill switch
 * or pause turns the approval into a revocation, under the same advisory
 * locks the switch takes, so no approval slips past a switch. The draft is
 * checked too, under its row lock: an approval a moderator revoked while it
 * was being retried is dropped (superseded), never sent.
 */
#include "release/delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/outbox.h"
#include "http_client.h"
#include "clock.h"
#include "log.h"
#include "operations/metrics.h"
#include "webhook_signature.h"

#define DELIVERY_WORKERS_MAX    64
#define BACKSTOP_MS             5000
#define SWEEP_INTERVAL_MS       5000
#define RETRY_AFTER_CAP_SECONDS 86400

struct delivery_worker {
    pthread_t thread;
    unsigned index;
    char name[80];
};

static const struct config *delivery_config;
static atomic_bool delivery_running;
static int wake_pipe[2] = {-1, -1};
static struct delivery_worker workers[DELIVERY_WORKERS_MAX];
static unsigned worker_count;

/* Waits until a NOTIFY arrives, the timeout passes, or delivery_stop() is called. */
static void wait_for_work(struct db_connection *db, long timeout_ms)
{
    PGconn *conn = db ? db_connection_pgconn(db) : NULL;
    struct pollfd fds[2];
    nfds_t count = 0;
    PGnotify *notify;
    bool notified = false;

    if (conn) {
        PQconsumeInput(conn);
        while ((notify = PQnotifies(conn)) != NULL) {
            PQfreemem(notify);
            notified = true;
        }
        if (notified)
            return;
        fds[count].fd = PQsocket(conn);
        fds[count].events = POLLIN;
        count++;
    }
    fds[count].fd = wake_pipe[0];
    fds[count].events = POLLIN;
    count++;
    if (poll(fds, count, (int)timeout_ms) > 0 && conn) {
        PQconsumeInput(conn);
        while ((notify = PQnotifies(conn)) != NULL)
            PQfreemem(notify);
    }
}

/* Delay before the next attempt after `attempt` attempts failed, with ±10% jitter, honouring
 * the forum's Retry-After. Negative when no attempt is left. */
static double retry_delay(int attempt, long retry_after_seconds)
{
    const struct delivery_config *settings = &delivery_config->delivery;
    double delay;

    if (attempt < 0 || (size_t)attempt >= settings->schedule_count)
        return -1;
    delay = (double)settings->schedule_seconds[attempt];
    if (delay > 0)
        delay *= 0.9 + 0.2 * (double)randombytes_uniform(1000001) / 1000000.0;
    if (retry_after_seconds > delay)
        delay = (double)(retry_after_seconds > RETRY_AFTER_CAP_SECONDS ? RETRY_AFTER_CAP_SECONDS
                                                                       : retry_after_seconds);
    return delay;
}

/* The text an attempt's outcome points into (outcome->error, post_id, post_url, and the
 * revocation's reason), owned by the caller for the length of the attempt. */
struct attempt_text {
    char error[300];
    char reason[64];
    char post_id[128];
    char post_url[1024];
};

/* Signs the stored event and POSTs it to the forum's release_url (Standard Webhooks). False
 * with text->error when the forum lacks release_url or its secret, or the request could not be
 * set up; otherwise *result holds the answer (the caller clears it). */
static bool webhook_send(struct http_client *client, const struct forum_config *forum,
                         const struct outbox_event *event, struct http_client_result *result,
                         struct attempt_text *text)
{
    char timestamp[24], signature[WEBHOOK_SIGNATURE_TEXT_SIZE];
    struct http_client_header headers[4] = {
        {"Content-Type", "application/json"},
        {"webhook-id", event->webhook_id},
        {"webhook-timestamp", timestamp},
        {"webhook-signature", signature},
    };

    if (!forum->release_url || !forum->has_release_key) {
        snprintf(text->error, sizeof text->error, "forum %s needs release_url and release_secret",
                 forum->name);
        return false;
    }
    snprintf(timestamp, sizeof timestamp, "%lld", (long long)time(NULL));
    webhook_sign(&forum->release_key, event->webhook_id, timestamp, event->payload,
                 strlen(event->payload), signature);
    if (!http_client_send(client, "POST", forum->release_url, headers, 4, event->payload,
                          strlen(event->payload), result)) {
        snprintf(text->error, sizeof text->error, "could not set up the request");
        return false;
    }
    return true;
}

/* Sends the request an adapter built for a platform's API. False with text->error when it is
 * not usable (no http(s) URL) or could not be set up; otherwise as webhook_send. */
static bool adapter_send(struct http_client *client, const struct agentgate_http_request *request,
                         struct http_client_result *result, struct attempt_text *text)
{
    struct http_client_header headers[AGENTGATE_HTTP_HEADERS_MAX + 1];
    char *body = request->body ? json_dumps(request->body, JSON_COMPACT) : strdup("");
    size_t count = 0;
    bool sent;

    headers[count].name = "Content-Type";
    headers[count++].value = "application/json";
    for (size_t i = 0; i < request->header_count && i < AGENTGATE_HTTP_HEADERS_MAX; i++) {
        headers[count].name = request->headers[i][0];
        headers[count++].value = request->headers[i][1];
    }
    if (!body || (strncmp(request->url, "http://", 7) && strncmp(request->url, "https://", 8))) {
        free(body);
        snprintf(text->error, sizeof text->error, "adapter built no usable request");
        return false;
    }
    sent = http_client_send(client, request->method[0] ? request->method : "POST", request->url,
                            headers, count, body, strlen(body), result);
    free(body);
    if (!sent)
        snprintf(text->error, sizeof text->error, "could not set up the request");
    return sent;
}

/* Judges the forum's answer into `outcome`: delivered (2xx, and for an approval published),
 * aborted (accepted but not published, 410 Gone, or an abort asked for) or failed; a failure
 * becomes a retry while the schedule has attempts left. */
static void answer_judge(const struct forum_config *forum,
                         const struct agentgate_forum_settings *settings,
                         const struct agentgate_event *described, const struct outbox_event *event,
                         const struct http_client_result *result, struct outbox_outcome *outcome,
                         struct attempt_text *text)
{
    outcome->http_status = result->status;
    outcome->duration_ms = result->duration_ms;
    if (result->status >= 200 && result->status < 300) {
        bool published = true;
        if (strcmp(event->type, "draft.approved") == 0 && forum->plugin->read_release_answer)
            published = forum->plugin->read_release_answer(
                settings, described, result->status, result->body ? result->body : "",
                result->body_length, text->post_id, sizeof text->post_id, text->post_url,
                sizeof text->post_url);
        if (published) {
            outcome->result = DELIVERY_DELIVERED;
            outcome->post_id = text->post_id;
            outcome->post_url = text->post_url;
            return;
        }
        /* Accepted but not published (a platform's own moderation queue): sending it again
         * would queue a copy, so it stops here and moderators see release_failed. */
        outcome->result = DELIVERY_ABORTED;
        snprintf(text->error, sizeof text->error,
                 "the forum answered %ld but did not publish the post", result->status);
    } else if (result->status == 410 || result->abort_requested) {
        outcome->result = DELIVERY_ABORTED;
        snprintf(text->error, sizeof text->error, "%s",
                 result->status == 410 ? "forum answered 410 Gone" : "forum asked to abort");
    } else {
        double delay = retry_delay(event->attempts + 1, result->retry_after_seconds);
        if (result->status > 0)
            snprintf(text->error, sizeof text->error, "forum answered %ld", result->status);
        else
            snprintf(text->error, sizeof text->error, "%s", result->error);
        if (delay >= 0) {
            outcome->result = DELIVERY_RETRY;
            outcome->retry_in_seconds = delay;
        }
    }
    outcome->error = text->error;
}

/* Sends the event (webhook or adapter request) and judges the answer into `outcome`, whose
 * strings point into `text`. */
static void event_send(struct http_client *client, const struct forum_config *forum,
                       const struct outbox_event *event, struct outbox_outcome *outcome,
                       struct attempt_text *text)
{
    struct agentgate_forum_settings settings = {forum->name, forum->release_url, forum->forum_url,
                                                forum->release_api_key};
    struct agentgate_http_request request;
    struct agentgate_failure failure = {0};
    struct agentgate_event described;
    struct http_client_result result;
    enum agentgate_release_route route;
    json_t *payload = json_loads(event->payload, 0, NULL);

    memset(&request, 0, sizeof request);
    outcome->result = DELIVERY_FAILED;
    if (!payload) {
        snprintf(text->error, sizeof text->error, "stored event is not JSON");
        outcome->error = text->error;
        return;
    }
    described.type = event->type;
    described.webhook_id = event->webhook_id;
    described.payload = payload;
    route = forum->plugin->prepare_release
                ? forum->plugin->prepare_release(&plugin_host, &settings, &described, &request,
                                                 &failure)
                : AGENTGATE_RELEASE_WEBHOOK;
    if (route == AGENTGATE_RELEASE_SKIP) {
        outcome->result = DELIVERY_SKIPPED;
    } else if (route == AGENTGATE_RELEASE_ERROR) {
        snprintf(text->error, sizeof text->error, "%s",
                 failure.message[0] ? failure.message : "adapter refused");
        outcome->error = text->error;
    } else if (route == AGENTGATE_RELEASE_WEBHOOK
                   ? webhook_send(client, forum, event, &result, text)
                   : adapter_send(client, &request, &result, text)) {
        answer_judge(forum, &settings, &described, event, &result, outcome, text);
        http_client_result_clear(&result);
    } else {
        outcome->error = text->error;
    }
    json_decref(request.body);
    json_decref(payload);
}

/* Delivers one due event. Returns 1 when it handled one, 0 when none was due, -1 on a
 * database failure. */
static int delivery_one(struct delivery_worker *worker, struct db_connection *db,
                        struct http_client *client)
{
    struct outbox_event event;
    struct outbox_outcome outcome = {0};
    struct attempt_text text = {0};
    const struct forum_config *forum;
    bool found = false;

    if (db_command(db, "BEGIN") != DB_OK)
        return -1;
    if (outbox_claim(db, &event, &found) != DB_OK) {
        if (db_command(db, "ROLLBACK") != DB_OK) {
            /* the connection is gone; the server rolled back */
        }
        return -1;
    }
    if (!found) {
        if (db_command(db, "COMMIT") != DB_OK)
            return -1;
        return 0;
    }
    outcome.worker = worker->name;
    outcome.result = DELIVERY_FAILED;
    forum = config_forum(delivery_config, event.forum);
    if (!forum) {
        snprintf(text.error, sizeof text.error, "forum %s is not configured", event.forum);
        outcome.error = text.error;
    } else if (strcmp(event.type, "draft.approved") == 0 &&
               (outbox_blocked_reason(db, event.draft_id, event.forum, event.agent_id, text.reason,
                                      sizeof text.reason) != DB_OK ||
                text.reason[0])) {
        if (!text.reason[0]) {
            outbox_event_clear(&event);
            if (db_command(db, "ROLLBACK") != DB_OK) {
                /* gone */
            }
            return -1;
        }
        outcome.result = DELIVERY_REVOKED;
        outcome.revoke_reason = text.reason;
    } else {
        event_send(client, forum, &event, &outcome, &text);
    }
    if (outbox_finish(db, event.id, &outcome) != DB_OK || db_command(db, "COMMIT") != DB_OK) {
        log_warn(NULL, "delivery of %s (draft %s) not recorded; it will be sent again",
                 event.webhook_id, event.draft_id);
        if (db_command(db, "ROLLBACK") != DB_OK) {
            /* gone */
        }
        outbox_event_clear(&event);
        return -1;
    }
    metrics_count_delivery(event.forum, outcome.result);
    log_info(NULL, "delivery %s %s draft=%s forum=%s attempt=%d status=%ld %ldms%s%s", event.type,
             delivery_result_word(outcome.result), event.draft_id, event.forum, event.attempts + 1,
             outcome.http_status, outcome.duration_ms, outcome.error ? ": " : "",
             outcome.error ? outcome.error : "");
    outbox_event_clear(&event);
    return 1;
}

/* Expires due drafts and queues reminders (worker 0 only; SKIP LOCKED keeps processes apart). */
static void delivery_sweep(struct db_connection *db)
{
    int expired = 0, reminded = 0;

    if (outbox_expire_due(db, &expired) != DB_OK)
        return;
    for (size_t i = 0; i < delivery_config->forum_count; i++) {
        const struct forum_config *forum = &delivery_config->forums[i];
        int count = 0;
        if (forum->expiring_notice_seconds > 0 &&
            outbox_remind_expiring(db, forum->name, forum->expiring_notice_seconds, &count) ==
                DB_OK)
            reminded += count;
    }
    if (expired || reminded)
        log_info(NULL, "expiry: %d draft(s) expired, %d reminder(s) queued", expired, reminded);
}

static void *delivery_run(void *argument)
{
    struct delivery_worker *worker = argument;
    struct http_client *client = http_client_new("agentgate/" AGENTGATE_VERSION,
                                                 delivery_config->delivery.connect_timeout_ms,
                                                 delivery_config->delivery.timeout_ms);
    unsigned long listening = 0;
    long long last_sweep = 0;

    if (!client) {
        log_error(NULL, "delivery worker %u: cannot create an HTTP client", worker->index);
        return NULL;
    }
    while (atomic_load(&delivery_running)) {
        struct db_connection *db = db_thread_connection();
        double due = -1;
        long wait_ms;
        int worked;

        if (!db) {
            wait_for_work(NULL, 1000);
            continue;
        }
        if (db_connection_generation(db) != listening) {
            if (db_command(db, "LISTEN agentgate_outbox") != DB_OK)
                continue;
            listening = db_connection_generation(db);
        }
        if (worker->index == 0 && clock_monotonic_ms() - last_sweep >= SWEEP_INTERVAL_MS) {
            delivery_sweep(db);
            last_sweep = clock_monotonic_ms();
        }
        worked = delivery_one(worker, db, client);
        if (worked > 0)
            continue;
        if (worked < 0) {
            wait_for_work(NULL, 1000);
            continue;
        }
        db = db_thread_connection();
        if (!db || outbox_next_due(db, &due) != DB_OK)
            due = -1;
        wait_ms = due < 0 ? BACKSTOP_MS : (long)(due * 1000.0) + 1;
        if (wait_ms > BACKSTOP_MS)
            wait_ms = BACKSTOP_MS;
        wait_for_work(db, wait_ms);
    }
    http_client_free(client);
    db_thread_release();
    return NULL;
}

int delivery_start(const struct config *config, char *error, size_t error_size)
{
    char host[64] = "host";

    delivery_config = config;
    worker_count = config->delivery.workers;
    if (worker_count > DELIVERY_WORKERS_MAX)
        worker_count = DELIVERY_WORKERS_MAX;
    if (worker_count == 0)
        return 0;
    if (pipe(wake_pipe) != 0) {
        snprintf(error, error_size, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK);
    gethostname(host, sizeof host - 1);
    atomic_store(&delivery_running, true);
    for (unsigned i = 0; i < worker_count; i++) {
        workers[i].index = i;
        snprintf(workers[i].name, sizeof workers[i].name, "%s:%ld:%u", host, (long)getpid(), i);
        if (pthread_create(&workers[i].thread, NULL, delivery_run, &workers[i]) != 0) {
            worker_count = i;
            delivery_stop();
            snprintf(error, error_size, "cannot start delivery worker %u", i);
            return -1;
        }
    }
    return 0;
}

void delivery_stop(void)
{
    if (wake_pipe[1] < 0)
        return;
    atomic_store(&delivery_running, false);
    for (unsigned i = 0; i < worker_count; i++)
        if (write(wake_pipe[1], "x", 1) < 0) {
            /* the workers also notice within a second */
        }
    for (unsigned i = 0; i < worker_count; i++)
        pthread_join(workers[i].thread, NULL);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    worker_count = 0;
}
