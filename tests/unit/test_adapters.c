/*
 * The discourse and nodebb forum adapters, loaded as agentgate loads them (dlopen of
 * build/plugin/NAME.so, found beside this test binary): the exact platform request each makes for
 * an approved draft, the refusals, the routing of other events, and the reading of the
 * platform's answers, realistic or garbage.
 */
#include <check.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <agentgate/plugin.h>

#include "release/plugin_loader.h"
#include "unit.h"

#define BODY "Try `make clean` first.\n\nThen \"rebuild\" \xe2\x9c\x93"
/* BODY as a JSON string literal */
#define BODY_JSON "\"Try `make clean` first.\\n\\nThen \\\"rebuild\\\" \xe2\x9c\x93\""

static const struct agentgate_plugin *load_adapter(const char *name)
{
    char exe[PATH_MAX], path[PATH_MAX + 64];
    agentgate_plugin_entry_fn entry;
    const struct agentgate_plugin *plugin;
    ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash;
    void *handle;

    ck_assert_msg(length > 0, "cannot read /proc/self/exe");
    exe[length] = '\0';
    slash = strrchr(exe, '/');
    ck_assert_ptr_nonnull(slash);
    *slash = '\0';
    snprintf(path, sizeof path, "%s/plugin/%s.so", exe, name);
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(handle != NULL, "dlopen %s: %s", path, dlerror());
    entry = (agentgate_plugin_entry_fn)dlsym(handle, AGENTGATE_PLUGIN_ENTRY_SYMBOL);
    ck_assert_msg(entry != NULL, "%s has no %s", path, AGENTGATE_PLUGIN_ENTRY_SYMBOL);
    plugin = entry();
    ck_assert_ptr_nonnull(plugin);
    return plugin;
}

struct event_spec {
    const char *type;
    const char *agent_id, *agent_name; /* NULL: "42", "helperbot" */
    const char *topic_id, *reply_to, *category, *title;
};

static json_t *make_payload(const struct event_spec *e)
{
    json_t *payload = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s?, s:s?, s:s?, s:s?, s:s, "
        "s:n}, s:i, s:{s:s, s:s}, s:s, s:[]}}",
        "type", e->type, "timestamp", "2026-11-24T10:00:00Z", "data", "draft_id",
        "0f6c1d2e-8f3b-4c1a-9a57-2b1e0c9d7a11", "forum", "eng", "agent", "id",
        e->agent_id ? e->agent_id : "42", "name", e->agent_name ? e->agent_name : "helperbot",
        "invoker", "id", "1001", "name", "alice", "post", "topic_id", e->topic_id,
        "reply_to_post_id", e->reply_to, "category", e->category, "title", e->title, "body", BODY,
        "forum_ref", "revision", 2, "approved_by", "id", "1001", "name", "alice", "approved_at",
        "2026-11-24T09:59:00Z", "flags");
    ck_assert_ptr_nonnull(payload);
    return payload;
}

/* ---- prepare_release ---- */

struct prepare_case {
    const char *name, *adapter;
    struct event_spec event;
    const char *release_url, *forum_url, *api_key;
    enum agentgate_release_route route;
    /* for AGENTGATE_RELEASE_REQUEST */
    const char *url;
    const char *headers; /* "Name: value\n" each */
    const char *body;
    /* for AGENTGATE_RELEASE_ERROR */
    const char *failure_code;
};

#define APPROVED          "draft.approved"
#define DISCOURSE_URL     "https://forum.example.org/"
#define NODEBB_URL        "https://nodebb.example.org"
#define RELEASE_URL       "https://forum.example.org/agentgate/events"
#define REQ               AGENTGATE_RELEASE_REQUEST
#define ERR               AGENTGATE_RELEASE_ERROR
#define HOOK              AGENTGATE_RELEASE_WEBHOOK
#define SKIP              AGENTGATE_RELEASE_SKIP
#define DISCOURSE_HEADERS "Api-Key: key-abc\nApi-Username: helperbot\n"
#define NODEBB_HEADERS    "Authorization: Bearer tok-123\n"

