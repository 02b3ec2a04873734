/* Standard Webhooks verification: the published vectors, and each way a signature must fail. */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_signature.h"
#include "unit.h"

struct vector {
    const char *secret, *id, *timestamp, *body, *signature;
};

/* Published by the Standard Webhooks project. */
static const struct vector vectors[] = {
    {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
     "{\"test\": 2432232314}", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    {"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
     "{\"email\":\"test@example.com\",\"username\":\"test_user\"}",
     "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="},
};

static struct webhook_key key_of(const char *secret)
{
    struct webhook_key key;
    ck_assert(webhook_key_parse(secret, &key));
    return key;
}

static enum webhook_verdict verify_vector(const struct vector *v, const char *signature, time_t now)
{
    struct webhook_key key = key_of(v->secret);
    return webhook_verify(&key, v->id, v->timestamp, signature, v->body, strlen(v->body), now);
}

START_TEST(published_vectors_sign_exactly)
{
    const struct vector *v = &vectors[_i];
    struct webhook_key key = key_of(v->secret);
    char out[WEBHOOK_SIGNATURE_TEXT_SIZE];
    webhook_sign(&key, v->id, v->timestamp, v->body, strlen(v->body), out);
    ck_assert_str_eq(out, v->signature);
}
END_TEST

START_TEST(published_vectors_verify)
{
    const struct vector *v = &vectors[_i];
    ck_assert_int_eq(verify_vector(v, v->signature, atol(v->timestamp)), WEBHOOK_VALID);
}
END_TEST

START_TEST(bare_version_prefix_fails)
{
    ck_assert_int_eq(verify_vector(&vectors[0], "v1,", 1614265330), WEBHOOK_BAD_SIGNATURE);
}
END_TEST

START_TEST(truncated_signature_fails)
{
    ck_assert_int_eq(
        verify_vector(&vectors[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O", 1614265330),
        WEBHOOK_BAD_SIGNATURE);
}
END_TEST

START_TEST(one_valid_signature_in_a_list_is_enough)
{
    const char *list = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc "
                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    ck_assert_int_eq(verify_vector(&vectors[0], list, 1614265330), WEBHOOK_VALID);
}
END_TEST

START_TEST(unknown_versions_are_skipped_not_accepted)
{
    ck_assert_int_eq(
        verify_vector(&vectors[0], "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", 1614265330),
        WEBHOOK_BAD_SIGNATURE);
    ck_assert_int_eq(
        verify_vector(&vectors[0],
                      "v1a,x v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", 1614265330),
        WEBHOOK_VALID);
}
END_TEST

START_TEST(changed_body_fails)
{
    struct webhook_key key = key_of(vectors[0].secret);
    const char *body = "{\"test\": 2432232315}";
    ck_assert_int_eq(webhook_verify(&key, vectors[0].id, vectors[0].timestamp, vectors[0].signature,
                                    body, strlen(body), 1614265330),
                     WEBHOOK_BAD_SIGNATURE);
}
END_TEST

START_TEST(other_secret_fails)
{
    struct webhook_key key = key_of(vectors[1].secret);
    ck_assert_int_eq(webhook_verify(&key, vectors[0].id, vectors[0].timestamp, vectors[0].signature,
                                    vectors[0].body, strlen(vectors[0].body), 1614265330),
                     WEBHOOK_BAD_SIGNATURE);
}
END_TEST

START_TEST(timestamp_within_five_minutes_passes_beyond_fails)
{
    const struct vector *v = &vectors[0];
    time_t sent = 1614265330;
    ck_assert_int_eq(verify_vector(v, v->signature, sent + 300), WEBHOOK_VALID);
    ck_assert_int_eq(verify_vector(v, v->signature, sent - 300), WEBHOOK_VALID);
    ck_assert_int_eq(verify_vector(v, v->signature, sent + 301), WEBHOOK_STALE_TIMESTAMP);
    ck_assert_int_eq(verify_vector(v, v->signature, sent - 301), WEBHOOK_STALE_TIMESTAMP);
}
END_TEST

START_TEST(malformed_timestamps_fail)
{
    struct webhook_key key = key_of(vectors[0].secret);
    const char *bad[] = {"-1614265330", "1614265330.0",   "0x60",
                         " 1614265330", "16142653301234", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(webhook_verify(&key, vectors[0].id, bad[i], vectors[0].signature,
                                        vectors[0].body, strlen(vectors[0].body), 1614265330),
                         WEBHOOK_STALE_TIMESTAMP);
}
END_TEST

START_TEST(missing_headers_are_reported_as_missing)
{
    struct webhook_key key = key_of(vectors[0].secret);
    const struct vector *v = &vectors[0];
    ck_assert_int_eq(webhook_verify(&key, NULL, v->timestamp, v->signature, "", 0, 1614265330),
                     WEBHOOK_MISSING_HEADER);
    ck_assert_int_eq(webhook_verify(&key, v->id, "", v->signature, "", 0, 1614265330),
                     WEBHOOK_MISSING_HEADER);
    ck_assert_int_eq(webhook_verify(&key, v->id, v->timestamp, NULL, "", 0, 1614265330),
                     WEBHOOK_MISSING_HEADER);
}
END_TEST

START_TEST(secrets_parse_with_or_without_prefix_and_reject_garbage)
{
    struct webhook_key key;
    ck_assert(webhook_key_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key));
    ck_assert_uint_eq(key.length, 24);
    ck_assert(webhook_key_parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key));
    ck_assert(!webhook_key_parse("whsec_", &key));
    ck_assert(!webhook_key_parse("whsec_not base64!", &key));
    ck_assert(!webhook_key_parse(NULL, &key));
}
END_TEST

START_TEST(generated_secrets_round_trip)
{
    char secret[80];
    struct webhook_key key;
    webhook_secret_generate(secret, sizeof secret);
    ck_assert(strncmp(secret, "whsec_", 6) == 0);
    ck_assert(webhook_key_parse(secret, &key));
    ck_assert_uint_eq(key.length, 32);
}
END_TEST

int main(void)
{
    TCase *tc;
    Suite *suite = unit_suite("webhook_signature", "core", &tc);

    if (sodium_init() < 0)
        return 1;
    tcase_add_loop_test(tc, published_vectors_sign_exactly, 0, 2);
    tcase_add_loop_test(tc, published_vectors_verify, 0, 2);
    tcase_add_test(tc, bare_version_prefix_fails);
    tcase_add_test(tc, truncated_signature_fails);
    tcase_add_test(tc, one_valid_signature_in_a_list_is_enough);
    tcase_add_test(tc, unknown_versions_are_skipped_not_accepted);
    tcase_add_test(tc, changed_body_fails);
    tcase_add_test(tc, other_secret_fails);
    tcase_add_test(tc, timestamp_within_five_minutes_passes_beyond_fails);
    tcase_add_test(tc, malformed_timestamps_fail);
    tcase_add_test(tc, missing_headers_are_reported_as_missing);
    tcase_add_test(tc, secrets_parse_with_or_without_prefix_and_reject_garbage);
    tcase_add_test(tc, generated_secrets_round_trip);
    return unit_run(suite);
}
