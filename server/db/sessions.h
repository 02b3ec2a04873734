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

/* Stores a sign-in nonce for `forum`, valid `seconds`, with where to go after sign-in. */
enum db_status sessions_nonce_store(struct db_connection *db,
                                    const unsigned char hash[SESSION_HASH_BYTES], const char *forum,
                                    const char *return_to, long seconds)
    __attribute__((warn_unused_result));

/* Consumes a nonce; *found is true exactly once for a live nonce, with its forum and
 * return_to filled in. */
enum db_status sessions_nonce_consume(struct db_connection *db,
                                      const unsigned char hash[SESSION_HASH_BYTES], char *forum,
                                      size_t forum_size, char *return_to, size_t return_to_size,
                                      bool *found) __attribute__((warn_unused_result));

#endif
