/* The history charts (history_chart.c): SVG that names itself for screen readers, escapes every
 * text from data, never carries script, styles or links, and copes with empty, zero, negative,
 * huge and non-finite figures; labels cut at character boundaries without direction
 * controls. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "history/history_chart.h"
#include "unit.h"

static size_t count_of(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        count++;
    return count;
}

/* Nothing executable or external in an SVG, and it is one element. */
static void assert_inert(const char *svg)
{
    ck_assert_ptr_nonnull(svg);
    ck_assert(strncmp(svg, "<svg ", 5) == 0);
    ck_assert_uint_eq(count_of(svg, "<svg"), 1);
    ck_assert_uint_eq(count_of(svg, "</svg>"), 1);
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert_ptr_null(strstr(svg, "style="));
    ck_assert_ptr_null(strstr(svg, "href"));
    ck_assert_ptr_null(strstr(svg, "<foreignObject"));
    ck_assert_ptr_nonnull(strstr(svg, "role=\"img\""));
    ck_assert(utf8_valid(svg, strlen(svg)));
}

static void days_fill(struct history_chart_day *days, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        snprintf(days[i].day, sizeof days[i].day, "2026-11-%02zu", i + 1);
        days[i].held = (long)(i * 3);
        days[i].approved = (long)(i * 2);
        days[i].rejected = (long)(i % 4);
    }
}

