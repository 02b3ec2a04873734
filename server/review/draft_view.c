/* The draft page's view model; see draft_view.h. */
#include "review/draft_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "render_markdown.h"
#include "text_diff.h"
#include "web/json_spec.h"
#include "web/page.h"

#define EXCERPT_CHARACTERS 120

static bool is_web_link(const char *url)
{
    return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0);
}

static bool same_text(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

void draft_person_label(const char *name, const char *id, char *out, size_t size)
{
    if (name && *name && id && strcmp(name, id) != 0)
        snprintf(out, size, "%s (%s)", name, id);
    else
        snprintf(out, size, "%s", id ? id : (name ? name : ""));
}

/* Masks one field of one revision into `masked`; the current revision's stored flags count. */
static bool revision_field_mask(struct draft_secrets *secrets, json_t *masked,
                                const json_t *revision, const char *field, const json_t *flags)
{
    const char *text = json_string_at(revision, field);
    json_t *spans;
    char *out;

    if (!text)
        return true;
    spans = draft_secrets_spans(field, text, flags);
    out = spans ? draft_secrets_mask(secrets, text, spans, NULL) : NULL;
    json_decref(spans);
    if (!out)
        return false;
    json_object_set_new(masked, field, json_string(out));
    free(out);
    return true;
}

json_t *draft_secrets_collect(const json_t *draft, struct draft_secrets *secrets)
{
    const json_t *revisions = json_object_get(draft, "revisions"), *revision;
    json_int_t current = json_integer_value(json_object_get(draft, "revision"));
    json_t *list = json_array();
    size_t index;

    json_array_foreach((json_t *)revisions, index, revision)
    {
        bool is_current = json_integer_value(json_object_get(revision, "revision")) == current;
        const json_t *flags = is_current ? json_object_get(draft, "flags") : NULL;
        json_t *masked =
            json_pack("{s:O, s:O, s:O, s:O}", "revision", json_object_get(revision, "revision"),
                      "author_id", json_object_get(revision, "author_id"), "author_name",
                      json_object_get(revision, "author_name"), "created_at",
                      json_object_get(revision, "created_at"));
        if (!masked || json_array_append_new(list, masked) != 0 ||
            !revision_field_mask(secrets, masked, revision, "title", flags) ||
            !revision_field_mask(secrets, masked, revision, "body", flags)) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* A one-line explanation for a flag: its own message, else its family's. */
static const char *flag_explanation(const json_t *flag)
{
    static const char *const families[][2] = {
        {"secret.", "Looks like a secret (a password, key or token): publishing it exposes it."},
        {"access.", "Advice that opens access wider than it should be."},
        {"destructive.", "A command or step that destroys data or history."},
        {"pii.", "Personal data about someone."},
        {"mention.", "Mentions many people at once."},
    };
    const char *message = json_string_at(flag, "message");
    const char *code = json_string_at(flag, "code");

    if (message && *message)
        return message;
    for (size_t i = 0; code && i < sizeof families / sizeof families[0]; i++)
        if (strncmp(code, families[i][0], strlen(families[i][0])) == 0)
            return families[i][1];
    return code ? code : "";
}

static bool flag_is_secret(const json_t *flag)
{
    const char *code = json_string_at(flag, "code");
    return flags_code_marks_secret(code);
}

/* The flags as the page lists them: explanation, field, the matched text (secrets masked). */
static json_t *flag_list_build(const json_t *draft, struct draft_secrets *secrets, bool can_redact)
{
    json_t *list = json_array(), *flag;
    size_t index;

    json_array_foreach(json_object_get(draft, "flags"), index, flag)
    {
        const char *field = json_string_at(flag, "field");
        const char *text = json_string_at(draft, same_text(field, "title") ? "title" : "body");
        json_int_t start = json_integer_value(json_object_get(flag, "start"));
        json_int_t end = json_integer_value(json_object_get(flag, "end"));
        const char *severity = json_string_at(flag, "severity");
        char *excerpt = NULL;

        if (text && start >= 0 && end <= (json_int_t)strlen(text) && end > start)
            excerpt = flag_is_secret(flag)
                          ? draft_secrets_mask_span(secrets, text, (size_t)start, (size_t)end)
                          : strndup(text + start, (size_t)(end - start));
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:b, s:b, s:b}", "index",
                            (json_int_t)index, "code", json_string_at(flag, "code") ?: "",
                            "severity", severity ?: "", "field", field ?: "", "message",
                            flag_explanation(flag), "excerpt", excerpt, "critical",
                            same_text(severity, "critical"), "is_secret", flag_is_secret(flag),
                            "can_redact", can_redact && flag_is_secret(flag) && excerpt));
        free(excerpt);
    }
    return list;
}

struct mark {
    size_t start, end;
    const json_t *flag; /* the stored flag shown, or NULL for a secret found now */
    bool secret;
};

static int mark_compare(const void *a, const void *b)
{
    const struct mark *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* The marks of one field: its secret spans and its other flags, sorted by start. */
static size_t marks_collect(struct mark *marks, size_t capacity, const json_t *flags,
                            const char *field, const json_t *spans, size_t length)
{
    size_t count = 0, index;
    const json_t *item;

    json_array_foreach((json_t *)spans, index, item)
    {
        if (count < capacity)
            marks[count++] =
                (struct mark){(size_t)json_integer_value(json_array_get(item, 0)),
                              (size_t)json_integer_value(json_array_get(item, 1)), NULL, true};
    }
    json_array_foreach((json_t *)flags, index, item)
    {
        json_int_t start = json_integer_value(json_object_get(item, "start"));
        json_int_t end = json_integer_value(json_object_get(item, "end"));
        if (!same_text(json_string_at(item, "field"), field) || start < 0 || end <= start ||
            end > (json_int_t)length)
            continue;
        for (size_t i = 0; i < count; i++)
            if (marks[i].secret && !marks[i].flag && marks[i].start <= (size_t)start &&
                (size_t)start < marks[i].end && flag_is_secret(item))
                marks[i].flag = item;
        if (!flag_is_secret(item) && count < capacity)
            marks[count++] = (struct mark){(size_t)start, (size_t)end, item, false};
    }
    qsort(marks, count, sizeof *marks, mark_compare);
    return count;
}

static json_t *segment(const char *text, size_t length, const struct mark *mark)
{
    const json_t *flag = mark ? mark->flag : NULL;
    json_t *item = json_pack("{s:s%}", "text", text, length);
    if (mark)
        json_object_set_new(
            item, "flag",
            json_pack("{s:s, s:s, s:s}", "code",
                      flag ? json_string_at(flag, "code") ?: "" : "secret", "severity",
                      flag ? json_string_at(flag, "severity") ?: "" : "critical", "message",
                      flag ? flag_explanation(flag) : "A secret, masked here."));
    return item;
}

/* The text of one field split at its flags, secrets masked: [{"text", "flag"?}]. A mark that
 * starts inside an earlier one is merged into it. */
static json_t *segments_build(struct draft_secrets *secrets, const char *text, const char *field,
                              const json_t *flags)
{
    size_t length = text ? strlen(text) : 0, at = 0, count;
    json_t *spans = text ? draft_secrets_spans(field, text, flags) : NULL;
    json_t *segments = json_array();
    struct mark *marks;

    count = json_array_size(spans) + json_array_size(flags);
    marks = malloc((count ? count : 1) * sizeof *marks);
    if (!text || !marks || !spans) {
        free(marks);
        json_decref(spans);
        return segments;
    }
    count = marks_collect(marks, count, flags, field, spans, length);
    for (size_t i = 0; i < count; i++) {
        char *shown;
        if (marks[i].start < at)
            continue;
        if (marks[i].start > at)
            json_array_append_new(segments, segment(text + at, marks[i].start - at, NULL));
        shown = marks[i].secret
                    ? draft_secrets_mask_span(secrets, text, marks[i].start, marks[i].end)
                    : strndup(text + marks[i].start, marks[i].end - marks[i].start);
        if (shown)
            json_array_append_new(segments, segment(shown, strlen(shown), &marks[i]));
        free(shown);
        at = marks[i].end;
    }
    if (at < length)
        json_array_append_new(segments, segment(text + at, length - at, NULL));
    free(marks);
    json_decref(spans);
    return segments;
}

/* Marks the words that changed inside a deleted line paired with an added one. */
static void diff_pair_words(json_t *deleted, json_t *added)
{
    json_t *words = text_diff_words(json_string_at(deleted, "text"), json_string_at(added, "text"));
    json_t *old_parts = json_array(), *new_parts = json_array(), *word;
    size_t index;

    json_array_foreach(words, index, word)
    {
        const char *op = json_string_at(word, "op");
        json_t *part = json_pack("{s:O, s:b}", "text", json_object_get(word, "text"), "changed",
                                 !same_text(op, "same"));
        if (!same_text(op, "add"))
            json_array_append(old_parts, part);
        if (!same_text(op, "del"))
            json_array_append(new_parts, part);
        json_decref(part);
    }
    json_decref(words);
    json_object_set_new(deleted, "parts", old_parts);
    json_object_set_new(added, "parts", new_parts);
}

/* A line diff whose changed lines carry their changed words: each line {"op", "is_add",
 * "is_del", "parts": [{"text", "changed"}]}. */
static json_t *diff_build(const char *before, const char *after, size_t *added, size_t *deleted)
{
    json_t *diff = text_diff_lines(before, after), *line;
    size_t index, run_start = 0, dels = 0;

    text_diff_count(diff, added, deleted);
    json_array_foreach(diff, index, line)
    {
        const char *op = json_string_at(line, "op");
        json_object_set_new(line, "is_add", json_boolean(same_text(op, "add")));
        json_object_set_new(line, "is_del", json_boolean(same_text(op, "del")));
        if (same_text(op, "del")) {
            if (dels == 0)
                run_start = index;
            dels++;
        } else if (same_text(op, "add") && dels > 0) {
            /* the k-th added line of a changed run pairs with its k-th deleted line */
            size_t k = index - run_start - dels;
            if (k < dels)
                diff_pair_words(json_array_get(diff, run_start + k), line);
        } else {
            dels = 0;
        }
        if (!json_object_get(line, "parts"))
            json_object_set_new(
                line, "parts",
                json_pack("[{s:O, s:b}]", "text", json_object_get(line, "text"), "changed", false));
    }
    return diff ? diff : json_array();
}

/* Revisions newest first, each with its diff from the one before. */
static json_t *revisions_build(const json_t *masked, time_t now)
{
    json_t *list = json_array(), *revision;
    const json_t *previous = NULL;
    size_t index;

    json_array_foreach((json_t *)masked, index, revision)
    {
        char author[300];
        json_t *item;
        draft_person_label(json_string_at(revision, "author_name"),
                           json_string_at(revision, "author_id"), author, sizeof author);
        item = json_pack("{s:O, s:s, s:o}", "revision", json_object_get(revision, "revision"),
                         "author", author, "created_at",
                         page_time(json_string_at(revision, "created_at"), now));
        if (previous) {
            size_t added = 0, deleted = 0;
            const char *old_title = json_string_at(previous, "title");
            const char *new_title = json_string_at(revision, "title");
            json_object_set_new(item, "diff",
                                diff_build(json_string_at(previous, "body"),
                                           json_string_at(revision, "body"), &added, &deleted));
            json_object_set_new(item, "added", json_integer((json_int_t)added));
            json_object_set_new(item, "deleted", json_integer((json_int_t)deleted));
            if ((old_title || new_title) && !same_text(old_title, new_title))
                json_object_set_new(
                    item, "title_change",
                    json_pack("{s:s, s:s}", "from", old_title ?: "", "to", new_title ?: ""));
        } else {
            json_object_set_new(item, "original", json_true());
        }
        json_array_insert_new(list, 0, item);
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
    for (size_t i = 0; action && i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i][0], action) == 0)
            return labels[i][1];
    return action ? action : "";
}

/* "alice (1001)" for user:1001, "the agent bot-42", "command line (root)". */
static void actor_label(const json_t *event, char *out, size_t size)
{
    const char *actor = json_string_at(event, "actor");
    const char *name = json_string_at(event, "actor_name");

    if (actor && strncmp(actor, "user:", 5) == 0)
        draft_person_label(name, actor + 5, out, size);
    else if (actor && strncmp(actor, "agent:", 6) == 0)
        snprintf(out, size, "the agent %s", actor + 6);
    else if (actor && strncmp(actor, "cli:", 4) == 0)
        snprintf(out, size, "command line (%s)", actor + 4);
    else
        snprintf(out, size, "%s", actor ? actor : "agentgate");
}

/* What an event says beyond its action: the revision, the reason, the forum's answer. */
static void event_summary(const char *action, const json_t *details, char *out, size_t size)
{
    const char *reason = json_string_at(details, "reason");
    const char *behalf = json_string_at(details, "on_behalf_of");
    const char *type = json_string_at(details, "type");
    const char *error = json_string_at(details, "error");
    json_t *revision = json_object_get(details, "revision");
    json_t *to = json_object_get(details, "to_revision");
    json_t *http_status = json_object_get(details, "http_status");

    out[0] = '\0';
    if (same_text(action, "delivery.attempt") && type) {
        if (json_is_integer(http_status))
            snprintf(out, size, "%s, answered %lld", type,
                     (long long)json_integer_value(http_status));
        else
            snprintf(out, size, "%s, no answer%s%s", type, error ? ": " : "", error ? error : "");
    } else if (same_text(action, "draft.edit") && json_is_integer(to))
        snprintf(out, size, "revision %lld%s", (long long)json_integer_value(to),
                 json_is_true(json_object_get(json_object_get(details, "diff"), "redacted"))
                     ? ", a secret redacted"
                     : "");
    else if (json_string_at(details, "delegate_name"))
        snprintf(out, size, "to %s", json_string_at(details, "delegate_name"));
    else if (json_is_integer(revision))
        snprintf(out, size, "revision %lld%s%s%s%s", (long long)json_integer_value(revision),
                 behalf ? ", on behalf of " : "", behalf ? behalf : "", reason ? ": " : "",
                 reason ? reason : "");
    else if (reason)
        snprintf(out, size, "%s", reason);
}

