/*
 * agentgate forum adapter ABI.
 *
 * A forum adapter is a shared object that agentgate loads with dlopen() by the
 * name given in `adapter =` of a `[forum NAME]` section. It holds what differs
 * between forum platforms and nothing else: how an intake request body maps to
 * a held post, and how an event (an approved post above all) reaches the forum.
 *
 * ABI history: 1 intake only; 2 adds prepare_release and read_release_answer; 3 adds the
 * reply's topic_title and topic_url to struct agentgate_intake.
 *
 * The adapter exports one symbol, AGENTGATE_PLUGIN_ENTRY_SYMBOL, a function
 * returning a pointer to a static `struct agentgate_plugin`. agentgate refuses
 * to load an adapter whose `abi_version` differs from the one it was built
 * with, so an incompatible adapter fails at start-up, never at request time.
 *
 * Threading: the decode functions are called concurrently from several HTTP
 * threads; they must not keep mutable global state.
 *
 * Ownership: every pointer an adapter writes into `struct agentgate_intake`
 * is borrowed from the `json_t` tree it was given and is valid for as long as
 * that tree; adapters allocate nothing that agentgate must free.
 */
#ifndef AGENTGATE_PLUGIN_H
#define AGENTGATE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of the structures below. */
#define AGENTGATE_PLUGIN_ABI_VERSION 3u

#define AGENTGATE_PLUGIN_ENTRY_SYMBOL "agentgate_plugin_entry"

/* Types a declared JSON field may have. */
enum agentgate_json_type {
    AGENTGATE_JSON_STRING,
    AGENTGATE_JSON_OBJECT,
    AGENTGATE_JSON_STRING_ARRAY, /* max_length bounds each string; at most 64 items */
    AGENTGATE_JSON_INTEGER,      /* min_length..max_length bound the value */
};

/*
 * One field of a declared request shape. `path` is dotted from the root
 * ("post.title"). Objects must be declared before their members. A string's
 * `max_length` counts Unicode code points; `min_length` 1 makes it non-empty.
 * Keys not declared under a declared object are refused.
 */
struct agentgate_json_field {
    const char *path;
    enum agentgate_json_type type;
    bool required;
    size_t min_length;
    size_t max_length;
};

/* Why an adapter refused a request: the HTTP answer is 400 unless `status` says else. */
struct agentgate_failure {
    int status;     /* 0 means 400 */
    char code[48];  /* snake_case, e.g. "missing_field" */
    char field[96]; /* dotted path of the offending field, or "" */
    char message[160];
};

/* A held post, normalised. NULL means absent. Strings are valid UTF-8 without NUL. */
struct agentgate_intake {
    const char *agent_id;
    const char *agent_name;
    const char *invoker_id;
    const char *invoker_name;
    const char *topic_id;
    const char *reply_to_post_id;
    const char *category;
    const char *title;
    const char *body;
    const char *forum_ref;
    json_t *context;         /* borrowed object of strings, or NULL */
    const char *topic_title; /* a reply's topic, shown to the approver; or NULL */
    const char *topic_url;
};

/* The [forum NAME] settings an adapter may use to reach the forum. Secrets used for signing stay
 * with agentgate; the API key is given because platform APIs need it. */
struct agentgate_forum_settings {
    const char *name;
    const char *release_url;     /* or NULL */
    const char *forum_url;       /* or NULL */
    const char *release_api_key; /* or NULL */
};

/* One event for the forum (CONTRACT §5), as agentgate would send it to release_url. */
struct agentgate_event {
    const char *type;       /* "draft.approved", "draft.rejected", "draft.expired", ... */
    const char *webhook_id; /* the same over every retry of this event */
    const json_t *payload;  /* {"type", "timestamp", "data": {...}} */
};

#define AGENTGATE_HTTP_HEADERS_MAX 8

/* A request an adapter asks agentgate to send instead of the signed webhook. */
struct agentgate_http_request {
    char method[8]; /* "POST" */
    char url[2048]; /* absolute http(s) URL */
    json_t *body;   /* new reference, sent as JSON; agentgate releases it */
    size_t header_count;
    char headers[AGENTGATE_HTTP_HEADERS_MAX][2][512]; /* name, value */
};

enum agentgate_release_route {
    AGENTGATE_RELEASE_WEBHOOK, /* POST the signed event to release_url (the generic way) */
    AGENTGATE_RELEASE_REQUEST, /* send the adapter's request (a platform API call) */
    AGENTGATE_RELEASE_SKIP,    /* the forum need not hear of this event */
    AGENTGATE_RELEASE_ERROR,   /* cannot be delivered (failure says why); not retried */
};

/* What agentgate offers an adapter. */
struct agentgate_host {
    uint32_t abi_version;
    /*
     * Checks `root` against `fields` (n entries): types, presence, lengths,
     * unknown keys. Returns true when it conforms; otherwise fills `failure`
     * (code, field, message) and returns false.
     */
    bool (*json_check)(const json_t *root, const struct agentgate_json_field *fields, size_t n,
                       struct agentgate_failure *failure);
};

struct agentgate_plugin {
    uint32_t abi_version; /* AGENTGATE_PLUGIN_ABI_VERSION */
    const char *name;     /* the adapter's name, as written in the config */
    /*
     * Maps a parsed intake request body (`root`, a JSON object that agentgate
     * parsed with duplicate keys refused and nesting bounded) to `out`.
     * Returns true on success; otherwise fills `failure` and returns false.
     */
    bool (*decode_intake)(const struct agentgate_host *host, const json_t *root,
                          struct agentgate_intake *out, struct agentgate_failure *failure);
    /*
     * Decides how `event` reaches the forum; for AGENTGATE_RELEASE_REQUEST fills `request`
     * (zeroed by agentgate). Called from the delivery worker, possibly several times for one
     * event (retries): it must be deterministic and have no side effects.
     */
    enum agentgate_release_route (*prepare_release)(const struct agentgate_host *host,
                                                    const struct agentgate_forum_settings *forum,
                                                    const struct agentgate_event *event,
                                                    struct agentgate_http_request *request,
                                                    struct agentgate_failure *failure);
    /*
     * Reads the forum's 2xx answer to a delivered draft.approved: the published post's id and
     * URL, written NUL-terminated into the buffers ("" when unknown). `body` may be empty or
     * not JSON. Returns false only when the answer shows the post was NOT published.
     */
    bool (*read_release_answer)(const struct agentgate_forum_settings *forum,
                                const struct agentgate_event *event, long status, const char *body,
                                size_t body_length, char *post_id, size_t post_id_size,
                                char *post_url, size_t post_url_size);
};

typedef const struct agentgate_plugin *(*agentgate_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif
