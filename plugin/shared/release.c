/*
 * Helpers for adapters that call a platform's API (compiled into each adapter): checking ids
 * that go into URL paths, the forum's base URL and header values, and building the request
 * (settings, URL, headers) with a failure that says what is wrong. Nothing is ever cut to fit:
 * what does not fit is refused.
 */
#include "plugin_shared.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool agentgate_shared_all_digits(const char *text)
{
    if (!text || !*text)
        return false;
    for (; *text; text++)
        if (*text < '0' || *text > '9')
            return false;
    return true;
}

json_t *agentgate_shared_id_value(const char *text, size_t max_digits)
{
    if (agentgate_shared_all_digits(text) && strlen(text) <= max_digits)
        return json_integer(strtoll(text, NULL, 10));
    return json_string(text);
}

/*
 * Copies forum_url without its trailing slashes into `out`. Refuses what is not an absolute
 * http(s) URL a path can be appended to: control characters, spaces, a query or a fragment.
 */
bool agentgate_shared_base_url(const char *forum_url, char *out, size_t size)
{
    size_t scheme, length;

    if (!forum_url)
        return false;
    if (strncmp(forum_url, "https://", 8) == 0)
        scheme = 8;
    else if (strncmp(forum_url, "http://", 7) == 0)
        scheme = 7;
    else
        return false;
    for (const char *c = forum_url; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '?' || *c == '#')
            return false;
    length = strlen(forum_url);
    while (length > scheme && forum_url[length - 1] == '/')
        length--;
    if (length <= scheme || length >= size) /* no host left, or too long */
        return false;
    memcpy(out, forum_url, length);
    out[length] = '\0';
    return true;
}

/* Header values must not carry CR, LF or other control characters (header injection). */
bool agentgate_shared_header_value_safe(const char *value)
{
    for (; *value; value++)
        if ((unsigned char)*value < 0x20 || *value == 0x7f)
            return false;
    return true;
}

void agentgate_shared_fail(struct agentgate_failure *failure, const char *code, const char *field,
                           const char *format, ...)
{
    va_list args;

    snprintf(failure->code, sizeof failure->code, "%s", code);
    snprintf(failure->field, sizeof failure->field, "%s", field);
    va_start(args, format);
    vsnprintf(failure->message, sizeof failure->message, format, args);
    va_end(args);
}

bool agentgate_shared_api_base(const struct agentgate_forum_settings *forum, const char *platform,
                               char *base, size_t size, struct agentgate_failure *failure)
{
    if (!forum->forum_url || !*forum->forum_url) {
        agentgate_shared_fail(failure, "no_forum_url", "",
                              "forum %s has no forum_url to publish to %s", forum->name, platform);
        return false;
    }
    if (!forum->release_api_key || !*forum->release_api_key) {
        agentgate_shared_fail(failure, "no_release_api_key", "",
                              "forum %s has no release_api_key for the %s API", forum->name,
                              platform);
        return false;
    }
    if (!agentgate_shared_header_value_safe(forum->release_api_key)) {
        agentgate_shared_fail(failure, "invalid_release_api_key", "",
                              "forum %s: release_api_key has control characters", forum->name);
        return false;
    }
    if (!agentgate_shared_base_url(forum->forum_url, base, size)) {
        agentgate_shared_fail(failure, "invalid_forum_url", "",
                              "forum %s: forum_url is not an absolute http(s) URL without query",
                              forum->name);
        return false;
    }
    return true;
}

bool agentgate_shared_set_url(struct agentgate_http_request *request,
                              const struct agentgate_forum_settings *forum,
                              struct agentgate_failure *failure, const char *format, ...)
{
    va_list args;
    int written;

    va_start(args, format);
    written = vsnprintf(request->url, sizeof request->url, format, args);
    va_end(args);
    if (written < 0 || (size_t)written >= sizeof request->url) {
        request->url[0] = '\0';
        agentgate_shared_fail(failure, "url_too_long", "", "forum %s: the API URL does not fit",
                              forum->name);
        return false;
    }
    return true;
}

bool agentgate_shared_add_header(struct agentgate_http_request *request, const char *name,
                                 const char *value, struct agentgate_failure *failure)
{
    int written;

    if (!agentgate_shared_header_value_safe(value)) {
        agentgate_shared_fail(failure, "invalid_header_value", "",
                              "the %s header value has control characters", name);
        return false;
    }
    if (request->header_count >= AGENTGATE_HTTP_HEADERS_MAX) {
        agentgate_shared_fail(failure, "too_many_headers", "", "no room for the %s header", name);
        return false;
    }
    snprintf(request->headers[request->header_count][0], sizeof request->headers[0][0], "%s", name);
    written = snprintf(request->headers[request->header_count][1], sizeof request->headers[0][1],
                       "%s", value);
    if (written < 0 || (size_t)written >= sizeof request->headers[0][1]) {
        agentgate_shared_fail(failure, "header_too_long", "", "the %s header value is too long",
                              name);
        return false;
    }
    request->header_count++;
    return true;
}

bool agentgate_shared_approved(const struct agentgate_event *event)
{
    return event && event->type && strcmp(event->type, "draft.approved") == 0;
}

bool agentgate_shared_post_read(const struct agentgate_event *event,
                                struct agentgate_shared_post *post, const char *topic_id_refusal,
                                struct agentgate_failure *failure)
{
    const json_t *fields = json_object_get(json_object_get(event->payload, "data"), "post");

    post->topic_id = agentgate_shared_string(fields, "topic_id");
    post->reply_to = agentgate_shared_string(fields, "reply_to_post_id");
    post->category = agentgate_shared_string(fields, "category");
    post->title = agentgate_shared_string(fields, "title");
    post->body = agentgate_shared_string(fields, "body");
    if (!post->body || !*post->body) {
        agentgate_shared_fail(failure, "invalid_event", "post.body", "the event has no post body");
        return false;
    }
    if (post->topic_id && !agentgate_shared_all_digits(post->topic_id)) {
        agentgate_shared_fail(failure, "invalid_topic_id", "post.topic_id", "%s", topic_id_refusal);
        return false;
    }
    return true;
}

json_t *agentgate_shared_answer_object(const char *body, size_t body_length, char *post_id,
                                       size_t post_id_size, char *post_url, size_t post_url_size)
{
    json_t *answer;

    if (post_id_size)
        post_id[0] = '\0';
    if (post_url_size)
        post_url[0] = '\0';
    answer = body && body_length ? json_loadb(body, body_length, 0, NULL) : NULL;
    if (!json_is_object(answer)) {
        json_decref(answer);
        return NULL;
    }
    return answer;
}