/* Events oldest first; what people wrote in them (reasons) with secrets masked. */
static json_t *timeline_build(struct draft_secrets *secrets, const json_t *events, time_t now)
{
    json_t *list = json_array(), *event;
    size_t index;

    json_array_foreach((json_t *)events, index, event)
    {
        const char *action = json_string_at(event, "action");
        char actor[300], summary[600], *masked;
        actor_label(event, actor, sizeof actor);
        event_summary(action, json_object_get(event, "details"), summary, sizeof summary);
        masked = draft_secrets_mask_scanned(secrets, "reason", summary);
        json_array_append_new(list, json_pack("{s:o, s:s, s:s, s:s}", "at",
                                              page_time(json_string_at(event, "at"), now), "actor",
                                              actor, "action", action_label(action), "summary",
                                              masked ? masked : ""));
        free(masked);
    }
    return list;
}

static json_t *context_build(struct draft_secrets *secrets, const json_t *context)
{
    static const char *const fields[][2] = {
        {"question_url", "Question"},
        {"agent_run_url", "Agent run"},
        {"prompt_excerpt", "Prompt"},
    };
    json_t *items = json_array();

    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *value = json_string_at(context, fields[i][0]);
        char *masked =
            value && *value ? draft_secrets_mask_scanned(secrets, "context", value) : NULL;
        json_t *item;
        if (!masked)
            continue;
        item = json_pack("{s:s, s:s}", "label", fields[i][1], "value", masked);
        /* only plain web links without a secret become links; javascript:, data: stay text */
        if (is_web_link(value) && strcmp(masked, value) == 0)
            json_object_set_new(item, "href", json_string(value));
        json_array_append_new(items, item);
        free(masked);
    }
    return items;
}

