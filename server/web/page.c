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

enum MHD_Result page_reply_error(struct request *request, unsigned status, const char *title,
                                 const char *message)
{
    return page_reply(
        request, status, "error.html",
        json_pack("{s:s, s:s, s:i}", "title", title, "message", message, "status", (int)status));
}

enum MHD_Result page_reply_not_found(struct request *request)
{
    return page_reply_error(request, 404, "Not found",
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
    if (status == DB_UNAVAILABLE) {
        http_reply_header(request, "Retry-After", "5");
        return page_reply_error(request, 503, "Database unavailable",
                                "agentgate cannot reach its database. Try again in a moment.");
    }
    return page_reply_error(request, 500, "Something went wrong", "The request failed.");
}

enum agentgate_error page_prepare_form(struct request *request)
{
    const char *type = http_header(request, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type || strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
        return ERR_UNSUPPORTED_MEDIA_TYPE;
    return ERR_NONE;
}
