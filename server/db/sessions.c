/* SQL for users, sessions and sign-in nonces; see sessions.h. */
#include "db/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STATEMENT(
    session_open_statement,
    "SELECT session_open($1::bytea, $2, $3, $4, $5, $6, "
    "coalesce(string_to_array(nullif($7, ''), ','), '{}'), $8::boolean, $9, $10::interval, "
    "$11::interval)",
    11, false);
DB_STATEMENT(session_touch_statement,
             "SELECT forum, user_id, username, coalesce(name, ''), "
             "array_to_string(groups, ','), is_moderator, method FROM session_touch($1::bytea)",
             1, false);
DB_STATEMENT(session_close_statement, "SELECT session_close($1::bytea)", 1, false);
DB_STATEMENT(nonce_issue_statement,
             "SELECT sso_nonce_issue($1::bytea, $2::bytea, $3, $4, $5::interval, $6, $7::integer, "
             "$8::interval)",
             8, false);
DB_STATEMENT(nonce_consume_statement,
             "SELECT forum, return_to, same_browser FROM sso_nonce_consume($1::bytea, $2::bytea) "
             "WHERE forum IS NOT NULL",
             2, false);

/* bytea in text form: \x and hex */
static void hash_text(const unsigned char hash[SESSION_HASH_BYTES],
                      char out[2 + 2 * SESSION_HASH_BYTES + 1])
{
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, 2 * SESSION_HASH_BYTES + 1, hash, SESSION_HASH_BYTES);
}

static void copy_value(char *out, size_t size, const char *value)
{
    snprintf(out, size, "%s", value ? value : "");
}

enum db_status sessions_open(struct db_connection *db, const unsigned char hash[SESSION_HASH_BYTES],
                             const struct session_identity *who, long lifetime_seconds,
                             long idle_seconds)
{
    char hash_param[2 + 2 * SESSION_HASH_BYTES + 1], lifetime[32], idle[32];
    const char *params[11];
    enum db_status status;
    PGresult *rows;

    hash_text(hash, hash_param);
    snprintf(lifetime, sizeof lifetime, "%ld seconds", lifetime_seconds);
    snprintf(idle, sizeof idle, "%ld seconds", idle_seconds);
    params[0] = hash_param;
    params[1] = who->forum;
    params[2] = who->user_id;
    params[3] = who->username;
    params[4] = who->name[0] ? who->name : NULL;
    params[5] = who->email[0] ? who->email : NULL;
    params[6] = who->groups;
    params[7] = who->is_moderator ? "true" : "false";
    params[8] = who->method;
    params[9] = lifetime;
    params[10] = idle;
    rows = db_execute(db, &session_open_statement, params, &status);
    PQclear(rows);
    return status;
}

enum db_status sessions_touch(struct db_connection *db,
                              const unsigned char hash[SESSION_HASH_BYTES],
                              struct session_identity *who, bool *found)
{
    char hash_param[2 + 2 * SESSION_HASH_BYTES + 1];
    const char *params[1] = {hash_param};
    enum db_status status;
    PGresult *rows;

    *found = false;
    hash_text(hash, hash_param);
    rows = db_execute(db, &session_touch_statement, params, &status);
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) == 1) {
        memset(who, 0, sizeof *who);
        copy_value(who->forum, sizeof who->forum, PQgetvalue(rows, 0, 0));
        copy_value(who->user_id, sizeof who->user_id, PQgetvalue(rows, 0, 1));
        copy_value(who->username, sizeof who->username, PQgetvalue(rows, 0, 2));
        copy_value(who->name, sizeof who->name, PQgetvalue(rows, 0, 3));
        copy_value(who->groups, sizeof who->groups, PQgetvalue(rows, 0, 4));
        who->is_moderator = strcmp(PQgetvalue(rows, 0, 5), "t") == 0;
        copy_value(who->method, sizeof who->method, PQgetvalue(rows, 0, 6));
        *found = true;
    }
    PQclear(rows);
    return DB_OK;
}

enum db_status sessions_close(struct db_connection *db,
                              const unsigned char hash[SESSION_HASH_BYTES])
{
    char hash_param[2 + 2 * SESSION_HASH_BYTES + 1];
    const char *params[1] = {hash_param};
    enum db_status status;
    PGresult *rows;

    hash_text(hash, hash_param);
    rows = db_execute(db, &session_close_statement, params, &status);
    PQclear(rows);
    return status;
}

enum db_status sessions_nonce_issue(struct db_connection *db, const struct sso_nonce_issue *issue,
                                    int *retry_after_seconds)
{
    char nonce_param[2 + 2 * SESSION_HASH_BYTES + 1], browser_param[2 + 2 * SESSION_HASH_BYTES + 1];
    char lifetime[32], capacity[16], window[32];
    const char *params[8] = {nonce_param, browser_param,  issue->forum, issue->return_to,
                             lifetime,    issue->address, capacity,     window};
    enum db_status status;
    PGresult *rows;

    *retry_after_seconds = 0;
    hash_text(issue->nonce_hash, nonce_param);
    hash_text(issue->browser_hash, browser_param);
    snprintf(lifetime, sizeof lifetime, "%ld seconds", issue->lifetime_seconds);
    snprintf(capacity, sizeof capacity, "%u", issue->capacity);
    snprintf(window, sizeof window, "%ld seconds",
             issue->window_seconds > 0 ? issue->window_seconds : 1);
    rows = db_execute(db, &nonce_issue_statement, params, &status);
    if (status == DB_OK && PQntuples(rows) == 1)
        *retry_after_seconds = atoi(PQgetvalue(rows, 0, 0));
    PQclear(rows);
    return status;
}

enum db_status sessions_nonce_consume(struct db_connection *db,
                                      const unsigned char nonce_hash[SESSION_HASH_BYTES],
                                      const unsigned char *browser_hash,
                                      struct sso_nonce_taken *taken)
{
    char nonce_param[2 + 2 * SESSION_HASH_BYTES + 1], browser_param[2 + 2 * SESSION_HASH_BYTES + 1];
    const char *params[2] = {nonce_param, browser_hash ? browser_param : NULL};
    enum db_status status;
    PGresult *rows;

    memset(taken, 0, sizeof *taken);
    hash_text(nonce_hash, nonce_param);
    if (browser_hash)
        hash_text(browser_hash, browser_param);
    rows = db_execute(db, &nonce_consume_statement, params, &status);
    if (status != DB_OK)
        return status;
    if (PQntuples(rows) == 1) {
        copy_value(taken->forum, sizeof taken->forum, PQgetvalue(rows, 0, 0));
        copy_value(taken->return_to, sizeof taken->return_to, PQgetvalue(rows, 0, 1));
        taken->same_browser = strcmp(PQgetvalue(rows, 0, 2), "t") == 0;
        taken->found = true;
    }
    PQclear(rows);
    return DB_OK;
}
