/* Rate-limited agents remembered in memory and their refusals audited in aggregate; see
 * intake_refusals.h. */
#include "intake/intake_refusals.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db/drafts.h"
#include "log.h"

#define REFUSALS_MAX         256
#define REFUSALS_FORUM_MAX   33  /* forum names: 1 to 32 bytes */
#define REFUSALS_AGENT_MAX   520 /* agent ids: up to 128 code points of UTF-8, and a NUL */
#define REFUSALS_WEBHOOK_MAX 257 /* webhook-ids: up to 256 ASCII characters, and a NUL */
#define REFUSALS_FLUSH_MS    1000
#define REFUSALS_REASON      "rate_limited"

struct refusal {
    bool used;
    char forum[REFUSALS_FORUM_MAX];
    char agent[REFUSALS_AGENT_MAX];
    long long limited_until_ms; /* monotonic */
    /* Refusals counted since the last audit write. */
    unsigned long pending;
    long long pending_since_ms; /* monotonic, when the first of them came */
    char first_webhook_id[REFUSALS_WEBHOOK_MAX];
    char last_webhook_id[REFUSALS_WEBHOOK_MAX];
    long long first_at, last_at; /* Unix seconds */
};

static struct refusal refusals[REFUSALS_MAX];
static pthread_mutex_t refusals_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t refusals_wake = PTHREAD_COND_INITIALIZER;
static bool refusals_stopping;
static bool refusals_running;
static pthread_t refusals_thread;

/* Identities are never cut: one that does not fit is simply not remembered. */
static bool fits(const char *forum, const char *agent_id)
{
    return strlen(forum) < REFUSALS_FORUM_MAX && strlen(agent_id) < REFUSALS_AGENT_MAX;
}

/* Under refusals_lock. */
static struct refusal *refusal_find(const char *forum, const char *agent_id)
{
    for (size_t i = 0; i < REFUSALS_MAX; i++)
        if (refusals[i].used && strcmp(refusals[i].forum, forum) == 0 &&
            strcmp(refusals[i].agent, agent_id) == 0)
            return &refusals[i];
    return NULL;
}

/* Under refusals_lock: a free entry, or one whose time is over with nothing left to audit. */
static struct refusal *refusal_allocate(const char *forum, const char *agent_id, long long now)
{
    for (size_t i = 0; i < REFUSALS_MAX; i++) {
        struct refusal *entry = &refusals[i];
        if (!entry->used || (entry->pending == 0 && entry->limited_until_ms <= now)) {
            memset(entry, 0, sizeof *entry);
            entry->used = true;
            snprintf(entry->forum, sizeof entry->forum, "%s", forum);
            snprintf(entry->agent, sizeof entry->agent, "%s", agent_id);
            return entry;
        }
    }
    return NULL;
}

/* Under refusals_lock: counts `count` refusals from first to last into `entry`. */
static void refusal_count(struct refusal *entry, unsigned long count, const char *first_webhook_id,
                          long long first_at, const char *last_webhook_id, long long last_at,
                          long long now)
{
    if (entry->pending == 0) {
        snprintf(entry->first_webhook_id, sizeof entry->first_webhook_id, "%s", first_webhook_id);
        entry->first_at = first_at;
        entry->pending_since_ms = now;
    }
    entry->pending += count;
    snprintf(entry->last_webhook_id, sizeof entry->last_webhook_id, "%s", last_webhook_id);
    entry->last_at = last_at;
}

bool intake_refusals_limited(const char *forum, const char *agent_id, const char *webhook_id,
                             int *retry_after_seconds)
{
    long long now = clock_monotonic_ms();
    struct refusal *entry;
    bool limited = false;

    if (!fits(forum, agent_id) || strlen(webhook_id) >= REFUSALS_WEBHOOK_MAX)
        return false;
    pthread_mutex_lock(&refusals_lock);
    entry = refusal_find(forum, agent_id);
    if (entry && now < entry->limited_until_ms) {
        long long at = (long long)time(NULL);
        refusal_count(entry, 1, webhook_id, at, webhook_id, at, now);
        /* The database's own answer would be at most a second later than what is left. */
        *retry_after_seconds = (int)((entry->limited_until_ms - now + 999) / 1000) + 1;
        limited = true;
    }
    pthread_mutex_unlock(&refusals_lock);
    return limited;
}

