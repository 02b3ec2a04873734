/* Template engine: golden escaping of hostile values, the Mustache subset (lookup, sections,
 * inverted sections, truthiness, raw output, comments, partials, numbers) and every way a
 * template must be rejected instead of rendered. */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "template.h"

#include "web/assets.h"
#include "unit.h"

/* ---- helpers ---- */

static json_t *data_of(const char *json)
{
    json_error_t problem;
    json_t *data = json_loads(json, 0, &problem);

    ck_assert_msg(data != NULL, "bad test JSON %s: %s", json, problem.text);
    return data;
}

static void expect_render(const char *text, const char *json, const char *expected)
{
    json_t *data = data_of(json);
    char error[256] = "";
    char *out = template_render_text(templates_embedded, text, data, error, sizeof error);

    ck_assert_msg(out != NULL, "%s failed: %s", text, error);
    ck_assert_str_eq(out, expected);
    free(out);
    json_decref(data);
}

/* Checks the render fails with a one-line reason containing `reason`. */
static void expect_error(const char *text, const char *json, const char *reason)
{
    json_t *data = data_of(json);
    char error[256] = "";
    char *out = template_render_text(templates_embedded, text, data, error, sizeof error);

    ck_assert_msg(out == NULL, "%s rendered as %s", text, out ? out : "");
    ck_assert_msg(strstr(error, reason) != NULL, "%s: error '%s' lacks '%s'", text, error, reason);
    ck_assert_ptr_null(strchr(error, '\n'));
    json_decref(data);
}

struct render_case {
    const char *text, *json, *expected;
};

struct error_case {
    const char *text, *reason;
};

/* ---- escaping ---- */

struct escape_case {
    const char *input, *escaped;
};

static const struct escape_case escape_cases[] = {
    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"<img src=x onerror=alert(1)>", "&lt;img src&#61;x onerror&#61;alert(1)&gt;"},
    {"\"><svg onload=alert(1)>", "&quot;&gt;&lt;svg onload&#61;alert(1)&gt;"},
    {"' onmouseover='x", "&#39; onmouseover&#61;&#39;x"},
    {"`", "&#96;"},
    {"</textarea>", "&lt;/textarea&gt;"},
    /* Escaping is not URL validation: a javascript: URL has nothing HTML-special and stays as
     * text; code that puts values into href must check the scheme itself. */
    {"javascript:alert(1)", "javascript:alert(1)"},
    /* Values are text, never pre-escaped HTML: an entity is escaped again. */
    {"&amp;", "&amp;amp;"},
    /* U+202E RIGHT-TO-LEFT OVERRIDE is not HTML-special and passes through unchanged; stripping
     * bidi controls is the job of whoever accepts the text, not of HTML escaping. */
    {"a\u202Eb", "a\342\200\256b"}, /* the same three UTF-8 bytes */
    /* Control characters other than NUL are not HTML-special either. */
    {"a\001b\033[31m", "a\001b\033[31m"},
};

#define ESCAPE_CASES ((int)(sizeof escape_cases / sizeof escape_cases[0]))

START_TEST(escape_html_golden)
{
    char *out = template_escape_html(escape_cases[_i].input);

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, escape_cases[_i].escaped);
    free(out);
}
END_TEST

START_TEST(variables_are_escaped_golden)
{
    json_t *data = json_pack("{ss}", "v", escape_cases[_i].input);
    char error[256] = "";
    char *out = template_render_text(templates_embedded, "<p title=\"{{v}}\">{{ v }}</p>", data,
                                     error, sizeof error);
    char expected[512];

    snprintf(expected, sizeof expected, "<p title=\"%s\">%s</p>", escape_cases[_i].escaped,
             escape_cases[_i].escaped);
    ck_assert_msg(out != NULL, "%s", error);
    ck_assert_str_eq(out, expected);
    free(out);
    json_decref(data);
}
END_TEST

