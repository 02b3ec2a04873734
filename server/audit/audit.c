/*
 * The audit chain in C (see audit.h): the canonical encoding, written independently of the
 * SQL one in sql/audit_event_bytes.sql and its helpers; verification of the sealed chain; and
 * the sealer thread of `serve`.
 *
 * The JSON canonicaliser is a small tokenizer of its own: it reads the jsonb column's text
 * form, decodes every string (all JSON escapes, surrogate pairs), sorts object keys by their
 * decoded bytes, and writes numbers back exactly as they were written (PostgreSQL prints a
 * jsonb number as its numeric text, which is what the SQL side hashes). It refuses what
 * PostgreSQL never produces (duplicate keys, lone surrogates) rather than guess.
 *
 * Verification reads events in seq order (the order of sealing, which is not the id order:
 * migrations/0020_audit_chain_seal_order.sql) and stops at the first problem, checked in this
 * order for each event: its seq follows the previous one (a gap: deleted; the same seq again:
 * inserted), its hash is SHA-256 of its stored prev_hash and its recomputed bytes (else changed,
 * or moved when the bytes hash correctly under a neighbouring seq), and its prev_hash is the
 * previous event's hash (else the previous event was rewritten together with its hash).
 */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hex.h"

#define AUDIT_PREFIX             "agentgate-audit-v1\n"
#define JSON_DEPTH_MAX           1000
#define AUDIT_SEAL_BATCH         5000
#define AUDIT_SEAL_INTERVAL_MS   200
#define AUDIT_SEAL_RETRY_MS      1000
#define AUDIT_CHAIN_SEAL_POLL_MS 50

/* ---- buffers ---------------------------------------------------------------------------- */

/* Appends to a canonical form; 0, or -1 when memory ran out. */
static int buffer_append(struct text_buffer *buffer, const void *data, size_t length)
{
    text_buffer_append(buffer, data, length);
    return buffer->failed ? -1 : 0;
}

static int buffer_append_text(struct text_buffer *buffer, const char *text)
{
    return buffer_append(buffer, text, strlen(text));
}

/* ---- canonical JSON ----------------------------------------------------------------------- */

struct json_reader {
    const char *at;
    const char *end;
    unsigned depth;
};

struct json_member {
    struct text_buffer key;   /* decoded bytes */
    struct text_buffer value; /* canonical JSON */
};

static int json_value_canonical(struct json_reader *reader, struct text_buffer *out);

static void json_skip_space(struct json_reader *reader)
{
    while (reader->at < reader->end && (*reader->at == ' ' || *reader->at == '\t' ||
                                        *reader->at == '\n' || *reader->at == '\r'))
        reader->at++;
}

