/* GET arguments of pages' filters; see query_arg.h. */
#include "web/query_arg.h"

#include <stdio.h>
#include <string.h>

#include "form.h"
#include "text.h"
#include "web/json_spec.h"

bool query_arg_copy(struct request *request, const char *name, const char *label, size_t max_chars,
                    char *out, size_t size, char *error, size_t error_size)
{
    const char *value =
        MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
    size_t length;

    out[0] = '\0';
    if (!value)
        return true;
    length = strlen(value);
    text_trim_span(&value, &length);
    if (!utf8_valid(value, length)) {
        snprintf(error, error_size, "%s is not valid UTF-8 text.", label);
        return false;
    }
    if (length < size) {
        memcpy(out, value, length);
        out[length] = '\0';
        if (utf8_length(out) <= max_chars)
            return true;
        out[0] = '\0';
    }
    snprintf(error, error_size, "%s: at most %zu characters.", label, max_chars);
    return false;
}
