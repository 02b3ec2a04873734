/* SQL for users, sessions and sign-in nonces (db/sessions.c). Tokens and nonces are passed as
 * SHA-256 hashes; the raw values never reach the database. */
#ifndef AGENTGATE_DB_SESSIONS_H
#define AGENTGATE_DB_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

#define SESSION_HASH_BYTES 32

struct session_identity {
    char forum[40];
    char user_id[129];
    char username[129];
    char name[257];
    char email[257];
    char groups[1024]; /* comma-separated */
    bool is_moderator;
    char method[8]; /* sso, proxy, dev */
};

/* Creates a user (or refreshes it) and a session for it; audited as auth.sign_in. */
enum db_status sessions_open(struct db_connection *db, const unsigned char hash[SESSION_HASH_BYTES],
                             const struct session_identity *who, long lifetime_seconds,
                             long idle_seconds) __attribute__((warn_unused_result));

/* Finds a live session; *found tells whether there was one. */
enum db_status sessions_touch(struct db_connection *db,
                              const unsigned char hash[SESSION_HASH_BYTES],
                              struct session_identity *who, bool *found)
    __attribute__((warn_unused_result));

/* Ends a session; audited as auth.sign_out when it existed. */
enum db_status sessions_close(struct db_connection *db,
                              const unsigned char hash[SESSION_HASH_BYTES])
    __attribute__((warn_unused_result));

/* A sign-in nonce to issue: the hashes of the nonce and of the browser's pre-login cookie, the
 * forum, where to go after sign-in, and the client address's rate limit (capacity 0: none). */
struct sso_nonce_issue {
    const unsigned char *nonce_hash;   /* SESSION_HASH_BYTES */
    const unsigned char *browser_hash; /* SESSION_HASH_BYTES */
    const char *forum;
    const char *return_to;
    long lifetime_seconds;
    const char *address;
    unsigned capacity;
    long window_seconds;
};

/* Stores the nonce when the address has a sign-in left in its bucket: *retry_after_seconds is 0
 * then, else how long to wait (nothing stored). Purges a bounded number of expired nonces. */
enum db_status sessions_nonce_issue(struct db_connection *db, const struct sso_nonce_issue *issue,
                                    int *retry_after_seconds) __attribute__((warn_unused_result));

/* A consumed nonce: found is true exactly once for a live nonce, with its forum and return_to;
 * same_browser when the browser that brought it back holds the cookie it was issued to. */
struct sso_nonce_taken {
    bool found;
    bool same_browser;
    char forum[40];
    char return_to[512];
};

/* Consumes a nonce; `browser_hash` is the pre-login cookie's hash, NULL without a cookie. */
enum db_status
sessions_nonce_consume(struct db_connection *db, const unsigned char nonce_hash[SESSION_HASH_BYTES],
                       const unsigned char *browser_hash, struct sso_nonce_taken *taken)
    __attribute__((warn_unused_result));

#endif
