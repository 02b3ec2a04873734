/*
 * The invoker's pages (CONTRACT §7): `/` lists the drafts a user invoked or
 * was handed, `/drafts/{id}` shows one, and its forms approve, reject, edit
 * and delegate it.
 *
 * Every state change is a POST carrying the `csrf` field from the same-origin
 * page; it is refused without it and from another Origin. Rules of who may do
 * what come from draft_access_for() only. Decisions are bound to the revision
 * the page showed: if it changed, the answer is 409 with the new revision.
 * After a change the browser is redirected (303) to the draft, so a reload
 * never repeats it.
 *
 * View model handed to templates/draft.html (all strings escaped by the
 * template engine; only draft.preview_html is raw, produced by
 * render_markdown_safe()): see draft_view_build().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "db/drafts.h"
#include "db/outbox.h"
#include "review/draft_access.h"
#include "flags.h"
#include "form.h"
#include "web/handlers.h"
#include "web/json_spec.h"
#include "log.h"
#include "web/page.h"
#include "render_markdown.h"
#include "text_diff.h"

#define REASON_MAX 2000
#define TITLE_MAX  300

static const char *state_label(const char *state)
{
    static const char *const labels[][2] = {
        {"pending", "Waiting for your decision"},
        {"approved", "Approved, being released"},
        {"released", "Published"},
        {"release_failed", "Release failed"},
        {"rejected", "Rejected"},
        {"expired", "Expired"},
        {"revoked", "Revoked"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i][0], state) == 0)
            return labels[i][1];
    return state;
}

static void age_label(json_int_t seconds, char *out, size_t size)
{
    if (seconds < 60)
        snprintf(out, size, "just now");
    else if (seconds < 3600)
        snprintf(out, size, "%lld min ago", (long long)(seconds / 60));
    else if (seconds < 86400)
        snprintf(out, size, "%lld h ago", (long long)(seconds / 3600));
    else
        snprintf(out, size, "%lld d ago", (long long)(seconds / 86400));
}

static bool flag_is_secret(const char *code)
{
    return code && strncmp(code, "secret.", 7) == 0;
}

/*
 * Splits `text` at the spans of the flags that point into `field`, so a template can highlight
 * them: [{"text", "flag": {"code", "severity"} | null}]. Secret spans are masked. Overlapping
 * flags: a span starting inside an earlier one is merged into it.
 */
static json_t *segments_build(const char *text, const json_t *flags, const char *field)
{
    json_t *segments = json_array();
    size_t length = text ? strlen(text) : 0, at = 0, index;
    json_t *flag;

    if (!segments || !text)
        return segments;
    /* flags arrive sorted by start within a field */
    json_array_foreach((json_t *)flags, index, flag)
    {
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));
        const char *code = json_string_at(flag, "code");
        const char *flag_field = json_string_at(flag, "field");
        char masked[256];
        json_t *mark;

        if (!flag_field || strcmp(flag_field, field) != 0 || start < (json_int_t)at ||
            end > (json_int_t)length || end <= start)
            continue;
        if ((size_t)start > at)
            json_array_append_new(
                segments, json_pack("{s:s%, s:n}", "text", text + at, (size_t)start - at, "flag"));
        mark = json_pack("{s:s, s:s, s:b}", "code", code ? code : "", "severity",
                         json_string_at(flag, "severity") ? json_string_at(flag, "severity") : "",
                         "critical",
                         json_string_at(flag, "severity") &&
                             strcmp(json_string_at(flag, "severity"), "critical") == 0);
        if (flag_is_secret(code)) {
            flags_mask(text + start, (size_t)(end - start), masked, sizeof masked);
            json_array_append_new(segments, json_pack("{s:s, s:o}", "text", masked, "flag", mark));
        } else {
            json_array_append_new(segments, json_pack("{s:s%, s:o}", "text", text + start,
                                                      (size_t)(end - start), "flag", mark));
        }
        at = (size_t)end;
    }
    if (at < length)
        json_array_append_new(segments,
                              json_pack("{s:s%, s:n}", "text", text + at, length - at, "flag"));
    return segments;
}

/* The body with secret spans masked, for the preview. Caller frees. */
static char *text_mask_secrets(const char *text, const json_t *flags, const char *field)
{
    size_t length = strlen(text), index;
    char *out = malloc(length + 1);
    json_t *flag;

    if (!out)
        return NULL;
    memcpy(out, text, length + 1);
    json_array_foreach((json_t *)flags, index, flag)
    {
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));
        const char *flag_field = json_string_at(flag, "field");
        if (!flag_is_secret(json_string_at(flag, "code")) || !flag_field ||
            strcmp(flag_field, field) != 0 || start < 0 || end > (json_int_t)length ||
            end - start <= 4)
            continue;
        /* keep the first four bytes' characters intact, replace the rest byte for byte */
        for (json_int_t i = start + 4; i < end; i++)
            out[i] = '*';
        /* never leave a broken UTF-8 sequence after the kept prefix */
        for (json_int_t i = start + 4; i > start && ((unsigned char)out[i - 1] & 0xC0) == 0x80; i--)
            out[i - 1] = '*';
        for (json_int_t i = start + 4; i > start && ((unsigned char)out[i - 1] & 0xC0) == 0xC0;
             i--) {
            out[i - 1] = '*';
            break;
        }
    }
    return out;
}

/* `text` with every secret the scanner finds masked (for any text shown on a page: the edit
 * box, revision diffs, context). Caller frees. */
static char *text_masked(const char *text)
{
    json_t *found = json_array();
    char *masked;

    if (!text)
        return NULL;
    if (!found || flags_scan("text", text, strlen(text), found) != 0) {
        json_decref(found);
        return strdup(text);
    }
    masked = text_mask_secrets(text, found, "text");
    json_decref(found);
    return masked;
}

/* Replaces the string at `key` of `object` by its masked form. */
static void object_mask(json_t *object, const char *key)
{
    const char *value = json_string_at(object, key);
    char *masked = value ? text_masked(value) : NULL;
    if (masked) {
        json_object_set_new(object, key, json_string(masked));
        free(masked);
    }
}

static json_t *flag_list_build(const json_t *flags, const char *title, const char *body)
{
    json_t *list = json_array(), *flag;
    size_t index;

    json_array_foreach((json_t *)flags, index, flag)
    {
        const char *field = json_string_at(flag, "field");
        const char *text = field && strcmp(field, "title") == 0 ? title : body;
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));
        const char *code = json_string_at(flag, "code");
        const char *severity = json_string_at(flag, "severity");
        char excerpt[256] = "";

        if (text && start >= 0 && end <= (json_int_t)strlen(text) && end > start) {
            if (flag_is_secret(code))
                flags_mask(text + start, (size_t)(end - start), excerpt, sizeof excerpt);
            else
                snprintf(excerpt, sizeof excerpt, "%.*s", (int)(end - start), text + start);
        }
        json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "index",
                                              (json_int_t)index, "code", code ? code : "",
                                              "severity", severity ? severity : "", "field",
                                              field ? field : "", "excerpt", excerpt, "critical",
                                              severity && strcmp(severity, "critical") == 0,
                                              "start", start, "end", end));
    }
    return list;
}

static json_t *context_build(const json_t *context)
{
    static const char *const fields[][2] = {
        {"question_url", "Question"},
        {"agent_run_url", "Agent run"},
        {"prompt_excerpt", "Prompt"},
    };
    json_t *items = json_array();

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *value = json_string_at(context, fields[i][0]);
        json_t *item;
        if (!value || !*value)
            continue;
        item = json_pack("{s:s, s:s}", "label", fields[i][1], "value", value);
        /* only plain web links become links; anything else (javascript:, data:) stays text */
        if (strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0)
            json_object_set_new(item, "href", json_string(value));
        json_array_append_new(items, item);
    }
    return items;
}

static json_t *revisions_build(json_t *revisions)
{
    json_t *list = json_array(), *revision;
    const json_t *previous = NULL;
    size_t index;

    json_array_foreach((json_t *)revisions, index, revision)
    {
        json_t *item;
        object_mask(revision, "body");
        object_mask(revision, "title");
        item = json_pack("{s:O, s:O, s:O}", "revision", json_object_get(revision, "revision"),
                         "author_name", json_object_get(revision, "author_name"), "created_at",
                         json_object_get(revision, "created_at"));
        if (previous) {
            const char *old_title = json_string_at(previous, "title");
            const char *new_title = json_string_at(revision, "title");
            json_t *diff =
                text_diff_lines(json_string_at(previous, "body"), json_string_at(revision, "body"));
            json_t *line;
            size_t line_index, added = 0, deleted = 0;
            json_array_foreach(diff, line_index, line)
            {
                const char *op = json_string_at(line, "op");
                json_object_set_new(line, "is_add", json_boolean(op && strcmp(op, "add") == 0));
                json_object_set_new(line, "is_del", json_boolean(op && strcmp(op, "del") == 0));
            }
            text_diff_count(diff, &added, &deleted);
            json_object_set_new(item, "diff", diff ? diff : json_array());
            json_object_set_new(item, "added", json_integer((json_int_t)added));
            json_object_set_new(item, "deleted", json_integer((json_int_t)deleted));
            if ((old_title || new_title) &&
                (!old_title || !new_title || strcmp(old_title, new_title) != 0))
                json_object_set_new(item, "title_change",
                                    json_pack("{s:s, s:s}", "from", old_title ? old_title : "",
                                              "to", new_title ? new_title : ""));
        } else {
            json_object_set_new(item, "original", json_true());
        }
        json_array_insert_new(list, 0, item); /* newest first */
        previous = revision;
    }
    return list;
}