static json_t *attempts_build(json_t *attempts, time_t now)
{
    json_t *attempt;
    size_t index;

    json_array_foreach(attempts, index, attempt)
        page_times(attempt, now, (const char *const[]){"at", NULL});
    return attempts;
}

/* Where the post goes: "Reply in" + the topic's title (a link when the forum sent a web link)
 * or number, and the post it answers; or "New topic in" + the category. */
static void where_build(json_t *draft)
{
    const char *topic_id = json_string_at(draft, "topic_id");
    const char *topic_title = json_string_at(draft, "topic_title");
    const char *topic_url = json_string_at(draft, "topic_url");
    const char *reply_to = json_string_at(draft, "reply_to_post_id");
    char name[400], detail[120] = "";
    json_t *where;

    if (topic_id) {
        if (topic_title)
            snprintf(name, sizeof name, "%s", topic_title);
        else
            snprintf(name, sizeof name, "topic %s", topic_id);
        if (reply_to)
            snprintf(detail, sizeof detail, "answering post %s", reply_to);
        where = json_pack("{s:s, s:s, s:s, s:b}", "prefix", "Reply in", "name", name, "detail",
                          detail, "is_reply", true);
        if (is_web_link(topic_url))
            json_object_set_new(where, "href", json_string(topic_url));
        if (topic_title)
            json_object_set_new(where, "topic_id", json_string(topic_id));
    } else {
        where =
            json_pack("{s:s, s:s, s:s, s:b}", "prefix", "New topic in", "name",
                      json_string_at(draft, "category") ?: "?", "detail", "", "is_reply", false);
    }
    json_object_set_new(draft, "where", where);
}

/* A state in words, as a list shows it. */
static const char *state_word(const char *state, bool coapproval)
{
    static const char *const labels[][2] = {
        {"pending", "Waiting"},
        {"released", "Published"},
        {"release_failed", "Release failed"},
        {"rejected", "Rejected"},
        {"expired", "Expired"},
        {"revoked", "Revoked"},
        {"approved", "Approved, being released"},
    };
    if (same_text(state, "approved") && coapproval)
        return "Approved, waiting for a second approver";
    for (size_t i = 0; state && i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i][0], state) == 0)
            return labels[i][1];
    return state ? state : "";
}

/* The state as this viewer reads it, and who decides. */
static void state_build(json_t *draft, const struct draft_access *access)
{
    const char *state = json_string_at(draft, "state");
    bool coapproval = json_is_true(json_object_get(draft, "coapproval_pending"));
    const json_t *delegate = json_object_get(draft, "delegate");
    char invoker[300], delegate_label[300] = "", label[400], who[700];

    draft_person_label(json_string_at(json_object_get(draft, "invoker"), "name"),
                       json_string_at(json_object_get(draft, "invoker"), "id"), invoker,
                       sizeof invoker);
    if (json_is_object(delegate))
        draft_person_label(json_string_at(delegate, "name"), json_string_at(delegate, "id"),
                           delegate_label, sizeof delegate_label);
    if (delegate_label[0])
        snprintf(who, sizeof who, "%s decides, in place of its invoker %s.", delegate_label,
                 invoker);
    else
        snprintf(who, sizeof who, "Only its invoker, %s, decides.", invoker);
    if (same_text(state, "pending"))
        snprintf(label, sizeof label,
                 access->decide ? "Waiting for your decision" : "Waiting for %s's decision",
                 delegate_label[0] ? delegate_label : invoker);
    else if (same_text(state, "approved"))
        snprintf(label, sizeof label, "%s",
                 coapproval ? "Approved, waiting for a second approver"
                            : "Approved, being released");
    else
        snprintf(label, sizeof label, "%s", state_word(state, coapproval));
    json_object_set_new(draft, "state_label", json_string(label));
    json_object_set_new(draft, "who_decides", json_string(who));
    json_object_set_new(draft, "is_pending", json_boolean(same_text(state, "pending")));
    /* the page follows an approval until it is released (or fails) by itself */
    json_object_set_new(draft, "refresh",
                        json_boolean(same_text(state, "approved") && !coapproval));
    json_object_set_new(draft, "post_href",
                        is_web_link(json_string_at(draft, "post_url"))
                            ? json_string(json_string_at(draft, "post_url"))
                            : json_null());
}

