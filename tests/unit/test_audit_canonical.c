/* The C side of the audit chain's canonical encoding (server/audit.c): canonical JSON of tricky
 * inputs (nesting, key order by UTF-8 bytes, Unicode, control characters, numbers kept
 * verbatim, empty containers), refusal of what PostgreSQL never prints, the event bytes with
 * NULL fields, checkpoint parsing, and two hashes computed by the SQL side
 * (sql/audit_event_bytes.sql) so that both implementations are pinned to the same
 * bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "unit.h"

struct json_case {
    const char *name;
    const char *input;
    const char *expected; /* NULL: must be refused */
};

static const struct json_case json_cases[] = {
    {"nested objects sorted at every level",
     "{\"b\": {\"z\": 1, \"a\": [true, false, null, {}, []]}, \"a\": \"x\"}",
     "{\"a\":\"x\",\"b\":{\"a\":[true,false,null,{},[]],\"z\":1}}"},
    {"keys by UTF-8 bytes, not by length or locale",
     "{\"\xC3\xA9\": 1, \"z\": 2, \"Z\": 3, \"aa\": 4, \"a\": 5, \"\": 6, \"\xC3\xA4\": 7, "
     "\"\\u00e9x\": 8}",
     "{\"\":6,\"Z\":3,\"a\":5,\"aa\":4,\"z\":2,\"\xC3\xA4\":7,\"\xC3\xA9\":1,\"\xC3\xA9x\":8}"},
    {"a key that is a prefix of another comes first", "{\"ab\": 1, \"a\": 2}",
     "{\"a\":2,\"ab\":1}"},
    {"keys compared after decoding escapes", "{\"\\u0062\": 1, \"a\": 2, \"\\\"\": 3}",
     "{\"\\\"\":3,\"a\":2,\"b\":1}"},
    {"control characters as lower-case \\u00xx, all else raw",
     "{\"s\": \"tab\\there \\u001F \\u007f \\b\\f\\n\\r quote\\\" back\\\\ slash\\/ "
     "\\ud83d\\ude00 \\u2028 \xE2\x80\xAE\"}",
     "{\"s\":\"tab\\u0009here \\u001f \x7f \\u0008\\u000c\\u000a\\u000d quote\\\" back\\\\ slash/ "
     "\xF0\x9F\x98\x80 \xE2\x80\xA8 \xE2\x80\xAE\"}"},
    {"NUL escaped", "\"a\\u0000b\"", "\"a\\u0000b\""},
    {"numbers kept verbatim", "[1.50, -0, 1e3, 1E+3, -12.5e-3, 0, 12345678901234567890123]",
     "[1.50,-0,1e3,1E+3,-12.5e-3,0,12345678901234567890123]"},
    {"empty containers", "{\"a\": {}, \"b\": [], \"c\": [{}], \"d\": \"\"}",
     "{\"a\":{},\"b\":[],\"c\":[{}],\"d\":\"\"}"},
    {"empty object", "{}", "{}"},
    {"empty array", " [ ] ", "[]"},
    {"whitespace dropped everywhere", " \n{ \"a\" :\t[ 1 , 2 ] ,\r\"b\" : null }\t",
     "{\"a\":[1,2],\"b\":null}"},
    {"top-level scalar", "\"x\"", "\"x\""},
    {"jsonb text form of a real event",
     "{\"agent\": {\"id\": \"bot-42\", \"name\": \"helperbot\"}, \"flags\": 0, \"invoker\": "
     "{\"id\": \"1001\", \"name\": \"alice\"}, \"webhook_id\": \"msg_1\"}",
     "{\"agent\":{\"id\":\"bot-42\",\"name\":\"helperbot\"},\"flags\":0,\"invoker\":{\"id\":"
     "\"1001\",\"name\":\"alice\"},\"webhook_id\":\"msg_1\"}"},
    {"duplicate key refused", "{\"a\": 1, \"a\": 2}", NULL},
    {"duplicate key after decoding refused", "{\"a\": 1, \"\\u0061\": 2}", NULL},
    {"lone high surrogate refused", "\"\\ud800\"", NULL},
    {"lone low surrogate refused", "\"\\udc00\"", NULL},
    {"high surrogate with a non-low partner refused", "\"\\ud800\\u0041\"", NULL},
    {"raw control character refused", "\"a\nb\"", NULL},
    {"bad escape refused", "\"\\x41\"", NULL},
    {"trailing garbage refused", "{} x", NULL},
    {"leading zero refused", "01", NULL},
    {"bare dot refused", "1.", NULL},
    {"bare exponent refused", "1e", NULL},
    {"unterminated string refused", "\"abc", NULL},
    {"unterminated object refused", "{\"a\": 1", NULL},
    {"missing colon refused", "{\"a\" 1}", NULL},
    {"trailing comma refused", "[1, 2,]", NULL},
    {"empty input refused", "", NULL},
    {"bad literal refused", "nul", NULL},
};

