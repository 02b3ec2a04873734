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
