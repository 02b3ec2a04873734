/*
 * GET /audit (CONTRACT §7, §9): for moderators, the audit chain's state and its events.
 *
 * The page shows the chain's head (seq and hash, to compare with a checkpoint kept outside
 * the database), how many events exist and how many still wait for the sealer (and for how
 * long), and the result of checking the latest AUDIT_PAGE_CHECKED events' links and hashes in C
 * (audit.c) while the page is built; it says that this is not the full check and names the CLI
 * command that is. Below, the events of the moderator's forum and the global ones (forum NULL),
 * newest first, AUDIT_PAGE_EVENTS a page, each with what it changed in words: the title's old
 * and new text and the changed lines of an edit, a decision's revision, reason and source, a
 * delivery's status, and so on.
 *
 * Filters are GET arguments, all optional and combinable: actor (exact, e.g. user:1001), action
 * (exact, e.g. draft.approve), draft (its id), from and to (UTC, from included, to excluded);
 * `forum` only as the moderator's own. Paging is by keyset: `before=<occurred_at in
 * microseconds>:<id>` of the last event shown; there is no OFFSET and a page never skips or
 * repeats an event. A bad filter gets the page with a sentence naming the field (400).
 *
 * Who: signed-in moderators. Other signed-in users get the same 404 as for anything they may
 * not see; anonymous visitors are sent to sign in. The page changes nothing.
 *
 * Invariants: every value reaches SQL as a parameter (db/audit.c) and the page only through the
 * escaping template; every text taken from an event's details or a draft's title has the spans
 * the flag scanner calls secrets masked, and is cut at VALUE_MAX_CHARS characters; people and
 * agents are named beside their ids when the event or agentgate knows the name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "db/audit.h"
#include "flags.h"
#include "form.h"
#include "review/draft_access.h"
#include "text.h"
#include "utc_time.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "web/page.h"
#include "web/query_arg.h"

#define AUDIT_PAGE_CHECKED 2000
#define AUDIT_PAGE_EVENTS  50
#define ACTOR_CHARS_MAX    200 /* as the database accepts them */
#define ACTION_CHARS_MAX   64
#define VALUE_MAX_CHARS    200 /* a value shown in a cell, before "…" */
#define VALUE_BYTES        (VALUE_MAX_CHARS * 4 + 8)
#define LIST_ITEMS_SHOWN   10 /* items of a list value, before "and N more" */
#define DIFF_LINES_SHOWN   40 /* changed lines of an edit shown, before "N more" */

/* The actions agentgate writes, with the words the page shows (and the filter offers). */
static const char *const action_labels[][2] = {
    {"intake.held", "Held for review"},
    {"intake.refused", "Intake refused"},
    {"draft.view", "Opened by a moderator"},
    {"draft.edit", "Edited"},
    {"draft.delegate", "Delegated"},
    {"draft.approve", "Approved"},
    {"draft.coapprove", "Co-approved"},
    {"draft.reject", "Rejected"},
    {"draft.expire", "Expired"},
    {"draft.revoke", "Revoked"},
    {"delivery.attempt", "Delivery attempt"},
    {"delivery.retry", "Delivery retried"},
    {"draft.release", "Published"},
    {"draft.release_failed", "Release failed"},
    {"agent.pause", "Agent paused"},
    {"agent.resume", "Agent resumed"},
    {"killswitch.on", "Kill switch on"},
    {"killswitch.off", "Kill switch off"},
    {"auth.sign_in", "Signed in"},
    {"auth.sign_out", "Signed out"},
    {"history.export", "History exported"},
};

/* Detail keys in the order they are shown, with their labels. Keys not listed are shown after
 * these, under their own name. */
static const char *const detail_labels[][2] = {
    {"revision", "Revision"},
    {"reason", "Reason"},
    {"source", "Decided in"},
    {"on_behalf_of", "On behalf of"},
    {"needs_coapproval", "Needs a second approver"},
    {"acknowledged_flags", "Flags acknowledged"},
    {"as", "As"},
    {"bulk", "Bulk action"},
    {"agent", "Agent"},
    {"invoker", "Invoker"},
    {"agent_id", "Agent"},
    {"flags", "Flags"},
    {"field", "Field"},
    {"cause", "Cause"},
    {"revoke_pending", "Revoke pending drafts"},
    {"was_engaged", "Was on before"},
    {"type", "Event"},
    {"attempt", "Attempt"},
    {"attempts", "Attempts"},
    {"result", "Result"},
    {"http_status", "HTTP status"},
    {"duration_ms", "Took (ms)"},
    {"error", "Error"},
    {"post_id", "Post"},
    {"post_url", "Post URL"},
    {"method", "Sign-in"},
    {"moderator", "Moderator"},
    {"format", "Format"},
    {"filters", "Filters"},
    {"webhook_id", "Webhook id"},
};

/* Keys shown elsewhere on the row (actor_name beside the actor, the edit's change block) or
 * merged into another fact (delegate_id into Delegate). */
static const char *const detail_hidden[] = {"actor_name",  "diff",          "from_revision",
                                            "to_revision", "delegate_name", "delegate_id"};

/* The request's filters: as typed (for the form and links) and as SQL parameters. */
struct audit_query {
    char actor[ACTOR_CHARS_MAX * 4 + 1];
    char action[ACTION_CHARS_MAX + 1];
    char draft[40];
    char from_text[40]; /* as typed */
    char to_text[40];
    char from[UTC_TIME_TEXT_SIZE]; /* canonical timestamptz text for SQL */
    char to[UTC_TIME_TEXT_SIZE];
    char before[48]; /* the page cursor as typed */
    char before_us[24];
    char before_id[24];
    char error[200]; /* why the request is refused (400), or "" */
};

/* ---- values for people: secrets masked, long texts cut -------------------------------------- */

/* Copies `text` into `out` with every span the flag scanner calls a secret masked by
 * flags_mask(). When scanning fails, masks all of it. */
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

        if (!flags_code_marks_secret(code) || start < (json_int_t)at || end > (json_int_t)length ||
            end <= start)
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

/* `text` with secrets masked, cut at VALUE_MAX_CHARS characters ("…" marks the cut), into
 * `out` (VALUE_BYTES). The text is cut before it is scanned, at a character boundary, so that
 * the scan's cost is bounded however long the value. */
static void value_shown(const char *text, char *out)
{
    size_t length = 0, characters = 0;
    char *head;

    while (text[length] && characters < VALUE_MAX_CHARS) {
        length++;
        while (((unsigned char)text[length] & 0xC0) == 0x80)
            length++;
        characters++;
    }
    head = strndup(text, length);
    if (!head) {
        snprintf(out, VALUE_BYTES, "…");
        return;
    }
    text_mask_secrets(head, out, VALUE_BYTES - 4);
    free(head);
    if (text[length])
        strcat(out, "…");
}

static json_t *string_shown(const char *text)
{
    char shown[VALUE_BYTES];

    value_shown(text, shown);
    return json_string(shown);
}

/* "name (id)", or whichever of the two exists; NULL when neither. */
static json_t *person_shown(const char *name, const char *id)
{
    char text[2 * VALUE_BYTES + 4], name_shown[VALUE_BYTES], id_shown[VALUE_BYTES];

    if (name && *name)
        value_shown(name, name_shown);
    if (id && *id)
        value_shown(id, id_shown);
    if (name && *name && id && *id && strcmp(name, id) != 0)
        snprintf(text, sizeof text, "%s (%s)", name_shown, id_shown);
    else if (name && *name)
        snprintf(text, sizeof text, "%s", name_shown);
    else if (id && *id)
        snprintf(text, sizeof text, "%s", id_shown);
    else
        return NULL;
    return json_string(text);
}