START_TEST(dot_in_string_array_is_escaped_golden)
{
    json_t *data = json_pack("{s[s]}", "items", escape_cases[_i].input);
    char error[256] = "";
    char *out = template_render_text(templates_embedded, "{{#items}}{{.}}{{/items}}", data, error,
                                     sizeof error);

    ck_assert_msg(out != NULL, "%s", error);
    ck_assert_str_eq(out, escape_cases[_i].escaped);
    free(out);
    json_decref(data);
}
END_TEST

START_TEST(triple_braces_output_raw)
{
    json_t *data = json_pack("{ss}", "v", escape_cases[_i].input);
    char error[256] = "";
    char *out =
        template_render_text(templates_embedded, "{{{v}}}|{{{ v }}}", data, error, sizeof error);
    char expected[512];

    snprintf(expected, sizeof expected, "%s|%s", escape_cases[_i].input, escape_cases[_i].input);
    ck_assert_msg(out != NULL, "%s", error);
    ck_assert_str_eq(out, expected);
    free(out);
    json_decref(data);
}
END_TEST

START_TEST(escape_html_of_empty_and_null)
{
    char *out = template_escape_html("");

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "");
    free(out);
    ck_assert_ptr_null(template_escape_html(NULL));
}
END_TEST

START_TEST(template_text_is_not_escaped)
{
    expect_render("<b class='x'>a & b</b> } }} {", "{}", "<b class='x'>a & b</b> } }} {");
}
END_TEST

START_TEST(nul_bytes_in_values_are_dropped)
{
    json_t *data = json_pack("{s:s%}", "v", "a\0<b", (size_t)4);
    char *out = template_render_text(templates_embedded, "{{v}}|{{{v}}}", data, NULL, 0);

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "a&lt;b|a<b");
    free(out);
    json_decref(data);
}
END_TEST

/* ---- lookup ---- */

static const struct render_case dotted_lookup_cases[] = {
    {"{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep"},
    {"{{a.x.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", ""},
    {"{{a.b}}", "{\"a\":\"not an object\"}", ""},
    {"{{a.0}}", "{\"a\":[\"arrays are not indexed\"]}", ""},
    /* The first segment is found in an outer frame... */
    {"{{#items}}{{user.name}};{{/items}}", "{\"user\":{\"name\":\"ann\"},\"items\":[{},{}]}",
     "ann;ann;"},
    /* ...but once found, the rest is looked up only inside it. */
    {"{{#inner}}[{{user.name}}]{{/inner}}",
     "{\"user\":{\"name\":\"outer\"},\"inner\":{\"user\":{}}}", "[]"},
    {"{{missing}}|{{missing.deeper}}", "{}", "|"},
};

START_TEST(dotted_names_look_up_nested_members)
{
    const struct render_case *c = &dotted_lookup_cases[_i];
    expect_render(c->text, c->json, c->expected);
}
END_TEST

START_TEST(whitespace_inside_tags_is_ignored)
{
    expect_render("{{ a }}{{{ a }}}{{# list }}{{ . }}{{/ list }}{{^ none }}!{{/ none }}"
                  "{{!  x  }}{{\tb.c\n}}",
                  "{\"a\":\"<\",\"list\":[1,2],\"b\":{\"c\":\"d\"}}", "&lt;<12!d");
}
END_TEST

START_TEST(null_data_renders_names_as_empty)
{
    char *out = template_render_text(templates_embedded, "[{{a}}{{#a}}x{{/a}}{{^a}}y{{/a}}]", NULL,
                                     NULL, 0);

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "[y]");
    free(out);
}
END_TEST

/* ---- sections ---- */

START_TEST(sections_repeat_over_arrays_of_objects)
{
    expect_render("<ul>{{#posts}}<li>{{title}} by {{author.name}}</li>{{/posts}}</ul>",
                  "{\"posts\":[{\"title\":\"One\",\"author\":{\"name\":\"a<b\"}},"
                  "{\"title\":\"Two & more\",\"author\":{\"name\":\"c\"}}]}",
                  "<ul><li>One by a&lt;b</li><li>Two &amp; more by c</li></ul>");
}
END_TEST

