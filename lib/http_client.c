/* libcurl-based outbound requests; see http_client.h. */
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "text.h"

struct http_client {
    CURL *curl;
    long connect_timeout_ms;
    long timeout_ms;
    char user_agent[64];
};

struct answer {
    struct http_client_result *result;
    size_t capacity;
};

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
    struct answer *answer = user;
    struct http_client_result *result = answer->result;
    size_t length = size * count;

    if (result->body_length + length > HTTP_CLIENT_ANSWER_MAX)
        length = HTTP_CLIENT_ANSWER_MAX - result->body_length; /* keep the head, drop the rest */
    if (length == 0)
        return size * count;
    if (result->body_length + length + 1 > answer->capacity) {
        size_t capacity = answer->capacity ? answer->capacity * 2 : 4096;
        char *grown;
        while (capacity < result->body_length + length + 1)
            capacity *= 2;
        grown = realloc(result->body, capacity);
        if (!grown)
            return 0;
        result->body = grown;
        answer->capacity = capacity;
    }
    memcpy(result->body + result->body_length, data, length);
    result->body_length += length;
    result->body[result->body_length] = '\0';
    return size * count;
}

static void header_value(const char *line, size_t length, char *out, size_t out_size)
{
    const char *colon = memchr(line, ':', length);
    const char *value;
    size_t value_length;

    out[0] = '\0';
    if (!colon)
        return;
    value = colon + 1;
    value_length = length - (size_t)(value - line);
    text_trim_span(&value, &value_length);
    if (value_length >= out_size)
        value_length = out_size - 1;
    memcpy(out, value, value_length);
    out[value_length] = '\0';
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
    struct http_client_result *result = ((struct answer *)user)->result;
    size_t length = size * count;
    char value[128];

    if (length > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        char *end;
        long seconds;
        header_value(data, length, value, sizeof value);
        seconds = strtol(value, &end, 10);
        if (end != value && *end == '\0' && seconds >= 0) {
            result->retry_after_seconds = seconds;
        } else {
            time_t when = curl_getdate(value, NULL);
            if (when > 0)
                result->retry_after_seconds = when > time(NULL) ? (long)(when - time(NULL)) : 0;
        }
    } else if (length > 17 && strncasecmp(data, "webhook-delivery:", 17) == 0) {
        header_value(data, length, value, sizeof value);
        if (strcasecmp(value, "abort-message") == 0)
            result->abort_requested = true;
    }
    return length;
}

struct http_client *http_client_new(const char *user_agent, long connect_timeout_ms,
                                    long timeout_ms)
{
    struct http_client *client = calloc(1, sizeof *client);

    if (!client)
        return NULL;
    client->curl = curl_easy_init();
    if (!client->curl) {
        free(client);
        return NULL;
    }
    client->connect_timeout_ms = connect_timeout_ms;
    client->timeout_ms = timeout_ms;
    snprintf(client->user_agent, sizeof client->user_agent, "%s", user_agent);
    return client;
}

void http_client_free(struct http_client *client)
{
    if (!client)
        return;
    curl_easy_cleanup(client->curl);
    free(client);
}

void http_client_result_clear(struct http_client_result *result)
{
    free(result->body);
    memset(result, 0, sizeof *result);
}

bool http_client_send(struct http_client *client, const char *method, const char *url,
                      const struct http_client_header *headers, size_t header_count,
                      const char *body, size_t body_length, struct http_client_result *result)
{
    CURL *curl = client->curl;
    struct curl_slist *list = NULL;
    struct answer answer = {result, 0};
    long long start_ms;
    CURLcode code;
    char line[1100];

    memset(result, 0, sizeof *result);
    result->retry_after_seconds = -1;
    curl_easy_reset(curl);
    for (size_t i = 0; i < header_count; i++) {
        struct curl_slist *grown;
        snprintf(line, sizeof line, "%s: %s", headers[i].name, headers[i].value);
        grown = curl_slist_append(list, line);
        if (!grown) {
            curl_slist_free_all(list);
            return false;
        }
        list = grown;
    }
    /* no "Expect: 100-continue" round trip */
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, client->connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, client->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, client->user_agent);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);

    start_ms = clock_monotonic_ms();
    code = curl_easy_perform(curl);
    result->duration_ms = clock_monotonic_ms() - start_ms;
    if (code == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result->status);
    } else {
        result->status = 0;
        snprintf(result->error, sizeof result->error, "%s", curl_easy_strerror(code));
    }
    curl_slist_free_all(list);
    return true;
}