static const char *action_label(const char *action)
{
    static const char *const labels[][2] = {
        {"intake.held", "held for review"},
        {"draft.edit", "edited"},
        {"draft.approve", "approved"},
        {"draft.coapprove", "co-approved"},
        {"draft.reject", "rejected"},
        {"draft.delegate", "delegated"},
        {"draft.revoke", "revoked"},
        {"draft.expire", "expired"},
        {"draft.view", "viewed (moderator)"},
        {"delivery.attempt", "delivery attempted"},
        {"draft.release", "published"},
        {"draft.release_failed", "release failed"},
        {"delivery.retry", "delivery retried"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i][0], action) == 0)
            return labels[i][1];
    return action;
}

static json_t *timeline_build(const json_t *events)
{
    json_t *list = json_array(), *event;
    size_t index;

    json_array_foreach((json_t *)events, index, event)
    {
        const json_t *details = json_object_get(event, "details");
        const char *action = json_string_at(event, "action");
        char summary[600] = "";
        const char *reason = json_string_at(details, "reason");
        const char *behalf = json_string_at(details, "on_behalf_of");
        const char *delegate = json_string_at(details, "delegate_name");
        const char *actor_name = json_string_at(details, "actor_name");
        json_t *revision = json_object_get(details, "revision");
        json_t *to = json_object_get(details, "to_revision");

        const char *type = json_string_at(details, "type");
        json_t *http_status = json_object_get(details, "http_status");
        const char *error = json_string_at(details, "error");

        if (action && strcmp(action, "delivery.attempt") == 0 && type)
            snprintf(summary, sizeof summary, "%s, %s%s%s", type,
                     json_is_integer(http_status) ? "answered " : "no answer",
                     json_is_integer(http_status) ? "" : (error ? ": " : ""),
                     json_is_integer(http_status) ? "" : (error ? error : ""));
        if (action && strcmp(action, "delivery.attempt") == 0 && type &&
            json_is_integer(http_status)) {
            size_t used = strlen(summary);
            snprintf(summary + used, sizeof summary - used, "%lld",
                     (long long)json_integer_value(http_status));
        } else if (summary[0]) {
            /* done */
        } else if (action && strcmp(action, "draft.edit") == 0 && json_is_integer(to))
            snprintf(summary, sizeof summary, "revision %lld", (long long)json_integer_value(to));
        else if (delegate)
            snprintf(summary, sizeof summary, "to %s", delegate);
        else if (json_is_integer(revision))
            snprintf(summary, sizeof summary, "revision %lld%s%s%s%s",
                     (long long)json_integer_value(revision), behalf ? ", on behalf of " : "",
                     behalf ? behalf : "", reason ? ": " : "", reason ? reason : "");
        else if (reason)
            snprintf(summary, sizeof summary, "%s", reason);
        json_array_append_new(
            list,
            json_pack("{s:O, s:s, s:s, s:s}", "at", json_object_get(event, "at"), "actor",
                      actor_name
                          ? actor_name
                          : (json_string_at(event, "actor") ? json_string_at(event, "actor") : ""),
                      "action", action_label(action ? action : ""), "summary", summary));
    }
    return list;
}

static struct draft_actor actor_of(const struct session_identity *user)
{
    struct draft_actor actor = {user->forum, user->user_id, user->is_moderator};
    return actor;
}