START_TEST(sections_repeat_over_arrays_of_strings)
{
    expect_render("{{#tags}}[{{.}}|{{{.}}}]{{/tags}}", "{\"tags\":[\"a\",\"<b>\",\"\"]}",
                  "[a|a][&lt;b&gt;|<b>][|]");
}
END_TEST

START_TEST(sections_repeat_over_arrays_of_numbers)
{
    expect_render("{{#n}}{{.}},{{/n}}", "{\"n\":[1,2.5,-3,true,null]}", "1,2.5,-3,true,,");
}
END_TEST

START_TEST(nested_sections_see_outer_names)
{
    expect_render("{{#posts}}{{#comments}}{{who}} on {{title}} in {{forum}};{{/comments}}"
                  "{{/posts}}",
                  "{\"forum\":\"f\",\"posts\":[{\"title\":\"t1\",\"comments\":[{\"who\":\"x\"},"
                  "{\"who\":\"y\"}]},{\"title\":\"t2\",\"comments\":[]}]}",
                  "x on t1 in f;y on t1 in f;");
}
END_TEST

START_TEST(inner_names_shadow_outer_names)
{
    expect_render("{{name}}{{#child}}/{{name}}{{#leaf}}/{{name}}{{/leaf}}{{/child}}",
                  "{\"name\":\"a\",\"child\":{\"name\":\"b\",\"leaf\":{\"name\":null}}}", "a/b/");
}
END_TEST

START_TEST(object_sections_push_the_object)
{
    expect_render("{{#user}}{{name}} {{.}}{{/user}}", "{\"user\":{\"name\":\"ann\"}}", "ann ");
}
END_TEST

START_TEST(scalar_sections_do_not_push)
{
    /* A true/string/number section renders once in the enclosing context. */
    expect_render("{{#flag}}{{name}}{{/flag}}{{#s}}{{name}}{{/s}}{{#n}}{{name}}{{/n}}",
                  "{\"name\":\"x\",\"flag\":true,\"s\":\"str\",\"n\":3}", "xxx");
}
END_TEST

START_TEST(inverted_sections_render_when_sections_do_not)
{
    expect_render("{{#items}}<li>{{.}}</li>{{/items}}{{^items}}<p>No items.</p>{{/items}}",
                  "{\"items\":[]}", "<p>No items.</p>");
    expect_render("{{#items}}<li>{{.}}</li>{{/items}}{{^items}}<p>No items.</p>{{/items}}",
                  "{\"items\":[\"a\"]}", "<li>a</li>");
    expect_render("{{^missing}}{{who}}{{/missing}}", "{\"who\":\"me\"}", "me");
}
END_TEST

struct truth_case {
    const char *value; /* JSON for member v, or NULL for missing */
    const char *expected;
};

static const struct truth_case truth_cases[] = {
    {"true", "yes"}, {"false", "no"},      {"null", "no"}, {NULL, "no"},     {"[]", "no"},
    {"[0]", "yes"},  {"[1,2]", "yes yes"}, {"\"\"", "no"}, {"\"0\"", "yes"}, {"\"x\"", "yes"},
    {"0", "no"},     {"1", "yes"},         {"-1", "yes"},  {"0.0", "no"},    {"0.5", "yes"},
    {"{}", "yes"},   {"{\"a\":1}", "yes"},
};

START_TEST(truthiness_table)
{
    const struct truth_case *c = &truth_cases[_i];
    char json[64];
    char *out;
    char error[256] = "";
    json_t *data;
    /* "yes" per rendering, separated by a space; "no" exactly when nothing rendered. */
    const char *text = "{{#v}}yes {{/v}}{{^v}}no{{/v}}";

    if (c->value)
        snprintf(json, sizeof json, "{\"v\":%s}", c->value);
    else
        snprintf(json, sizeof json, "{}");
    data = data_of(json);
    out = template_render_text(templates_embedded, text, data, error, sizeof error);
    ck_assert_msg(out != NULL, "%s", error);
    if (strcmp(c->expected, "no") == 0) {
        ck_assert_str_eq(out, "no");
    } else {
        char expected[32];

        snprintf(expected, sizeof expected, "%s ", c->expected);
        ck_assert_msg(strcmp(out, expected) == 0, "v=%s: got '%s', want '%s'", json, out, expected);
    }
    free(out);
    json_decref(data);
}
END_TEST

