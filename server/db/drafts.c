/* SQL for drafts; see drafts.h. */
#include "db/drafts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/outcome.h"

/* intake_hold's outcome words. */
static const struct db_outcome_word draft_hold_words[] = {
    {"held", DRAFT_HELD},
    {"duplicate", DRAFT_DUPLICATE},
    {"kill_switch_on", DRAFT_REFUSED_KILL_SWITCH},
    {"agent_paused", DRAFT_REFUSED_AGENT_PAUSED},
    {"rate_limited", DRAFT_REFUSED_RATE_LIMIT},
};

/* The outcome words of draft_decide, draft_decide_once, draft_edit, draft_delegate and
 * draft_coapprove: each function answers with some of them. */
static const struct db_outcome_word draft_change_words[] = {
    {"decided", DRAFT_CHANGED},
    {"edited", DRAFT_CHANGED},
    {"delegated", DRAFT_CHANGED},
    {"coapproved", DRAFT_CHANGED},
    {"not_found", DRAFT_NOT_FOUND},
    {"forbidden", DRAFT_FORBIDDEN},
    {"not_pending", DRAFT_NOT_PENDING},
    {"not_awaiting", DRAFT_NOT_PENDING},
    {"revision_changed", DRAFT_REVISION_CHANGED},
    {"unknown_user", DRAFT_UNKNOWN_USER},
    {"kill_switch_on", DRAFT_KILL_SWITCH_ON},
    {"agent_paused", DRAFT_AGENT_PAUSED},
    {"replayed", DRAFT_REPLAYED},
};

DB_STATEMENT(draft_hold_statement,
             "SELECT outcome, response, retry_after FROM intake_hold($1, $2, $3::uuid, $4, $5, $6, "
             "$7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17::integer, "
             "$18::interval, $19::interval, $20, $21)",
             21, true);

DB_STATEMENT(draft_refuse_statement, "SELECT intake_refuse($1, $2, $3, $4, $5)", 5, false);

/* intake_hold() commits without waiting for the WAL flush, so that an agent's posts do not
 * queue behind each other's flushes (see sql/intake_hold.sql). This durable commit of a WAL
 * record that follows it is what the answer waits for: once it returns, the intake is on disk.
 * It must run on the same connection, after the same server's commit: not idempotent, so never
 * retried elsewhere, and a reconnect in between counts as "unavailable". */
DB_STATEMENT(draft_hold_durable_statement,
             "SELECT pg_logical_emit_message(true, 'agentgate', 'intake')", 0, false);

enum db_status drafts_hold(struct db_connection *db, const struct draft_hold *hold,
                           struct draft_hold_result *result)
{
    char rate_count[16], rate_window[32], ttl[32];
    const struct agentgate_intake *post = hold->post;
    const char *params[21];
    enum db_status status;
    PGresult *rows;
    int outcome;
    unsigned long generation;

    memset(result, 0, sizeof *result);
    snprintf(rate_count, sizeof rate_count, "%u", hold->rate_count);
    snprintf(rate_window, sizeof rate_window, "%ld seconds", hold->rate_window_seconds);
    snprintf(ttl, sizeof ttl, "%ld seconds", hold->ttl_seconds);
    params[0] = hold->forum;
    params[1] = hold->webhook_id;
    params[2] = hold->draft_id;
    params[3] = post->agent_id;
    params[4] = post->agent_name;
    params[5] = post->invoker_id;
    params[6] = post->invoker_name;
    params[7] = post->topic_id;
    params[8] = post->reply_to_post_id;
    params[9] = post->category;
    params[10] = post->title;
    params[11] = post->body;
    params[12] = post->forum_ref;
    params[13] = hold->context_json;
    params[14] = hold->flags_json;
    params[15] = hold->response;
    params[16] = rate_count;
    params[17] = rate_window;
    params[18] = ttl;
    params[19] = post->topic_title;
    params[20] = post->topic_url;

    rows = db_execute(db, &draft_hold_statement, params, &status);
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) != 1) {
        PQclear(rows);
        return DB_FAILED;
    }
    generation = db_connection_generation(db);
    PQclear(db_execute(db, &draft_hold_durable_statement, NULL, &status));
    if (status == DB_OK && db_connection_generation(db) != generation)
        status = DB_UNAVAILABLE;
    if (status != DB_OK) {
        PQclear(rows);
        return status;
    }
    if (db_outcome_read(draft_hold_words, DB_OUTCOME_COUNT(draft_hold_words), "intake_hold",
                        PQgetvalue(rows, 0, 0), &outcome) != DB_OK) {
        PQclear(rows);
        return DB_FAILED;
    }
    result->outcome = (enum draft_hold_outcome)outcome;
    if (!PQgetisnull(rows, 0, 1)) {
        result->response = strdup(PQgetvalue(rows, 0, 1));
        if (!result->response) {
            PQclear(rows);
            return DB_FAILED;
        }
    }
    if (!PQgetisnull(rows, 0, 2))
        result->retry_after_seconds = atoi(PQgetvalue(rows, 0, 2));
    PQclear(rows);
    return DB_OK;
}

