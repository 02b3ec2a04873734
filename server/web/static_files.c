/* GET /static/{name}: the stylesheet, icons and scripts compiled into the binary
 * (server/static). They change only with the binary, so clients may cache them. */
#include <string.h>

#include "web/assets.h"
#include "web/handlers.h"

enum MHD_Result static_files_serve(struct request *request)
{
    const struct embedded_file *file = embedded_find(static_embedded, request->params[0]);
    const char *type = "application/octet-stream";
    const char *dot;

    if (!file)
        return http_reply_error(request, ERR_NOT_FOUND, NULL, NULL);
    dot = strrchr(file->name, '.');
    if (dot && strcmp(dot, ".css") == 0)
        type = "text/css; charset=utf-8";
    else if (dot && strcmp(dot, ".svg") == 0)
        type = "image/svg+xml";
    else if (dot && strcmp(dot, ".js") == 0)
        type = "text/javascript; charset=utf-8";
    http_reply_header(request, "Cache-Control", "public, max-age=3600");
    return http_reply_text(request, 200, type, (const char *)file->bytes, file->length);
}
