/* Declared-shape validation: each refusal names the field, and nothing malformed gets through. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "web/json_spec.h"
#include "unit.h"

static const struct agentgate_json_field fields[] = {
    {"agent", AGENTGATE_JSON_OBJECT, true, 0, 0},
    {"agent.id", AGENTGATE_JSON_STRING, true, 1, 8},
    {"note", AGENTGATE_JSON_STRING, false, 0, 3},
    {"extra", AGENTGATE_JSON_OBJECT, false, 0, 0},
    {"extra.url", AGENTGATE_JSON_STRING, false, 0, 100},
};

struct spec_case {
    const char *name, *body, *code, *field;
};

static const struct spec_case cases[] = {
    {"valid", "{\"agent\":{\"id\":\"bot\"}}", NULL, NULL},
    {"valid with optional parts", "{\"agent\":{\"id\":\"b\"},\"note\":\"abc\",\"extra\":{}}", NULL,
     NULL},
    {"null optional is absent", "{\"agent\":{\"id\":\"b\"},\"note\":null}", NULL, NULL},
    {"missing object", "{}", "missing_field", "agent"},
    {"missing member", "{\"agent\":{}}", "missing_field", "agent.id"},
    {"wrong type number", "{\"agent\":{\"id\":42}}", "invalid_field", "agent.id"},
    {"wrong type array", "{\"agent\":[]}", "invalid_field", "agent"},
    {"empty required string", "{\"agent\":{\"id\":\"\"}}", "invalid_field", "agent.id"},
    {"too long in code points",
     "{\"agent\":{\"id\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}}",
     "invalid_field", "agent.id"},
    {"unknown top-level key", "{\"agent\":{\"id\":\"b\"},\"admin\":true}", "invalid_field",
     "admin"},
    {"unknown nested key", "{\"agent\":{\"id\":\"b\",\"role\":\"x\"}}", "invalid_field",
     "agent.role"},
    {"dotted top-level key is not the nested field",
     "{\"agent\":{\"id\":\"b\"},\"agent.id\":\"x\"}", "invalid_field", "agent.id"},
    {"dotted key inside an object", "{\"agent\":{\"id\":\"b\"},\"extra\":{\"url.x\":\"y\"}}",
     "invalid_field", "extra.url.x"},
    {"optional object wrong type", "{\"agent\":{\"id\":\"b\"},\"extra\":\"x\"}", "invalid_field",
     "extra"},
};

START_TEST(spec_cases)
{
    const struct spec_case *c = &cases[_i];
    struct agentgate_failure failure = {0};
    json_t *root = NULL;
    bool ok;

    ck_assert_msg(json_request_parse(c->body, strlen(c->body), &root, &failure) == ERR_NONE,
                  "%s: parse failed: %s", c->name, failure.message);
    ok = json_spec_check(root, fields, sizeof fields / sizeof fields[0], &failure);
    json_decref(root);
    if (!c->code) {
        ck_assert_msg(ok, "%s: refused: %s %s", c->name, failure.field, failure.message);
        return;
    }
    ck_assert_msg(!ok, "%s: accepted", c->name);
    ck_assert_str_eq(failure.code, c->code);
    ck_assert_str_eq(failure.field, c->field);
    ck_assert_int_eq(failure.status, 400);
}
END_TEST

struct parse_case {
    const char *name;
    const char *body;
    size_t length; /* 0: strlen */
    enum agentgate_error error;
};

static const struct parse_case parse_cases[] = {
    {"malformed", "{\"agent\":", 0, ERR_MALFORMED_JSON},
    {"trailing garbage", "{} x", 0, ERR_MALFORMED_JSON},
    {"empty body", "", 0, ERR_MALFORMED_JSON},
    {"invalid utf-8 byte", "{\"a\":\"\xff\"}", 0, ERR_INVALID_UTF8},
    {"overlong utf-8", "{\"a\":\"\xc0\xaf\"}", 0, ERR_INVALID_UTF8},
    {"lone surrogate escape", "{\"a\":\"\\ud800\"}", 0, ERR_MALFORMED_JSON},
    {"NUL escape", "{\"a\":\"x\\u0000y\"}", 0, ERR_MALFORMED_JSON},
    {"raw NUL byte", "{\"a\":\"x\0y\"}", 11, ERR_MALFORMED_JSON},
    {"duplicate key", "{\"a\":1,\"a\":2}", 0, ERR_DUPLICATE_KEY},
    {"duplicate nested key", "{\"a\":{\"b\":1,\"b\":1}}", 0, ERR_DUPLICATE_KEY},
    {"array root", "[1,2]", 0, ERR_INVALID_FIELD},
    {"string root", "\"x\"", 0, ERR_MALFORMED_JSON},
    {"deep nesting", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", 0, ERR_NESTING_TOO_DEEP},
    {"brackets inside strings do not count", "{\"a\":\"[[[[[[[[[[[[[[[[\"}", 0, ERR_NONE},
    {"escaped quote inside string", "{\"a\":\"\\\"[[[[[[[[[[[[\"}", 0, ERR_NONE},
    {"control characters escaped are fine", "{\"a\":\"\\u0007\\u001b[31m\"}", 0, ERR_NONE},
};

START_TEST(parse_cases_map_to_errors)
{
    const struct parse_case *c = &parse_cases[_i];
    struct agentgate_failure failure = {0};
    json_t *root = NULL;
    size_t length = c->length ? c->length : strlen(c->body);
    enum agentgate_error error = json_request_parse(c->body, length, &root, &failure);

    ck_assert_msg(error == c->error, "%s: got %s want %s", c->name, error_code(error),
                  error_code(c->error));
    if (error == ERR_NONE)
        ck_assert_ptr_nonnull(root);
    else {
        ck_assert_ptr_null(root);
        ck_assert_str_eq(failure.code, error_code(c->error));
    }
    json_decref(root);
}
END_TEST

START_TEST(nesting_depth_counts_outside_strings)
{
    ck_assert_uint_eq(json_nesting_depth("{\"a\":{\"b\":[1]}}", 15, 8), 3);
    ck_assert_uint_eq(json_nesting_depth("[[[[[[[[[[", 10, 4), 5);
}
END_TEST

START_TEST(utf8_length_counts_code_points)
{
    ck_assert_uint_eq(utf8_length("abc"), 3);
    ck_assert_uint_eq(utf8_length("\xc3\xa9t\xc3\xa9"), 3);
    ck_assert_uint_eq(utf8_length("\xf0\x9f\x98\x80"), 1);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("json_spec", "core", &tc);

    tcase_add_loop_test(tc, spec_cases, 0, sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, parse_cases_map_to_errors, 0,
                        sizeof parse_cases / sizeof parse_cases[0]);
    tcase_add_test(tc, nesting_depth_counts_outside_strings);
    tcase_add_test(tc, utf8_length_counts_code_points);
    return unit_run(suite);
}