/* Four hex digits at `text` into *value. Returns 0, or -1 when they are not hex. */
static int json_hex4(const char *text, unsigned *value)
{
    *value = 0;
    for (int i = 0; i < 4; i++) {
        char c = text[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = (unsigned)(c - 'A' + 10);
        else
            return -1;
        *value = *value * 16 + digit;
    }
    return 0;
}

static int utf8_append(struct text_buffer *out, unsigned long code_point)
{
    unsigned char bytes[4];
    size_t length;

    if (code_point < 0x80) {
        bytes[0] = (unsigned char)code_point;
        length = 1;
    } else if (code_point < 0x800) {
        bytes[0] = (unsigned char)(0xC0 | (code_point >> 6));
        bytes[1] = (unsigned char)(0x80 | (code_point & 0x3F));
        length = 2;
    } else if (code_point < 0x10000) {
        bytes[0] = (unsigned char)(0xE0 | (code_point >> 12));
        bytes[1] = (unsigned char)(0x80 | ((code_point >> 6) & 0x3F));
        bytes[2] = (unsigned char)(0x80 | (code_point & 0x3F));
        length = 3;
    } else {
        bytes[0] = (unsigned char)(0xF0 | (code_point >> 18));
        bytes[1] = (unsigned char)(0x80 | ((code_point >> 12) & 0x3F));
        bytes[2] = (unsigned char)(0x80 | ((code_point >> 6) & 0x3F));
        bytes[3] = (unsigned char)(0x80 | (code_point & 0x3F));
        length = 4;
    }
    return buffer_append(out, bytes, length);
}

/* Decodes the \u escape whose 'u' was just read (a surrogate pair takes two). */
static int json_unicode_decode(struct json_reader *reader, struct text_buffer *out)
{
    unsigned high, low;

    if (reader->end - reader->at < 4 || json_hex4(reader->at, &high) != 0)
        return -1;
    reader->at += 4;
    if (high >= 0xDC00 && high <= 0xDFFF)
        return -1;
    if (high < 0xD800 || high > 0xDBFF)
        return utf8_append(out, high);
    if (reader->end - reader->at < 6 || reader->at[0] != '\\' || reader->at[1] != 'u' ||
        json_hex4(reader->at + 2, &low) != 0 || low < 0xDC00 || low > 0xDFFF)
        return -1;
    reader->at += 6;
    return utf8_append(out, 0x10000 + (((unsigned long)high - 0xD800) << 10) + (low - 0xDC00));
}

/* Decodes the JSON string at the reader (its opening quote) into raw bytes appended to out. */
static int json_string_decode(struct json_reader *reader, struct text_buffer *out)
{
    if (reader->at >= reader->end || *reader->at != '"')
        return -1;
    reader->at++;
    while (reader->at < reader->end) {
        const char *run = reader->at;
        char escaped;

        while (reader->at < reader->end && *reader->at != '"' && *reader->at != '\\' &&
               (unsigned char)*reader->at >= 0x20)
            reader->at++;
        if (buffer_append(out, run, (size_t)(reader->at - run)) != 0 || reader->at >= reader->end)
            return -1;
        if (*reader->at == '"') {
            reader->at++;
            return 0;
        }
        if (*reader->at != '\\')
            return -1; /* a raw control character */
        if (++reader->at >= reader->end)
            return -1;
        escaped = *reader->at++;
        switch (escaped) {
        case '"':
        case '\\':
        case '/':
            if (buffer_append(out, &escaped, 1) != 0)
                return -1;
            break;
        case 'b':
            if (buffer_append(out, "\b", 1) != 0)
                return -1;
            break;
        case 'f':
            if (buffer_append(out, "\f", 1) != 0)
                return -1;
            break;
        case 'n':
            if (buffer_append(out, "\n", 1) != 0)
                return -1;
            break;
        case 'r':
            if (buffer_append(out, "\r", 1) != 0)
                return -1;
            break;
        case 't':
            if (buffer_append(out, "\t", 1) != 0)
                return -1;
            break;
        case 'u':
            if (json_unicode_decode(reader, out) != 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    return -1;
}

/* Writes decoded string bytes as a canonical JSON string: only '"', '\' and U+0000..U+001F
 * escaped, the latter as \u00xx in lower-case hex. */
static int json_string_write(struct text_buffer *out, const char *bytes, size_t length)
{
    size_t run = 0;

    if (buffer_append(out, "\"", 1) != 0)
        return -1;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        char escape[6];
        size_t escape_length = 2;

        if (c == '"' || c == '\\') {
            escape[0] = '\\';
            escape[1] = (char)c;
        } else if (c < 0x20) {
            memcpy(escape, "\\u00", 4);
            escape[4] = hex_digit(c >> 4);
            escape[5] = hex_digit(c);
            escape_length = 6;
        } else {
            continue;
        }
        if (buffer_append(out, bytes + run, i - run) != 0 ||
            buffer_append(out, escape, escape_length) != 0)
            return -1;
        run = i + 1;
    }
    if (buffer_append(out, bytes + run, length - run) != 0)
        return -1;
    return buffer_append(out, "\"", 1);
}

static int json_string_canonical(struct json_reader *reader, struct text_buffer *out)
{
    struct text_buffer decoded = {0};
    int status = -1;

    if (json_string_decode(reader, &decoded) == 0)
        status = json_string_write(out, decoded.data ? decoded.data : "", decoded.length);
    text_buffer_free(&decoded);
    return status;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Copies a number token verbatim after checking it against the JSON grammar. */
static int json_number_copy(struct json_reader *reader, struct text_buffer *out)
{
    const char *start = reader->at, *at = reader->at, *end = reader->end;

    if (at < end && *at == '-')
        at++;
    if (at < end && *at == '0')
        at++;
    else if (at < end && *at >= '1' && *at <= '9')
        while (at < end && is_digit(*at))
            at++;
    else
        return -1;
    if (at < end && *at == '.') {
        if (++at >= end || !is_digit(*at))
            return -1;
        while (at < end && is_digit(*at))
            at++;
    }
    if (at < end && (*at == 'e' || *at == 'E')) {
        at++;
        if (at < end && (*at == '+' || *at == '-'))
            at++;
        if (at >= end || !is_digit(*at))
            return -1;
        while (at < end && is_digit(*at))
            at++;
    }
    reader->at = at;
    return buffer_append(out, start, (size_t)(at - start));
}

static int json_literal_copy(struct json_reader *reader, struct text_buffer *out)
{
    static const char *const literals[] = {"true", "false", "null"};

    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        size_t length = strlen(literals[i]);
        if ((size_t)(reader->end - reader->at) >= length &&
            memcmp(reader->at, literals[i], length) == 0) {
            reader->at += length;
            return buffer_append(out, literals[i], length);
        }
    }
    return -1;
}

/* Orders keys by their UTF-8 bytes; a key that is a prefix of another comes first. */
static int json_member_compare(const void *left, const void *right)
{
    const struct text_buffer *a = &((const struct json_member *)left)->key;
    const struct text_buffer *b = &((const struct json_member *)right)->key;
    size_t common = a->length < b->length ? a->length : b->length;
    int order = common ? memcmp(a->data, b->data, common) : 0;

    if (order != 0)
        return order;
    return (a->length > b->length) - (a->length < b->length);
}

/* Parses the members of an object (after its '{') into *members. Returns 0, or -1. */
static int json_members_read(struct json_reader *reader, struct json_member **members,
                             size_t *count)
{
    size_t capacity = 0;

    json_skip_space(reader);
    if (reader->at < reader->end && *reader->at == '}') {
        reader->at++;
        return 0;
    }
    for (;;) {
        struct json_member *member;

        if (*count == capacity) {
            size_t grown_capacity = capacity ? capacity * 2 : 8;
            struct json_member *grown = realloc(*members, grown_capacity * sizeof *grown);
            if (!grown)
                return -1;
            *members = grown;
            capacity = grown_capacity;
        }
        member = &(*members)[(*count)++];
        memset(member, 0, sizeof *member);
        json_skip_space(reader);
        if (json_string_decode(reader, &member->key) != 0)
            return -1;
        json_skip_space(reader);
        if (reader->at >= reader->end || *reader->at != ':')
            return -1;
        reader->at++;
        if (json_value_canonical(reader, &member->value) != 0)
            return -1;
        json_skip_space(reader);
        if (reader->at < reader->end && *reader->at == ',') {
            reader->at++;
            continue;
        }
        if (reader->at < reader->end && *reader->at == '}') {
            reader->at++;
            return 0;
        }
        return -1;
    }
}

static int json_object_canonical(struct json_reader *reader, struct text_buffer *out)
{
    struct json_member *members = NULL;
    size_t count = 0;
    int status = -1;

    reader->at++; /* '{' */
    if (json_members_read(reader, &members, &count) != 0)
        goto fail;
    if (count > 1)
        qsort(members, count, sizeof *members, json_member_compare);
    if (buffer_append(out, "{", 1) != 0)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && json_member_compare(&members[i - 1], &members[i]) == 0)
            goto fail; /* a duplicate key: not something jsonb prints */
        if ((i > 0 && buffer_append(out, ",", 1) != 0) ||
            json_string_write(out, members[i].key.data ? members[i].key.data : "",
                              members[i].key.length) != 0 ||
            buffer_append(out, ":", 1) != 0 ||
            buffer_append(out, members[i].value.data, members[i].value.length) != 0)
            goto fail;
    }
    status = buffer_append(out, "}", 1);
fail:
    for (size_t i = 0; i < count; i++) {
        text_buffer_free(&members[i].key);
        text_buffer_free(&members[i].value);
    }
    free(members);
    return status;
}

static int json_array_canonical(struct json_reader *reader, struct text_buffer *out)
{
    reader->at++; /* '[' */
    if (buffer_append(out, "[", 1) != 0)
        return -1;
    json_skip_space(reader);
    if (reader->at < reader->end && *reader->at == ']') {
        reader->at++;
        return buffer_append(out, "]", 1);
    }
    for (bool first = true;; first = false) {
        if (!first && buffer_append(out, ",", 1) != 0)
            return -1;
        if (json_value_canonical(reader, out) != 0)
            return -1;
        json_skip_space(reader);
        if (reader->at < reader->end && *reader->at == ',') {
            reader->at++;
            continue;
        }
        if (reader->at < reader->end && *reader->at == ']') {
            reader->at++;
            return buffer_append(out, "]", 1);
        }
        return -1;
    }
}

static int json_value_canonical(struct json_reader *reader, struct text_buffer *out)
{
    int status;

    json_skip_space(reader);
    if (reader->at >= reader->end)
        return -1;
    switch (*reader->at) {
    case '{':
    case '[':
        if (reader->depth >= JSON_DEPTH_MAX)
            return -1;
        reader->depth++;
        status = *reader->at == '{' ? json_object_canonical(reader, out)
                                    : json_array_canonical(reader, out);
        reader->depth--;
        return status;
    case '"':
        return json_string_canonical(reader, out);
    case 't':
    case 'f':
    case 'n':
        return json_literal_copy(reader, out);
    default:
        return json_number_copy(reader, out);
    }
}

int audit_json_canonicalize(const char *json, size_t length, struct text_buffer *out)
{
    struct json_reader reader = {json, json + length, 0};

    if (!json || json_value_canonical(&reader, out) != 0)
        return -1;
    json_skip_space(&reader);
    return reader.at == reader.end ? 0 : -1;
}

/* ---- event bytes and hash ---------------------------------------------------------------- */

/* F(text): "<byte length>:<bytes>", or "~" for NULL. */
static int field_append(struct text_buffer *out, const char *text)
{
    char prefix[24];

    if (!text)
        return buffer_append(out, "~\n", 2);
    snprintf(prefix, sizeof prefix, "%zu:", strlen(text));
    if (buffer_append_text(out, prefix) != 0 || buffer_append_text(out, text) != 0)
        return -1;
    return buffer_append(out, "\n", 1);
}

int audit_event_encode(const struct audit_event *event, struct text_buffer *out)
{
    char numbers[96];

    snprintf(numbers, sizeof numbers, AUDIT_PREFIX "%lld\n%lld\n%lld\n", event->seq, event->id,
             event->occurred_us);
    if (buffer_append_text(out, numbers) != 0 || field_append(out, event->actor) != 0 ||
        field_append(out, event->action) != 0 || field_append(out, event->forum) != 0 ||
        field_append(out, event->draft_id) != 0)
        return -1;
    return audit_json_canonicalize(event->details, event->details_length, out);
}

int audit_event_hash(const unsigned char prev_hash[AUDIT_HASH_BYTES],
                     const struct audit_event *event, struct text_buffer *scratch,
                     unsigned char hash[AUDIT_HASH_BYTES])
{
    crypto_hash_sha256_state state;

    text_buffer_reset(scratch);
    if (audit_event_encode(event, scratch) != 0)
        return -1;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, prev_hash, AUDIT_HASH_BYTES);
    crypto_hash_sha256_update(&state, (const unsigned char *)scratch->data, scratch->length);
    crypto_hash_sha256_final(&state, hash);
    return 0;
}