/* ---- values ---- */

static const struct render_case number_cases[] = {
    {"{{v}}", "{\"v\":42}", "42"},        {"{{v}}", "{\"v\":-7}", "-7"},
    {"{{v}}", "{\"v\":0}", "0"},          {"{{v}}", "{\"v\":9007199254740993}", "9007199254740993"},
    {"{{v}}", "{\"v\":1.5}", "1.5"},      {"{{v}}", "{\"v\":0.1}", "0.1"},
    {"{{v}}", "{\"v\":-2.0}", "-2"},      {"{{v}}", "{\"v\":1e21}", "1e+21"},
    {"{{{v}}}", "{\"v\":1e21}", "1e+21"},
};

START_TEST(numbers_render_in_decimal_and_g)
{
    const struct render_case *c = &number_cases[_i];
    expect_render(c->text, c->json, c->expected);
}
END_TEST

START_TEST(non_scalar_values_render_as_empty)
{
    expect_render("[{{t}}|{{f}}|{{n}}|{{o}}|{{a}}|{{{o}}}|{{{a}}}]",
                  "{\"t\":true,\"f\":false,\"n\":null,\"o\":{\"x\":1},\"a\":[1]}", "[true||||||]");
}
END_TEST

START_TEST(comments_are_dropped)
{
    expect_render("a{{! a comment with {braces} and \"quotes\"\n over lines }}b{{!}}c", "{}",
                  "abc");
}
END_TEST

/* ---- partials and embedded templates ---- */

START_TEST(unknown_partial_is_an_error)
{
    expect_error("x{{> no_such_partial }}y", "{}", "unknown partial 'no_such_partial'");
}
END_TEST

START_TEST(unknown_partial_is_an_error_even_where_not_rendered)
{
    expect_error("{{#off}}{{> no_such_partial}}{{/off}}", "{\"off\":false}",
                 "unknown partial 'no_such_partial'");
}
END_TEST

START_TEST(unknown_template_is_an_error)
{
    char error[256] = "";
    char *out =
        template_render(templates_embedded, "no_such_template.html", NULL, error, sizeof error);

    ck_assert_ptr_null(out);
    ck_assert_str_eq(error, "unknown template 'no_such_template.html'");
    ck_assert_ptr_null(template_render(templates_embedded, NULL, NULL, error, sizeof error));
}
END_TEST

/* placeholder.html is "{{> header}}<p>placeholder</p>{{> footer}}". header.html and footer.html
 * may or may not exist yet: either the partials render around the body, or the missing one is
 * named in the error, located in placeholder.html. Both through template_render and through a
 * partial included from text. */
START_TEST(embedded_templates_resolve_partials)
{
    bool have_partials = embedded_find(templates_embedded, "header.html") != NULL &&
                         embedded_find(templates_embedded, "footer.html") != NULL;
    const char *missing =
        embedded_find(templates_embedded, "header.html") ? "'footer'" : "'header'";
    json_t *data = data_of("{}");
    char error[256] = "";
    char *direct =
        template_render(templates_embedded, "placeholder.html", data, error, sizeof error);
    char *included;

    if (have_partials) {
        ck_assert_msg(direct != NULL, "%s", error);
        ck_assert_ptr_nonnull(strstr(direct, "<p>placeholder</p>"));
    } else {
        ck_assert_ptr_null(direct);
        ck_assert_ptr_nonnull(strstr(error, "placeholder.html:1: unknown partial"));
        ck_assert_ptr_nonnull(strstr(error, missing));
    }
    included = template_render_text(templates_embedded, "<main>{{> placeholder}}</main>", data,
                                    error, sizeof error);
    if (have_partials) {
        ck_assert_msg(included != NULL, "%s", error);
        ck_assert_ptr_nonnull(strstr(included, "<p>placeholder</p>"));
        ck_assert_int_eq(strncmp(included, "<main>", 6), 0);
    } else {
        ck_assert_ptr_null(included);
        ck_assert_ptr_nonnull(strstr(error, "placeholder.html:1: unknown partial"));
    }
    free(direct);
    free(included);
    json_decref(data);
}
END_TEST