static void buffer_add(char *buffer, size_t size, const char *text)
{
    size_t used = strlen(buffer);
    if (used + 1 < size)
        snprintf(buffer + used, size - used, "%s", text);
}

/* A short text for a scalar, a person ({name, id}) or a container shown by size. */
static void scalar_text(const json_t *value, char *out, size_t size)
{
    const char *name = json_string_value(json_object_get(value, "name"));
    const char *id = json_string_value(json_object_get(value, "id"));

    if (json_is_string(value)) {
        char shown[VALUE_BYTES];
        value_shown(json_string_value(value), shown);
        snprintf(out, size, "%s", shown);
    } else if (json_is_true(value)) {
        snprintf(out, size, "yes");
    } else if (json_is_false(value)) {
        snprintf(out, size, "no");
    } else if (json_is_null(value)) {
        snprintf(out, size, "—");
    } else if (json_is_integer(value)) {
        snprintf(out, size, "%lld", (long long)json_integer_value(value));
    } else if (json_is_real(value)) {
        snprintf(out, size, "%g", json_real_value(value));
    } else if (json_is_object(value) && (name || id)) {
        json_t *person = person_shown(name, id);
        snprintf(out, size, "%s", json_string_value(person));
        json_decref(person);
    } else if (json_is_object(value)) {
        snprintf(out, size, "{%zu fields}", json_object_size(value));
    } else {
        snprintf(out, size, "[%zu items]", json_array_size(value));
    }
}

/* A detail value in words: scalars and people as above; a list of them joined by ", " (at most
 * LIST_ITEMS_SHOWN, then "and N more"); an object as "key: value, key: value". */
static json_t *value_text(const json_t *value)
{
    char text[LIST_ITEMS_SHOWN * 2 * VALUE_BYTES] = "", item[2 * VALUE_BYTES + 8];
    const char *key;
    const json_t *member;
    size_t index, shown = 0;

    if (json_is_array(value)) {
        json_array_foreach(value, index, member)
        {
            if (shown == LIST_ITEMS_SHOWN) {
                snprintf(item, sizeof item, ", and %zu more", json_array_size(value) - shown);
                buffer_add(text, sizeof text, item);
                break;
            }
            scalar_text(member, item, sizeof item);
            if (shown++)
                buffer_add(text, sizeof text, ", ");
            buffer_add(text, sizeof text, item);
        }
        return json_string(shown ? text : "none");
    }
    if (json_is_object(value) && !json_object_get(value, "name") && !json_object_get(value, "id")) {
        json_object_foreach((json_t *)value, key, member)
        {
            if (shown == LIST_ITEMS_SHOWN) {
                buffer_add(text, sizeof text, ", …");
                break;
            }
            value_shown(key, item);
            if (shown++)
                buffer_add(text, sizeof text, ", ");
            buffer_add(text, sizeof text, item);
            buffer_add(text, sizeof text, ": ");
            scalar_text(member, item, sizeof item);
            buffer_add(text, sizeof text, item);
        }
        return json_string(shown ? text : "none");
    }
    scalar_text(value, text, sizeof text);
    return json_string(text);
}

/* ---- an event's details in words ------------------------------------------------------------ */

static bool detail_is_hidden(const char *key)
{
    for (size_t i = 0; i < sizeof detail_hidden / sizeof detail_hidden[0]; i++)
        if (strcmp(detail_hidden[i], key) == 0)
            return true;
    return false;
}

static void fact_add(json_t *facts, const char *label, json_t *value)
{
    if (value)
        json_array_append_new(facts, json_pack("{s:s, s:o}", "label", label, "value", value));
}

/* The change an edit made: {revisions, title_from, title_to, added, deleted, lines: [{sign,
 * is_add, text}], more}, from details {from_revision, to_revision, diff: {added, deleted,
 * lines: [{op, text}], title: {from, to}}}. NULL when the details have no diff. */
