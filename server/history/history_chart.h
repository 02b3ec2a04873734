/*
 * The history page's two small charts, drawn on the server as inline SVG text: drafts held,
 * approved and rejected per day (grouped bars with a value axis, day labels and a legend), and
 * the median time to decision per agent (horizontal bars).
 *
 * Invariants: pure functions of their arguments (no I/O, no global state, any thread). Every
 * text that reaches the SVG (agent names, days, labels) goes through template_escape_html(),
 * with Unicode direction controls removed from names first; the SVG has no script, no style
 * attribute and no external reference: colours come from classes styled by
 * /static/style.css, with presentation attributes (fill=) as a fallback. Each SVG has
 * role="img" and a <title> and <desc> that say in words what it shows.
 */
#ifndef AGENTGATE_HISTORY_CHART_H
#define AGENTGATE_HISTORY_CHART_H

#include <stddef.h>

struct history_chart_day {
    char day[11]; /* YYYY-MM-DD */
    long held;
    long approved;
    long rejected;
};

struct history_chart_agent {
    const char *id;
    const char *name; /* shown; the id when NULL or empty */
    long decisions;
    double median_seconds;
};

/* Grouped bars of `count` days (oldest first). Returns malloc'd SVG text, or NULL when memory
 * runs out. Negative counts are drawn as 0. */
char *history_chart_daily_svg(const struct history_chart_day *days, size_t count);

/* Horizontal bars of the median time to decision of `count` agents, in the given order; a
 * sentence instead of bars when count is 0. Returns malloc'd SVG text, or NULL. Medians that
 * are negative or not finite are drawn as 0. */
char *history_chart_agents_svg(const struct history_chart_agent *agents, size_t count);

/* A duration in words for labels: "40 s", "12 min", "3.5 h", "2.1 d". */
void history_chart_duration(double seconds, char *out, size_t size);

/* Copies at most `max_chars` UTF-8 characters of `text` into `out` without Unicode direction
 * controls or other C0/C1 control characters, ending with "…" when it was cut. Never cuts a
 * character; `out` is always NUL-terminated (size >= 1). */
void history_chart_label(const char *text, size_t max_chars, char *out, size_t size);

#endif
