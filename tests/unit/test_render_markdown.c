/* Safe GitHub-flavoured Markdown preview: formatting renders (tables, strikethrough, autolinks,
 * task lists too), right-to-left paragraphs get their own direction, raw HTML and dangerous URLs
 * never reach the output, and the defence-in-depth checker refuses markup cmark would never
 * write. Plain excerpts carry no markup. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render_markdown.h"
#include "unit.h"

#define MAX_EXPECT 4

struct render_case {
    const char *name;
    const char *markdown;
    const char *contains[MAX_EXPECT];     /* exact substrings that must appear */
    const char *not_contains[MAX_EXPECT]; /* substrings that must not appear (any case) */
};

static const struct render_case render_cases[] = {
    {"emphasis", "*a* **b** `c`", {"<em>a</em>", "<strong>b</strong>", "<code>c</code>"}, {NULL}},
    {"bullet list",
     "- one\n- two\n",
     {"<ul>", "<li dir=\"auto\">one</li>", "<li dir=\"auto\">two</li>"},
     {NULL}},
    {"ordered list",
     "3. three\n4. four\n",
     {"<ol start=\"3\">", "<li dir=\"auto\">four</li>"},
     {NULL}},
    {"table",
     "| a | b |\n|:-:|---|\n| 1 | 2 |\n",
     {"<table>", "<th dir=\"auto\" align=\"center\">a</th>", "<td dir=\"auto\">2</td>"},
     {"| a |"}},
    {"strikethrough", "~~gone~~ kept", {"<del>gone</del> kept"}, {"~~"}},
    {"autolink",
     "see https://example.com/x and www.example.org",
     {"<a href=\"https://example.com/x\">", "<a href=\"http://www.example.org\">"},
     {NULL}},
    {"task list",
     "- [ ] todo\n- [x] done\n",
     {"<input type=\"checkbox\" disabled=\"\" />", "checked=\"\""},
     {"[x]"}},
    {"right-to-left paragraph",
     "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d\n\nhello",
     {"<p dir=\"auto\">\xd7\xa9", "<p dir=\"auto\">hello"},
     {NULL}},
    {"autolink javascript stays text", "javascript:alert(1) www", {NULL}, {"href=\"javascript"}},
    {"tagfilter not needed: raw html in table",
     "| a |\n|---|\n| <script>x</script> |\n",
     {"<!-- raw HTML omitted -->"},
     {"<script"}},
    {"fenced code escapes",
     "```\n<b>bold</b>\n```\n",
     {"<pre><code>&lt;b&gt;bold&lt;/b&gt;"},
     {"<b>"}},
    {"info string quotes escaped", "```js\" onclick=\"x\nA\n```\n", {"&quot;"}, {"\" onclick"}},
    {"script block", "<script>alert(1)</script>\n", {"<!-- raw HTML omitted -->"}, {"<script"}},
    {"inline script", "hi <script>alert(1)</script> there", {"hi "}, {"<script", "</script"}},
    {"img onerror", "<img src=x onerror=alert(1)>", {NULL}, {"<img", "onerror"}},
    {"inline img onerror", "see <img src=x onerror=alert(1)> now", {"see "}, {"<img", "onerror"}},
    {"javascript link", "[x](javascript:alert(1))", {"<a href=\"\">x</a>"}, {"javascript"}},
    {"uppercase javascript", "[x](JAVASCRIPT:alert(1))", {"<a href=\"\">"}, {"javascript"}},
    {"entity javascript", "[x](&#106;avascript:alert(1))", {"<a href=\"\">"}, {"javascript"}},
    {"tab in scheme", "[x](<java\tscript:alert(1)>)", {"java%09script"}, {"javascript", "\t"}},
    {"entity tab in scheme",
     "[x](java&#x09;script:alert(1))",
     {"java%09script"},
     {"javascript", "&#x09;"}},
    {"vbscript link", "[x](vbscript:msgbox(1))", {"<a href=\"\">"}, {"vbscript"}},
    {"file link", "[x](file:///etc/passwd)", {"<a href=\"\">"}, {"file:"}},
    {"data html link", "[x](data:text/html;base64,PHNjcmlwdD4=)", {"<a href=\"\">"}, {"data:"}},
    {"javascript image", "![i](javascript:alert(1))", {"<img src=\"\" alt=\"i\""}, {"javascript"}},
    {"data png image kept",
     "![i](data:image/png;base64,iVBORw0K)",
     {"<img src=\"data:image/png;base64,iVBORw0K\""},
     {NULL}},
    {"raw textarea close", "a </textarea> b", {"a "}, {"</textarea"}},
    {"escaped textarea close",
     "`</textarea>` and \\</textarea>",
     {"<code>&lt;/textarea&gt;</code>", "&lt;/textarea&gt;"},
     {"</textarea"}},
    {"https link kept",
     "[site](https://example.com/a?b=1&c=2)",
     {"<a href=\"https://example.com/a?b=1&amp;c=2\">site</a>"},
     {NULL}},
    {"quote in url and title",
     "[x](https://e.com/a\"b 'ti\"tle')",
     {"href=\"https://e.com/a%22b\"", "title=\"ti&quot;tle\""},
     {"a\"b", "ti\"tle"}},
    {"title breaking out",
     "[x](https://e.com \"a\\\" onmouseover=\\\"alert(1)\")",
     {"title=\"a&quot; onmouseover=&quot;alert(1)\""},
     {"\" onmouseover"}},
};