void intake_refusals_note(const char *forum, const char *agent_id, int retry_after_seconds)
{
    long long now = clock_monotonic_ms(), until;
    struct refusal *entry;

    /* Retry-After is rounded up: the window may open up to a second before it says. */
    if (retry_after_seconds < 2 || !fits(forum, agent_id))
        return;
    until = now + (long long)(retry_after_seconds - 1) * 1000;
    pthread_mutex_lock(&refusals_lock);
    entry = refusal_find(forum, agent_id);
    if (!entry)
        entry = refusal_allocate(forum, agent_id, now);
    if (entry && until > entry->limited_until_ms)
        entry->limited_until_ms = until;
    pthread_mutex_unlock(&refusals_lock);
}

/* Writes the counted refusals to the audit trail: those waiting for a second or more, or all
 * of them. What cannot be written is counted again for the next try. */
static void refusals_flush(bool all)
{
    static struct refusal batch[REFUSALS_MAX];
    size_t count = 0;
    long long now = clock_monotonic_ms();
    struct db_connection *db;

    pthread_mutex_lock(&refusals_lock);
    for (size_t i = 0; i < REFUSALS_MAX; i++) {
        struct refusal *entry = &refusals[i];
        if (!entry->used || entry->pending == 0 ||
            (!all && now - entry->pending_since_ms < REFUSALS_FLUSH_MS))
            continue;
        batch[count++] = *entry;
        entry->pending = 0;
    }
    pthread_mutex_unlock(&refusals_lock);
    if (count == 0)
        return;

    db = db_thread_connection();
    for (size_t i = 0; i < count; i++) {
        const struct refusal *done = &batch[i];
        enum db_status status =
            db ? drafts_audit_refusals_counted(db, done->forum, done->agent, REFUSALS_REASON,
                                               done->pending, done->first_webhook_id,
                                               done->last_webhook_id, done->first_at, done->last_at)
               : DB_UNAVAILABLE;
        if (status == DB_OK)
            continue;
        log_warn(NULL, "cannot audit %lu refused posts of agent %s in forum %s yet: will retry",
                 done->pending, done->agent, done->forum);
        pthread_mutex_lock(&refusals_lock);
        struct refusal *entry = refusal_find(done->forum, done->agent);
        if (!entry)
            entry = refusal_allocate(done->forum, done->agent, now);
        if (entry) {
            /* Put the older refusals first again. */
            struct refusal newer = *entry;
            entry->pending = 0;
            refusal_count(entry, done->pending, done->first_webhook_id, done->first_at,
                          done->last_webhook_id, done->last_at, done->pending_since_ms);
            if (newer.pending)
                refusal_count(entry, newer.pending, newer.first_webhook_id, newer.first_at,
                              newer.last_webhook_id, newer.last_at, now);
        }
        pthread_mutex_unlock(&refusals_lock);
    }
}

static void *refusals_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&refusals_lock);
    while (!refusals_stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 1;
        pthread_cond_timedwait(&refusals_wake, &refusals_lock, &deadline);
        pthread_mutex_unlock(&refusals_lock);
        refusals_flush(false);
        pthread_mutex_lock(&refusals_lock);
    }
    pthread_mutex_unlock(&refusals_lock);
    refusals_flush(true);
    db_thread_release();
    return NULL;
}

int intake_refusals_start(char *error, size_t error_size)
{
    refusals_stopping = false;
    if (pthread_create(&refusals_thread, NULL, refusals_main, NULL) != 0) {
        snprintf(error, error_size, "cannot start the refusal auditing thread");
        return -1;
    }
    refusals_running = true;
    return 0;
}

void intake_refusals_stop(void)
{
    if (!refusals_running)
        return;
    pthread_mutex_lock(&refusals_lock);
    refusals_stopping = true;
    pthread_cond_signal(&refusals_wake);
    pthread_mutex_unlock(&refusals_lock);
    pthread_join(refusals_thread, NULL);
    refusals_running = false;
}