static char *canonical(const char *input, int *status)
{
    struct text_buffer out = {0};
    char *text;

    *status = audit_json_canonicalize(input, strlen(input), &out);
    text = malloc(out.length + 1);
    ck_assert_ptr_nonnull(text);
    if (out.length)
        memcpy(text, out.data, out.length);
    text[out.length] = '\0';
    text_buffer_free(&out);
    return text;
}

START_TEST(test_json_cases)
{
    const struct json_case *c = &json_cases[_i];
    int status;
    char *text = canonical(c->input, &status);

    if (c->expected) {
        ck_assert_msg(status == 0, "%s: refused", c->name);
        ck_assert_msg(strcmp(text, c->expected) == 0, "%s:\n got  %s\n want %s", c->name, text,
                      c->expected);
    } else {
        ck_assert_msg(status == -1, "%s: accepted as %s", c->name, text);
    }
    free(text);
}
END_TEST

static char *nested(const char *open, const char *close, int depth)
{
    size_t open_length = strlen(open), close_length = strlen(close);
    char *text = malloc((size_t)depth * (open_length + close_length) + 1), *at = text;

    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < depth; i++, at += open_length)
        memcpy(at, open, open_length);
    for (int i = 0; i < depth; i++, at += close_length)
        memcpy(at, close, close_length);
    *at = '\0';
    return text;
}