static json_t *edit_change(const json_t *details)
{
    const json_t *diff = json_object_get(details, "diff"), *line;
    const json_t *title = json_object_get(diff, "title");
    json_t *change, *lines = json_array();
    size_t index, changed = 0;
    char revisions[64];

    if (!json_is_object(diff) || !lines) {
        json_decref(lines);
        return NULL;
    }
    json_array_foreach(json_object_get(diff, "lines"), index, line)
    {
        const char *op = json_string_value(json_object_get(line, "op"));
        const char *text = json_string_value(json_object_get(line, "text"));
        bool add = op && strcmp(op, "add") == 0, del = op && strcmp(op, "del") == 0;

        if (!add && !del)
            continue;
        if (changed++ < DIFF_LINES_SHOWN)
            json_array_append_new(lines,
                                  json_pack("{s:s, s:b, s:o}", "sign", add ? "+" : "−", "is_add",
                                            add, "text", string_shown(text ? text : "")));
    }
    snprintf(revisions, sizeof revisions, "%lld → %lld",
             (long long)json_integer_value(json_object_get(details, "from_revision")),
             (long long)json_integer_value(json_object_get(details, "to_revision")));
    change = json_pack("{s:s, s:I, s:I, s:o, s:I, s:b}", "revisions", revisions, "added",
                       json_integer_value(json_object_get(diff, "added")), "deleted",
                       json_integer_value(json_object_get(diff, "deleted")), "lines", lines, "more",
                       (json_int_t)(changed > DIFF_LINES_SHOWN ? changed - DIFF_LINES_SHOWN : 0),
                       "has_lines", changed > 0);
    if (change && json_is_object(title)) {
        const char *from = json_string_value(json_object_get(title, "from"));
        const char *to = json_string_value(json_object_get(title, "to"));
        json_object_set_new(change, "title_from", string_shown(from ? from : ""));
        json_object_set_new(change, "title_to", string_shown(to ? to : ""));
        json_object_set_new(change, "has_title", json_true());
    }
    return change;
}

/* Words for a few coded values, by key: {key, value, words}. */
static const char *const value_words[][3] = {
    {"source", "forum", "the forum"},
    {"source", "page", "agentgate's page"},
};

static json_t *fact_value(const char *key, const json_t *value)
{
    for (size_t i = 0; json_is_string(value) && i < sizeof value_words / sizeof value_words[0]; i++)
        if (strcmp(value_words[i][0], key) == 0 &&
            strcmp(value_words[i][1], json_string_value(value)) == 0)
            return json_string(value_words[i][2]);
    return value_text(value);
}

/* The facts of an event's details, in detail_labels order, then the other keys. */
static json_t *details_facts(const json_t *details, const char *actor)
{
    json_t *facts = json_array();
    const char *key;
    json_t *value;

    for (size_t i = 0; i < sizeof detail_labels / sizeof detail_labels[0]; i++) {
        value = json_object_get(details, detail_labels[i][0]);
        if (value && !json_is_null(value))
            fact_add(facts, detail_labels[i][1], fact_value(detail_labels[i][0], value));
    }
    if (json_object_get(details, "delegate_id") || json_object_get(details, "delegate_name"))
        fact_add(facts, "Delegate",
                 person_shown(json_string_value(json_object_get(details, "delegate_name")),
                              json_string_value(json_object_get(details, "delegate_id"))));
    json_object_foreach((json_t *)details, key, value)
    {
        bool listed = detail_is_hidden(key) || json_is_null(value);
        char label[VALUE_BYTES];

        for (size_t i = 0; !listed && i < sizeof detail_labels / sizeof detail_labels[0]; i++)
            listed = strcmp(detail_labels[i][0], key) == 0;
        /* a sign-in's user is the actor already shown */
        if (!listed && actor && strncmp(actor, "user:", 5) == 0 &&
            (strcmp(key, "user_id") == 0 || strcmp(key, "username") == 0))
            listed = true;
        if (listed)
            continue;
        value_shown(key, label);
        fact_add(facts, label, value_text(value));
    }
    return facts;
}