/* People's names beside their ids. */
static void people_build(json_t *draft)
{
    static const char *const keys[] = {"agent", "invoker", "delegate"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *person = json_object_get(draft, keys[i]);
        char label[300];
        if (!json_is_object(person))
            continue;
        draft_person_label(json_string_at(person, "name"), json_string_at(person, "id"), label,
                           sizeof label);
        json_object_set_new(person, "label", json_string(label));
    }
}

/* The current revision's masked text, its preview, its source split at flags, and how many
 * secret values it holds (the Approve box says they will be published). */
static void current_build(json_t *draft, struct draft_secrets *secrets, const json_t *masked)
{
    const json_t *current = json_array_get(masked, json_array_size(masked) - 1);
    const json_t *flags = json_object_get(draft, "flags");
    const char *body = json_string_at(current, "body");
    char *preview = body ? render_markdown_safe(body, strlen(body)) : NULL;
    size_t secret_count = 0;
    json_t *spans;

    json_object_set_new(draft, "preview_html", json_string(preview ? preview : ""));
    free(preview);
    json_object_set_new(draft, "body_segments",
                        segments_build(secrets, json_string_at(draft, "body"), "body", flags));
    json_object_set_new(draft, "title_segments",
                        segments_build(secrets, json_string_at(draft, "title"), "title", flags));
    for (int f = 0; f < 2; f++) {
        const char *field = f ? "body" : "title";
        spans = draft_secrets_spans(field, json_string_at(draft, field), flags);
        secret_count += json_array_size(spans);
        json_decref(spans);
    }
    json_object_set_new(draft, "secret_count", json_integer((json_int_t)secret_count));
    json_object_set_new(draft, "secret_plural", json_boolean(secret_count != 1));
    json_object_set_new(draft, "masked_title",
                        json_object_get(current, "title")
                            ? json_incref(json_object_get(current, "title"))
                            : json_null());
    json_object_set_new(draft, "masked_body", json_string(body ? body : ""));
}

/* Copies `text` without Unicode direction controls (U+200E, U+200F, U+061C, U+202A-U+202E,
 * U+2066-U+2069), never cutting a UTF-8 sequence: a window title cannot isolate bidirectional
 * text. */
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

/* How often the page of an approval being released reloads itself (a meta refresh: the CSP
 * allows no script): soon after the decision often, later seldom (retries back off); 0 for
 * none. Moderators' views are not refreshed: each view of theirs is audited. */
static int refresh_seconds(const json_t *draft, const struct draft_view_input *input)
{
    const char *decided = json_string_at(draft, "decided_at");
    struct tm parts = {0};
    const char *end;
    long long age;

    if (!json_is_true(json_object_get(draft, "refresh")) || input->access->as_moderator || !decided)
        return 0;
    end = strptime(decided, "%Y-%m-%dT%H:%M:%SZ", &parts);
    age = end && !*end ? (long long)(input->now - timegm(&parts)) : 0;
    return age < 120 ? 3 : age < 900 ? 15 : 60;
}