/* Adds the computed fields the template shows to a loaded draft. */
static void draft_view_build(json_t *draft)
{
    const json_t *flags = json_object_get(draft, "flags");
    const char *title = json_string_at(draft, "title");
    const char *body = json_string_at(draft, "body");
    const char *state = json_string_at(draft, "state");
    char age[32], target[300];
    char *masked = body ? text_mask_secrets(body, flags, "body") : NULL;
    char *preview = masked ? render_markdown_safe(masked, strlen(masked)) : NULL;

    age_label(json_integer_value(json_object_get(draft, "age_seconds")), age, sizeof age);
    if (json_string_at(draft, "topic_id"))
        snprintf(target, sizeof target, "Reply in topic %s%s%s", json_string_at(draft, "topic_id"),
                 json_string_at(draft, "reply_to_post_id") ? ", to post " : "",
                 json_string_at(draft, "reply_to_post_id")
                     ? json_string_at(draft, "reply_to_post_id")
                     : "");
    else
        snprintf(target, sizeof target, "New topic in %s",
                 json_string_at(draft, "category") ? json_string_at(draft, "category") : "?");
    json_object_set_new(draft, "age_label", json_string(age));
    {
        /* the forum's post URL becomes a link only when it is a plain web address */
        const char *post_url = json_string_at(draft, "post_url");
        if (post_url &&
            (strncmp(post_url, "https://", 8) == 0 || strncmp(post_url, "http://", 7) == 0))
            json_object_set_new(draft, "post_href", json_string(post_url));
    }
    json_object_set_new(draft, "target_label", json_string(target));
    json_object_set_new(draft, "is_new_topic", json_boolean(!json_string_at(draft, "topic_id")));
    json_object_set_new(draft, "state_label", json_string(state_label(state ? state : "")));
    json_object_set_new(draft, "is_pending", json_boolean(state && !strcmp(state, "pending")));
    json_object_set_new(draft, "preview_html", json_string(preview ? preview : ""));
    json_object_set_new(draft, "body_segments", segments_build(body, flags, "body"));
    json_object_set_new(draft, "title_segments", segments_build(title, flags, "title"));
    json_object_set_new(draft, "flag_list", flag_list_build(flags, title, body));
    json_object_set_new(draft, "flags_count", json_integer((json_int_t)json_array_size(flags)));
    {
        json_t *context = json_object_get(draft, "context");
        const char *key;
        json_t *value;
        json_object_foreach(context, key, value)
        {
            (void)value;
            object_mask(context, key);
        }
        json_object_set_new(draft, "context_items", context_build(context));
    }
    json_object_set_new(draft, "revision_list",
                        revisions_build(json_object_get(draft, "revisions")));
    json_object_set_new(draft, "timeline_list", timeline_build(json_object_get(draft, "timeline")));
    /* the raw audit details and revisions are not for the template */
    json_object_del(draft, "timeline");
    json_object_del(draft, "revisions");
    /* the edit box shows the body too: never a secret on a page, an edit keeps the mask */
    object_mask(draft, "body");
    object_mask(draft, "title");
    free(masked);
    free(preview);
}

/* Copies `text` without Unicode direction controls (U+200E, U+200F, U+061C, U+202A-U+202E,
 * U+2066-U+2069), never cutting a UTF-8 sequence. */
static void text_copy_without_bidi(const char *text, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0;

    while (*p) {
        size_t length = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        bool control =
            (length == 3 && p[0] == 0xE2 && p[1] == 0x80 &&
             (p[2] == 0x8E || p[2] == 0x8F || (p[2] >= 0xAA && p[2] <= 0xAE))) ||
            (length == 3 && p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9) ||
            (length == 2 && p[0] == 0xD8 && p[1] == 0x9C);
        for (size_t i = 1; i < length; i++)
            if (!p[i])
                length = i; /* malformed tail: stop at the NUL */
        if (!control) {
            if (o + length >= size)
                break;
            memcpy(out + o, p, length);
            o += length;
        }
        p += length;
    }
    out[o] = '\0';
}

struct draft_notice {
    const char *kind; /* "error" or "info" */
    const char *message;
};

/* Renders the draft page for `user` from a loaded draft (stolen). */
static enum MHD_Result draft_page_reply(struct request *request, unsigned status, json_t *draft,
                                        const struct draft_access *access,
                                        const struct draft_notice *notice, json_t *form)
{
    json_t *data;
    const char *title = json_string_at(draft, "title");
    char page_title[1300]; /* a title is at most 300 code points */

    /* copied before draft_view_build() replaces the draft's strings; the window title cannot
     * isolate bidirectional text, so direction controls are dropped from it */
    text_copy_without_bidi(title ? title : "Reply draft", page_title, sizeof page_title);
    draft_view_build(draft);
    json_error_t error;
    data = json_pack_ex(&error, 0, "{s:s, s:o, s:b, s:b, s:b}", "title", page_title, "draft", draft,
                        "can_decide", access->decide, "can_delegate", access->delegate, "read_only",
                        !access->decide);
    if (!data) {
        json_decref(form);
        log_error(request->id, "draft page data: %s", error.text);
        return http_reply_error(request, ERR_INTERNAL, NULL, NULL);
    }
    json_object_set_new(data, "can_coapprove", json_boolean(access->coapprove));
    json_object_set_new(
        data, "can_retry",
        json_boolean(access->retry_delivery && json_string_at(draft, "state") &&
                     strcmp(json_string_at(draft, "state"), "release_failed") == 0));
    if (access->as_moderator)
        json_object_set_new(data, "read_only_notice",
                            json_string("You are reading this draft as a moderator. Only its "
                                        "invoker (or the colleague they handed it to) decides."));
    if (notice)
        json_object_set_new(data, "notice",
                            json_pack("{s:s, s:s, s:b}", "kind", notice->kind, "message",
                                      notice->message, "is_error",
                                      strcmp(notice->kind, "error") == 0));
    json_object_set_new(data, "form", form ? form : json_object());
    return page_reply(request, status, "draft.html", data);
}

/* Loads a draft as JSON; NULL with *status when missing or on failure. */
static json_t *draft_fetch(const char *id, enum db_status *status)
{
    struct db_connection *db = db_thread_connection();
    char *text = NULL;
    json_t *draft;

    if (!db) {
        *status = DB_UNAVAILABLE;
        return NULL;
    }
    *status = drafts_load(db, id, &text);
    if (*status != DB_OK || !text)
        return NULL;
    draft = json_loads(text, 0, NULL);
    free(text);
    if (!draft)
        *status = DB_FAILED;
    return draft;
}

enum MHD_Result draft_pages_index(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    struct db_connection *db;
    enum db_status status;
    char *text = NULL;
    json_t *drafts, *pending, *decided, *item;
    size_t index;

    if (!user)
        return page_reply_sign_in(request);
    db = db_thread_connection();
    status = db ? drafts_list_for_user(db, user->forum, user->user_id, &text) : DB_UNAVAILABLE;
    if (status != DB_OK)
        return page_reply_db_failure(request, status);
    drafts = json_loads(text ? text : "[]", 0, NULL);
    free(text);
    pending = json_array();
    decided = json_array();
    json_array_foreach(drafts, index, item)
    {
        const char *state = json_string_at(item, "state");
        char age[32];
        age_label(json_integer_value(json_object_get(item, "age_seconds")), age, sizeof age);
        json_object_set_new(item, "age_label", json_string(age));
        json_object_set_new(item, "state_label", json_string(state_label(state ? state : "")));
        json_object_set_new(item, "target_label",
                            json_string(json_string_at(item, "topic_id") ? "reply" : "new topic"));
        json_array_append(state && strcmp(state, "pending") == 0 ? pending : decided, item);
    }
    json_decref(drafts);
    return page_reply(request, 200, "index.html",
                      json_pack("{s:s, s:o, s:o, s:b, s:b}", "title", "Your agents' drafts",
                                "pending", pending, "decided", decided, "has_pending",
                                json_array_size(pending) > 0, "has_decided",
                                json_array_size(decided) > 0));
}

enum MHD_Result draft_pages_show(struct request *request)
{
    const struct session_identity *user = auth_user(request);
    const char *id = request->params[0];
    struct draft_access access;
    struct draft_parties parties;
    struct draft_actor actor;
    enum db_status status;
    json_t *draft;

    if (!user)
        return page_reply_sign_in(request);
    if (!draft_id_valid(id))
        return page_reply_not_found(request);
    draft = draft_fetch(id, &status);
    if (!draft)
        return status == DB_OK ? page_reply_not_found(request)
                               : page_reply_db_failure(request, status);
    parties = draft_parties_from_json(draft);
    actor = actor_of(user);
    access = draft_access_for(&actor, &parties);
    if (!access.read) {
        json_decref(draft);
        return page_reply_not_found(request);
    }
    if (access.as_moderator) {
        struct db_connection *db = db_thread_connection();
        if (!db || drafts_audit_view(db, id, user->forum, user->user_id, user->username) != DB_OK) {
            json_decref(draft);
            return page_reply_db_failure(request, db ? DB_FAILED : DB_UNAVAILABLE);
        }
    }
    return draft_page_reply(request, 200, draft, &access, NULL, NULL);
}

/* Parses a positive revision number. */
static int revision_parse(const char *text)
{
    long value;
    char *end;
    if (!text || !*text)
        return 0;
    value = strtol(text, &end, 10);
    if (*end || value < 1 || value > 1000000)
        return 0;
    return (int)value;
}

