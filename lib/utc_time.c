/* Times typed by people in filters; see utc_time.h. */
#include "utc_time.h"

#include <stdio.h>
#include <string.h>

/* The value of `count` decimal digits at `text`, or -1 when one of them is not a digit. */
static int number_at(const char *text, size_t count)
{
    int value = 0;

    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

static bool day_exists(int year, int month, int day)
{
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int last;

    if (month < 1 || month > 12)
        return false;
    last = month_days[month - 1] + (month == 2 && leap);
    return day >= 1 && day <= last;
}

bool utc_time_parse(const char *text, char *out, size_t out_size)
{
    int year, month, day, hour = 0, minute = 0, second = 0;
    char fraction[7] = "000000";
    size_t length = text ? strlen(text) : 0;

    if (out_size > 0)
        out[0] = '\0';
    if (out_size < UTC_TIME_TEXT_SIZE)
        return false;
    if (length > 0 && (text[length - 1] == 'Z' || text[length - 1] == 'z'))
        length--;
    if (length < 10 || text[4] != '-' || text[7] != '-')
        return false;
    year = number_at(text, 4);
    month = number_at(text + 5, 2);
    day = number_at(text + 8, 2);
    if (year < 1000 || !day_exists(year, month, day))
        return false;
    if (length > 10) {
        size_t fraction_digits = length > 20 ? length - 20 : 0;

        if (length != 16 && length != 19 && (length < 21 || length > 26))
            return false;
        if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
            (length >= 19 && text[16] != ':') || (length > 19 && text[19] != '.'))
            return false;
        hour = number_at(text + 11, 2);
        minute = number_at(text + 14, 2);
        second = length >= 19 ? number_at(text + 17, 2) : 0;
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
            number_at(text + 20, fraction_digits) < 0)
            return false;
        memcpy(fraction, text + 20, fraction_digits);
    }
    snprintf(out, out_size, "%04d-%02d-%02d %02d:%02d:%02d.%s+00", year, month, day, hour, minute,
             second, fraction);
    return true;
}
