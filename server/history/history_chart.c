/* Server-drawn SVG charts for /history; see history_chart.h. */
#include "history/history_chart.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "text.h"

/* Layout of the daily chart (user units of the viewBox). */
#define DAILY_WIDTH  640
#define DAILY_HEIGHT 250
#define DAILY_LEFT   46
#define DAILY_RIGHT  10
#define DAILY_TOP    34
#define DAILY_BOTTOM 30

/* Layout of the agents chart. */
#define AGENTS_WIDTH      640
#define AGENTS_TOP        12
#define AGENTS_ROW        26
#define AGENTS_BAR        16
#define AGENTS_LABEL_END  184 /* right edge of the name column */
#define AGENTS_VALUE_ROOM 64  /* room kept right of the longest bar for its value */
#define AGENTS_NAME_CHARS 24

/* Appends `text` escaped for HTML/SVG text and attribute values. */
static void svg_text(struct text_buffer *svg, const char *text)
{
    char *escaped = template_escape_html(text ? text : "");

    if (!escaped) {
        svg->failed = true;
        return;
    }
    text_buffer_append_string(svg, escaped);
    free(escaped);
}

/* Opens an <svg> with its accessible name and description; `id` prefixes their element ids. */
static void svg_open(struct text_buffer *svg, const char *id, int width, int height,
                     const char *title, const char *desc)
{
    text_buffer_printf(svg,
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" role=\"img\" "
                       "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                       "aria-labelledby=\"%s-title %s-desc\"><title id=\"%s-title\">",
                       width, height, width, height, id, id, id);
    svg_text(svg, title);
    text_buffer_printf(svg, "</title><desc id=\"%s-desc\">", id);
    svg_text(svg, desc);
    text_buffer_printf(svg, "</desc>");
}

/* A text element at (x, y) with `class` and anchor; the content is escaped. */
static void svg_label(struct text_buffer *svg, double x, double y, const char *class_name,
                      const char *anchor, const char *text)
{
    text_buffer_printf(svg, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
                       class_name, x, y, anchor);
    svg_text(svg, text);
    text_buffer_printf(svg, "</text>");
}

/* The smallest 1, 2 or 5 times a power of ten such that `max` needs at most 4 steps of it. */
static long axis_step(long max)
{
    long power = 1;

    for (;;) {
        static const long multipliers[] = {1, 2, 5};
        for (size_t i = 0; i < 3; i++)
            if (max <= 4 * multipliers[i] * power)
                return multipliers[i] * power;
        if (power > 100000000000000L)
            return power * 10;
        power *= 10;
    }
}

static long non_negative(long value)
{
    return value < 0 ? 0 : value;
}

void history_chart_duration(double seconds, char *out, size_t size)
{
    if (!isfinite(seconds) || seconds < 0)
        seconds = 0;
    if (seconds < 60)
        snprintf(out, size, "%.0f s", seconds);
    else if (seconds < 3600)
        snprintf(out, size, "%.0f min", seconds / 60);
    else if (seconds < 86400)
        snprintf(out, size, "%.1f h", seconds / 3600);
    else
        snprintf(out, size, "%.1f d", seconds / 86400);
}

/* The length of the UTF-8 sequence starting with `byte` (1 for a stray continuation byte). */
static size_t utf8_sequence_length(unsigned char byte)
{
    if (byte < 0xC0)
        return 1;
    if (byte < 0xE0)
        return 2;
    if (byte < 0xF0)
        return 3;
    return 4;
}

/* True for U+0000-U+001F, U+007F-U+009F, and the direction controls U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069. */
static bool is_control(const unsigned char *p, size_t length)
{
    if (length == 1)
        return p[0] < 0x20 || p[0] == 0x7F;
    if (length == 2)
        return (p[0] == 0xC2 && p[1] <= 0x9F) || (p[0] == 0xD8 && p[1] == 0x9C);
    if (length == 3 && p[0] == 0xE2 && p[1] == 0x80)
        return p[2] == 0x8E || p[2] == 0x8F || (p[2] >= 0xAA && p[2] <= 0xAE);
    if (length == 3 && p[0] == 0xE2 && p[1] == 0x81)
        return p[2] >= 0xA6 && p[2] <= 0xA9;
    return false;
}

void history_chart_label(const char *text, size_t max_chars, char *out, size_t size)
{
    static const char ellipsis[] = "\xE2\x80\xA6";
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    size_t used = 0, chars = 0;

    if (size == 0)
        return;
    out[0] = '\0';
    while (*p) {
        size_t length = utf8_sequence_length(*p);
        bool cut = false;

        for (size_t i = 1; i < length; i++)
            if (!p[i])
                length = i; /* a truncated sequence at the end: stop at the NUL */
        if (!is_control(p, length)) {
            cut = chars == max_chars || used + length + 1 > size;
            if (cut) {
                /* make room for the ellipsis, dropping whole characters */
                while (used > 0 && used + sizeof ellipsis > size) {
                    do
                        used--;
                    while (used > 0 && ((unsigned char)out[used] & 0xC0) == 0x80);
                }
                if (used + sizeof ellipsis <= size) {
                    memcpy(out + used, ellipsis, sizeof ellipsis);
                    return;
                }
                out[used] = '\0';
                return;
            }
            memcpy(out + used, p, length);
            used += length;
            out[used] = '\0';
            chars++;
        }
        p += length;
    }
}