static bool contains_any_case(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack != '\0'; haystack++) {
        if (strncasecmp(haystack, needle, n) == 0)
            return true;
    }
    return n == 0;
}

START_TEST(test_render_table)
{
    const struct render_case *c = &render_cases[_i];
    char *html = render_markdown_safe(c->markdown, strlen(c->markdown));

    ck_assert_msg(html != NULL, "%s: NULL", c->name);
    for (size_t k = 0; k < MAX_EXPECT && c->contains[k] != NULL; k++)
        ck_assert_msg(strstr(html, c->contains[k]) != NULL, "%s: missing %s in %s", c->name,
                      c->contains[k], html);
    for (size_t k = 0; k < MAX_EXPECT && c->not_contains[k] != NULL; k++)
        ck_assert_msg(!contains_any_case(html, c->not_contains[k]), "%s: found %s in %s", c->name,
                      c->not_contains[k], html);
    ck_assert_msg(render_markdown_html_is_safe(html, strlen(html)), "%s: unsafe %s", c->name, html);
    free(html);
}
END_TEST

START_TEST(test_length_is_respected)
{
    const char text[] = "*a*<script>";
    char *html = render_markdown_safe(text, 3);
    ck_assert_ptr_nonnull(html);
    ck_assert_str_eq(html, "<p dir=\"auto\"><em>a</em></p>\n");
    free(html);
}
END_TEST

START_TEST(test_empty_and_null_input)
{
    char *html = render_markdown_safe("", 0);
    ck_assert_ptr_nonnull(html);
    ck_assert_str_eq(html, "");
    free(html);
    html = render_markdown_safe(NULL, 0);
    ck_assert_ptr_nonnull(html);
    ck_assert_str_eq(html, "");
    free(html);
}
END_TEST

START_TEST(test_invalid_utf8_is_replaced)
{
    const char text[] = "a\xff\xfe b";
    char *html = render_markdown_safe(text, sizeof text - 1);
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "\xEF\xBF\xBD"));
    ck_assert_ptr_null(strchr(html, '\xff'));
    free(html);
}
END_TEST

struct excerpt_case {
    const char *name, *markdown;
    size_t max;
    const char *expected;
};

static const struct excerpt_case excerpt_cases[] = {
    {"markup removed", "**Restart** the `ingest` worker.\n\n```\nsudo x\n```", 100,
     "Restart the ingest worker. sudo x"},
    {"html dropped", "a <b>bold</b> <i>x</i> c", 100, "a bold x c"},
    {"cut with ellipsis", "one two three four", 7, "one two\xE2\x80\xA6"},
    {"cut never splits a character", "\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xc3\xa9\xE2\x80\xA6"},
    {"table cells spaced", "| a | b |\n|---|---|\n| 1 | 2 |", 100, "a b 1 2"},
    {"empty", "", 10, ""},
};

START_TEST(test_plain_excerpt)
{
    const struct excerpt_case *c = &excerpt_cases[_i];
    char *text = render_markdown_plain_excerpt(c->markdown, strlen(c->markdown), c->max);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strcmp(text, c->expected) == 0, "%s: [%s] != [%s]", c->name, text, c->expected);
    free(text);
}
END_TEST