void audit_hash_hex(const unsigned char hash[AUDIT_HASH_BYTES], char out[AUDIT_HASH_HEX_SIZE])
{
    hex_encode(hash, AUDIT_HASH_BYTES, out);
}

bool audit_checkpoint_parse(const char *text, struct audit_checkpoint *checkpoint)
{
    const char *colon = text ? strchr(text, ':') : NULL;
    size_t decoded = 0;
    char *end;

    memset(checkpoint, 0, sizeof *checkpoint);
    if (!colon || colon == text || strlen(colon + 1) != 2 * AUDIT_HASH_BYTES)
        return false;
    for (const char *c = text; c < colon; c++)
        if (!is_digit(*c))
            return false;
    errno = 0;
    checkpoint->seq = strtoll(text, &end, 10);
    if (errno != 0 || end != colon)
        return false;
    return sodium_hex2bin(checkpoint->hash, AUDIT_HASH_BYTES, colon + 1, 2 * AUDIT_HASH_BYTES, NULL,
                          &decoded, NULL) == 0 &&
           decoded == AUDIT_HASH_BYTES;
}

/* ---- verification ------------------------------------------------------------------------ */

struct chain_check {
    struct audit_report *report;
    const struct audit_checkpoint *checkpoint;
    bool checkpoint_reached;
    bool trust_first_link; /* checking only the latest events: the first one's link is given */
    bool started;
    bool broken;
    long long expected_seq;
    long long last_id;
    unsigned char last_hash[AUDIT_HASH_BYTES];
    struct text_buffer scratch;
};