static const char *action_label(const char *action)
{
    for (size_t i = 0; action && i < sizeof action_labels / sizeof action_labels[0]; i++)
        if (strcmp(action_labels[i][0], action) == 0)
            return action_labels[i][1];
    return action ? action : "";
}

/* "/audit?<name>=<encoded value>" (malloc'd), or NULL. */
static char *filter_link(const char *name, const char *value)
{
    char *encoded = form_url_encode(value);
    char *link = encoded ? text_format("/audit?%s=%s", name, encoded) : NULL;

    free(encoded);
    return link;
}

static void link_set(json_t *item, const char *key, char *link)
{
    if (link)
        json_object_set_new(item, key, json_string(link));
    free(link);
}

/* One event for the template. */
static json_t *event_view(const json_t *event)
{
    const char *details_text = json_string_at(event, "details");
    const char *actor = json_string_at(event, "actor");
    const char *action = json_string_at(event, "action");
    const char *draft_id = json_string_at(event, "draft_id");
    const char *title = json_string_at(event, "draft_title");
    json_t *details = json_loads(details_text ? details_text : "{}", 0, NULL), *item, *change;

    if (!details) /* numbers jansson cannot hold */
        details = json_loads(details_text ? details_text : "{}", JSON_DECODE_INT_AS_REAL, NULL);
    if (!json_is_object(details)) {
        json_decref(details);
        details = json_object();
    }
    item = json_pack("{s:O?, s:O?, s:O?, s:O?, s:s, s:O?, s:s, s:O?, s:o}", "id",
                     json_object_get(event, "id"), "at", json_object_get(event, "at"), "at_label",
                     json_object_get(event, "at_label"), "seq", json_object_get(event, "seq"),
                     "actor", actor ? actor : "", "actor_name",
                     json_object_get(event, "actor_name"), "action", action ? action : "", "forum",
                     json_object_get(event, "forum"), "facts", details_facts(details, actor));
    if (!item) {
        json_decref(details);
        return NULL;
    }
    json_object_set_new(item, "has_facts",
                        json_boolean(json_array_size(json_object_get(item, "facts")) > 0));
    json_object_set_new(item, "action_label", json_string(action_label(action)));
    link_set(item, "actor_href", actor ? filter_link("actor", actor) : NULL);
    if (draft_id) {
        char short_id[9];
        snprintf(short_id, sizeof short_id, "%s", draft_id);
        json_object_set_new(item, "draft_id", json_string(draft_id));
        json_object_set_new(item, "draft_short", json_string(short_id));
        link_set(item, "draft_events_href", filter_link("draft", draft_id));
        if (title)
            json_object_set_new(item, "draft_title", string_shown(title));
    }
    change = action && strcmp(action, "draft.edit") == 0 ? edit_change(details) : NULL;
    if (change)
        json_object_set_new(item, "change", change);
    json_decref(details);
    return item;
}

/* ---- filters -------------------------------------------------------------------------------- */

/* query_arg_copy() recording its refusal in the query. */
static bool arg_copy(struct request *request, const char *name, const char *label, size_t max_chars,
                     char *out, size_t size, struct audit_query *query)
{
    return query_arg_copy(request, name, label, max_chars, out, size, query->error,
                          sizeof query->error);
}

static bool digits_only(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return length > 0;
}

/* "before=<microseconds>:<id>" into the query; false when malformed. */
static bool cursor_parse(const char *text, struct audit_query *query)
{
    const char *colon = strchr(text, ':');
    size_t us_length = colon ? (size_t)(colon - text) : 0,
           id_length = colon ? strlen(colon + 1) : 0;

    if (us_length > 18 || id_length > 18 || !digits_only(text, us_length) ||
        !digits_only(colon + 1, id_length))
        return false;
    memcpy(query->before_us, text, us_length);
    query->before_us[us_length] = '\0';
    memcpy(query->before_id, colon + 1, id_length + 1);
    return true;
}

