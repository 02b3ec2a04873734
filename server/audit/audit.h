/*
 * The tamper-evident audit chain (CONTRACT §9): the canonical encoding of an event, the
 * chain's verification, and the background sealer of `serve`.
 *
 * Every audit event is inserted unsealed and later sealed by audit_seal() (sql/audit_seal.sql)
 * with seq (1, 2, 3, ... in the order of sealing, which is not the id order: see
 * migrations/0020_audit_chain_seal_order.sql), prev_hash (the previous event's hash; 32 zero
 * bytes for seq 1) and hash = SHA-256(prev_hash || event bytes). The event bytes are defined in
 * sql/audit_event_bytes.sql and in docs/audit-chain.md; this file implements them a second
 * time, independently, so that verification never trusts SQL functions an attacker could
 * replace:
 *
 *   "agentgate-audit-v1" LF seq LF id LF micros LF F(actor) LF F(action) LF F(forum) LF
 *   F(draft_id) LF J(details)
 *
 * F(text) is "<byte length>:<bytes>" or "~" for NULL; J is canonical JSON (keys sorted by
 * their UTF-8 bytes, no whitespace, only '"', '\' and U+0000..U+001F escaped, the latter as
 * \u00xx, number tokens kept verbatim as PostgreSQL printed them).
 *
 * Invariants: the encoder is pure and thread-safe; verification streams events in constant
 * memory and reports the FIRST problem only; the sealer thread holds its own connection and
 * never makes writers wait, nor waits for them.
 */
#ifndef AGENTGATE_AUDIT_H
#define AGENTGATE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "db/audit.h"
#include "text.h"

#define AUDIT_HASH_HEX_SIZE (2 * AUDIT_HASH_BYTES + 1)

/* Appends the canonical JSON of `json` (any valid JSON text of `length` bytes, e.g. a jsonb
 * column's text form) to `out`. Returns 0, or -1 when the text is not valid JSON (bad syntax,
 * a duplicate key, a lone surrogate, nesting deeper than 1000) or memory runs out; `out` may
 * then hold a partial result. */
int audit_json_canonicalize(const char *json, size_t length, struct text_buffer *out)
    __attribute__((warn_unused_result));

/* Appends the event bytes of `event` to `out`. Returns 0, or -1 as audit_json_canonicalize. */
int audit_event_encode(const struct audit_event *event, struct text_buffer *out)
    __attribute__((warn_unused_result));

/* hash = SHA-256(prev_hash || event bytes); `scratch` is reused between calls. Returns 0, or
 * -1 when the event cannot be encoded. */
int audit_event_hash(const unsigned char prev_hash[AUDIT_HASH_BYTES],
                     const struct audit_event *event, struct text_buffer *scratch,
                     unsigned char hash[AUDIT_HASH_BYTES]) __attribute__((warn_unused_result));

/* Lower-case hex of a hash into `out` (AUDIT_HASH_HEX_SIZE bytes). */
void audit_hash_hex(const unsigned char hash[AUDIT_HASH_BYTES], char out[AUDIT_HASH_HEX_SIZE]);

/* A head kept outside the database: "SEQ:HEX" as `agentgate audit checkpoint` prints it. */
struct audit_checkpoint {
    long long seq;
    unsigned char hash[AUDIT_HASH_BYTES];
};

/* Parses "SEQ:HEX" (decimal seq >= 0, 64 hex digits). Returns false when malformed. */
bool audit_checkpoint_parse(const char *text, struct audit_checkpoint *checkpoint)
    __attribute__((warn_unused_result));

enum audit_verdict {
    AUDIT_INTACT, /* every checked event links and hashes correctly */
    AUDIT_BROKEN, /* report.problem names the first broken event */
    AUDIT_ERROR,  /* the check could not run (report.problem says why) */
};

struct audit_report {
    long long checked;  /* sealed events whose links and hashes were checked */
    long long head_seq; /* the last sealed event (0: none); when intact, the last one checked */
    unsigned char head_hash[AUDIT_HASH_BYTES];
    long long unsealed;           /* events not sealed yet */
    long long oldest_unsealed_ms; /* how long ago the oldest of them was written (0: none) */
    bool whole_chain;             /* from seq 1, rather than only the latest events */
    char problem[400];            /* one line, for AUDIT_BROKEN and AUDIT_ERROR */
    enum db_status error;         /* for AUDIT_ERROR: DB_UNAVAILABLE or DB_FAILED */
};

/* Seals everything that was committed when it started: calls audit_seal() until every event
 * visible at the start is sealed, waiting (up to wait_ms in all) while another process's sealer
 * holds the seal lock. When some of those events are still unsealed at the deadline (sealing
 * fails on them, or cannot keep up), *unsealed_id gets the smallest of their ids; else 0.
 * Returns the database status. */
enum db_status audit_chain_seal(struct db_connection *db, long wait_ms, long long *unsealed_id)
    __attribute__((warn_unused_result));

/* Verifies the sealed chain: the whole chain from seq 1 when `latest` is 0, else only the
 * latest `latest` events (their links to each other and their hashes). With `checkpoint`,
 * the event checkpoint->seq must exist with exactly that hash. Fills `report`. */
enum audit_verdict audit_chain_verify(struct db_connection *db, long long latest,
                                      const struct audit_checkpoint *checkpoint,
                                      struct audit_report *report);

/* Starts the sealer thread of `serve` (audit_seal every 200 ms on its own connection).
 * Returns 0, or -1 with a message. */
int audit_sealer_start(const struct config *config, char *error, size_t error_size)
    __attribute__((warn_unused_result));

/* Stops and joins the sealer thread; a no-op when it was not started. */
void audit_sealer_stop(void);

#endif
