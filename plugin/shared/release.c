/*
 * Helpers for adapters that call a platform's API (compiled into each adapter): checking ids
 * that go into URL paths, the forum's base URL, and header values.
 */
#include "plugin_shared.h"

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