static bool action_valid(const char *action)
{
    for (const char *c = action; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_' || *c == '.'))
            return false;
    return true;
}

/* Reads and validates this request's filters for `user`. Returns false with query->error. */
static bool query_parse(struct request *request, const struct session_identity *user,
                        struct audit_query *query)
{
    char forum[160];

    memset(query, 0, sizeof *query);
    if (!arg_copy(request, "forum", "Forum", 32, forum, sizeof forum, query))
        return false;
    if (*forum && strcmp(forum, user->forum) != 0) {
        snprintf(query->error, sizeof query->error,
                 "You moderate the forum %s: its events are the only ones shown here.",
                 user->forum);
        return false;
    }
    if (!arg_copy(request, "actor", "Actor", ACTOR_CHARS_MAX, query->actor, sizeof query->actor,
                  query) ||
        !arg_copy(request, "action", "Action", ACTION_CHARS_MAX, query->action,
                  sizeof query->action, query) ||
        !arg_copy(request, "draft", "Draft", 36, query->draft, sizeof query->draft, query) ||
        !arg_copy(request, "from", "From", 32, query->from_text, sizeof query->from_text, query) ||
        !arg_copy(request, "to", "Before", 32, query->to_text, sizeof query->to_text, query) ||
        !arg_copy(request, "before", "The page link", 40, query->before, sizeof query->before,
                  query))
        return false;
    if (!action_valid(query->action)) {
        snprintf(query->error, sizeof query->error,
                 "Action is written like draft.approve: lower-case letters, '_' and dots.");
        return false;
    }
    if (*query->draft && !draft_id_valid(query->draft)) {
        snprintf(query->error, sizeof query->error,
                 "Draft must be a draft's id (a UUID, as in its address /drafts/…).");
        return false;
    }
    if ((*query->from_text && !utc_time_parse(query->from_text, query->from, sizeof query->from)) ||
        (*query->to_text && !utc_time_parse(query->to_text, query->to, sizeof query->to))) {
        snprintf(query->error, sizeof query->error,
                 "%s must be a date (2026-11-01) or a time (2026-11-01T09:30), in UTC.",
                 *query->from_text && !*query->from ? "From" : "Before");
        return false;
    }
    if (*query->before && !cursor_parse(query->before, query)) {
        snprintf(query->error, sizeof query->error,
                 "The page link is damaged: start again from the newest events.");
        return false;
    }
    return true;
}

/* The filters as a query string ("actor=..&action=.."), without the cursor; "" when none.
 * malloc'd, NULL when memory runs out. */
static char *query_string(const struct audit_query *query)
{
    const char *const fields[][2] = {{"actor", query->actor},
                                     {"action", query->action},
                                     {"draft", query->draft},
                                     {"from", query->from_text},
                                     {"to", query->to_text}};

    return form_query_string(fields, sizeof fields / sizeof fields[0]);
}

/* The action filter's choices: every known action, and the one asked for if it is not known. */
static json_t *action_options(const char *selected)
{
    json_t *options = json_array();
    bool known = false;

    for (size_t i = 0; i < sizeof action_labels / sizeof action_labels[0]; i++) {
        bool is_selected = strcmp(action_labels[i][0], selected) == 0;
        known = known || is_selected;
        json_array_append_new(options,
                              json_pack("{s:s, s:s, s:b}", "value", action_labels[i][0], "label",
                                        action_labels[i][1], "selected", is_selected));
    }
    if (*selected && !known)
        json_array_append_new(options, json_pack("{s:s, s:s, s:b}", "value", selected, "label",
                                                 selected, "selected", true));
    return options;
}

/* ---- the page ------------------------------------------------------------------------------- */

static json_t *chain_view(const struct audit_report *report, enum audit_verdict verdict)
{
    char hex[AUDIT_HASH_HEX_SIZE];

    audit_hash_hex(report->head_hash, hex);
    return json_pack("{s:b, s:s, s:I, s:s, s:b, s:I, s:b, s:I, s:I, s:I, s:I}", "intact",
                     verdict == AUDIT_INTACT, "problem", report->problem, "head_seq",
                     (json_int_t)report->head_seq, "head_hash", hex, "has_head",
                     report->head_seq > 0, "checked", (json_int_t)report->checked, "whole_chain",
                     report->whole_chain, "unsealed", (json_int_t)report->unsealed,
                     "oldest_unsealed_s", (json_int_t)(report->oldest_unsealed_ms / 1000),
                     "events_total", (json_int_t)(report->head_seq + report->unsealed),
                     "checked_limit", (json_int_t)AUDIT_PAGE_CHECKED);
}

/* Adds the events of this page and the paging links to `data`. */
static enum db_status events_add(struct db_connection *db, const struct session_identity *user,
                                 const struct audit_query *query, const char *filters, json_t *data)
{
    struct audit_filter filter = {
        .forum = user->forum,
        .actor = *query->actor ? query->actor : NULL,
        .action = *query->action ? query->action : NULL,
        .draft_id = *query->draft ? query->draft : NULL,
        .from = *query->from ? query->from : NULL,
        .to = *query->to ? query->to : NULL,
        .before_us = *query->before_us ? query->before_us : NULL,
        .before_id = *query->before_id ? query->before_id : NULL,
    };
    json_t *events, *view = json_array(), *event;
    char *text = NULL, *link = NULL;
    enum db_status status = audit_events_page(db, &filter, AUDIT_PAGE_EVENTS + 1, &text);
    size_t index;

    if (status != DB_OK) {
        json_decref(view);
        return status;
    }
    events = json_loads(text, 0, NULL);
    free(text);
    json_array_foreach(events, index, event)
    {
        if (index < AUDIT_PAGE_EVENTS)
            json_array_append_new(view, event_view(event));
    }
    if (json_array_size(events) > AUDIT_PAGE_EVENTS) {
        const char *cursor =
            json_string_at(json_array_get(events, AUDIT_PAGE_EVENTS - 1), "cursor");
        char *encoded = cursor ? form_url_encode(cursor) : NULL;
        link = encoded ? text_format("/audit?%s%sbefore=%s", filters, *filters ? "&" : "", encoded)
                       : NULL;
        if (link)
            json_object_set_new(data, "older_href", json_string(link));
        free(link);
        free(encoded);
    }
    link = *query->before_us ? text_format("/audit%s%s", *filters ? "?" : "", filters) : NULL;
    if (link) {
        json_object_set_new(data, "newest_href", json_string(link));
        free(link);
    }
    json_object_set_new(data, "has_events", json_boolean(json_array_size(view) > 0));
    json_object_set_new(data, "events", view);
    json_decref(events);
    return DB_OK;
}

enum MHD_Result audit_pages_show(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct audit_query query;
    struct audit_report report;
    enum audit_verdict verdict;
    struct db_connection *db;
    enum db_status status;
    unsigned http_status = 200;
    char *filters;
    json_t *data;

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
    if (!query_parse(request, user, &query))
        http_status = error_http_status(ERR_INVALID_FIELD);
    filters = query_string(&query);
    data =
        json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s}, s:o, s:b}", "title", "Audit trail",
                  "forum", user->forum, "chain", chain_view(&report, verdict), "filters", "actor",
                  query.actor, "draft", query.draft, "from", query.from_text, "to", query.to_text,
                  "action_options", action_options(query.action), "filtered", filters && *filters);
    if (!filters || !data) {
        free(filters);
        json_decref(data);
        return page_reply_error(request, ERR_INTERNAL, "The page could not be built.");
    }
    if (*query.error) {
        json_object_set_new(data, "notice", json_string(query.error));
    } else {
        status = events_add(db, user, &query, filters, data);
        if (status != DB_OK) {
            free(filters);
            json_decref(data);
            return page_reply_db_failure(request, status);
        }
    }
    free(filters);
    return page_reply(request, http_status, "audit.html", data);
}