/* Records the first problem; returns false to stop the scan. */
__attribute__((format(printf, 2, 3))) static bool chain_broken(struct chain_check *check,
                                                               const char *format, ...)
{
    va_list arguments;

    va_start(arguments, format);
    vsnprintf(check->report->problem, sizeof check->report->problem, format, arguments);
    va_end(arguments);
    check->broken = true;
    return false;
}

/* Whether the event's stored hash is right for its content under another seq `seq`: it was
 * sealed there and moved since. */
static bool sealed_as(struct chain_check *check, const struct audit_sealed_event *sealed,
                      long long seq)
{
    struct audit_event moved = sealed->event;
    unsigned char computed[AUDIT_HASH_BYTES];

    moved.seq = seq;
    return seq > 0 && audit_event_hash(sealed->prev_hash, &moved, &check->scratch, computed) == 0 &&
           sodium_memcmp(computed, sealed->hash, AUDIT_HASH_BYTES) == 0;
}

static bool chain_check_event(const struct audit_sealed_event *sealed, void *context)
{
    struct chain_check *check = context;
    const struct audit_event *event = &sealed->event;
    unsigned char computed[AUDIT_HASH_BYTES];

    if (!check->started && check->trust_first_link)
        check->expected_seq = event->seq;
    if (event->seq > check->expected_seq)
        return chain_broken(check, "event seq %lld is missing (deleted)", check->expected_seq);
    if (event->seq < check->expected_seq)
        return chain_broken(check,
                            "event seq %lld (id %lld) is out of order (inserted or reordered)",
                            event->seq, event->id);
    if (!sealed->has_hashes ||
        audit_event_hash(sealed->prev_hash, event, &check->scratch, computed) != 0 ||
        sodium_memcmp(computed, sealed->hash, AUDIT_HASH_BYTES) != 0) {
        for (long long delta = -1; sealed->has_hashes && delta <= 1; delta += 2)
            if (sealed_as(check, sealed, event->seq + delta))
                return chain_broken(check,
                                    "event seq %lld (id %lld) was sealed as seq %lld: events were "
                                    "inserted, removed or reordered before it",
                                    event->seq, event->id, event->seq + delta);
        return chain_broken(check, "event seq %lld (id %lld) was changed", event->seq, event->id);
    }
    if ((check->started || !check->trust_first_link) &&
        sodium_memcmp(sealed->prev_hash, check->last_hash, AUDIT_HASH_BYTES) != 0) {
        if (!check->started)
            return chain_broken(check,
                                "event seq %lld (id %lld) was changed: the first event must "
                                "link to 32 zero bytes",
                                event->seq, event->id);
        return chain_broken(check,
                            "event seq %lld (id %lld) was changed: event seq %lld (id %lld) no "
                            "longer links to it",
                            check->expected_seq - 1, check->last_id, event->seq, event->id);
    }
    if (check->checkpoint && event->seq == check->checkpoint->seq) {
        if (sodium_memcmp(sealed->hash, check->checkpoint->hash, AUDIT_HASH_BYTES) != 0)
            return chain_broken(check, "checkpoint %lld hash differs: the chain was rewritten",
                                event->seq);
        check->checkpoint_reached = true;
    }
    check->started = true;
    check->expected_seq = event->seq + 1;
    check->last_id = event->id;
    memcpy(check->last_hash, sealed->hash, AUDIT_HASH_BYTES);
    check->report->checked++;
    check->report->head_seq = event->seq;
    memcpy(check->report->head_hash, sealed->hash, AUDIT_HASH_BYTES);
    return true;
}