/* A day "YYYY-MM-DD" as people write it: "30 Nov", or "30 Nov 2026" with the year; anything
 * else as it is. */
static void day_words(const char *day, bool with_year, char *out, size_t size)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int year, month, number, used = 0;

    if (sscanf(day, "%4d-%2d-%2d%n", &year, &month, &number, &used) != 3 || used != 10 ||
        day[10] != '\0' || month < 1 || month > 12)
        snprintf(out, size, "%s", day);
    else if (with_year)
        snprintf(out, size, "%d %s %04d", number, months[month - 1], year);
    else
        snprintf(out, size, "%d %s", number, months[month - 1]);
}

static const char *const daily_class[3] = {"chart-held", "chart-approved", "chart-rejected"};
static const char *const daily_fill[3] = {"#2f56c7", "#1b6b3a", "#a3231d"};
static const char *const daily_name[3] = {"held", "approved", "rejected"};

/* The day's three figures, negative ones as 0. */
static void day_values(const struct history_chart_day *day, long values[3])
{
    values[0] = non_negative(day->held);
    values[1] = non_negative(day->approved);
    values[2] = non_negative(day->rejected);
}

/* The description in words, and the largest figure of any day (*max). */
static void daily_describe(const struct history_chart_day *days, size_t count, char *desc,
                           size_t size, long *max)
{
    long totals[3] = {0, 0, 0}, busiest = -1, values[3];
    size_t busiest_day = 0;
    char first[24], last[24], busiest_words[24];

    *max = 0;
    for (size_t i = 0; i < count; i++) {
        day_values(&days[i], values);
        for (int s = 0; s < 3; s++) {
            totals[s] += values[s];
            if (values[s] > *max)
                *max = values[s];
        }
        if (values[0] > busiest) {
            busiest = values[0];
            busiest_day = i;
        }
    }
    if (count == 0) {
        snprintf(desc, size, "No days to show.");
        return;
    }
    day_words(days[0].day, true, first, sizeof first);
    day_words(days[count - 1].day, true, last, sizeof last);
    day_words(days[busiest_day].day, true, busiest_words, sizeof busiest_words);
    snprintf(desc, size,
             "From %s to %s: %ld held, %ld approved, %ld rejected. Most held on one day: %ld on "
             "%s.",
             first, last, totals[0], totals[1], totals[2], busiest, busiest_words);
}

/* The legend, and the value axis: gridlines and labels at each step up to the returned top. */
static long daily_axes(struct text_buffer *svg, long max, double base, double plot_height)
{
    long step = axis_step(max > 0 ? max : 1), top = ((max > 0 ? max : 1) + step - 1) / step * step;
    char label[32];

    for (int s = 0; s < 3; s++) {
        double x = DAILY_LEFT + s * 110.0;
        text_buffer_printf(svg,
                           "<rect class=\"%s\" fill=\"%s\" x=\"%.1f\" y=\"8\" width=\"12\" "
                           "height=\"12\"/>",
                           daily_class[s], daily_fill[s], x);
        snprintf(label, sizeof label, "%c%s", daily_name[s][0] - 'a' + 'A', daily_name[s] + 1);
        svg_label(svg, x + 17, 18.5, "chart-legend", "start", label);
    }
    for (long value = 0; value <= top; value += step) {
        double y = base - plot_height * (double)value / (double)top;
        text_buffer_printf(svg,
                           "<line class=\"chart-grid\" stroke=\"#c9ced6\" x1=\"%d\" y1=\"%.1f\" "
                           "x2=\"%d\" y2=\"%.1f\"/>",
                           DAILY_LEFT, y, DAILY_WIDTH - DAILY_RIGHT, y);
        snprintf(label, sizeof label, "%ld", value);
        svg_label(svg, DAILY_LEFT - 6, y + 4, "chart-tick", "end", label);
    }
    return top;
}

