/* Page rendering with the shared layout; see page.h. */
#include "web/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
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

enum MHD_Result page_reply_sign_in(struct request *request)
{
    char location[700];
    char *encoded = form_url_encode(request->path);

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

/* Days since 1970-01-01 of a civil date (proleptic Gregorian), as timegm() would count them
 * but without its locale and time zone state. */
static long long days_from_civil(int year, int month, int day)
{
    int y = month <= 2 ? year - 1 : year;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned year_of_era = (unsigned)(y - era * 400);
    unsigned day_of_year =
        (153u * (unsigned)(month + (month > 2 ? -3 : 9)) + 2) / 5 + (unsigned)day - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + (long long)day_of_era - 719468;
}

/* "3 min ago" / "in 3 min": `count` of `unit` (singular; "min" and "h" never take an s). */
static void time_relative(long long seconds, char *out, size_t size)
{
    static const struct {
        long long limit, divisor;
        const char *unit;
    } steps[] = {
        {3600, 60, "min"},
        {86400, 3600, "h"},
        {14 * 86400, 86400, "day"},
        {61 * 86400, 7 * 86400, "week"},
        {365 * 86400, 30 * 86400, "month"},
        {0, 365 * 86400, "year"},
    };
    long long magnitude = seconds < 0 ? -seconds : seconds;

    if (magnitude < 45) {
        snprintf(out, size, "just now");
        return;
    }
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        long long count;
        bool plural;
        if (steps[i].limit && magnitude >= steps[i].limit)
            continue;
        count = magnitude / steps[i].divisor;
        if (count < 1)
            count = 1;
        plural = count > 1 && strcmp(steps[i].unit, "min") != 0 && strcmp(steps[i].unit, "h") != 0;
        snprintf(out, size, "%s%lld %s%s%s", seconds < 0 ? "in " : "", count, steps[i].unit,
                 plural ? "s" : "", seconds < 0 ? "" : " ago");
        return;
    }
}

bool page_time_human(const char *iso, time_t now, char *relative, size_t relative_size,
                     char *absolute, size_t absolute_size)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int year, month, day, hour, minute, second, used = 0;
    long long at;

    relative[0] = absolute[0] = '\0';
    if (!iso ||
        sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &year, &month, &day, &hour, &minute, &second,
               &used) != 6 ||
        used != 20 || iso[used] != '\0' || month < 1 || month > 12 || day < 1 || day > 31 ||
        hour > 23 || minute > 59 || second > 60)
        return false;
    at = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    time_relative((long long)now - at, relative, relative_size);
    snprintf(absolute, absolute_size, "%d %s %04d %02d:%02d UTC", day, months[month - 1], year,
             hour, minute);
    return true;
}

json_t *page_time_json(const char *iso)
{
    char relative[40], absolute[40];

    if (!page_time_human(iso, time(NULL), relative, sizeof relative, absolute, sizeof absolute))
        return json_null();
    return json_pack("{s:s, s:s, s:s}", "iso", iso, "relative", relative, "absolute", absolute);
}

json_t *page_person_json(const char *name, const char *id)
{
    bool has_name = name && *name, has_id = id && *id;

    if (!has_name && !has_id)
        return json_null();
    return json_pack("{s:s, s:s, s:b}", "name", has_name ? name : id, "id", has_id ? id : "",
                     "show_id", has_name && has_id && strcmp(name, id) != 0);
}