/* Trims ASCII whitespace at both ends, in place. */
static char *trim(char *text)
{
    size_t length;
    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    length = strlen(text);
    while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t' ||
                          text[length - 1] == '\r' || text[length - 1] == '\n'))
        text[--length] = '\0';
    return text;
}

static bool flags_all_acknowledged(const json_t *draft, const struct form *form)
{
    size_t count = json_array_size(json_object_get(draft, "flags"));
    for (size_t i = 0; i < count; i++) {
        char index[16];
        snprintf(index, sizeof index, "%zu", i);
        if (!form_has_value(form, "ack", index))
            return false;
    }
    return true;
}

enum draft_action {
    ACTION_APPROVE,
    ACTION_REJECT,
    ACTION_EDIT,
    ACTION_DELEGATE,
    ACTION_RETRY,
    ACTION_COAPPROVE
};

/* Carries out one action after every check passed; replies. `draft` is stolen. */
static enum MHD_Result draft_action_apply(struct request *request, enum draft_action action,
                                          json_t *draft, struct form *form,
                                          const struct session_identity *user,
                                          const struct draft_access *access)
{
    const char *id = request->params[0];
    struct db_connection *db = db_thread_connection();
    struct draft_change_result result = {0};
    struct draft_notice notice = {"error", NULL};
    enum db_status status = DB_UNAVAILABLE;
    int revision = revision_parse(form_get(form, "revision"));
    json_t *echo = json_object();
    char location[128];

    if (action == ACTION_COAPPROVE) {
        json_decref(echo);
        if (!flags_all_acknowledged(draft, form)) {
            json_t *again = json_object();
            notice.message = "Tick the acknowledgement of every flag before co-approving.";
            return draft_page_reply(request, 400, draft, access, &notice, again);
        }
        json_decref(draft);
        status = db ? drafts_coapprove(db, id, user->forum, user->user_id, user->username, &result)
                    : DB_UNAVAILABLE;
        if (status != DB_OK)
            return page_reply_db_failure(request, status);
        if (result.outcome == DRAFT_FORBIDDEN)
            return page_reply_error(request, ERR_NOT_COAPPROVER,
                                    "A second approver is a moderator other than the invoker, the "
                                    "delegate and the first approver.");
        if (result.outcome != DRAFT_CHANGED)
            return page_reply_error(request, ERR_NOTHING_TO_COAPPROVE,
                                    "This draft does not await a co-approval.");
        log_info(request->id, "draft %s: co-approved by %s", id, user->user_id);
        snprintf(location, sizeof location, "/drafts/%s", id);
        return http_reply_redirect(request, 303, location);
    }
    if (action == ACTION_RETRY) {
        char outcome[32] = "";
        json_decref(echo);
        json_decref(draft);
        status = db ? outbox_retry_draft(db, id, user->username, outcome, sizeof outcome)
                    : DB_UNAVAILABLE;
        if (status != DB_OK)
            return page_reply_db_failure(request, status);
        if (strcmp(outcome, "retried") != 0)
            return page_reply_error(request, ERR_NOTHING_TO_RETRY,
                                    "This draft's release has not failed.");
        log_info(request->id, "draft %s: delivery retried by moderator %s", id, user->user_id);
        snprintf(location, sizeof location, "/drafts/%s", id);
        return http_reply_redirect(request, 303, location);
    }
    if (action != ACTION_DELEGATE && action != ACTION_REJECT && revision == 0) {
        notice.message = "The form did not say which revision you saw; reload the page.";
        return draft_page_reply(request, 400, draft, access, &notice, echo);
    }
    switch (action) {
    case ACTION_RETRY: /* handled above */
    case ACTION_COAPPROVE:
        break;
    case ACTION_APPROVE:
        if (!flags_all_acknowledged(draft, form)) {
            notice.message = "Tick the acknowledgement of every flag before approving.";
            return draft_page_reply(request, 400, draft, access, &notice, echo);
        }
        if (db)
            status = drafts_decide(
                db, id, user->forum, "approve", revision, user->user_id, user->username, NULL,
                "page",
                draft_needs_coapproval(config_forum(request->server->config, user->forum),
                                       json_object_get(draft, "flags")),
                &result);
        break;
    case ACTION_REJECT: {
        char *reason = trim((char *)(form_get(form, "reason") ? form_get(form, "reason") : ""));
        if (!*reason || utf8_length(reason) > REASON_MAX) {
            notice.message = "Give a reason for rejecting (at most 2000 characters).";
            return draft_page_reply(request, 400, draft, access, &notice, echo);
        }
        if (db)
            status = drafts_decide(db, id, user->forum, "reject", revision, user->user_id,
                                   user->username, reason, "page", false, &result);
        break;
    }
    case ACTION_EDIT: {
        const char *body = form_get(form, "body");
        const char *title = form_get(form, "title");
        bool new_topic = !json_string_at(draft, "topic_id");
        char *diff_text;
        json_t *diff, *summary;
        size_t added = 0, deleted = 0;
        const struct forum_config *forum = config_forum(request->server->config, user->forum);

        json_object_set_new(echo, "body", json_string(body ? body : ""));
        json_object_set_new(echo, "title", json_string(title ? title : ""));
        if (!body || !*trim((char *)body) || (forum && strlen(body) > forum->max_body_bytes)) {
            notice.message = "The body must not be empty or longer than the forum allows.";
            return draft_page_reply(request, 400, draft, access, &notice, echo);
        }
        if (new_topic && (!title || !*trim((char *)title) || utf8_length(title) > TITLE_MAX)) {
            notice.message = "A new topic needs a title of at most 300 characters.";
            return draft_page_reply(request, 400, draft, access, &notice, echo);
        }
        diff = text_diff_lines(json_string_at(draft, "body"), body);
        text_diff_count(diff, &added, &deleted);
        summary = json_pack("{s:I, s:I, s:o}", "added", (json_int_t)added, "deleted",
                            (json_int_t)deleted, "lines", diff ? diff : json_array());
        if (new_topic && json_string_at(draft, "title") &&
            strcmp(json_string_at(draft, "title"), title))
            json_object_set_new(
                summary, "title",
                json_pack("{s:s, s:s}", "from", json_string_at(draft, "title"), "to", title));
        diff_text = json_dumps(summary, JSON_COMPACT);
        json_decref(summary);
        {
            /* the edited text is scanned again: its flags replace the old ones */
            json_t *flags = json_array();
            char *flags_text = NULL;
            if (flags && (!new_topic || flags_scan("title", title, strlen(title), flags) == 0) &&
                flags_scan("body", body, strlen(body), flags) == 0)
                flags_text = json_dumps(flags, JSON_COMPACT);
            json_decref(flags);
            if (db && diff_text && flags_text)
                status = drafts_edit(db, id, user->forum, revision, new_topic ? title : NULL, body,
                                     flags_text, user->user_id, user->username, diff_text, &result);
            else if (db)
                status = DB_FAILED;
            free(flags_text);
        }
        free(diff_text);
        break;
    }
    case ACTION_DELEGATE: {
        char *username =
            trim((char *)(form_get(form, "username") ? form_get(form, "username") : ""));
        if (!*username || strlen(username) > 128) {
            notice.message = "Name the colleague (their forum username) to hand this draft to.";
            return draft_page_reply(request, 400, draft, access, &notice, echo);
        }
        if (db)
            status = drafts_delegate(db, id, user->forum, user->user_id, user->username, username,
                                     &result);
        break;
    }
    }
    if (status != DB_OK) {
        json_decref(echo);
        json_decref(draft);
        return page_reply_db_failure(request, status);
    }
    switch (result.outcome) {
    case DRAFT_CHANGED:
        json_decref(echo);
        json_decref(draft);
        log_info(request->id, "draft %s: %s by %s", id,
                 action == ACTION_APPROVE  ? "approved"
                 : action == ACTION_REJECT ? "rejected"
                 : action == ACTION_EDIT   ? "edited"
                                           : "delegated",
                 user->user_id);
        snprintf(location, sizeof location, "/drafts/%s", id);
        return http_reply_redirect(request, 303, location);
    case DRAFT_REVISION_CHANGED: {
        /* show the page again with the revision that is current now */
        enum db_status reload_status;
        json_t *fresh = draft_fetch(id, &reload_status);
        json_decref(draft);
        if (!fresh) {
            json_decref(echo);
            return page_reply_db_failure(request, reload_status);
        }
        notice.message = "This draft changed since you opened it. Review the new revision "
                         "below before deciding.";
        return draft_page_reply(request, 409, fresh, access, &notice, echo);
    }
    case DRAFT_NOT_PENDING: {
        enum db_status reload_status;
        json_t *fresh = draft_fetch(id, &reload_status);
        struct draft_access reread = *access;
        json_decref(draft);
        if (!fresh) {
            json_decref(echo);
            return page_reply_db_failure(request, reload_status);
        }
        reread.decide = false;
        reread.delegate = false;
        notice.message = "This draft was already decided.";
        return draft_page_reply(request, 409, fresh, &reread, &notice, echo);
    }
    case DRAFT_UNKNOWN_USER:
        notice.message = "No colleague of that username has signed in to agentgate in this "
                         "forum (nor may the agent or you be chosen).";
        return draft_page_reply(request, 400, draft, access, &notice, echo);
    case DRAFT_FORBIDDEN:
        json_decref(echo);
        json_decref(draft);
        return page_reply_error(request, ERR_FORBIDDEN,
                                "Only the invoker, or the colleague they handed it to, decides.");
    case DRAFT_NOT_FOUND:
    default:
        json_decref(echo);
        json_decref(draft);
        return page_reply_not_found(request);
    }
}

