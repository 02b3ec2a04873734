/* Fuzz target: the Markdown preview (lib/render_markdown). Checks that whatever the draft's
 * text, the HTML it returns passes its own safety check (render_markdown_html_is_safe); the
 * check itself is also run on the raw input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render_markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *html;

    (void)render_markdown_html_is_safe((const char *)data, size);
    html = render_markdown_safe((const char *)data, size);
    if (!html)
        abort();
    if (!render_markdown_html_is_safe(html, strlen(html)))
        abort(); /* the preview returned HTML its own whitelist refuses */
    free(html);
    return 0;
}