char *history_chart_daily_svg(const struct history_chart_day *days, size_t count)
{
    const double plot_width = DAILY_WIDTH - DAILY_LEFT - DAILY_RIGHT;
    const double plot_height = DAILY_HEIGHT - DAILY_TOP - DAILY_BOTTOM;
    const double base = DAILY_TOP + plot_height;
    const double group = count ? plot_width / (double)count : plot_width;
    struct text_buffer svg = {0};
    long max, top, values[3];
    char desc[400], label[120], words[24];

    daily_describe(days, count, desc, sizeof desc, &max);
    svg_open(&svg, "history-daily", DAILY_WIDTH, DAILY_HEIGHT,
             "Drafts held, approved and rejected per day, last 30 days (UTC)", desc);
    top = daily_axes(&svg, max, base, plot_height);
    /* bars, three per day, each with a tooltip title */
    for (size_t i = 0; i < count; i++) {
        double bar = (group - 4) / 3;
        day_values(&days[i], values);
        day_words(days[i].day, true, words, sizeof words);
        for (int s = 0; s < 3; s++) {
            double height = plot_height * (double)values[s] / (double)top;
            double x = DAILY_LEFT + group * (double)i + 2 + bar * s;
            if (values[s] == 0)
                continue;
            text_buffer_printf(
                &svg,
                "<rect class=\"%s\" fill=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\"><title>",
                daily_class[s], daily_fill[s], x, base - height, bar, height);
            snprintf(label, sizeof label, "%s: %ld %s", words, values[s], daily_name[s]);
            svg_text(&svg, label);
            text_buffer_printf(&svg, "</title></rect>");
        }
        /* a day label every fifth day, counted back from the last so the newest is named */
        if ((count - 1 - i) % 5 == 0) {
            day_words(days[i].day, false, words, sizeof words);
            svg_label(&svg, DAILY_LEFT + group * ((double)i + 0.5), base + 18, "chart-tick",
                      "middle", words);
        }
    }
    text_buffer_printf(
        &svg,
        "<line class=\"chart-axis\" stroke=\"#868e99\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
        "y2=\"%.1f\"/></svg>",
        DAILY_LEFT, base, DAILY_WIDTH - DAILY_RIGHT, base);
    return text_buffer_finish(&svg);
}

char *history_chart_agents_svg(const struct history_chart_agent *agents, size_t count)
{
    const double bar_room = AGENTS_WIDTH - AGENTS_LABEL_END - 8 - AGENTS_VALUE_ROOM;
    int height = AGENTS_TOP + (int)(count ? count : 1) * AGENTS_ROW + 8;
    struct text_buffer svg = {0};
    double longest = 0;
    char desc[1200], label[200], name[AGENTS_NAME_CHARS * 4 + 8], value[32];
    size_t used;

    for (size_t i = 0; i < count; i++) {
        double median = agents[i].median_seconds;
        if (isfinite(median) && median > longest)
            longest = median;
    }
    if (count == 0) {
        snprintf(desc, sizeof desc, "No decisions in the last 30 days.");
    } else {
        used =
            (size_t)snprintf(desc, sizeof desc, "Median time from held to decided, %zu %s: ", count,
                             count == 1 ? "agent" : "agents");
        for (size_t i = 0; i < count && used < sizeof desc; i++) {
            history_chart_label(agents[i].name && *agents[i].name ? agents[i].name : agents[i].id,
                                AGENTS_NAME_CHARS, name, sizeof name);
            history_chart_duration(agents[i].median_seconds, value, sizeof value);
            used += (size_t)snprintf(desc + used, sizeof desc - used, "%s%s %s", i ? "; " : "",
                                     name, value);
        }
        if (used < sizeof desc)
            snprintf(desc + used, sizeof desc - used, ".");
    }
    svg_open(&svg, "history-agents", AGENTS_WIDTH, height,
             "Median time to decision per agent, last 30 days", desc);
    if (count == 0)
        svg_label(&svg, 8, AGENTS_TOP + 16, "chart-empty", "start",
                  "No decisions in the last 30 days.");
    for (size_t i = 0; i < count; i++) {
        double median = agents[i].median_seconds;
        double y = AGENTS_TOP + (double)i * AGENTS_ROW;
        double width;

        if (!isfinite(median) || median < 0)
            median = 0;
        width = longest > 0 ? bar_room * median / longest : 0;
        if (width < 1)
            width = 1; /* a visible stub for "decided at once" */
        history_chart_label(agents[i].name && *agents[i].name ? agents[i].name : agents[i].id,
                            AGENTS_NAME_CHARS, name, sizeof name);
        history_chart_duration(median, value, sizeof value);
        svg_label(&svg, AGENTS_LABEL_END - 6, y + AGENTS_BAR - 3, "chart-name", "end", name);
        text_buffer_printf(&svg,
                           "<rect class=\"chart-median\" fill=\"#2f56c7\" x=\"%d\" y=\"%.1f\" "
                           "width=\"%.1f\" height=\"%d\"><title>",
                           AGENTS_LABEL_END, y, width, AGENTS_BAR);
        snprintf(label, sizeof label, "%s: median %s over %ld decision%s", name, value,
                 agents[i].decisions, agents[i].decisions == 1 ? "" : "s");
        svg_text(&svg, label);
        text_buffer_printf(&svg, "</title></rect>");
        svg_label(&svg, AGENTS_LABEL_END + width + 6, y + AGENTS_BAR - 3, "chart-value", "start",
                  value);
    }
    text_buffer_printf(&svg, "</svg>");
    return text_buffer_finish(&svg);
}
