/*
 * The moderators' history exports (CONTRACT §7): GET /history.csv and /history.ndjson stream
 * every draft of the moderator's forum that matches the filters of /history (history_query.c),
 * newest first.
 *
 * Who: moderators only, and only their own forum; anyone else gets 404 (a download is no
 * place for a sign-in form). Every export is audited with its format and filters.
 *
 * Invariants:
 *  - An export never holds more than one batch of rows (EXPORT_BATCH) and one chunk of output
 *    in memory, whatever the row count. It reads through a cursor on a PostgreSQL connection of
 *    its own (db/history.c), opened by the handler and closed when the stream ends: the reader
 *    callback runs on libmicrohttpd's threads, where no worker connection may be used.
 *  - Rows arrive in PostgreSQL's binary format and are written here: the server spends no time
 *    on text conversions, and the output's shape (ISO 8601 UTC times to the second, canonical
 *    UUIDs, integers as JSON numbers) does not depend on any server setting. A column of a type
 *    this file does not know cuts the transfer (an error, never a wrong file).
 *  - A failing query is an error status before anything is sent; a failure later cuts the
 *    transfer (no final chunk), so a client never mistakes a short file for a complete one.
 *  - Until the response owns the stream, it hangs on the request (http_request_state): no
 *    error path frees anything by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "db/history.h"
#include "hex.h"
#include "history/history_query.h"
#include "log.h"
#include "text.h"
#include "web/handlers.h"
#include "web/page.h"

#define EXPORT_BATCH 1000  /* rows per FETCH (about 150 KB: fits a socket's buffer) */
#define EXPORT_CHUNK 65536 /* bytes formatted ahead of the network */

/* PostgreSQL type oids of the columns an export may carry (pg_type.dat). */
#define OID_INT8        20
#define OID_INT4        23
#define OID_TEXT        25
#define OID_TIMESTAMPTZ 1184
#define OID_UUID        2950

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC). */
#define POSTGRES_EPOCH_US 946684800000000LL

/* The state of one export stream, owned by its libmicrohttpd response once there is one. */
struct export_stream {
    struct history_export *export; /* NULL once the cursor is exhausted */
    bool csv;
    PGresult *rows; /* the current batch */
    int next_row;
    bool last_batch;        /* the cursor has nothing after `rows` */
    struct text_buffer out; /* formatted bytes; those from out_offset on not yet handed out */
    size_t out_offset;
    long long rows_sent;
    char request_id[17];
};

/* libmicrohttpd's free callback, and the request state's until the response owns the stream:
 * the stream ends, whether complete, cut or never sent. */
static void export_free(void *cls)
{
    struct export_stream *stream = cls;

    log_info(stream->request_id, "history export: %lld rows sent (%s)", stream->rows_sent,
             stream->csv ? "csv" : "ndjson");
    PQclear(stream->rows);
    history_export_close(stream->export);
    text_buffer_free(&stream->out);
    free(stream);
}

/* Appends bytes to the output (a failure shows in stream->out.failed). */
static void out_bytes(struct export_stream *stream, const char *bytes, size_t length)
{
    text_buffer_append(&stream->out, bytes, length);
}

/*
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A
 * value a spreadsheet would read as a formula (starting with = + - @ TAB or CR) gets a leading
 * single quote and is quoted, so it stays text.
 */
static bool csv_field(struct export_stream *stream, const char *value, size_t length)
{
    bool formula = length > 0 && strchr("=+-@\t\r", value[0]);
    bool quote = formula || memchr(value, '"', length) || memchr(value, ',', length) ||
                 memchr(value, '\n', length) || memchr(value, '\r', length);

    struct text_buffer *out = &stream->out;

    if (!quote) {
        out_bytes(stream, value, length);
        return !out->failed;
    }
    if (!text_buffer_reserve(out, 2 * length + 3))
        return false;
    if (formula) {
        out->data[out->length++] = '"';
        out->data[out->length++] = '\'';
    } else {
        out->data[out->length++] = '"';
    }
    for (size_t i = 0; i < length; i++) {
        if (value[i] == '"')
            out->data[out->length++] = '"';
        out->data[out->length++] = value[i];
    }
    out->data[out->length++] = '"';
    return true;
}

