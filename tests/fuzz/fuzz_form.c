/* Fuzz target: the form parser (lib/form: application/x-www-form-urlencoded bodies and query
 * strings). Checks: every value it returns is valid UTF-8 without NUL, and encoding a value
 * with form_url_encode() then parsing it back gives the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct form form;
    bool ok = form_parse((const char *)data, size, &form);

    (void)utf8_valid((const char *)data, size);
    if (ok) {
        if (form.count > FORM_FIELDS_MAX)
            abort();
        for (size_t i = 0; i < form.count; i++) {
            const char *name = form.names[i], *value = form.values[i];
            if (!utf8_valid(name, strlen(name)) || !utf8_valid(value, strlen(value)))
                abort();
            if (!form_get(&form, name) || !form_has_value(&form, name, form_get(&form, name)))
                abort();
            char *encoded = form_url_encode(value);
            if (!encoded)
                abort();
            size_t length = strlen(encoded);
            char *pair = malloc(length + 3);
            if (!pair)
                abort();
            memcpy(pair, "v=", 2);
            memcpy(pair + 2, encoded, length + 1);
            struct form again;
            if (!form_parse(pair, length + 2, &again) || again.count != 1 ||
                strcmp(form_get(&again, "v"), value) != 0)
                abort(); /* encode then parse is not the identity */
            form_free(&again);
            free(pair);
            free(encoded);
        }
    }
    form_free(&form);
    return 0;
}