json_t *draft_view_build(json_t *draft, const struct draft_view_input *input)
{
    char window_title[1300];
    struct draft_secrets secrets = {0};
    json_t *masked = draft_secrets_collect(draft, &secrets);
    const struct draft_access *access = input->access;
    const json_t *current;
    json_t *data;

    if (!masked) {
        draft_secrets_free(&secrets);
        return NULL;
    }
    current = json_array_get(masked, json_array_size(masked) - 1);
    current_build(draft, &secrets, masked);
    json_object_set_new(draft, "flag_list", flag_list_build(draft, &secrets, access->decide));
    json_object_set_new(draft, "flags_count",
                        json_integer((json_int_t)json_array_size(json_object_get(draft, "flags"))));
    json_object_set_new(draft, "context_items",
                        context_build(&secrets, json_object_get(draft, "context")));
    json_object_set_new(draft, "revision_list", revisions_build(masked, input->now));
    json_object_set_new(draft, "timeline_list",
                        timeline_build(&secrets, json_object_get(draft, "timeline"), input->now));
    if (json_string_at(draft, "decision_reason")) {
        char *reason = draft_secrets_mask_scanned(&secrets, "reason",
                                                  json_string_at(draft, "decision_reason"));
        json_object_set_new(draft, "decision_reason", reason ? json_string(reason) : json_null());
        free(reason);
    }
    json_object_set_new(
        draft, "attempt_list",
        attempts_build(json_incref(json_object_get(draft, "attempts")), input->now));
    json_object_set_new(draft, "has_attempts",
                        json_boolean(json_array_size(json_object_get(draft, "attempts")) > 0));
    json_object_set_new(draft, "is_new_topic", json_boolean(!json_string_at(draft, "topic_id")));
    where_build(draft);
    state_build(draft, access);
    people_build(draft);
    json_object_set_new(draft, "refresh_seconds", json_integer(refresh_seconds(draft, input)));
    page_times(draft, input->now,
               (const char *const[]){"created_at", "expires_at", "decided_at", NULL});
    text_copy_without_bidi(json_string_at(current, "title") ? json_string_at(current, "title")
                                                            : "Reply draft",
                           window_title, sizeof window_title);
    data = json_pack("{s:s, s:O, s:b, s:b, s:b, s:b, s:O}", "title", window_title, "draft", draft,
                     "can_decide", access->decide, "can_delegate", access->delegate,
                     "can_coapprove", access->coapprove, "as_moderator", access->as_moderator,
                     "layout_killswitch", input->killswitch);
    if (json_integer_value(json_object_get(draft, "refresh_seconds")) > 0)
        json_object_set(data, "refresh_seconds", json_object_get(draft, "refresh_seconds"));
    /* the raw texts stay out of the page: only masked forms are shown */
    json_object_del(draft, "timeline");
    json_object_del(draft, "revisions");
    json_object_del(draft, "attempts");
    json_object_set(draft, "title", json_object_get(draft, "masked_title"));
    json_object_set(draft, "body", json_object_get(draft, "masked_body"));
    json_object_del(draft, "context");
    json_decref(masked);
    draft_secrets_free(&secrets);
    return data;
}

void draft_view_list_item(json_t *item, time_t now)
{
    struct draft_secrets secrets = {0};
    const json_t *flags = json_object_get(item, "flags");
    const char *fields[] = {"title", "body"};
    char *excerpt = NULL;

    /* title first, then body: secrets numbered as on the draft page */
    for (size_t i = 0; i < 2; i++) {
        const char *text = json_string_at(item, fields[i]);
        json_t *spans = text ? draft_secrets_spans(fields[i], text, flags) : NULL;
        char *masked = spans ? draft_secrets_mask(&secrets, text, spans, NULL) : NULL;
        json_decref(spans);
        if (i == 0 && text)
            json_object_set_new(item, "title", masked ? json_string(masked) : json_null());
        else if (i == 1 && masked)
            excerpt = render_markdown_plain_excerpt(masked, strlen(masked), EXCERPT_CHARACTERS);
        free(masked);
    }
    json_object_set_new(item, "excerpt", json_string(excerpt ? excerpt : ""));
    free(excerpt);
    json_object_del(item, "body");
    json_object_del(item, "flags");
    json_object_set_new(item, "state_label",
                        json_string(state_word(json_string_at(item, "state"), false)));
    where_build(item);
    page_times(item, now, (const char *const[]){"created_at", "decided_at", NULL});
    draft_secrets_free(&secrets);
}