START_TEST(daily_has_title_desc_bars_and_labels)
{
    struct history_chart_day days[30];
    char *svg;

    days_fill(days, 30);
    svg = history_chart_daily_svg(days, 30);
    assert_inert(svg);
    ck_assert_ptr_nonnull(
        strstr(svg, "aria-labelledby=\"history-daily-title history-daily-desc\""));
    ck_assert_ptr_nonnull(strstr(svg, "<title id=\"history-daily-title\">Drafts held"));
    /* totals: held 3*(0+..+29) = 1305, approved 870, rejected 7*(0+1+2+3) + 0+1 = 43 */
    ck_assert_ptr_nonnull(strstr(svg, "From 1 Nov 2026 to 30 Nov 2026: 1305 held, 870 approved, "
                                      "43 rejected. Most held on one day: 87 on 30 Nov 2026."));
    /* one bar per non-zero value, each with a tooltip; three legend squares */
    ck_assert_uint_eq(count_of(svg, "<rect class=\"chart-held\""), 30);
    ck_assert_uint_eq(count_of(svg, "<rect class=\"chart-approved\""), 30);
    ck_assert_uint_eq(count_of(svg, "<rect class=\"chart-rejected\""), 23);
    ck_assert_uint_eq(count_of(svg, "</title></rect>"), 29 + 29 + 22);
    ck_assert_ptr_nonnull(strstr(svg, "<title>30 Nov 2026: 87 held</title>"));
    /* day labels every fifth day, the newest included */
    ck_assert_ptr_nonnull(strstr(svg, ">30 Nov</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">25 Nov</text>"));
    ck_assert_ptr_null(strstr(svg, ">29 Nov</text>"));
    /* the value axis goes past the largest bar in round steps */
    ck_assert_ptr_nonnull(strstr(svg, ">100</text>"));
    free(svg);
}
END_TEST

START_TEST(daily_handles_empty_zero_and_negative)
{
    struct history_chart_day days[3] = {
        {"2026-11-01", 0, 0, 0}, {"2026-11-02", -5, -1, 0}, {"2026-11-03", 0, 0, 0}};
    char *svg = history_chart_daily_svg(days, 3);

    assert_inert(svg);
    ck_assert_uint_eq(count_of(svg, "</title></rect>"), 0); /* no bars, only the legend */
    ck_assert_ptr_nonnull(strstr(svg, "0 held, 0 approved, 0 rejected"));
    ck_assert_ptr_null(strstr(svg, "nan"));
    ck_assert_ptr_null(strstr(svg, "-5"));
    free(svg);
    svg = history_chart_daily_svg(NULL, 0);
    assert_inert(svg);
    ck_assert_ptr_nonnull(strstr(svg, "No days to show."));
    free(svg);
}
END_TEST

START_TEST(daily_escapes_day_text)
{
    struct history_chart_day days[1] = {{"<b>\"x\"&'", 1, 0, 0}};
    char *svg = history_chart_daily_svg(days, 1);

    assert_inert(svg);
    ck_assert_ptr_null(strstr(svg, "<b>"));
    ck_assert_ptr_nonnull(strstr(svg, "&lt;b&gt;&quot;x&quot;&amp;&#39;"));
    free(svg);
}
END_TEST

START_TEST(agents_escape_names_and_scale_bars)
{
    struct history_chart_agent agents[3] = {
        {"bot-1", "<img src=x onerror=1>", 12, 7200},
        {"bot-2", "a \"q\" & 'o' n=x", 3, 3600},
        {"bot-3", NULL, 1, 30},
    };
    char *svg = history_chart_agents_svg(agents, 3);

    assert_inert(svg);
    ck_assert_ptr_nonnull(strstr(svg, "&lt;img src&#61;x onerror&#61;1&gt;"));
    ck_assert_ptr_null(strstr(svg, "<img"));
    ck_assert_ptr_nonnull(strstr(svg, "a &quot;q&quot; &amp; &#39;o&#39; n&#61;x"));
    ck_assert_ptr_nonnull(strstr(svg, ">bot-3</text>")); /* no name: the id */
    ck_assert_ptr_nonnull(strstr(svg, ">2.0 h</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">1.0 h</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">30 s</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "median 2.0 h over 12 decisions</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "median 30 s over 1 decision</title>"));
    /* the longest median fills the bar room; half of it, half the width */
    ck_assert_ptr_nonnull(strstr(svg, "width=\"384.0\" height=\"16\""));
    ck_assert_ptr_nonnull(strstr(svg, "width=\"192.0\" height=\"16\""));
    ck_assert_ptr_nonnull(strstr(svg, "<desc id=\"history-agents-desc\">Median time from held to "
                                      "decided, 3 agents: "));
    free(svg);
}
END_TEST

START_TEST(agents_empty_and_odd_medians)
{
    struct history_chart_agent agents[2] = {{"bot-1", "one", 1, NAN}, {"bot-2", "two", 1, -4}};
    char *svg = history_chart_agents_svg(NULL, 0);

    assert_inert(svg);
    ck_assert_ptr_nonnull(strstr(svg, "No decisions in the last 30 days."));
    ck_assert_ptr_null(strstr(svg, "<rect"));
    free(svg);
    svg = history_chart_agents_svg(agents, 2);
    assert_inert(svg);
    ck_assert_ptr_null(strstr(svg, "nan"));
    ck_assert_ptr_null(strstr(svg, "inf"));
    ck_assert_uint_eq(count_of(svg, ">0 s</text>"), 2);
    free(svg);
}
END_TEST

START_TEST(labels_cut_whole_characters_without_controls)
{
    char out[128];

    history_chart_label("helperbot", 24, out, sizeof out);
    ck_assert_str_eq(out, "helperbot");
    history_chart_label("abcdefghij", 4, out, sizeof out);
    ck_assert_str_eq(out, "abcd\xE2\x80\xA6");
    /* U+202E (right-to-left override), a tab and U+200F are dropped */
    history_chart_label("ab\xE2\x80\xAE"
                        "cd\t\xE2\x80\x8F"
                        "e",
                        24, out, sizeof out);
    ck_assert_str_eq(out, "abcde");
    /* multi-byte characters are counted and kept whole */
    history_chart_label("\xC3\xA9\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80x", 4, out, sizeof out);
    ck_assert_str_eq(out, "\xC3\xA9\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80\xE2\x80\xA6");
    /* a small buffer: cut at a boundary, still valid UTF-8 with the ellipsis */
    history_chart_label("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 24, out, 7);
    ck_assert(utf8_valid(out, strlen(out)));
    ck_assert_uint_le(strlen(out), 6);
    ck_assert_str_eq(out, "\xC3\xA9\xE2\x80\xA6");
    history_chart_label(NULL, 24, out, sizeof out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(durations_in_words)
{
    char out[32];

    history_chart_duration(0, out, sizeof out);
    ck_assert_str_eq(out, "0 s");
    history_chart_duration(59, out, sizeof out);
    ck_assert_str_eq(out, "59 s");
    history_chart_duration(600, out, sizeof out);
    ck_assert_str_eq(out, "10 min");
    history_chart_duration(5400, out, sizeof out);
    ck_assert_str_eq(out, "1.5 h");
    history_chart_duration(2.5 * 86400, out, sizeof out);
    ck_assert_str_eq(out, "2.5 d");
    history_chart_duration(-1, out, sizeof out);
    ck_assert_str_eq(out, "0 s");
    history_chart_duration(INFINITY, out, sizeof out);
    ck_assert_str_eq(out, "0 s");
}
END_TEST

static Suite *history_chart_suite(void)
{
    TCase *tc;
    Suite *suite = unit_suite("history_chart", "core", &tc);

    tcase_add_test(tc, daily_has_title_desc_bars_and_labels);
    tcase_add_test(tc, daily_handles_empty_zero_and_negative);
    tcase_add_test(tc, daily_escapes_day_text);
    tcase_add_test(tc, agents_escape_names_and_scale_bars);
    tcase_add_test(tc, agents_empty_and_odd_medians);
    tcase_add_test(tc, labels_cut_whole_characters_without_controls);
    tcase_add_test(tc, durations_in_words);
    return suite;
}

int main(void)
{
    return unit_run(history_chart_suite());
}