enum db_status drafts_audit_refused(struct db_connection *db, const char *forum,
                                    const char *webhook_id, const char *agent_id,
                                    const char *reason, const char *field)
{
    const char *params[5] = {forum, webhook_id, agent_id, reason, field && *field ? field : NULL};
    enum db_status status;
    PGresult *rows = db_execute(db, &draft_refuse_statement, params, &status);
    PQclear(rows);
    return status;
}

DB_STATEMENT(draft_refusals_counted_statement,
             "SELECT intake_refusals_record($1, $2, $3, $4::integer, $5, $6, "
             "to_timestamp($7::bigint), to_timestamp($8::bigint))",
             8, false);

enum db_status drafts_audit_refusals_counted(struct db_connection *db, const char *forum,
                                             const char *agent_id, const char *reason,
                                             unsigned long count, const char *first_webhook_id,
                                             const char *last_webhook_id, long long first_at,
                                             long long last_at)
{
    char count_text[24], first_text[24], last_text[24];
    const char *params[8] = {forum,           agent_id,   reason,   count_text, first_webhook_id,
                             last_webhook_id, first_text, last_text};
    enum db_status status;

    snprintf(count_text, sizeof count_text, "%lu", count);
    snprintf(first_text, sizeof first_text, "%lld", first_at);
    snprintf(last_text, sizeof last_text, "%lld", last_at);
    PQclear(db_execute(db, &draft_refusals_counted_statement, params, &status));
    return status;
}

DB_STATEMENT(draft_webhook_seen_statement,
             "SELECT 1 FROM drafts WHERE forum = $1 AND webhook_id = $2", 2, true);

enum db_status drafts_webhook_seen(struct db_connection *db, const char *forum,
                                   const char *webhook_id, bool *seen)
{
    const char *params[2] = {forum, webhook_id};
    enum db_status status;
    PGresult *rows = db_execute(db, &draft_webhook_seen_statement, params, &status);

    *seen = status == DB_OK && PQntuples(rows) > 0;
    PQclear(rows);
    return status;
}

/* Timestamps leave the database as ISO 8601 UTC text built here, never as a setting-dependent
 * text form. */
/* How much of a body the list reads: enough for a plain-text excerpt after Markdown and masks. */
#define DRAFT_LIST_BODY_CHARS "600"

#define SQL_TIME(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* clang-format off */
DB_STATEMENT(draft_load_statement,
    "SELECT json_build_object("
    "  'id', d.id, 'forum', d.forum, 'state', d.state, 'revision', d.revision,"
    "  'agent', json_build_object('id', d.agent_id, 'name', d.agent_name),"
    "  'invoker', json_build_object('id', d.invoker_id, 'name', d.invoker_name),"
    "  'delegate', CASE WHEN d.delegate_id IS NULL THEN NULL ELSE"
    "    json_build_object('id', d.delegate_id, 'name', d.delegate_name) END,"
    "  'topic_id', d.topic_id, 'reply_to_post_id', d.reply_to_post_id,"
    "  'topic_title', d.topic_title, 'topic_url', d.topic_url,"
    "  'category', d.category, 'forum_ref', d.forum_ref, 'context', d.context,"
    "  'flags', d.flags, 'created_at', " SQL_TIME("d.created_at") ","
    "  'now', " SQL_TIME("now()") ","
    "  'agent_paused', coalesce(ag.paused, false), 'agent_pause_reason', ag.pause_reason,"
    "  'age_seconds', floor(extract(epoch FROM now() - d.created_at))::bigint,"
    "  'expires_at', " SQL_TIME("d.expires_at") ","
    "  'decided_at', " SQL_TIME("d.decided_at") ","
    "  'decided_by', d.decided_by_name, 'decided_by_id', d.decided_by_id,"
    "  'decision_reason', d.decision_reason,"
    "  'coapproval_pending', d.coapproval_pending, 'coapproved_by', d.coapproved_by_name,"
    "  'post_id', d.post_id, 'post_url', d.post_url, 'title', r.title, 'body', r.body,"
    "  'revisions', (SELECT json_agg(json_build_object('revision', x.revision,"
    "      'title', x.title, 'body', x.body, 'author_id', x.author_id,"
    "      'author_name', x.author_name, 'created_at', " SQL_TIME("x.created_at") ")"
    "      ORDER BY x.revision) FROM draft_revisions x WHERE x.draft_id = d.id),"
    "  'attempts', (SELECT json_agg(json_build_object('at', " SQL_TIME("a.attempted_at") ","
    "      'type', a.event_type, 'attempt', a.attempt, 'status', a.http_status,"
    "      'duration_ms', a.duration_ms, 'error', a.error) ORDER BY a.id)"
    "      FROM delivery_attempts a WHERE a.draft_id = d.id),"
    "  'timeline', (SELECT json_agg(json_build_object('at', " SQL_TIME("e.occurred_at") ","
    "      'actor', e.actor, 'action', e.action, 'details', e.details,"
    "      'actor_name', coalesce(e.details->>'actor_name', u.name, u.username))"
    "      ORDER BY e.id)"
    "      FROM audit_events e LEFT JOIN users u ON u.forum = d.forum"
    "        AND e.actor LIKE 'user:%' AND u.user_id = substr(e.actor, 6)"
    "      WHERE e.draft_id = d.id))::text "
    "FROM drafts d JOIN draft_revisions r ON r.draft_id = d.id AND r.revision = d.revision "
    "LEFT JOIN agents ag ON ag.forum = d.forum AND ag.agent_id = d.agent_id "
    "WHERE d.id = $1::uuid",
    1, true);