START_TEST(test_json_depth)
{
    char *ok = nested("[", "]", 1000), *deep = nested("{\"a\":", "}", 1001), *out;
    int status;

    out = canonical(ok, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_str_eq(out, ok);
    free(out);
    out = canonical(deep, &status);
    ck_assert_int_eq(status, -1);
    free(out);
    free(ok);
    free(deep);
}
END_TEST

/* The bytes of `event` as a NUL-terminated string (the test events hold no NUL). */
static char *event_bytes(const struct audit_event *event, int *status)
{
    struct text_buffer out = {0};
    char *text;

    *status = audit_event_encode(event, &out);
    text = strndup(out.data ? out.data : "", out.length);
    ck_assert_ptr_nonnull(text);
    text_buffer_free(&out);
    return text;
}

static const char uuid[] = "0b9c6f1e-7d2a-4c4e-9a51-3f0e8d7c6b5a";
static const char details[] = "{\"b\": 1, \"a\": \"x\"}";

START_TEST(test_event_bytes)
{
    struct audit_event event = {
        7,    42,      1795507292592149LL, "agent:bot-42", "intake.held", "eng",
        uuid, details, sizeof details - 1};
    int status;
    char *text = event_bytes(&event, &status);

    ck_assert_int_eq(status, 0);
    ck_assert_str_eq(text, "agentgate-audit-v1\n7\n42\n1795507292592149\n12:agent:bot-42\n"
                           "11:intake.held\n3:eng\n36:0b9c6f1e-7d2a-4c4e-9a51-3f0e8d7c6b5a\n"
                           "{\"a\":\"x\",\"b\":1}");
    free(text);
}
END_TEST

START_TEST(test_event_bytes_null_fields)
{
    struct audit_event event = {1, 3, -1, "user:\xC3\xA9", "auth.sign_in", NULL, NULL, "{}", 2};
    int status;
    char *text = event_bytes(&event, &status);

    ck_assert_int_eq(status, 0);
    ck_assert_str_eq(text,
                     "agentgate-audit-v1\n1\n3\n-1\n7:user:\xC3\xA9\n12:auth.sign_in\n~\n~\n{}");
    free(text);
    /* an empty text is not NULL */
    event.forum = "";
    text = event_bytes(&event, &status);
    ck_assert_int_eq(status, 0);
    ck_assert_ptr_nonnull(strstr(text, "\n12:auth.sign_in\n0:\n~\n{}"));
    free(text);
    /* details that are not JSON cannot be encoded */
    event.details = "{";
    event.details_length = 1;
    free(event_bytes(&event, &status));
    ck_assert_int_eq(status, -1);
}
END_TEST

/* Hashes computed by the SQL side for the same events:
 *   SELECT encode(sha256(decode(repeat('00', 32), 'hex') || audit_event_bytes(7, 42,
 *       'epoch'::timestamptz + 1795507292592149 * interval '1 microsecond', 'agent:bot-42',
 *       'intake.held', 'eng', '0b9c6f1e-...', '{"b": 1, "a": "x"}')), 'hex');
 *   and with prev_hash 32 bytes 0xab, seq 1, id 3, one microsecond before the epoch,
 *   'user:é', 'auth.sign_in', NULL, NULL, '{}'. */
START_TEST(test_event_hash_matches_sql)
{
    struct audit_event first = {
        7,    42,      1795507292592149LL, "agent:bot-42", "intake.held", "eng",
        uuid, details, sizeof details - 1};
    struct audit_event second = {1, 3, -1, "user:\xC3\xA9", "auth.sign_in", NULL, NULL, "{}", 2};
    unsigned char prev[AUDIT_HASH_BYTES] = {0}, hash[AUDIT_HASH_BYTES];
    char hex[AUDIT_HASH_HEX_SIZE];
    struct text_buffer scratch = {0};

    ck_assert_int_eq(audit_event_hash(prev, &first, &scratch, hash), 0);
    audit_hash_hex(hash, hex);
    ck_assert_str_eq(hex, "6f61e2cb425944281e9a03eea76d3a30f8e78d15be40ee5014671787595589ca");
    memset(prev, 0xab, sizeof prev);
    ck_assert_int_eq(audit_event_hash(prev, &second, &scratch, hash), 0);
    audit_hash_hex(hash, hex);
    ck_assert_str_eq(hex, "a5140f62ca03d26ffa1da9fb03fd01ffac25c769d430bb22bf2485f08e0cd384");
    text_buffer_free(&scratch);
}
END_TEST

START_TEST(test_checkpoint_parse)
{
    struct audit_checkpoint checkpoint;
    const char *hex = "6f61e2cb425944281e9a03eea76d3a30f8e78d15be40ee5014671787595589ca";
    char text[128];

    snprintf(text, sizeof text, "1234:%s", hex);
    ck_assert(audit_checkpoint_parse(text, &checkpoint));
    ck_assert_int_eq(checkpoint.seq, 1234);
    ck_assert_int_eq(checkpoint.hash[0], 0x6f);
    ck_assert_int_eq(checkpoint.hash[31], 0xca);
    snprintf(text, sizeof text, "0:%064d", 0);
    ck_assert(audit_checkpoint_parse(text, &checkpoint));
    ck_assert_int_eq(checkpoint.seq, 0);
    ck_assert(!audit_checkpoint_parse("1234", &checkpoint));
    ck_assert(!audit_checkpoint_parse("1234:abcd", &checkpoint));
    snprintf(text, sizeof text, ":%s", hex);
    ck_assert(!audit_checkpoint_parse(text, &checkpoint));
    snprintf(text, sizeof text, "-1:%s", hex);
    ck_assert(!audit_checkpoint_parse(text, &checkpoint));
    snprintf(text, sizeof text, "12x:%s", hex);
    ck_assert(!audit_checkpoint_parse(text, &checkpoint));
    snprintf(text, sizeof text, "99999999999999999999:%s", hex);
    ck_assert(!audit_checkpoint_parse(text, &checkpoint));
    snprintf(text, sizeof text, "1:%.63sz", hex);
    ck_assert(!audit_checkpoint_parse(text, &checkpoint));
    ck_assert(!audit_checkpoint_parse(NULL, &checkpoint));
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *suite = suite_create("audit_canonical");
    TCase *json = tcase_create("json");
    TCase *event = tcase_create("event");

    tcase_add_loop_test(json, test_json_cases, 0, (int)(sizeof json_cases / sizeof json_cases[0]));
    tcase_add_test(json, test_json_depth);
    tcase_add_test(event, test_event_bytes);
    tcase_add_test(event, test_event_bytes_null_fields);
    tcase_add_test(event, test_event_hash_matches_sql);
    tcase_add_test(event, test_checkpoint_parse);
    suite_add_tcase(suite, json);
    suite_add_tcase(suite, event);
    return suite;
}

int main(void)
{
    return unit_run(audit_suite());
}
