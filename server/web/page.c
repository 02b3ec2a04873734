/* Page rendering with the shared layout; see page.h. */
#include "web/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "db/moderation.h"
#include "form.h"
#include "log.h"
#include "template.h"
#include "web/assets.h"

static json_t *layout_user(const struct session_identity *user)
{
    if (!user)
        return json_null();
    return json_pack("{s:s, s:s, s:s, s:s, s:b}", "forum", user->forum, "id", user->user_id,
                     "username", user->username, "name",
                     user->name[0] ? user->name : user->username, "is_moderator",
                     user->is_moderator);
}

json_t *page_killswitch(void)
{
    struct db_connection *db = db_thread_connection();
    char *text = NULL;
    json_t *state;

    if (!db || moderation_killswitch(db, &text) != DB_OK || !text) {
        free(text);
        return json_null();
    }
    state = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_true(json_object_get(state, "engaged"))) {
        json_decref(state);
        return json_null();
    }
    page_times(state, time(NULL), (const char *const[]){"changed_at", NULL});
    return state;
}

enum MHD_Result page_reply(struct request *request, unsigned status, const char *template_name,
                           json_t *data)
{
    const struct config *config = request->server->config;
    const struct session_identity *user = auth_user(request);
    char error[200];
    char *html;
    enum MHD_Result result;

    if (!data)
        data = json_object();
    if (!data)
        return MHD_NO;
    json_object_set_new(data, "dev_mode", json_boolean(config->auth == AUTH_DEV));
    json_object_set_new(data, "signed_in", json_boolean(user != NULL));
    json_object_set_new(data, "user", layout_user(user));
    json_object_set_new(data, "csrf", json_string(request->csrf));
    if (!json_object_get(data, "layout_killswitch"))
        json_object_set_new(data, "layout_killswitch", page_killswitch());
    html = template_render(templates_embedded, template_name, data, error, sizeof error);
    json_decref(data);
    if (!html) {
        log_error(request->id, "template %s: %s", template_name, error);
        return http_reply_text(request, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    }
    result = http_reply_text(request, status, "text/html; charset=utf-8", html, strlen(html));
    free(html);
    return result;
}

/* A page's heading for an error answer, by its status. */
static const char *page_error_title(unsigned status)
{
    switch (status) {
    case 400:
        return "Not done";
    case 401:
        return "Sign-in needed";
    case 403:
        return "Refused";
    case 404:
        return "Not found";
    case 409:
        return "Changed meanwhile";
    case 423:
        return "Agents stopped";
    case 429:
        return "Too many requests";
    case 503:
        return "Database unavailable";
    default:
        return "Something went wrong";
    }
}

enum MHD_Result page_reply_error(struct request *request, enum agentgate_error error,
                                 const char *detail)
{
    unsigned status = error_http_status(error);
    char message[512];

    if (detail) {
        snprintf(message, sizeof message, "%s", detail);
    } else {
        /* the registry's message as a sentence: "The form could not be read." */
        snprintf(message, sizeof message, "%s.", error_message(error));
        if (message[0] >= 'a' && message[0] <= 'z')
            message[0] = (char)(message[0] - 'a' + 'A');
    }
    if (status == 503)
        http_reply_header(request, "Retry-After", "5");
    return page_reply(request, status, "error.html",
                      json_pack("{s:s, s:s, s:s, s:i}", "title", page_error_title(status),
                                "message", message, "code", error_code(error), "status",
                                (int)status));
}

enum MHD_Result page_reply_not_found(struct request *request)
{
    return page_reply_error(request, ERR_NOT_FOUND,
                            "There is nothing here, or it is not yours to see.");
}

/* Appends one query argument, percent-encoded, to the address being rebuilt. */
static enum MHD_Result query_append(void *data, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    char *address = data, *name = form_url_encode(key),
         *encoded = form_url_encode(value ? value : "");
    size_t used = strlen(address);
    (void)kind;
    if (name && encoded)
        snprintf(address + used, 480 - used, "%s%s=%s", strchr(address, '?') ? "&" : "?", name,
                 encoded);
    free(name);
    free(encoded);
    return MHD_YES;
}

enum MHD_Result page_reply_sign_in(struct request *request)
{
    char location[1600], address[480];
    char *encoded;

    /* back to this very page after signing in, its query (History's filters, a draft's back
     * link) included when it fits */
    snprintf(address, sizeof address, "%s", request->path);
    MHD_get_connection_values(request->connection, MHD_GET_ARGUMENT_KIND, query_append, address);
    if (strlen(address) >= sizeof address - 1)
        snprintf(address, sizeof address, "%s", request->path);
    encoded = form_url_encode(address);
    if (!encoded)
        return MHD_NO;
    snprintf(location, sizeof location, "/auth/login?return_to=%s", encoded);
    free(encoded);
    return http_reply_redirect(request, 303, location);
}

enum MHD_Result page_reply_db_failure(struct request *request, enum db_status status)
{
    if (status == DB_UNAVAILABLE)
        return page_reply_error(request, ERR_DATABASE_UNAVAILABLE,
                                "agentgate cannot reach its database. Try again in a moment.");
    return page_reply_error(request, ERR_INTERNAL, "The request failed.");
}

enum agentgate_error page_prepare_form(struct request *request)
{
    const char *type = http_header(request, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type || strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
        return ERR_UNSUPPORTED_MEDIA_TYPE;
    return ERR_NONE;
}

json_t *page_time(const char *iso, time_t now)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm parts = {0};
    char relative[48], absolute[48];
    long long seconds, amount;
    const char *end;
    time_t at;

    if (!iso)
        return json_null();
    end = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &parts);
    if (!end || *end)
        return json_null();
    at = timegm(&parts);
    seconds = (long long)(now - at);
    amount = seconds < 0 ? -seconds : seconds;
    if (amount < 60)
        snprintf(relative, sizeof relative, "just now");
    else {
        const char *unit = "min";
        long long count = amount / 60;
        if (amount >= 365 * 86400LL) {
            count = amount / (365 * 86400LL);
            unit = count == 1 ? "year" : "years";
        } else if (amount >= 61 * 86400LL) {
            count = amount / (30 * 86400LL);
            unit = "months";
        } else if (amount >= 14 * 86400LL) {
            count = amount / (7 * 86400LL);
            unit = "weeks";
        } else if (amount >= 86400) {
            count = amount / 86400;
            unit = count == 1 ? "day" : "days";
        } else if (amount >= 3600) {
            count = amount / 3600;
            unit = "h";
        }
        snprintf(relative, sizeof relative, seconds < 0 ? "in %lld %s" : "%lld %s ago", count,
                 unit);
    }
    snprintf(absolute, sizeof absolute, "%d %s %d %02d:%02d UTC", parts.tm_mday,
             months[parts.tm_mon % 12], parts.tm_year + 1900, parts.tm_hour, parts.tm_min);
    return json_pack("{s:s, s:s, s:s}", "iso", iso, "relative", relative, "absolute", absolute);
}

void page_times(json_t *object, time_t now, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *iso = json_string_value(json_object_get(object, *keys));
        if (iso)
            json_object_set_new(object, *keys, page_time(iso, now));
    }
}

const char *page_query(struct request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

bool page_local_path_valid(const char *path)
{
    size_t length = path ? strlen(path) : 0;

    if (length == 0 || length > 400 || path[0] != '/' || path[1] == '/' || path[1] == '\\')
        return false;
    for (size_t i = 0; i < length; i++)
        if (path[i] < 0x21 || path[i] > 0x7e || path[i] == '#' || path[i] == '\\')
            return false;
    return true;
}

json_t *page_person_json(const char *name, const char *id)
{
    bool has_name = name && *name, has_id = id && *id;

    if (!has_name && !has_id)
        return json_null();
    return json_pack("{s:s, s:s, s:b}", "name", has_name ? name : id, "id", has_id ? id : "",
                     "show_id", has_name && has_id && strcmp(name, id) != 0);
}