/* ---- malformed templates ---- */

static const struct error_case malformed_cases[] = {
    {"{{name", "unclosed tag '{{'"},
    {"text {{", "unclosed tag '{{'"},
    {"{{name}", "unclosed tag '{{'"},
    {"{{{name}}", "unclosed tag '{{{'"},
    {"{{!comment", "unclosed tag '{{'"},
    {"{{#a}}x", "unclosed section 'a'"},
    {"{{#a}}{{#b}}{{/b}}", "unclosed section 'a'"},
    {"{{^a}}x", "unclosed section 'a'"},
    {"x{{/a}}", "'{{/a}}' closes no open section"},
    {"{{#a}}{{/b}}", "'{{/b}}' does not close section 'a'"},
    {"{{#a}}{{#b}}{{/a}}{{/b}}", "'{{/a}}' does not close section 'b'"},
    {"{{}}", "empty tag"},
    {"{{  }}", "empty tag"},
    {"{{& name}}", "not supported"},
    {"{{=<% %>=}}", "not supported"},
    {"{{na me}}", "invalid name"},
    {"{{a..b}}", "invalid name"},
    {"{{.a}}", "invalid name"},
    {"{{a.}}", "invalid name"},
    {"{{a<b}}", "invalid name"},
    {"{{{}}}", "invalid name"},
    {"{{{a b}}}", "invalid name"},
    {"{{a {{b}}", "invalid name"},
    {"{{#}}{{/}}", "invalid section name"},
    {"{{> }}", "invalid partial name"},
    {"{{>a b}}", "invalid partial name"},
    {"line 1\nline 2\n  {{#x}}", "template:3: unclosed section 'x'"},
    {"a\n{{bad name}}", "template:2: invalid name in '{{bad name}}'"},
};

START_TEST(malformed_templates_are_errors)
{
    expect_error(malformed_cases[_i].text, "{\"a\":true,\"b\":true}", malformed_cases[_i].reason);
}
END_TEST

START_TEST(malformed_templates_are_errors_whatever_the_data)
{
    /* The broken part sits in a section that would not render. */
    expect_error("{{#off}}{{#x}}{{/off}}", "{\"off\":false}", "does not close section 'x'");
    expect_error("{{^on}}{{bad name}}{{/on}}", "{\"on\":true}", "invalid name");
}
END_TEST

START_TEST(errors_need_no_error_buffer)
{
    char tiny[8] = "";

    ck_assert_ptr_null(template_render_text(templates_embedded, "{{#a}}", NULL, NULL, 0));
    ck_assert_ptr_null(template_render_text(templates_embedded, "{{#a}}", NULL, tiny, sizeof tiny));
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
    ck_assert_ptr_null(template_render_text(templates_embedded, NULL, NULL, tiny, sizeof tiny));
    ck_assert_ptr_null(template_render(templates_embedded, "nope.html", NULL, NULL, 0));
}
END_TEST

/* Builds `depth` nested sections, each named s and over `{"s":true}`, around "x". */
static char *nested_sections(int depth)
{
    size_t size = (size_t)depth * 12 + 2;
    char *text = malloc(size);
    size_t used = 0;

    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < depth; i++)
        used += (size_t)snprintf(text + used, size - used, "{{#s}}");
    used += (size_t)snprintf(text + used, size - used, "x");
    for (int i = 0; i < depth; i++)
        used += (size_t)snprintf(text + used, size - used, "{{/s}}");
    return text;
}