DB_STATEMENT(draft_list_statement,
    "SELECT coalesce(json_agg(json_build_object('id', d.id, 'forum', d.forum,"
    "  'state', d.state, 'agent_name', d.agent_name, 'agent_id', d.agent_id,"
    "  'invoker_name', d.invoker_name, 'invoker_id', d.invoker_id,"
    "  'topic_id', d.topic_id, 'topic_title', d.topic_title, 'topic_url', d.topic_url,"
    "  'category', d.category, 'title', r.title,"
    "  'body', left(r.body, " DRAFT_LIST_BODY_CHARS "), 'flags', d.flags,"
    "  'flags_count', jsonb_array_length(d.flags),"
    "  'created_at', " SQL_TIME("d.created_at") ", 'now', " SQL_TIME("now()") ","
    "  'decided_at', " SQL_TIME("d.decided_at") ", 'decided_by', d.decided_by_name,"
    "  'agent_paused', coalesce(ag.paused, false),"
    "  'delegated_to_me', d.delegate_id = $2)"
    "  ORDER BY (d.state = 'pending') DESC, d.created_at DESC), '[]')::text "
    "FROM (SELECT * FROM drafts WHERE forum = $1 AND (invoker_id = $2 OR delegate_id = $2)"
    "      ORDER BY (state = 'pending') DESC, created_at DESC LIMIT 200) d "
    "JOIN draft_revisions r ON r.draft_id = d.id AND r.revision = d.revision "
    "LEFT JOIN agents ag ON ag.forum = d.forum AND ag.agent_id = d.agent_id",
    2, true);

DB_STATEMENT(draft_state_statement,
    "SELECT json_build_object('state', d.state, 'coapproval_pending', d.coapproval_pending,"
    "  'forum', d.forum, 'agent', json_build_object('id', d.agent_id),"
    "  'invoker', json_build_object('id', d.invoker_id),"
    "  'delegate', json_build_object('id', d.delegate_id),"
    "  'decided_by_id', d.decided_by_id)::text FROM drafts d WHERE d.id = $1::uuid",
    1, true);

DB_STATEMENT(draft_decide_once_statement,
    "SELECT outcome, coalesce(state, ''), coalesce(revision, 0), coalesce(status, 0), response,"
    "  coalesce(error_code, ''), coalesce(error_field, ''), coalesce(error_message, '')"
    "  FROM draft_decide_once($1, $2, $3::uuid, $4, $5::integer, $6, $7, $8, $9::boolean)",
    9, false);

DB_STATEMENT(draft_decision_remember_statement,
    "SELECT stored, status, response, coalesce(error_code, ''), coalesce(error_field, ''),"
    "  coalesce(error_message, '')"
    "  FROM draft_decision_remember($1, $2, $3::uuid, $4::integer, $5, $6, $7)",
    7, true);

DB_STATEMENT(draft_echo_save_statement,
    "WITH purged AS (DELETE FROM draft_form_echoes WHERE created_at < now() - interval '1 day')"
    " INSERT INTO draft_form_echoes (draft_id, forum, user_id, fields)"
    " VALUES ($1::uuid, $2, $3, $4::jsonb) RETURNING id::text",
    4, false);

DB_STATEMENT(draft_echo_load_statement,
    "SELECT fields::text FROM draft_form_echoes WHERE id = $1::uuid AND draft_id = $2::uuid"
    "  AND user_id = $3 AND created_at > now() - interval '1 day'",
    3, true);

/* clang-format on */

DB_STATEMENT(draft_decide_statement,
             "SELECT outcome, coalesce(state, ''), coalesce(revision, 0) FROM draft_decide("
             "$1::uuid, $2, $3, $4::integer, $5, $6, $7, $8, $9::boolean)",
             9, false);
DB_STATEMENT(draft_coapprove_statement, "SELECT draft_coapprove($1::uuid, $2, $3, $4)", 4, false);
DB_STATEMENT(draft_edit_statement,
             "SELECT outcome, coalesce(state, ''), coalesce(revision, 0) FROM draft_edit("
             "$1::uuid, $2, $3::integer, $4, $5, $6, $7, $8::jsonb, $9::jsonb)",
             9, false);
DB_STATEMENT(draft_delegate_statement,
             "SELECT outcome FROM draft_delegate($1::uuid, $2, $3, $4, $5)", 5, false);
DB_STATEMENT(draft_view_statement,
             "INSERT INTO audit_events (actor, action, forum, draft_id, details) "
             "VALUES ('user:' || $3, 'draft.view', $2, $1::uuid, "
             "jsonb_build_object('actor_name', $4::text, 'as', 'moderator'))",
             4, false);

enum db_status drafts_load(struct db_connection *db, const char *id, char **json)
{
    const char *params[1] = {id};
    return db_query_text(db, &draft_load_statement, params, json);
}

enum db_status drafts_list_for_user(struct db_connection *db, const char *forum,
                                    const char *user_id, char **json)
{
    const char *params[2] = {forum, user_id};
    return db_query_text(db, &draft_list_statement, params, json);
}

/* Runs a change statement whose first columns are (outcome, state, revision) and fills
 * *result; returns its one row (the caller clears it), or NULL with *status. */
static PGresult *change_execute(struct db_connection *db, const struct db_statement *statement,
                                const char *const *params, struct draft_change_result *result,
                                enum db_status *status)
{
    PGresult *rows = db_execute(db, statement, params, status);
    int outcome;

    memset(result, 0, sizeof *result);
    if (*status != DB_OK)
        return NULL;
    if (PQntuples(rows) != 1 ||
        db_outcome_read(draft_change_words, DB_OUTCOME_COUNT(draft_change_words), statement->name,
                        PQgetvalue(rows, 0, 0), &outcome) != DB_OK) {
        PQclear(rows);
        *status = DB_FAILED;
        return NULL;
    }
    result->outcome = (enum draft_change_outcome)outcome;
    if (PQnfields(rows) >= 3) {
        snprintf(result->state, sizeof result->state, "%s", PQgetvalue(rows, 0, 1));
        result->revision = atoi(PQgetvalue(rows, 0, 2));
    }
    return rows;
}

static enum db_status change_query(struct db_connection *db, const struct db_statement *statement,
                                   const char *const *params, struct draft_change_result *result)
{
    enum db_status status;
    PQclear(change_execute(db, statement, params, result, &status));
    return status;
}

enum db_status drafts_decide(struct db_connection *db, const char *id, const char *forum,
                             const char *decision, int revision, const char *actor_id,
                             const char *actor_name, const char *reason, const char *source,
                             bool needs_coapproval, struct draft_change_result *result)
{
    char revision_text[16];
    const char *params[9] = {
        id,         forum,  decision, revision > 0 ? revision_text : NULL, actor_id,
        actor_name, reason, source,   needs_coapproval ? "true" : "false"};
    snprintf(revision_text, sizeof revision_text, "%d", revision);
    return change_query(db, &draft_decide_statement, params, result);
}

enum db_status drafts_edit(struct db_connection *db, const char *id, const char *forum,
                           int revision, const char *title, const char *body,
                           const char *flags_json, const char *actor_id, const char *actor_name,
                           const char *diff_json, struct draft_change_result *result)
{
    char revision_text[16];
    const char *params[9] = {id,       forum,      revision_text, title,     body,
                             actor_id, actor_name, diff_json,     flags_json};
    snprintf(revision_text, sizeof revision_text, "%d", revision);
    return change_query(db, &draft_edit_statement, params, result);
}