/* A JSON string (the text is UTF-8 from PostgreSQL): quotes, backslashes and control
 * characters escaped. */
static bool json_string_out(struct export_stream *stream, const char *value, size_t length)
{
    char *out;

    if (!text_buffer_reserve(&stream->out, 6 * length + 2))
        return false;
    out = stream->out.data + stream->out.length;
    *out++ = '"';
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) {
            *out++ = (char)c;
        } else if (c == '"' || c == '\\') {
            *out++ = '\\';
            *out++ = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            *out++ = '\\';
            *out++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else {
            memcpy(out, "\\u00", 4);
            out[4] = hex_digit(c >> 4);
            out[5] = hex_digit(c);
            out += 6;
        }
    }
    *out++ = '"';
    stream->out.length = (size_t)(out - stream->out.data);
    return true;
}

static uint64_t big_endian(const unsigned char *bytes, int count)
{
    uint64_t value = 0;
    for (int i = 0; i < count; i++)
        value = value << 8 | bytes[i];
    return value;
}

/* Writes `value` as `width` decimal digits, zero-padded (the caller keeps it in range). */
static char *digits_out(char *out, long long value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

/* Microseconds since 1970-01-01 UTC as "YYYY-MM-DDTHH:MM:SSZ", cut to the second. Returns the
 * length. Written by hand: an export formats two per row. */
static size_t civil_text(int64_t us, char out[32])
{
    int64_t seconds = us / 1000000 - (us % 1000000 < 0);
    int64_t days = seconds / 86400 - (seconds % 86400 < 0), of_day = seconds - days * 86400;
    /* civil date from days since 1970-01-01 (proleptic Gregorian) */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t of_era = z - era * 146097;
    int64_t year_of_era = (of_era - of_era / 1460 + of_era / 36524 - of_era / 146096) / 365;
    int64_t of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_index = (5 * of_year + 2) / 153, day = of_year - (153 * month_index + 2) / 5 + 1;
    int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
    int64_t year = year_of_era + era * 400 + (month <= 2);
    char *at = out;

    if (year < 0 || year > 9999) /* never a draft's; written plainly rather than refused */
        return (size_t)snprintf(out, 32, "%lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                                (long long)year, (long long)month, (long long)day,
                                (long long)(of_day / 3600), (long long)(of_day / 60 % 60),
                                (long long)(of_day % 60));
    at = digits_out(at, year, 4);
    *at++ = '-';
    at = digits_out(at, month, 2);
    *at++ = '-';
    at = digits_out(at, day, 2);
    *at++ = 'T';
    at = digits_out(at, of_day / 3600, 2);
    *at++ = ':';
    at = digits_out(at, of_day / 60 % 60, 2);
    *at++ = ':';
    at = digits_out(at, of_day % 60, 2);
    *at++ = 'Z';
    return (size_t)(at - out);
}

/* A binary timestamptz (microseconds since 2000-01-01 UTC) as "YYYY-MM-DDTHH:MM:SSZ", cut to
 * the second; "infinity" / "-infinity" as PostgreSQL writes them. */
static size_t timestamp_text(int64_t postgres_us, char out[32])
{
    if (postgres_us == INT64_MAX || postgres_us == INT64_MIN)
        return (size_t)snprintf(out, 32, "%sinfinity", postgres_us == INT64_MIN ? "-" : "");
    return civil_text(postgres_us + POSTGRES_EPOCH_US, out);
}

/* A binary uuid as its canonical lower-case text. */
static size_t uuid_text(const unsigned char *bytes, char out[40])
{
    hex_uuid(bytes, out);
    return 36;
}

/*
 * Reads one binary value as the text it stands for: text as is, the other known types into
 * `scratch`. *number says it is a JSON number. False for a type or size this file does not
 * know.
 */
static bool value_text(Oid type, const char *value, int length, char scratch[40], const char **text,
                       size_t *text_length, bool *number)
{
    const unsigned char *bytes = (const unsigned char *)value;

    *number = type == OID_INT4 || type == OID_INT8;
    *text = scratch;
    if (type == OID_TEXT) {
        *text = value;
        *text_length = (size_t)length;
    } else if (type == OID_UUID && length == 16) {
        *text_length = uuid_text(bytes, scratch);
    } else if (type == OID_TIMESTAMPTZ && length == 8) {
        *text_length = timestamp_text((int64_t)big_endian(bytes, 8), scratch);
    } else if (type == OID_INT4 && length == 4) {
        *text_length = (size_t)snprintf(scratch, 40, "%d", (int32_t)big_endian(bytes, 4));
    } else if (type == OID_INT8 && length == 8) {
        *text_length = (size_t)snprintf(scratch, 40, "%lld", (long long)big_endian(bytes, 8));
    } else {
        return false;
    }
    return true;
}

/* The header line of a CSV export: the cursor's column names. */
static bool csv_header(struct export_stream *stream)
{
    int columns = PQnfields(stream->rows);

    for (int c = 0; c < columns; c++) {
        const char *name = PQfname(stream->rows, c);
        if (c)
            out_bytes(stream, ",", 1);
        if (!csv_field(stream, name, strlen(name)))
            return false;
    }
    out_bytes(stream, "\r\n", 2);
    return !stream->out.failed;
}

/* One column of a row, after its separator: a CSV field, or a JSON member. */
static bool column_format(struct export_stream *stream, int row, int column)
{
    const char *value = PQgetvalue(stream->rows, row, column), *text = "";
    bool null = PQgetisnull(stream->rows, row, column), number = false;
    const char *name = PQfname(stream->rows, column);
    char scratch[40];
    size_t length = 0;

    if (!null &&
        !value_text(PQftype(stream->rows, column), value, PQgetlength(stream->rows, row, column),
                    scratch, &text, &length, &number))
        return false;
    if (stream->csv)
        return null || csv_field(stream, text, length);
    if (!json_string_out(stream, name, strlen(name)))
        return false;
    out_bytes(stream, ":", 1);
    if (null)
        out_bytes(stream, "null", 4);
    else if (number)
        out_bytes(stream, text, length);
    else if (!json_string_out(stream, text, length))
        return false;
    return !stream->out.failed;
}

/* Formats row `row` of the current batch as one CSV record or one NDJSON line. */
static bool row_format(struct export_stream *stream, int row)
{
    int columns = PQnfields(stream->rows);

    if (!stream->csv)
        out_bytes(stream, "{", 1);
    for (int c = 0; c < columns; c++) {
        if (c)
            out_bytes(stream, ",", 1);
        if (!column_format(stream, row, c))
            return false;
    }
    out_bytes(stream, stream->csv ? "\r\n" : "}\n", 2);
    if (stream->out.failed)
        return false;
    stream->rows_sent++;
    return true;
}

/* Fetches the next batch into stream->rows; false (logged) when the database failed. */
static bool batch_fetch(struct export_stream *stream)
{
    enum db_status status;

    PQclear(stream->rows);
    stream->next_row = 0;
    stream->rows = history_export_fetch(stream->export, EXPORT_BATCH, &status);
    if (!stream->rows) {
        log_warn(stream->request_id, "history export cut after %lld rows: database %s",
                 stream->rows_sent, status == DB_UNAVAILABLE ? "unreachable" : "error");
        return false;
    }
    stream->last_batch = PQntuples(stream->rows) < EXPORT_BATCH;
    return true;
}

/* libmicrohttpd's reader: hands out formatted bytes, formatting the next rows and fetching the
 * next batch when they run out. Runs on an HTTP thread; uses only the export's connection. */
static ssize_t export_read(void *cls, uint64_t position, char *buffer, size_t max)
{
    struct export_stream *stream = cls;
    (void)position;

    for (;;) {
        if (stream->out_offset < stream->out.length) {
            size_t count = stream->out.length - stream->out_offset;
            if (count > max)
                count = max;
            memcpy(buffer, stream->out.data + stream->out_offset, count);
            stream->out_offset += count;
            return (ssize_t)count;
        }
        stream->out_offset = 0;
        text_buffer_reset(&stream->out);
        if (stream->rows && stream->next_row < PQntuples(stream->rows)) {
            while (stream->next_row < PQntuples(stream->rows) && stream->out.length < EXPORT_CHUNK)
                if (!row_format(stream, stream->next_row++)) {
                    log_error(stream->request_id, "history export: a row could not be written");
                    return MHD_CONTENT_READER_END_WITH_ERROR;
                }
            continue;
        }
        if (stream->last_batch || !stream->export) {
            /* done: give the connection back before the client has read the last bytes */
            history_export_close(stream->export);
            stream->export = NULL;
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (!batch_fetch(stream))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

/* What the handler holds until the request completes; the stream moves to the response. */
struct export_state {
    struct history_query query;
    struct export_stream *stream;
    char *audit_filters;
};

static void export_state_free(void *pointer)
{
    struct export_state *state = pointer;

    if (state->stream)
        export_free(state->stream);
    free(state->audit_filters);
    free(state);
}

/* A refusal in plain text: the status of `error` from the registry, and `text`. */
static enum MHD_Result export_refuse(struct request *request, enum agentgate_error error,
                                     const char *text)
{
    char message[256];

    if (error == ERR_DATABASE_UNAVAILABLE)
        http_reply_header(request, "Retry-After", "5");
    snprintf(message, sizeof message, "%s\n", text);
    return http_reply_text(request, error_http_status(error), "text/plain; charset=utf-8", message,
                           strlen(message));
}

/* Opens the stream on its own connection and reads the first batch, so a failing query is an
 * error status rather than a short file. */
static enum db_status stream_open(struct request *request, struct export_state *state, bool csv,
                                  const struct history_filter *filter)
{
    enum db_status status = DB_FAILED;
    struct export_stream *stream = state->stream = calloc(1, sizeof *stream);

    if (!stream)
        return DB_FAILED;
    stream->csv = csv;
    snprintf(stream->request_id, sizeof stream->request_id, "%s", request->id);
    stream->export = history_export_open(request->server->config->database, filter, &status);
    if (!stream->export)
        return status;
    if (!batch_fetch(stream) || (csv && !csv_header(stream)))
        return DB_FAILED;
    return DB_OK;
}

/* GET /history.csv and /history.ndjson: every row matching the filters, streamed. */
static enum MHD_Result history_export(struct request *request, bool csv)
{
    const struct session_identity *user = auth_user(request);
    struct export_state *state =
        http_request_state(request, calloc(1, sizeof *state), export_state_free);
    enum db_status status = DB_FAILED;
    struct MHD_Response *response;
    struct history_filter filter;
    struct db_connection *db;
    json_t *filters;

    if (!user || !user->is_moderator)
        return page_reply_not_found(request);
    if (!state)
        goto fail;
    if (!history_query_parse(request, user, &state->query, false))
        return export_refuse(request, ERR_INVALID_FILTER, state->query.error);
    filter = history_query_filter(&state->query, user->forum);
    filters = history_query_json(&state->query);
    state->audit_filters = filters ? json_dumps(filters, JSON_COMPACT) : NULL;
    json_decref(filters);
    db = db_thread_connection();
    status = !state->audit_filters ? DB_FAILED
             : db ? history_audit_export(db, user->forum, user->user_id, user->username,
                                         csv ? "csv" : "ndjson", state->audit_filters)
                  : DB_UNAVAILABLE;
    if (status == DB_OK)
        status = stream_open(request, state, csv, &filter);
    if (status != DB_OK)
        goto fail;
    response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, export_read,
                                                 state->stream, export_free);
    if (!response)
        goto fail;
    state->stream = NULL; /* the response owns it now */
    log_info(request->id, "history export (%s) by moderator %s", csv ? "csv" : "ndjson",
             user->user_id);
    http_reply_header(request, "Content-Disposition",
                      csv ? "attachment; filename=history.csv"
                          : "attachment; filename=history.ndjson");
    return http_reply_response(request, 200, response,
                               csv ? "text/csv; charset=utf-8; header=present"
                                   : "application/x-ndjson; charset=utf-8");
fail:
    return status == DB_UNAVAILABLE ? export_refuse(request, ERR_DATABASE_UNAVAILABLE,
                                                    "Database unavailable; try again in a moment.")
                                    : export_refuse(request, ERR_INTERNAL, "The export failed.");
}

enum MHD_Result history_pages_export_csv(struct request *request)
{
    return history_export(request, true);
}

enum MHD_Result history_pages_export_ndjson(struct request *request)
{
    return history_export(request, false);
}