START_TEST(sections_nest_up_to_32)
{
    char *text = nested_sections(32);

    expect_render(text, "{\"s\":true}", "x");
    free(text);
}
END_TEST

START_TEST(sections_nested_deeper_than_32_are_an_error)
{
    char *text = nested_sections(33);

    expect_error(text, "{\"s\":true}", "sections nested deeper than 32");
    free(text);
}
END_TEST

START_TEST(output_grows_as_needed)
{
    json_t *items = json_array();
    json_t *data = json_pack("{so}", "items", items);
    char *out;
    size_t expected = 0;

    for (int i = 0; i < 5000; i++) {
        json_array_append_new(items, json_string("<item>"));
        expected += strlen("<li>&lt;item&gt;</li>");
    }
    out = template_render_text(templates_embedded, "{{#items}}<li>{{.}}</li>{{/items}}", data, NULL,
                               0);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(strlen(out), expected);
    ck_assert_int_eq(strncmp(out, "<li>&lt;item&gt;</li><li>", 25), 0);
    free(out);
    json_decref(data);
}
END_TEST

START_TEST(empty_template_renders_empty)
{
    expect_render("", "{}", "");
}
END_TEST

#define COUNT(array) ((int)(sizeof(array) / sizeof(array)[0]))

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("template", "core", &tc);

    tcase_add_loop_test(tc, escape_html_golden, 0, ESCAPE_CASES);
    tcase_add_loop_test(tc, variables_are_escaped_golden, 0, ESCAPE_CASES);
    tcase_add_loop_test(tc, dot_in_string_array_is_escaped_golden, 0, ESCAPE_CASES);
    tcase_add_loop_test(tc, triple_braces_output_raw, 0, ESCAPE_CASES);
    tcase_add_test(tc, escape_html_of_empty_and_null);
    tcase_add_test(tc, template_text_is_not_escaped);
    tcase_add_test(tc, nul_bytes_in_values_are_dropped);
    tcase_add_loop_test(tc, dotted_names_look_up_nested_members, 0, COUNT(dotted_lookup_cases));
    tcase_add_test(tc, whitespace_inside_tags_is_ignored);
    tcase_add_test(tc, null_data_renders_names_as_empty);
    tcase_add_test(tc, sections_repeat_over_arrays_of_objects);
    tcase_add_test(tc, sections_repeat_over_arrays_of_strings);
    tcase_add_test(tc, sections_repeat_over_arrays_of_numbers);
    tcase_add_test(tc, nested_sections_see_outer_names);
    tcase_add_test(tc, inner_names_shadow_outer_names);
    tcase_add_test(tc, object_sections_push_the_object);
    tcase_add_test(tc, scalar_sections_do_not_push);
    tcase_add_test(tc, inverted_sections_render_when_sections_do_not);
    tcase_add_loop_test(tc, truthiness_table, 0, COUNT(truth_cases));
    tcase_add_loop_test(tc, numbers_render_in_decimal_and_g, 0, COUNT(number_cases));
    tcase_add_test(tc, non_scalar_values_render_as_empty);
    tcase_add_test(tc, comments_are_dropped);
    tcase_add_test(tc, unknown_partial_is_an_error);
    tcase_add_test(tc, unknown_partial_is_an_error_even_where_not_rendered);
    tcase_add_test(tc, unknown_template_is_an_error);
    tcase_add_test(tc, embedded_templates_resolve_partials);
    tcase_add_loop_test(tc, malformed_templates_are_errors, 0, COUNT(malformed_cases));
    tcase_add_test(tc, malformed_templates_are_errors_whatever_the_data);
    tcase_add_test(tc, errors_need_no_error_buffer);
    tcase_add_test(tc, sections_nest_up_to_32);
    tcase_add_test(tc, sections_nested_deeper_than_32_are_an_error);
    tcase_add_test(tc, output_grows_as_needed);
    tcase_add_test(tc, empty_template_renders_empty);
    return unit_run(suite);
}