enum db_status drafts_delegate(struct db_connection *db, const char *id, const char *forum,
                               const char *actor_id, const char *actor_name, const char *username,
                               struct draft_change_result *result)
{
    const char *params[5] = {id, forum, actor_id, actor_name, username};
    return change_query(db, &draft_delegate_statement, params, result);
}

enum db_status drafts_audit_view(struct db_connection *db, const char *id, const char *forum,
                                 const char *actor_id, const char *actor_name)
{
    const char *params[4] = {id, forum, actor_id, actor_name};
    enum db_status status;
    PGresult *rows = db_execute(db, &draft_view_statement, params, &status);
    PQclear(rows);
    return status;
}

enum db_status drafts_coapprove(struct db_connection *db, const char *id, const char *forum,
                                const char *actor_id, const char *actor_name,
                                struct draft_change_result *result)
{
    const char *params[4] = {id, forum, actor_id, actor_name};
    return change_query(db, &draft_coapprove_statement, params, result);
}

/* Reads a stored forum answer from columns status, response, code, field, message at `first`. */
static enum db_status forum_answer_read(PGresult *rows, int first,
                                        struct draft_forum_answer *answer)
{
    answer->status = (unsigned)atoi(PQgetvalue(rows, 0, first));
    answer->response = NULL;
    if (!PQgetisnull(rows, 0, first + 1)) {
        answer->response = strdup(PQgetvalue(rows, 0, first + 1));
        if (!answer->response)
            return DB_FAILED;
    }
    snprintf(answer->error_code, sizeof answer->error_code, "%s", PQgetvalue(rows, 0, first + 2));
    snprintf(answer->error_field, sizeof answer->error_field, "%s", PQgetvalue(rows, 0, first + 3));
    snprintf(answer->error_message, sizeof answer->error_message, "%s",
             PQgetvalue(rows, 0, first + 4));
    return DB_OK;
}

enum db_status drafts_decide_once(struct db_connection *db, const char *forum,
                                  const char *webhook_id, const char *id, const char *decision,
                                  int revision, const char *actor_id, const char *actor_name,
                                  const char *reason, bool needs_coapproval,
                                  struct draft_change_result *result,
                                  struct draft_forum_answer *answer)
{
    char revision_text[16];
    const char *params[9] = {forum,      webhook_id, id,
                             decision,   NULL,       actor_id,
                             actor_name, reason,     needs_coapproval ? "true" : "false"};
    enum db_status status;
    PGresult *rows;

    snprintf(revision_text, sizeof revision_text, "%d", revision);
    params[4] = revision > 0 ? revision_text : NULL;
    memset(answer, 0, sizeof *answer);
    rows = change_execute(db, &draft_decide_once_statement, params, result, &status);
    if (!rows)
        return status;
    status = forum_answer_read(rows, 3, answer);
    PQclear(rows);
    return status;
}

enum db_status drafts_decision_remember(struct db_connection *db, const char *forum,
                                        const char *webhook_id, const char *id,
                                        struct draft_forum_answer *answer)
{
    char status_text[16];
    const char *params[7] = {forum,
                             webhook_id,
                             id,
                             status_text,
                             answer->error_code,
                             answer->error_field[0] ? answer->error_field : NULL,
                             answer->error_message};
    enum db_status status;
    PGresult *rows;

    snprintf(status_text, sizeof status_text, "%u", answer->status);
    rows = db_execute(db, &draft_decision_remember_statement, params, &status);
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) != 1) {
        PQclear(rows);
        return DB_FAILED;
    }
    if (strcmp(PQgetvalue(rows, 0, 0), "t") != 0)
        status = forum_answer_read(rows, 1, answer);
    PQclear(rows);
    return status;
}

enum db_status drafts_form_echo_save(struct db_connection *db, const char *id, const char *forum,
                                     const char *user_id, const char *fields_json, char echo_id[37])
{
    const char *params[4] = {id, forum, user_id, fields_json};
    enum db_status status;
    PGresult *rows = db_execute(db, &draft_echo_save_statement, params, &status);

    echo_id[0] = '\0';
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) == 1)
        snprintf(echo_id, 37, "%s", PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return echo_id[0] ? DB_OK : DB_FAILED;
}

enum db_status drafts_form_echo_load(struct db_connection *db, const char *echo_id, const char *id,
                                     const char *user_id, char **json)
{
    const char *params[3] = {echo_id, id, user_id};
    return db_query_text(db, &draft_echo_load_statement, params, json);
}

enum db_status drafts_state(struct db_connection *db, const char *id, char **json)
{
    const char *params[1] = {id};
    return db_query_text(db, &draft_state_statement, params, json);
}