static const struct prepare_case prepare_cases[] = {
    /* discourse */
    {"discourse reply",
     "discourse",
     {APPROVED, NULL, NULL, "5531", "88120", NULL, NULL},
     NULL,
     DISCOURSE_URL,
     "key-abc",
     REQ,
     "https://forum.example.org/posts.json",
     DISCOURSE_HEADERS,
     "{\"raw\": " BODY_JSON ", \"topic_id\": 5531}",
     NULL},
    {"discourse reply without reply_to",
     "discourse",
     {APPROVED, "bot-42", NULL, "7", NULL, NULL, NULL},
     RELEASE_URL,
     DISCOURSE_URL,
     "key-abc",
     REQ,
     "https://forum.example.org/posts.json",
     DISCOURSE_HEADERS,
     "{\"raw\": " BODY_JSON ", \"topic_id\": 7}",
     NULL},
    {"discourse new topic, numeric category",
     "discourse",
     {APPROVED, NULL, NULL, NULL, NULL, "7", "Build fails on arm64"},
     NULL,
     DISCOURSE_URL,
     "key-abc",
     REQ,
     "https://forum.example.org/posts.json",
     DISCOURSE_HEADERS,
     "{\"title\": \"Build fails on arm64\", \"raw\": " BODY_JSON ", \"category\": 7}",
     NULL},
    {"discourse new topic, named category",
     "discourse",
     {APPROVED, NULL, NULL, NULL, NULL, "infra", "Build fails"},
     NULL,
     "https://example.org/forum//",
     "key-abc",
     REQ,
     "https://example.org/forum/posts.json",
     DISCOURSE_HEADERS,
     "{\"title\": \"Build fails\", \"raw\": " BODY_JSON ", \"category\": \"infra\"}",
     NULL},
    {"discourse agent name is the Api-Username",
     "discourse",
     {APPROVED, NULL, "Help Bot", "5531", NULL, NULL, NULL},
     NULL,
     "http://127.0.0.1:4200",
     "key-abc",
     REQ,
     "http://127.0.0.1:4200/posts.json",
     "Api-Key: key-abc\nApi-Username: Help Bot\n",
     "{\"raw\": " BODY_JSON ", \"topic_id\": 5531}",
     NULL},
    {"discourse without forum_url",
     "discourse",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     NULL,
     "key-abc",
     ERR,
     NULL,
     NULL,
     NULL,
     "no_forum_url"},
    {"discourse without api key",
     "discourse",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     DISCOURSE_URL,
     NULL,
     ERR,
     NULL,
     NULL,
     NULL,
     "no_release_api_key"},
    {"discourse with empty api key",
     "discourse",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     DISCOURSE_URL,
     "",
     ERR,
     NULL,
     NULL,
     NULL,
     "no_release_api_key"},
    {"discourse api key with CRLF",
     "discourse",
     {APPROVED, NULL, "bot", "5531", NULL, NULL, NULL},
     NULL,
     DISCOURSE_URL,
     "key-abc\r\nApi-Username: system",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_release_api_key"},
    {"discourse non-digit topic id",
     "discourse",
     {APPROVED, NULL, NULL, "5531/../../admin", NULL, NULL, NULL},
     NULL,
     DISCOURSE_URL,
     "key-abc",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_topic_id"},
    {"discourse forum_url not http",
     "discourse",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     "ftp://forum.example.org",
     "key-abc",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_forum_url"},
    {"discourse forum_url with a query",
     "discourse",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     "https://forum.example.org/?x=1",
     "key-abc",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_forum_url"},
    {"discourse agent name with CRLF",
     "discourse",
     {APPROVED, NULL, "bot\r\nApi-Username: system", "5531", NULL, NULL, NULL},
     NULL,
     DISCOURSE_URL,
     "key-abc",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_header_value"},
    {"discourse rejected with release_url",
     "discourse",
     {"draft.rejected", NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     DISCOURSE_URL,
     "key-abc",
     HOOK,
     NULL,
     NULL,
     NULL,
     NULL},
    {"discourse expiring with release_url",
     "discourse",
     {"draft.expiring", NULL, NULL, NULL, NULL, "7", "T"},
     RELEASE_URL,
     NULL,
     NULL,
     HOOK,
     NULL,
     NULL,
     NULL,
     NULL},
    {"discourse expired without release_url",
     "discourse",
     {"draft.expired", NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     DISCOURSE_URL,
     "key-abc",
     SKIP,
     NULL,
     NULL,
     NULL,
     NULL},
    {"discourse revoked without release_url",
     "discourse",
     {"draft.revoked", NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     NULL,
     NULL,
     SKIP,
     NULL,
     NULL,
     NULL,
     NULL},
    /* nodebb */
    {"nodebb reply to a post",
     "nodebb",
     {APPROVED, NULL, NULL, "5531", "88120", NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok-123",
     REQ,
     "https://nodebb.example.org/api/v3/topics/5531",
     NODEBB_HEADERS,
     "{\"content\": " BODY_JSON ", \"_uid\": 42, \"toPid\": 88120}",
     NULL},
    {"nodebb reply to the topic",
     "nodebb",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     "https://example.org/community/",
     "tok-123",
     REQ,
     "https://example.org/community/api/v3/topics/5531",
     NODEBB_HEADERS,
     "{\"content\": " BODY_JSON ", \"_uid\": 42}",
     NULL},
    {"nodebb new topic",
     "nodebb",
     {APPROVED, "7", NULL, NULL, NULL, "12", "Build fails"},
     NULL,
     NODEBB_URL "/",
     "tok-123",
     REQ,
     "https://nodebb.example.org/api/v3/topics",
     NODEBB_HEADERS,
     "{\"cid\": 12, \"title\": \"Build fails\", \"content\": " BODY_JSON ", \"_uid\": 7}",
     NULL},
    {"nodebb path traversal topic id",
     "nodebb",
     {APPROVED, NULL, NULL, "../users/1", NULL, NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok-123",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_topic_id"},
    {"nodebb encoded topic id",
     "nodebb",
     {APPROVED, NULL, NULL, "55%2F1", NULL, NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok-123",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_topic_id"},
    {"nodebb topic id with query",
     "nodebb",
     {APPROVED, NULL, NULL, "5531?x=1", NULL, NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok-123",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_topic_id"},
    {"nodebb without forum_url",
     "nodebb",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     NULL,
     "tok-123",
     ERR,
     NULL,
     NULL,
     NULL,
     "no_forum_url"},
    {"nodebb without api key",
     "nodebb",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     NODEBB_URL,
     NULL,
     ERR,
     NULL,
     NULL,
     NULL,
     "no_release_api_key"},
    {"nodebb agent id not a uid",
     "nodebb",
     {APPROVED, "bot-42", NULL, "5531", NULL, NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok-123",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_event"},
    {"nodebb new topic without category",
     "nodebb",
     {APPROVED, NULL, NULL, NULL, NULL, NULL, "Build fails"},
     NULL,
     NODEBB_URL,
     "tok-123",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_event"},
    {"nodebb api key with newline",
     "nodebb",
     {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok\nX-Evil: 1",
     ERR,
     NULL,
     NULL,
     NULL,
     "invalid_release_api_key"},
    {"nodebb revoked with release_url",
     "nodebb",
     {"draft.revoked", NULL, NULL, "5531", NULL, NULL, NULL},
     RELEASE_URL,
     NODEBB_URL,
     "tok-123",
     HOOK,
     NULL,
     NULL,
     NULL,
     NULL},
    {"nodebb rejected without release_url",
     "nodebb",
     {"draft.rejected", NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     NODEBB_URL,
     "tok-123",
     SKIP,
     NULL,
     NULL,
     NULL,
     NULL},
    {"nodebb expiring without anything",
     "nodebb",
     {"draft.expiring", NULL, NULL, "5531", NULL, NULL, NULL},
     NULL,
     NULL,
     NULL,
     SKIP,
     NULL,
     NULL,
     NULL,
     NULL},
};

START_TEST(prepare_release_cases)
{
    const struct prepare_case *c = &prepare_cases[_i];
    const struct agentgate_plugin *plugin = load_adapter(c->adapter);
    struct agentgate_forum_settings forum = {"eng", c->release_url, c->forum_url, c->api_key};
    struct agentgate_failure failure = {0};
    struct agentgate_http_request request, again;
    json_t *payload = make_payload(&c->event), *expected;
    struct agentgate_event event = {c->event.type, "msg_2x6Jd4", payload};
    enum agentgate_release_route route;
    char headers[AGENTGATE_HTTP_HEADERS_MAX * 1100] = "";
    size_t used = 0;

    memset(&request, 0, sizeof request);
    route = plugin->prepare_release(&plugin_host, &forum, &event, &request, &failure);
    ck_assert_msg(route == c->route, "%s: route %d, expected %d (%s: %s)", c->name, (int)route,
                  (int)c->route, failure.code, failure.message);
    if (route == ERR) {
        ck_assert_str_eq(failure.code, c->failure_code);
        ck_assert_msg(failure.message[0] != '\0', "%s: no failure message", c->name);
    }
    if (route != REQ) {
        ck_assert_msg(request.body == NULL, "%s: a body without a request", c->name);
        json_decref(payload);
        return;
    }

    ck_assert_str_eq(request.method, "POST");
    ck_assert_str_eq(request.url, c->url);
    for (size_t i = 0; i < request.header_count && i < AGENTGATE_HTTP_HEADERS_MAX; i++)
        used += (size_t)snprintf(headers + used, sizeof headers - used, "%s: %s\n",
                                 request.headers[i][0], request.headers[i][1]);
    ck_assert_uint_le(request.header_count, AGENTGATE_HTTP_HEADERS_MAX);
    ck_assert_str_eq(headers, c->headers);
    expected = json_loads(c->body, 0, NULL);
    ck_assert_ptr_nonnull(expected);
    ck_assert_msg(json_equal(request.body, expected), "%s: body %s", c->name,
                  json_dumps(request.body, JSON_SORT_KEYS));

    /* deterministic over retries */
    memset(&again, 0, sizeof again);
    ck_assert(plugin->prepare_release(&plugin_host, &forum, &event, &again, &failure) == REQ);
    ck_assert_str_eq(again.url, request.url);
    ck_assert(json_equal(again.body, request.body));

    json_decref(again.body);
    json_decref(request.body);
    json_decref(expected);
    json_decref(payload);
}
END_TEST

/* A forum_url near the 2048-byte URL limit: what no longer fits is refused, never cut. */
START_TEST(overlong_url_is_refused)
{
    static const char *const adapters[] = {"discourse", "nodebb"};
    const struct agentgate_plugin *plugin = load_adapter(adapters[_i]);
    char forum_url[2047];
    struct agentgate_forum_settings forum = {"eng", NULL, forum_url, "key"};
    struct event_spec spec = {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL};
    json_t *payload = make_payload(&spec);
    struct agentgate_event event = {APPROVED, "msg_1", payload};
    struct agentgate_failure failure = {0};
    struct agentgate_http_request request;

    memcpy(forum_url, "https://", 8);
    memset(forum_url + 8, 'a', sizeof forum_url - 9);
    forum_url[sizeof forum_url - 1] = '\0';
    memset(&request, 0, sizeof request);
    ck_assert(plugin->prepare_release(&plugin_host, &forum, &event, &request, &failure) == ERR);
    ck_assert_str_eq(failure.code, "url_too_long");
    ck_assert_ptr_null(request.body);
    json_decref(payload);
}
END_TEST

/* A header value that does not fit 512 bytes is refused, never cut. */
START_TEST(overlong_header_is_refused)
{
    char name[600], key[600];
    struct event_spec spec = {APPROVED, NULL, name, "5531", NULL, NULL, NULL};
    json_t *payload;
    struct agentgate_failure failure = {0};
    struct agentgate_http_request request;
    struct agentgate_event event;
    const struct agentgate_plugin *plugin;

    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    payload = make_payload(&spec);
    event = (struct agentgate_event){APPROVED, "msg_1", payload};

    plugin = load_adapter("discourse");
    memset(&request, 0, sizeof request);
    ck_assert(plugin->prepare_release(
                  &plugin_host,
                  &(struct agentgate_forum_settings){"eng", NULL, DISCOURSE_URL, "key-abc"}, &event,
                  &request, &failure) == ERR);
    ck_assert_str_eq(failure.code, "header_too_long");
    ck_assert_ptr_null(request.body);

    plugin = load_adapter("nodebb");
    memset(&request, 0, sizeof request);
    ck_assert(plugin->prepare_release(
                  &plugin_host, &(struct agentgate_forum_settings){"eng", NULL, NODEBB_URL, key},
                  &event, &request, &failure) == ERR);
    ck_assert_str_eq(failure.code, "header_too_long");
    ck_assert_ptr_null(request.body);
    json_decref(payload);
}
END_TEST

/* ---- read_release_answer ---- */

struct read_case {
    const char *name, *adapter, *event_type, *topic_id, *forum_url;
    const char *body;
    bool published;
    const char *post_id, *post_url;
};

#define DISCOURSE_POST                                                                             \
    "{\"id\": 88131, \"name\": null, \"username\": \"helperbot\", \"avatar_template\": "           \
    "\"/user_avatar/forum.example.org/helperbot/{size}/3_2.png\", \"created_at\": "                \
    "\"2026-11-24T10:00:02.118Z\", \"raw\": \"Try make clean\", \"cooked\": \"<p>Try make "        \
    "clean</p>\", \"post_number\": 12, \"post_type\": 1, \"updated_at\": "                         \
    "\"2026-11-24T10:00:02.118Z\", \"reply_count\": 0, \"reply_to_post_number\": null, "           \
    "\"quote_count\": 0, \"incoming_link_count\": 0, \"reads\": 0, \"readers_count\": 0, "         \
    "\"score\": 0, \"yours\": true, \"topic_id\": 5531, \"topic_slug\": "                          \
    "\"build-fails-on-arm64\", \"display_username\": null, \"version\": 1, \"can_edit\": true, "   \
    "\"can_delete\": false, \"user_id\": 57, \"draft_sequence\": 0, \"hidden\": false, "           \
    "\"trust_level\": 1, \"deleted_at\": null, \"user_deleted\": false, \"wiki\": false}"

#define NODEBB_REPLY                                                                               \
    "{\"status\": {\"code\": \"ok\", \"message\": \"OK\"}, \"response\": {\"pid\": 88131, "        \
    "\"tid\": 5531, \"toPid\": 88120, \"url\": \"https://nodebb.example.org/post/88131\", "        \
    "\"content\": \"<p>Try make clean</p>\", \"uid\": 42, \"timestamp\": 1795514402118, "          \
    "\"deleted\": false, \"upvotes\": 0, \"downvotes\": 0, \"votes\": 0, \"timestampISO\": "       \
    "\"2026-11-24T10:00:02.118Z\", \"user\": {\"uid\": 42, \"username\": \"helperbot\", "          \
    "\"userslug\": \"helperbot\"}, \"topic\": {\"uid\": 3, \"tid\": 5531, \"title\": \"Build "     \
    "fails\", \"cid\": 12, \"slug\": \"5531/build-fails\"}, \"isMainPost\": false, \"replies\": "  \
    "0}}"

#define NODEBB_TOPIC                                                                               \
    "{\"status\": {\"code\": \"ok\", \"message\": \"OK\"}, \"response\": {\"tid\": 5600, "         \
    "\"uid\": 42, \"cid\": 12, \"title\": \"Build fails\", \"slug\": \"5600/build-fails\", "       \
    "\"mainPid\": 88140, \"postcount\": 1, \"viewcount\": 0, \"timestamp\": 1795514402118, "       \
    "\"mainPost\": {\"pid\": 88140, \"tid\": 5600, \"uid\": 42, \"content\": \"<p>x</p>\"}}}"

static const struct read_case read_cases[] = {
    /* discourse */
    {"discourse created reply", "discourse", APPROVED, "5531", DISCOURSE_URL, DISCOURSE_POST, true,
     "88131", "https://forum.example.org/t/build-fails-on-arm64/5531/12"},
    {"discourse created topic", "discourse", APPROVED, NULL, "https://example.org/forum",
     "{\"id\": 901, \"topic_id\": 77, \"topic_slug\": \"build-fails\", \"post_number\": 1, "
     "\"raw\": \"x\", \"username\": \"helperbot\"}",
     true, "901", "https://example.org/forum/t/build-fails/77/1"},
    {"discourse answer without slug", "discourse", APPROVED, "5531", DISCOURSE_URL,
     "{\"id\": 88131, \"topic_id\": 5531, \"post_number\": 12}", true, "88131",
     "https://forum.example.org/p/88131"},
    {"discourse answer with string numbers", "discourse", APPROVED, "5531", DISCOURSE_URL,
     "{\"id\": \"88131\", \"topic_id\": \"5531\", \"topic_slug\": \"x\", \"post_number\": "
     "\"3\"}",
     true, "88131", "https://forum.example.org/t/x/5531/3"},
    {"discourse hostile slug stays one segment", "discourse", APPROVED, "5531", DISCOURSE_URL,
     "{\"id\": 5, \"topic_id\": 5531, \"topic_slug\": \"../a b/\\\"<x>\", \"post_number\": 2}",
     true, "5", "https://forum.example.org/t/..%2Fa%20b%2F%22%3Cx%3E/5531/2"},
    {"discourse enqueued for review", "discourse", APPROVED, "5531", DISCOURSE_URL,
     "{\"action\": \"enqueued\", \"pending_post\": {\"id\": 14, \"raw\": \"x\"}, "
     "\"pending_count\": 1, \"success\": true}",
     false, "", ""},
    {"discourse empty body", "discourse", APPROVED, "5531", DISCOURSE_URL, "", true, "", ""},
    {"discourse garbage body", "discourse", APPROVED, "5531", DISCOURSE_URL,
     "<html><body>Bad Gateway</body></html>", true, "", ""},
    {"discourse JSON array", "discourse", APPROVED, "5531", DISCOURSE_URL, "[1, 2]", true, "", ""},
    {"discourse id of wrong type", "discourse", APPROVED, "5531", DISCOURSE_URL,
     "{\"id\": {\"x\": 1}, \"topic_id\": 5531, \"topic_slug\": \"x\", \"post_number\": 2}", true,
     "", ""},
    {"discourse webhook answer for other events", "discourse", "draft.rejected", "5531",
     DISCOURSE_URL, "{\"post_id\": \"p1\", \"post_url\": \"https://f/p1\"}", true, "p1",
     "https://f/p1"},
    /* nodebb */
    {"nodebb created reply", "nodebb", APPROVED, "5531", NODEBB_URL, NODEBB_REPLY, true, "88131",
     "https://nodebb.example.org/post/88131"},
    {"nodebb created topic", "nodebb", APPROVED, NULL, "https://example.org/community/",
     NODEBB_TOPIC, true, "88140", "https://example.org/community/post/88140"},
    {"nodebb topic answer with mainPost only", "nodebb", APPROVED, NULL, NODEBB_URL,
     "{\"status\": {\"code\": \"ok\", \"message\": \"OK\"}, \"response\": {\"tid\": 1, "
     "\"mainPost\": {\"pid\": 9}}}",
     true, "9", "https://nodebb.example.org/post/9"},
    {"nodebb error status", "nodebb", APPROVED, "5531", NODEBB_URL,
     "{\"status\": {\"code\": \"bad-request\", \"message\": \"Topic does not exist\"}, "
     "\"response\": {}}",
     false, "", ""},
    {"nodebb topic queued (202 accepted)", "nodebb", APPROVED, NULL, NODEBB_URL,
     "{\"status\": {\"code\": \"accepted\", \"message\": \"Accepted\"}, \"response\": {\"id\": "
     "\"topic-a1b2\", \"type\": \"topic\", \"queued\": true, \"message\": "
     "\"[[success:post-queued]]\"}}",
     false, "", ""},
    {"nodebb reply queued", "nodebb", APPROVED, "5531", NODEBB_URL,
     "{\"status\": {\"code\": \"ok\", \"message\": \"OK\"}, \"response\": {\"id\": "
     "\"reply-c3d4\", \"type\": \"reply\", \"queued\": true, \"message\": "
     "\"[[success:post-queued]]\"}}",
     false, "", ""},
    {"nodebb ok without pid", "nodebb", APPROVED, "5531", NODEBB_URL,
     "{\"status\": {\"code\": \"ok\", \"message\": \"OK\"}, \"response\": {}}", true, "", ""},
    {"nodebb empty body", "nodebb", APPROVED, "5531", NODEBB_URL, "", true, "", ""},
    {"nodebb garbage body", "nodebb", APPROVED, "5531", NODEBB_URL, "\x01\xff{{not json", true, "",
     ""},
    {"nodebb status not an object", "nodebb", APPROVED, "5531", NODEBB_URL,
     "{\"status\": \"ok\", \"response\": {\"pid\": 3}}", true, "3",
     "https://nodebb.example.org/post/3"},
    {"nodebb webhook answer for other events", "nodebb", "draft.expired", "5531", NODEBB_URL,
     "{\"post_id\": 17}", true, "17", ""},
};

START_TEST(read_release_answer_cases)
{
    const struct read_case *c = &read_cases[_i];
    const struct agentgate_plugin *plugin = load_adapter(c->adapter);
    struct agentgate_forum_settings forum = {"eng", NULL, c->forum_url, "key"};
    struct event_spec spec = {c->event_type,
                              NULL,
                              NULL,
                              c->topic_id,
                              NULL,
                              c->topic_id ? NULL : "12",
                              c->topic_id ? NULL : "Build fails"};
    json_t *payload = make_payload(&spec);
    struct agentgate_event event = {c->event_type, "msg_1", payload};
    char post_id[128], post_url[2048];
    bool published;

    memset(post_id, 'X', sizeof post_id);
    memset(post_url, 'X', sizeof post_url);
    published = plugin->read_release_answer(&forum, &event, 200, c->body, strlen(c->body), post_id,
                                            sizeof post_id, post_url, sizeof post_url);
    ck_assert_msg(published == c->published, "%s: published %d", c->name, published);
    ck_assert_str_eq(post_id, c->post_id);
    ck_assert_str_eq(post_url, c->post_url);
    json_decref(payload);
}
END_TEST

/* Small buffers: values that do not fit come back empty, not cut; nothing overflows. */
START_TEST(small_buffers_get_no_cut_values)
{
    const struct agentgate_plugin *plugin = load_adapter(_i == 0 ? "discourse" : "nodebb");
    struct agentgate_forum_settings forum = {"eng", NULL, "https://forum.example.org", "key"};
    struct event_spec spec = {APPROVED, NULL, NULL, "5531", NULL, NULL, NULL};
    json_t *payload = make_payload(&spec);
    struct agentgate_event event = {APPROVED, "msg_1", payload};
    const char *body = _i == 0 ? DISCOURSE_POST : NODEBB_REPLY;
    char post_id[4], post_url[16];

    ck_assert(plugin->read_release_answer(&forum, &event, 200, body, strlen(body), post_id,
                                          sizeof post_id, post_url, sizeof post_url));
    ck_assert_str_eq(post_id, "");
    ck_assert_str_eq(post_url, "");
    json_decref(payload);
}
END_TEST

/* ---- the plugin record and intake ---- */

START_TEST(entry_and_intake)
{
    static const char *const names[] = {"discourse", "nodebb"};
    const struct agentgate_plugin *plugin = load_adapter(names[_i]);
    const char *text = "{\"agent\": {\"id\": \"42\", \"name\": \"helperbot\"}, \"invoker\": "
                       "{\"id\": \"1001\", \"name\": \"alice\"}, \"post\": {\"topic_id\": "
                       "\"5531\", \"body\": \"hello\"}}";
    json_t *root = json_loads(text, 0, NULL);
    struct agentgate_intake intake;
    struct agentgate_failure failure = {0};

    ck_assert_uint_eq(plugin->abi_version, AGENTGATE_PLUGIN_ABI_VERSION);
    ck_assert_str_eq(plugin->name, names[_i]);
    ck_assert_ptr_nonnull(plugin->decode_intake);
    ck_assert_ptr_nonnull(plugin->prepare_release);
    ck_assert_ptr_nonnull(plugin->read_release_answer);
    ck_assert_msg(plugin->decode_intake(&plugin_host, root, &intake, &failure), "%s: %s",
                  failure.code, failure.message);
    ck_assert_str_eq(intake.agent_name, "helperbot");
    ck_assert_str_eq(intake.topic_id, "5531");
    json_decref(root);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("adapters", "core", &tc);

    tcase_add_loop_test(tc, prepare_release_cases, 0,
                        sizeof prepare_cases / sizeof prepare_cases[0]);
    tcase_add_loop_test(tc, overlong_url_is_refused, 0, 2);
    tcase_add_test(tc, overlong_header_is_refused);
    tcase_add_loop_test(tc, read_release_answer_cases, 0, sizeof read_cases / sizeof read_cases[0]);
    tcase_add_loop_test(tc, small_buffers_get_no_cut_values, 0, 2);
    tcase_add_loop_test(tc, entry_and_intake, 0, 2);
    return unit_run(suite);
}