static enum MHD_Result draft_pages_action(struct request *request, enum draft_action action)
{
    const struct session_identity *user;
    const char *id = request->params[0];
    struct draft_access access;
    struct draft_parties parties;
    struct draft_actor actor;
    struct form form;
    enum db_status status;
    enum MHD_Result result;
    json_t *draft;

    if (!auth_origin_valid(request))
        return page_reply_error(request, ERR_FOREIGN_ORIGIN,
                                "This form was not sent from agentgate's own page.");
    user = auth_user(request);
    if (!form_parse(request->body, request->body_length, &form)) {
        form_free(&form);
        return page_reply_error(request, ERR_BAD_FORM, "The form could not be read.");
    }
    if (!user || !auth_csrf_valid(request, form_get(&form, "csrf"))) {
        form_free(&form);
        return page_reply_error(request, ERR_CSRF_INVALID,
                                "The form's security token is missing or stale. Reload the page "
                                "and try again.");
    }
    if (!draft_id_valid(id)) {
        form_free(&form);
        return page_reply_not_found(request);
    }
    draft = draft_fetch(id, &status);
    if (!draft) {
        form_free(&form);
        return status == DB_OK ? page_reply_not_found(request)
                               : page_reply_db_failure(request, status);
    }
    parties = draft_parties_from_json(draft);
    actor = actor_of(user);
    access = draft_access_for(&actor, &parties);
    if (!access.read) {
        json_decref(draft);
        form_free(&form);
        return page_reply_not_found(request);
    }
    if (action == ACTION_RETRY       ? !access.retry_delivery
        : action == ACTION_COAPPROVE ? !access.coapprove
        : action == ACTION_DELEGATE  ? !access.delegate
                                     : !access.decide) {
        bool pending = parties.pending;
        json_decref(draft);
        form_free(&form);
        if (action == ACTION_COAPPROVE && !parties.awaiting_coapproval && user->is_moderator)
            return page_reply_error(request, ERR_NOTHING_TO_COAPPROVE,
                                    "This draft does not await a co-approval.");
        if (action == ACTION_COAPPROVE)
            return page_reply_error(request, ERR_NOT_COAPPROVER,
                                    "A second approver is a moderator other than the invoker, the "
                                    "delegate and the first approver, and only while an approval "
                                    "awaits it.");
        if (action == ACTION_RETRY)
            return page_reply_error(request, ERR_MODERATORS_ONLY,
                                    "Only a moderator of this forum retries a delivery.");
        if (!pending)
            return page_reply_error(request, ERR_NOT_PENDING,
                                    "This draft is no longer waiting for a decision.");
        return page_reply_error(request, ERR_FORBIDDEN,
                                action == ACTION_DELEGATE
                                    ? "Only the invoker hands a draft to a colleague."
                                    : "Only the invoker, or the colleague they handed it to, "
                                      "decides.");
    }
    result = draft_action_apply(request, action, draft, &form, user, &access);
    form_free(&form);
    return result;
}

enum MHD_Result draft_pages_approve(struct request *request)
{
    return draft_pages_action(request, ACTION_APPROVE);
}

enum MHD_Result draft_pages_reject(struct request *request)
{
    return draft_pages_action(request, ACTION_REJECT);
}

enum MHD_Result draft_pages_edit(struct request *request)
{
    return draft_pages_action(request, ACTION_EDIT);
}

enum MHD_Result draft_pages_delegate(struct request *request)
{
    return draft_pages_action(request, ACTION_DELEGATE);
}

enum MHD_Result draft_pages_retry(struct request *request)
{
    return draft_pages_action(request, ACTION_RETRY);
}

enum MHD_Result draft_pages_coapprove(struct request *request)
{
    return draft_pages_action(request, ACTION_COAPPROVE);
}
