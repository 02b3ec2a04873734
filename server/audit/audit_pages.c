/*
 * GET /audit (CONTRACT §7, §9): for moderators, the audit chain's state and the latest events.
 *
 * The page shows the chain's head (seq and hash, to compare with a checkpoint kept outside
 * the database), how many events exist and how many still wait for the sealer, and the result
 * of checking the latest AUDIT_PAGE_CHECKED events' links and hashes in C (server/audit.c)
 * while the page is built; it says that this is not the full check and names the CLI command
 * that is. Below, the latest AUDIT_PAGE_EVENTS events of the moderator's forum and the global
 * ones (forum NULL), each with a short summary of its details.
 *
 * Who: signed-in moderators. Other signed-in users get the same 404 as for anything they may
 * not see; anonymous visitors are sent to sign in. The page changes nothing.
 *
 * Summaries never show a secret: a string value in which the flag scanner finds a secret is
 * masked, containers are shown by size only (an edit's diff holds post text), long strings are
 * cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "db/audit.h"
#include "flags.h"
#include "web/handlers.h"
#include "web/page.h"

#define AUDIT_PAGE_CHECKED      2000
#define AUDIT_PAGE_EVENTS       50
#define SUMMARY_VALUE_MAX_CHARS 80
#define SUMMARY_MAX_BYTES       600

/* Copies `text` into `out` with every span the flag scanner calls a secret masked by
 * flags_mask() (its first four characters kept). When scanning fails, masks all of it. */
static void text_mask_secrets(const char *text, char *out, size_t out_size)
{
    json_t *found = json_array(), *flag;
    size_t length = strlen(text), at = 0, used = 0, index;

    out[0] = '\0';
    if (!found || flags_scan("details", text, length, found) != 0) {
        json_decref(found);
        flags_mask(text, length, out, out_size);
        return;
    }
    json_array_foreach(found, index, flag)
    {
        const char *code = json_string_value(json_object_get(flag, "code"));
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));

        if (!code || strncmp(code, "secret.", 7) != 0 || start < (json_int_t)at ||
            end > (json_int_t)length || end <= start)
            continue;
        used += (size_t)snprintf(out + used, out_size - used, "%.*s", (int)((size_t)start - at),
                                 text + at);
        if (used >= out_size)
            goto done;
        flags_mask(text + start, (size_t)(end - start), out + used, out_size - used);
        used += strlen(out + used);
        at = (size_t)end;
    }
    if (used < out_size)
        snprintf(out + used, out_size - used, "%s", text + at);
done:
    json_decref(found);
}

/* Appends `text` to the summary, cut at SUMMARY_VALUE_MAX_CHARS characters. */
static void summary_append_text(char *summary, size_t size, const char *text)
{
    size_t used = strlen(summary), length = 0, characters = 0;

    while (text[length] && characters < SUMMARY_VALUE_MAX_CHARS) {
        length++;
        while (((unsigned char)text[length] & 0xC0) == 0x80)
            length++;
        characters++;
    }
    if (used + length + 4 >= size)
        return;
    memcpy(summary + used, text, length);
    summary[used + length] = '\0';
    if (text[length])
        strcat(summary, "…");
}

/* A one-line summary of an event's details: "key: value · key: value". */
static void details_summary(const char *details_text, char *summary, size_t size)
{
    json_t *details = json_loads(details_text, JSON_DECODE_ANY, NULL);
    const char *key;
    json_t *value;

    summary[0] = '\0';
    if (!details) /* numbers jansson cannot hold */
        details = json_loads(details_text, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
    if (!json_is_object(details)) {
        json_decref(details);
        return;
    }
    json_object_foreach(details, key, value)
    {
        char shown[400];
        const char *text = shown;

        if (json_is_null(value))
            continue;
        if (json_is_string(value)) {
            text_mask_secrets(json_string_value(value), shown, sizeof shown);
        } else if (json_is_object(value) && json_is_string(json_object_get(value, "name"))) {
            text = json_string_value(json_object_get(value, "name"));
        } else if (json_is_object(value)) {
            snprintf(shown, sizeof shown, "{%zu fields}", json_object_size(value));
        } else if (json_is_array(value)) {
            snprintf(shown, sizeof shown, "[%zu items]", json_array_size(value));
        } else {
            char *dumped = json_dumps(value, JSON_ENCODE_ANY);
            snprintf(shown, sizeof shown, "%s", dumped ? dumped : "?");
            free(dumped);
        }
        if (summary[0] && strlen(summary) + 8 < size)
            strcat(summary, " · ");
        summary_append_text(summary, size, key);
        if (strlen(summary) + 3 < size)
            strcat(summary, ": ");
        summary_append_text(summary, size, text);
    }
    json_decref(details);
}

/* The view of the latest events: [{"at", "actor", "action", "draft_id", "seq", "summary"}]. */
static json_t *events_view(const char *events_text)
{
    json_t *events = json_loads(events_text, 0, NULL), *view = json_array(), *event;
    size_t index;

    json_array_foreach(events, index, event)
    {
        char summary[SUMMARY_MAX_BYTES];
        const char *details = json_string_value(json_object_get(event, "details"));
        json_t *item;

        details_summary(details ? details : "{}", summary, sizeof summary);
        item = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:s}", "at", json_object_get(event, "at"),
                         "actor", json_object_get(event, "actor"), "action",
                         json_object_get(event, "action"), "forum", json_object_get(event, "forum"),
                         "draft_id", json_object_get(event, "draft_id"), "seq",
                         json_object_get(event, "seq"), "summary", summary);
        if (item)
            json_array_append_new(view, item);
    }
    json_decref(events);
    return view;
}

enum MHD_Result audit_pages_show(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct audit_report report;
    enum audit_verdict verdict;
    struct db_connection *db;
    enum db_status status;
    char hex[AUDIT_HASH_HEX_SIZE], *events_text = NULL;
    json_t *chain, *events, *data;

    if (!user)
        return page_reply_sign_in(request);
    if (!user->is_moderator)
        return page_reply_not_found(request);
    db = db_thread_connection();
    if (!db)
        return page_reply_db_failure(request, DB_UNAVAILABLE);
    verdict = audit_chain_verify(db, AUDIT_PAGE_CHECKED, NULL, &report);
    if (verdict == AUDIT_ERROR)
        return page_reply_db_failure(request, report.error);
    status = audit_events_latest(db, user->forum, AUDIT_PAGE_EVENTS, &events_text);
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    events = events_view(events_text);
    free(events_text);
    audit_hash_hex(report.head_hash, hex);
    chain = json_pack("{s:b, s:s, s:I, s:s, s:b, s:I, s:b, s:I, s:I, s:I}", "intact",
                      verdict == AUDIT_INTACT, "problem", report.problem, "head_seq",
                      (json_int_t)report.head_seq, "head_hash", hex, "has_head",
                      report.head_seq > 0, "checked", (json_int_t)report.checked, "whole_chain",
                      report.whole_chain, "unsealed", (json_int_t)report.unsealed, "events_total",
                      (json_int_t)(report.head_seq + report.unsealed), "checked_limit",
                      (json_int_t)AUDIT_PAGE_CHECKED);
    data = json_pack("{s:s, s:s, s:o, s:o, s:b}", "title", "Audit trail", "forum", user->forum,
                     "chain", chain ? chain : json_object(), "events",
                     events ? events : json_array(), "has_events", json_array_size(events) > 0);
    return page_reply(request, 200, "audit.html", data);
}