static enum audit_verdict verify_failed(struct audit_report *report, enum db_status status)
{
    report->error = status;
    snprintf(report->problem, sizeof report->problem, "%s",
             status == DB_UNAVAILABLE ? "cannot reach the database"
                                      : "cannot read the audit events (see the log)");
    return AUDIT_ERROR;
}

enum audit_verdict audit_chain_verify(struct db_connection *db, long long latest,
                                      const struct audit_checkpoint *checkpoint,
                                      struct audit_report *report)
{
    struct chain_check check;
    unsigned char head_hash[AUDIT_HASH_BYTES];
    long long head_seq, from_seq = 1;
    enum db_status status;
    bool stopped;

    memset(report, 0, sizeof *report);
    memset(&check, 0, sizeof check);
    status =
        audit_events_head(db, &head_seq, head_hash, &report->unsealed, &report->oldest_unsealed_ms);
    if (status != DB_OK)
        return verify_failed(report, status);
    if (latest > 0 && head_seq > latest) {
        from_seq = head_seq - latest + 1;
        check.trust_first_link = true;
    }
    report->whole_chain = !check.trust_first_link;
    check.report = report;
    check.checkpoint = checkpoint;
    check.expected_seq = 1;
    status = audit_events_scan(db, from_seq, chain_check_event, &check, &stopped);
    text_buffer_free(&check.scratch);
    if (status != DB_OK)
        return verify_failed(report, status);
    if (check.broken) {
        /* the head is the chain's, not the last good event's */
        report->head_seq = head_seq;
        memcpy(report->head_hash, head_hash, AUDIT_HASH_BYTES);
        return AUDIT_BROKEN;
    }
    if (checkpoint && !check.checkpoint_reached) {
        static const unsigned char genesis[AUDIT_HASH_BYTES] = {0};
        if (checkpoint->seq == 0 && sodium_memcmp(checkpoint->hash, genesis, AUDIT_HASH_BYTES) == 0)
            return AUDIT_INTACT;
        if (checkpoint->seq == 0 || checkpoint->seq <= report->head_seq)
            snprintf(report->problem, sizeof report->problem,
                     "checkpoint %lld hash differs: the chain was rewritten", checkpoint->seq);
        else
            snprintf(report->problem, sizeof report->problem,
                     "checkpoint %lld not reached: events were deleted (the chain ends at %lld)",
                     checkpoint->seq, report->head_seq);
        return AUDIT_BROKEN;
    }
    return AUDIT_INTACT;
}