struct checker_case {
    const char *html;
    bool safe;
};

static const struct checker_case checker_cases[] = {
    {"<p><em>a</em> &lt;script&gt;</p>\n", true},
    {"<p><a href=\"https://e.com/\" title=\"on=1 onerror=x\">x</a></p>", true},
    {"<p><img src=\"data:image/webp;base64,AA\" alt=\"i\" /></p>", true},
    {"<ol start=\"2\">\n<li>a</li>\n</ol>\n<hr />\n<br />", true},
    {"<!-- raw HTML omitted -->", true},
    {"<pre><code class=\"language-c\">x</code></pre>", true},
    {"", true},
    {"<script>alert(1)</script>", false},
    {"<p>x</p><SCRIPT src=a>", false},
    {"<p title=\"<script\">", false},
    {"<img src=\"x\" onerror=\"alert(1)\" />", false},
    {"<img src=\"x\"\tONLOAD=\"alert(1)\" />", false},
    {"<a href=\"javascript:alert(1)\">x</a>", false},
    {"<a href=\"JaVaScRiPt:alert(1)\">x</a>", false},
    {"<a href=\"java&#x09;script:alert(1)\">x</a>", false},
    {"<a href=\"java&#9script:alert(1)\">x</a>", false},
    {"<a href=\"&#106;&#x61;vascript&colon;alert(1)\">x</a>", false},
    {"<a href=\"java&Tab;script:alert(1)\">x</a>", false},
    {"<a href=\" \n javascript:alert(1)\">x</a>", false},
    {"<a href=\"jav\x01"
     "ascript:alert(1)\">x</a>",
     false},
    {"<a href=\"&unknown;javascript:x\">x</a>", false},
    {"<a href='vbscript:x'>x</a>", false},
    {"<img src=\"file:///etc/passwd\" />", false},
    {"<a href=\"data:text/html,x\">x</a>", false},
    {"<a href=x>x</a>", false},
    {"<a href>x</a>", false},
    {"<iframe src=\"https://e.com\"></iframe>", false},
    {"<p style=\"x\">", false},
    {"<!-- other -->", false},
    {"<a href=\"x", false},
    {"<p", false},
    {"<a href=\"x\"title=\"y\">", false},
    {"<input type=\"checkbox\" checked=\"\" disabled=\"\" />", true},
    {"<input type=\"text\" />", false},
    {"<input type=\"checkbox\" onclick=\"x\" />", false},
    {"<p dir=\"rtl\">x</p>", false},
    {"<table><tr><td align=\"left\">x</td></tr></table>", true},
};

START_TEST(test_checker_table)
{
    const struct checker_case *c = &checker_cases[_i];
    ck_assert_msg(render_markdown_html_is_safe(c->html, strlen(c->html)) == c->safe,
                  "expected %s for %s", c->safe ? "safe" : "unsafe", c->html);
}
END_TEST

START_TEST(test_checker_reads_only_length_bytes)
{
    const char html[] = "<p>a</p><script>";
    ck_assert(render_markdown_html_is_safe(html, 8));
    ck_assert(!render_markdown_html_is_safe(html, sizeof html - 1));
    /* A tag cut off by the length is unparseable, hence unsafe. */
    ck_assert(!render_markdown_html_is_safe(html, 6));
}
END_TEST

static Suite *render_markdown_suite(void)
{
    Suite *s = suite_create("render_markdown");
    TCase *tc = tcase_create("render");
    tcase_add_loop_test(tc, test_render_table, 0,
                        (int)(sizeof render_cases / sizeof render_cases[0]));
    tcase_add_test(tc, test_length_is_respected);
    tcase_add_test(tc, test_empty_and_null_input);
    tcase_add_test(tc, test_invalid_utf8_is_replaced);
    tcase_add_loop_test(tc, test_plain_excerpt, 0,
                        (int)(sizeof excerpt_cases / sizeof excerpt_cases[0]));
    suite_add_tcase(s, tc);

    TCase *checker = tcase_create("checker");
    tcase_add_loop_test(checker, test_checker_table, 0,
                        (int)(sizeof checker_cases / sizeof checker_cases[0]));
    tcase_add_test(checker, test_checker_reads_only_length_bytes);
    suite_add_tcase(s, checker);
    return s;
}

int main(void)
{
    return unit_run(render_markdown_suite());
}