/* ---- sealing --------------------------------------------------------------------------------
 */

enum db_status audit_chain_seal(struct db_connection *db, long wait_ms, long long *unsealed_id)
{
    long long deadline = clock_monotonic_ms() + wait_ms;
    char *pending = NULL;
    enum db_status status = audit_events_unsealed_ids(db, &pending);

    *unsealed_id = 0;
    while (status == DB_OK) {
        long long first;
        int sealed;

        status = audit_events_seal(db, AUDIT_SEAL_BATCH, &sealed);
        if (status != DB_OK || sealed == AUDIT_SEAL_BATCH)
            continue;
        /* Every event visible at the start must be sealed by now, by us or by the sealer of a
         * serve process that held the lock. */
        status = audit_events_unsealed_among(db, pending, &first);
        if (status != DB_OK || first == 0)
            break;
        if (clock_monotonic_ms() >= deadline) {
            *unsealed_id = first;
            break;
        }
        poll(NULL, 0, AUDIT_CHAIN_SEAL_POLL_MS);
    }
    free(pending);
    return status;
}

static pthread_t sealer_thread;
static atomic_bool sealer_running;
static bool sealer_started;
static int sealer_wake[2] = {-1, -1};

/* Sleeps `timeout_ms`, or less when audit_sealer_stop() wakes it. */
static void sealer_sleep(long timeout_ms)
{
    struct pollfd wake = {.fd = sealer_wake[0], .events = POLLIN};
    char drain[16];

    if (poll(&wake, 1, (int)timeout_ms) > 0)
        while (read(sealer_wake[0], drain, sizeof drain) > 0) {
        }
}

static void *sealer_run(void *argument)
{
    (void)argument;
    while (atomic_load(&sealer_running)) {
        struct db_connection *db = db_thread_connection();
        enum db_status status = DB_UNAVAILABLE;
        int sealed = 0;

        if (db) {
            do
                status = audit_events_seal(db, AUDIT_SEAL_BATCH, &sealed);
            while (status == DB_OK && sealed == AUDIT_SEAL_BATCH && atomic_load(&sealer_running));
        }
        sealer_sleep(status == DB_OK ? AUDIT_SEAL_INTERVAL_MS : AUDIT_SEAL_RETRY_MS);
    }
    db_thread_release();
    return NULL;
}

int audit_sealer_start(const struct config *config, char *error, size_t error_size)
{
    (void)config;
    if (pipe(sealer_wake) != 0) {
        snprintf(error, error_size, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(sealer_wake[0], F_SETFL, O_NONBLOCK);
    atomic_store(&sealer_running, true);
    if (pthread_create(&sealer_thread, NULL, sealer_run, NULL) != 0) {
        atomic_store(&sealer_running, false);
        close(sealer_wake[0]);
        close(sealer_wake[1]);
        sealer_wake[0] = sealer_wake[1] = -1;
        snprintf(error, error_size, "cannot start the audit sealer thread");
        return -1;
    }
    sealer_started = true;
    return 0;
}

void audit_sealer_stop(void)
{
    if (!sealer_started)
        return;
    atomic_store(&sealer_running, false);
    if (write(sealer_wake[1], "x", 1) < 0) {
        /* the thread notices within AUDIT_SEAL_RETRY_MS anyway */
    }
    pthread_join(sealer_thread, NULL);
    close(sealer_wake[0]);
    close(sealer_wake[1]);
    sealer_wake[0] = sealer_wake[1] = -1;
    sealer_started = false;
}
