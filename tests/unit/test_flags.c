/* test_flags.c — unit tests of the risk scanner (server/flags.c, CONTRACT §8).
 *
 * Table-driven: every detected case must give exactly one flag with the expected code,
 * severity, field and span (checked by comparing text[start:end] with the expected match);
 * every near miss must give no flag at all. Each text is copied into a heap buffer of exactly
 * its length, without a terminating NUL, so AddressSanitizer catches any read past the end.
 */
#include "flags.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Scans `text` (strlen bytes, copied without NUL) as `field`; returns the flags array. */
static json_t *scan_text(const char *field, const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n > 0 ? n : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, n);
    json_t *flags = json_array();
    ck_assert_ptr_nonnull(flags);
    ck_assert_int_eq(flags_scan(field, copy, n, flags), 0);
    free(copy);
    return flags;
}

static const char *flag_code(json_t *flags, size_t i)
{
    return json_string_value(json_object_get(json_array_get(flags, i), "code"));
}

static size_t flag_offset(json_t *flags, size_t i, const char *key)
{
    json_t *v = json_object_get(json_array_get(flags, i), key);
    ck_assert_msg(json_is_integer(v), "flag %zu has no integer %s", i, key);
    return (size_t)json_integer_value(v);
}

/* Asserts flag i is `code` with `severity` in `field` and covers exactly `match`, the
 * occurrence of it in `text` that starts at or after byte `from`. */
static void assert_flag(json_t *flags, size_t i, const char *text, const char *field,
                        const char *code, const char *severity, const char *match, size_t from)
{
    json_t *flag = json_array_get(flags, i);
    ck_assert_msg(flag != NULL, "no flag %zu for %s in \"%s\"", i, code, text);
    ck_assert_str_eq(json_string_value(json_object_get(flag, "code")), code);
    ck_assert_str_eq(json_string_value(json_object_get(flag, "severity")), severity);
    ck_assert_str_eq(json_string_value(json_object_get(flag, "field")), field);
    ck_assert_uint_eq(json_object_size(flag), 5);
    size_t start = flag_offset(flags, i, "start"), end = flag_offset(flags, i, "end");
    ck_assert_msg(start < end && end <= strlen(text), "bad span %zu..%zu in \"%s\"", start, end,
                  text);
    const char *expected = strstr(text + from, match);
    ck_assert_msg(expected != NULL, "test bug: \"%s\" not in \"%s\"", match, text);
    ck_assert_msg(end - start == strlen(match) && memcmp(text + start, match, end - start) == 0,
                  "%s in \"%s\": got \"%.*s\" (%zu..%zu), want \"%s\"", code, text,
                  (int)(end - start), text + start, start, end, match);
    ck_assert_uint_eq(start, (size_t)(expected - text));
}

/* ------------------------------------------------------------- one flag per case ---- */

struct detection {
    const char *text;
    const char *code;
    const char *severity;
    const char *match; /* the exact text the flag must span */
};

static const struct detection detections[] = {
    /* secret.* */
    {"export AWS_ACCESS_KEY_ID=AKIAZ7QW3ERTY6UIOP4X now", "secret.aws_access_key", "critical",
     "AKIAZ7QW3ERTY6UIOP4X"},
    {"session key ASIAXQ2B7NP4MZ3K8V5R.", "secret.aws_access_key", "critical",
     "ASIAXQ2B7NP4MZ3K8V5R"},
    {"key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----\n"
     "done",
     "secret.private_key", "critical",
     "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----"},
    {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA (truncated)", "secret.private_key",
     "critical", "-----BEGIN OPENSSH PRIVATE KEY-----"},
    {"use token ghp_4fT9kLm2Qx8ZpR7vW1nB3cD5eF6gH0jK2lM4 for the API", "secret.github_token",
     "critical", "ghp_4fT9kLm2Qx8ZpR7vW1nB3cD5eF6gH0jK2lM4"},
    {"GH=github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefGHIJ",
     "secret.github_token", "critical",
     "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789abcdefGHIJ"},
    {"slack: xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp", "secret.slack_token", "critical",
     "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"},
    {"post to https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOP1234",
     "secret.slack_token", "critical",
     "hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOP1234"},
    {"client = OpenAI(\"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t\")", "secret.api_key", "critical",
     "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"},
    {"maps key AIzaSyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v", "secret.api_key", "critical",
     "AIzaSyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1v"},
    {"cookie: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P "
     "ok",
     "secret.jwt", "critical",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P"},
    {"-H 'Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e'", "secret.bearer_token", "critical",
     "Bearer 4f9a8b7c6d5e4f3a2b1c0d9e"},
    {"Authorization: Basic dXNlcjpodW50ZXIy", "secret.bearer_token", "critical",
     "Basic dXNlcjpodW50ZXIy"},
    {"DATABASE_URL=postgres://admin:s3cr3tPass@db.internal:5432/app", "secret.password_in_url",
     "critical", "admin:s3cr3tPass"},
    {"redis://:Zq9!x@cache:6379", "secret.password_in_url", "critical", ":Zq9!x"},
    {"set DB_PASSWORD=hunter2 in .env", "secret.password_assignment", "critical",
     "DB_PASSWORD=hunter2"},
    {"{\"password\": \"correct horse\"}", "secret.password_assignment", "critical",
     "password\": \"correct horse"},
    {"passwd: Tr0ub4dor&3x", "secret.password_assignment", "critical", "passwd: Tr0ub4dor"},
    {"secret = 'x9Kq2LmZ'", "secret.password_assignment", "critical", "secret = 'x9Kq2LmZ"},
    {"curl 'https://api.example.com/v1?api_key=9f8e7d6c5b4a&x=1'", "secret.password_assignment",
     "critical", "api_key=9f8e7d6c5b4a"},
    {"const dbPassword = \"Winter2024\";", "secret.password_assignment", "critical",
     "dbPassword = \"Winter2024"},
    {"mysql --password hunter22 -u root", "secret.password_assignment", "critical",
     "--password hunter22"},
    /* access.* */
    {"then run chmod -R 777 /var/www to fix it", "access.world_writable", "warning",
     "chmod -R 777"},
    {"chmod 666 /etc/app.conf", "access.world_writable", "warning", "chmod 666"},
    {"chmod o+w shared.log", "access.world_writable", "warning", "chmod o+w"},
    {"sudo chmod a+rwx /srv", "access.world_writable", "warning", "chmod a+rwx"},
    {"os.chmod(path, 0o777)", "access.world_writable", "warning", "chmod(path, 0o777"},
    {"fs.chmodSync(dir, '777');", "access.world_writable", "warning", "chmodSync(dir, '777'"},
    {"  mode: '0666'", "access.world_writable", "warning", "mode: '0666"},
    {"aws s3api put-bucket-acl --bucket b --acl public-read", "access.public_acl", "critical",
     "public-read"},
    {"x-amz-acl: public-read-write", "access.public_acl", "critical", "public-read-write"},
    {"gsutil iam ch allUsers:objectViewer gs://b", "access.public_acl", "critical", "allUsers"},
    {"grantee uri http://acs.amazonaws.com/groups/global/AllUsers", "access.public_acl", "critical",
     "AllUsers"},
    {"BlockPublicAcls=false", "access.public_acl", "critical", "BlockPublicAcls=false"},
    {"GRANT ALL PRIVILEGES ON orders TO PUBLIC;", "access.grant_everyone", "critical",
     "GRANT ALL PRIVILEGES ON orders TO PUBLIC"},
    {"icacls C:\\data /grant Everyone:(OI)(CI)F", "access.grant_everyone", "critical",
     "Everyone:(OI)(CI)F"},
    {"give Everyone Full Control on the share", "access.grant_everyone", "critical",
     "Everyone Full Control"},
    {"{\"Effect\": \"Allow\", \"Principal\": \"*\"}", "access.grant_everyone", "critical",
     "Principal\": \"*\""},
    {"requests.get(url, verify=False)", "access.tls_verification_disabled", "warning",
     "verify=False"},
    {"curl -sSk https://internal/", "access.tls_verification_disabled", "warning", "-sSk"},
    {"curl --insecure https://internal/", "access.tls_verification_disabled", "warning",
     "--insecure"},
    {"NODE_TLS_REJECT_UNAUTHORIZED=0 node app.js", "access.tls_verification_disabled", "warning",
     "NODE_TLS_REJECT_UNAUTHORIZED=0"},
    {"cfg := &tls.Config{InsecureSkipVerify: true}", "access.tls_verification_disabled", "warning",
     "InsecureSkipVerify: true"},
    {"git config --global http.sslVerify false", "access.tls_verification_disabled", "warning",
     "http.sslVerify false"},
    {"ssl_verify: false", "access.tls_verification_disabled", "warning", "ssl_verify: false"},
    {"ctx.verify_mode = ssl.CERT_NONE", "access.tls_verification_disabled", "warning", "CERT_NONE"},
    {"wget --no-check-certificate https://x/", "access.tls_verification_disabled", "warning",
     "--no-check-certificate"},
    {"ssh -o StrictHostKeyChecking=no deploy@10.0.0.5", "access.host_key_checking_disabled",
     "warning", "StrictHostKeyChecking=no"},
    {"mongod --noauth --bind_ip 127.0.0.1", "access.auth_disabled", "critical", "--noauth"},
    {"security:\n  authorization: disabled\n", "access.auth_disabled", "critical",
     "authorization: disabled"},
    {"xpack.security.enabled: false", "access.auth_disabled", "critical",
     "xpack.security.enabled: false"},
    {"gcloud run deploy api --allow-unauthenticated", "access.auth_disabled", "critical",
     "--allow-unauthenticated"},
    {"# pg_hba.conf\nhost all all 10.1.0.0/16 trust\n", "access.auth_disabled", "critical",
     "host all all 10.1.0.0/16 trust"},
    {"local all all trust\r\nhost all all all md5\r\n", "access.auth_disabled", "critical",
     "local all all trust"},
    {"jupyter notebook --NotebookApp.token=''", "access.auth_disabled", "critical",
     "--NotebookApp.token=''"},
    {"aws ec2 authorize-security-group-ingress --cidr 0.0.0.0/0", "access.open_to_internet",
     "warning", "0.0.0.0/0"},
    {"ipv6_cidr_blocks = [\"::/0\"]", "access.open_to_internet", "warning", "::/0"},
    /* destructive.* */
    {"sudo rm -rf /var/lib/app", "destructive.recursive_delete", "critical", "rm -rf"},
    {"rm -fr build", "destructive.recursive_delete", "critical", "rm -fr"},
    {"rm -r -f build", "destructive.recursive_delete", "critical", "rm -r -f"},
    {"/bin/rm --recursive old", "destructive.recursive_delete", "critical", "rm --recursive"},
    {"Remove-Item C:\\tmp -Recurse -Force", "destructive.recursive_delete", "critical",
     "Remove-Item C:\\tmp -Recurse"},
    {"rmdir /s /q C:\\build", "destructive.recursive_delete", "critical", "rmdir /s"},
    {"DROP TABLE users;", "destructive.drop_table", "critical", "DROP TABLE"},
    {"then drop database prod", "destructive.drop_table", "critical", "drop database"},
    {"DROP\n  SCHEMA app CASCADE;", "destructive.drop_table", "critical", "DROP\n  SCHEMA"},
    {"TRUNCATE TABLE logs;", "destructive.truncate_table", "critical", "TRUNCATE TABLE"},
    {"TRUNCATE audit_log;", "destructive.truncate_table", "critical", "TRUNCATE audit_log"},
    {"DELETE FROM sessions;", "destructive.delete_without_where", "critical",
     "DELETE FROM sessions"},
    {"git push --force origin main", "destructive.force_push", "critical", "git push --force"},
    {"git push -f", "destructive.force_push", "critical", "git push -f"},
    {"git push --force-with-lease origin feature", "destructive.force_push", "critical",
     "git push --force-with-lease"},
    {"git push origin +main", "destructive.force_push", "critical", "git push origin +main"},
    {"mkfs.ext4 /dev/sdb1", "destructive.disk_wipe", "critical", "mkfs.ext4 /dev/sdb1"},
    {"dd if=image.iso of=/dev/sdb bs=4M", "destructive.disk_wipe", "critical",
     "dd if=image.iso of=/dev/sdb"},
    /* pii.* */
    {"mail jane.doe@acme-corp.io today", "pii.email", "warning", "jane.doe@acme-corp.io"},
    {"contact: <bob+ops@mail.example.org>.", "pii.email", "warning", "bob+ops@mail.example.org"},
    {"call +44 20 7946 0958.", "pii.phone", "warning", "+44 20 7946 0958"},
    {"cell +1 (555) 123-4567", "pii.phone", "warning", "+1 (555) 123-4567"},
    {"call 555-123-4567 now", "pii.phone", "warning", "555-123-4567"},
    {"office (212) 555-0182", "pii.phone", "warning", "(212) 555-0182"},
    {"fax 1-800-555-0199", "pii.phone", "warning", "1-800-555-0199"},
    /* mention.* */
    {"hey @everyone, look", "mention.mass_mention", "warning", "@everyone"},
    {"@here the build is red", "mention.mass_mention", "warning", "@here"},
    {"ping @All.", "mention.mass_mention", "warning", "@All"},
    {"cc @channel", "mention.mass_mention", "warning", "@channel"},
    /* unusual starts: right after a letter, after blanks at a line start, names led by '.' or
     * '_', settings after punctuation, non-ASCII text before a setting */
    {"key:x-----BEGIN RSA PRIVATE KEY-----", "secret.private_key", "critical",
     "-----BEGIN RSA PRIVATE KEY-----"},
    {"route g::/0 here", "access.open_to_internet", "warning", "::/0"},
    {"#\n\t local all all trust", "access.auth_disabled", "critical", "local all all trust"},
    {".security.enabled: false", "access.auth_disabled", "critical", ".security.enabled: false"},
    {"_auth_enabled: false", "access.auth_disabled", "critical", "_auth_enabled: false"},
    {"x=StrictHostKeyChecking=no", "access.host_key_checking_disabled", "warning",
     "StrictHostKeyChecking=no"},
    {"(verify=False)", "access.tls_verification_disabled", "warning", "verify=False"},
    {"ok:ssl_verify=off", "access.tls_verification_disabled", "warning", "ssl_verify=off"},
    {"\xc3\xa9 verify=False", "access.tls_verification_disabled", "warning", "verify=False"},
    {"a,S_IWOTH", "access.world_writable", "warning", "S_IWOTH"},
    {"mode = 0777", "access.world_writable", "warning", "mode = 0777"},
};

START_TEST(test_detects_risk_with_code_severity_and_exact_span)
{
    const struct detection *d = &detections[_i];
    json_t *flags = scan_text("body", d->text);
    ck_assert_msg(json_array_size(flags) == 1, "\"%s\": want one %s flag, got %zu (first %s)",
                  d->text, d->code, json_array_size(flags),
                  json_array_size(flags) ? flag_code(flags, 0) : "none");
    assert_flag(flags, 0, d->text, "body", d->code, d->severity, d->match, 0);
    json_decref(flags);
}
END_TEST

/* ------------------------------------------------------------------- near misses ---- */

static const char *const near_misses[] = {
    "Use the dropdown table to pick a row.",
    "The farm -rf setting is odd.",
    "AKIA",
    "AKIA1234 is too short",
    "ASIAN markets opened higher",
    "Upgrade to version 1.2.3.4 first.",
    "The release is on 2026-11-24 at 10:30.",
    "Plain prose about gardens, weather and the history of tea.",
    "chmod 755 script.sh && chmod u+x run.sh",
    "chmod -w readonly.txt",
    "git push origin main",
    "git commit -m 'push -f later'",
    "rm -f file.txt",
    "git rm -r --cached node_modules",
    "curl https://example.com/a-k -o out",
    "Password: reset it from the settings page",
    "Password: Reset it from the settings page",
    "password=$DB_PASSWORD",
    "password: <your password>",
    "api_key = os.environ[\"API_KEY\"]",
    "secret: ***",
    "postgres://user:password@localhost/db",
    "git clone git@github.com:org/repo.git",
    "background: url(logo@2x.png)",
    "Please verify false positives by hand.",
    "DELETE FROM users WHERE id = 1;",
    "delete from the list any item you like",
    "Truncate the string to ten characters.",
    "thanks @alice and @bob",
    "mail bob@localhost",
    "allow 10.0.0.0/8 only",
    "dd if=/dev/zero of=/dev/null bs=1M",
    "mkfs is the tool that makes file systems",
    "The bearer of this letter is welcome.",
    "Basic authentication is fine behind TLS.",
    "StrictHostKeyChecking yes",
    "verify=True",
    "InsecureSkipVerify: false",
    "call 1234567890 or 12-345-6789",
    "ISBN 978-3-16-148410-0",
    "node -e 'x' --insecure-foo",
    "the grant was given to the public library",
    "xoxb-short",
    "ghp_tooShort123",
    "npm install @types/node",
    "Order #555-123-4567",
    "score +12345 points, C++ 17",
    "",
};

START_TEST(test_near_miss_produces_no_flag)
{
    const char *text = near_misses[_i];
    json_t *flags = scan_text("body", text);
    ck_assert_msg(json_array_size(flags) == 0, "\"%s\": want no flag, got %zu (first %s)", text,
                  json_array_size(flags), json_array_size(flags) ? flag_code(flags, 0) : "");
    json_decref(flags);
}
END_TEST

/* --------------------------------------------------------------- single behaviours ---- */

START_TEST(test_multiple_flags_come_in_start_order)
{
    const char *text = "mail ops@acme.io, then DROP TABLE x; and finally rm -rf /tmp/x "
                       "with AKIAZ7QW3ERTY6UIOP4X";
    json_t *flags = scan_text("body", text);
    ck_assert_uint_eq(json_array_size(flags), 4);
    assert_flag(flags, 0, text, "body", "pii.email", "warning", "ops@acme.io", 0);
    assert_flag(flags, 1, text, "body", "destructive.drop_table", "critical", "DROP TABLE", 0);
    assert_flag(flags, 2, text, "body", "destructive.recursive_delete", "critical", "rm -rf", 0);
    assert_flag(flags, 3, text, "body", "secret.aws_access_key", "critical", "AKIAZ7QW3ERTY6UIOP4X",
                0);
    json_decref(flags);
}
END_TEST

START_TEST(test_repeated_finding_is_flagged_each_time)
{
    const char *text = "rm -rf a; rm -rf b";
    json_t *flags = scan_text("body", text);
    ck_assert_uint_eq(json_array_size(flags), 2);
    assert_flag(flags, 0, text, "body", "destructive.recursive_delete", "critical", "rm -rf", 0);
    assert_flag(flags, 1, text, "body", "destructive.recursive_delete", "critical", "rm -rf", 3);
    json_decref(flags);
}
END_TEST

START_TEST(test_utf8_before_match_gives_byte_offsets)
{
    /* "Grüße 👋: " is 9 characters but 14 bytes. */
    const char *text = "Grüße 👋: AKIAZ7QW3ERTY6UIOP4X";
    json_t *flags = scan_text("body", text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    ck_assert_uint_eq(flag_offset(flags, 0, "start"), 14);
    ck_assert_uint_eq(flag_offset(flags, 0, "end"), 34);
    assert_flag(flags, 0, text, "body", "secret.aws_access_key", "critical", "AKIAZ7QW3ERTY6UIOP4X",
                0);
    json_decref(flags);
}
END_TEST

START_TEST(test_field_name_is_copied_into_each_flag)
{
    const char *text = "DROP TABLE t";
    json_t *flags = scan_text("title", text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    assert_flag(flags, 0, text, "title", "destructive.drop_table", "critical", "DROP TABLE", 0);
    json_decref(flags);
}
END_TEST

START_TEST(test_empty_text_gives_no_flags)
{
    json_t *flags = json_array();
    ck_assert_int_eq(flags_scan("body", "", 0, flags), 0);
    ck_assert_int_eq(flags_scan("body", NULL, 0, flags), 0);
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
}
END_TEST

START_TEST(test_control_characters_are_scanned_safely)
{
    const char *text = "\x01\x02rm -rf /tmp\x7f\x1b[0m\tDROP\vTABLE\x1f";
    json_t *flags = scan_text("body", text);
    ck_assert_uint_eq(json_array_size(flags), 2);
    assert_flag(flags, 0, text, "body", "destructive.recursive_delete", "critical", "rm -rf", 0);
    assert_flag(flags, 1, text, "body", "destructive.drop_table", "critical", "DROP\vTABLE", 0);
    json_decref(flags);

    flags = scan_text("body", "\x01\x02\x03\x1b\x7f\r\n\t\x1f");
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
}
END_TEST

START_TEST(test_match_cut_by_end_of_text_is_not_read_past)
{
    /* Each prefix of a detectable text ends inside the match: none may read past its length. */
    static const char *const texts[] = {
        "AKIAZ7QW3ERTY6UIOP4X",
        "-----BEGIN RSA PRIVATE KEY-----",
        "rm -rf /",
        "git push --force",
        "jane@acme.io",
        "+44 20 7946 0958",
        "password=hunter22",
        "chmod 777 x",
        "@everyone",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
    };
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        size_t n = strlen(texts[k]);
        for (size_t cut = 0; cut <= n; cut++) {
            char *copy = malloc(cut > 0 ? cut : 1);
            ck_assert_ptr_nonnull(copy);
            memcpy(copy, texts[k], cut);
            json_t *flags = json_array();
            ck_assert_int_eq(flags_scan("body", copy, cut, flags), 0);
            for (size_t i = 0; i < json_array_size(flags); i++)
                ck_assert_uint_le(flag_offset(flags, i, "end"), cut);
            json_decref(flags);
            free(copy);
        }
    }
}
END_TEST

START_TEST(test_flags_are_appended_after_existing_elements)
{
    json_t *flags = json_array();
    json_array_append_new(flags, json_string("earlier"));
    ck_assert_int_eq(flags_scan("body", "DROP TABLE t", 12, flags), 0);
    ck_assert_uint_eq(json_array_size(flags), 2);
    ck_assert_str_eq(json_string_value(json_array_get(flags, 0)), "earlier");
    ck_assert_str_eq(flag_code(flags, 1), "destructive.drop_table");
    json_decref(flags);
}
END_TEST

/* A JSON allocator that fails once `allocations_left` reaches 0. */
static int allocations_left = -1;

static void *failing_malloc(size_t size)
{
    if (allocations_left == 0)
        return NULL;
    if (allocations_left > 0)
        allocations_left--;
    return malloc(size);
}

START_TEST(test_out_of_memory_returns_error_and_leaves_flags_unchanged)
{
    const char *text = "rm -rf /; DROP TABLE t; mail a@acme.io";
    bool succeeded = false;
    for (int budget = 0; budget < 1000 && !succeeded; budget++) {
        json_t *flags = json_array();
        json_array_append_new(flags, json_string("earlier"));
        allocations_left = budget;
        json_set_alloc_funcs(failing_malloc, free);
        int rc = flags_scan("body", text, strlen(text), flags);
        json_set_alloc_funcs(malloc, free);
        allocations_left = -1;
        if (rc == 0) {
            ck_assert_uint_eq(json_array_size(flags), 4);
            succeeded = true;
        } else {
            ck_assert_int_eq(rc, -1);
            ck_assert_uint_eq(json_array_size(flags), 1);
        }
        json_decref(flags);
    }
    ck_assert(succeeded);
}
END_TEST

START_TEST(test_invalid_arguments_are_refused)
{
    json_t *object = json_object();
    json_t *flags = json_array();
    ck_assert_int_eq(flags_scan("body", "rm -rf /", 8, object), -1);
    ck_assert_int_eq(flags_scan("body", "rm -rf /", 8, NULL), -1);
    ck_assert_int_eq(flags_scan(NULL, "rm -rf /", 8, flags), -1);
    ck_assert_int_eq(flags_scan("body", NULL, 8, flags), -1);
    ck_assert_uint_eq(json_object_size(object), 0);
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(object);
    json_decref(flags);
}
END_TEST

START_TEST(test_more_than_ten_distinct_mentions_give_one_span)
{
    const char *text = "hi @u1 @u2 @u3 @u4 @u5 @u6 @u7 @u8 @u9 @u10 @u11, bye";
    json_t *flags = scan_text("body", text);
    ck_assert_uint_eq(json_array_size(flags), 1);
    assert_flag(flags, 0, text, "body", "mention.mass_mention", "warning",
                "@u1 @u2 @u3 @u4 @u5 @u6 @u7 @u8 @u9 @u10 @u11", 0);
    json_decref(flags);
}
END_TEST

START_TEST(test_ten_distinct_mentions_are_not_mass)
{
    json_t *flags = scan_text("body", "@u1 @u2 @u3 @u4 @u5 @u6 @u7 @u8 @u9 @u10 @U1 @u2 @u3");
    ck_assert_uint_eq(json_array_size(flags), 0);
    json_decref(flags);
}
END_TEST

START_TEST(test_mask_keeps_four_characters)
{
    char out[64];
    flags_mask("AKIAZ7QW3ERTY6UIOP4X", 20, out, sizeof out);
    ck_assert_str_eq(out, "AKIA****************");
}
END_TEST

START_TEST(test_mask_counts_utf8_characters)
{
    char out[64];
    flags_mask("ñandú123", strlen("ñandú123"), out, sizeof out);
    ck_assert_str_eq(out, "ñand****");
}
END_TEST

START_TEST(test_mask_leaves_short_text_alone)
{
    char out[64];
    flags_mask("abc", 3, out, sizeof out);
    ck_assert_str_eq(out, "abc");
    flags_mask(NULL, 0, out, sizeof out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_mask_truncates_to_output_size)
{
    char out[7];
    flags_mask("password=hunter2", 16, out, sizeof out);
    ck_assert_str_eq(out, "pass**");
    char tiny[4];
    flags_mask("ññññ", strlen("ññññ"), tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "ñ"); /* never cuts a character in half */
    char none[1] = {'x'};
    flags_mask("secret", 6, none, sizeof none);
    ck_assert_str_eq(none, "");
}
END_TEST

START_TEST(test_mask_reads_only_length_bytes)
{
    char out[64];
    flags_mask("abcdefgh-not-this", 8, out, sizeof out);
    ck_assert_str_eq(out, "abcd****");
}
END_TEST

static Suite *flags_suite(void)
{
    Suite *s = suite_create("flags");
    TCase *tc = tcase_create("scan");
    tcase_add_loop_test(tc, test_detects_risk_with_code_severity_and_exact_span, 0,
                        (int)(sizeof detections / sizeof detections[0]));
    tcase_add_loop_test(tc, test_near_miss_produces_no_flag, 0,
                        (int)(sizeof near_misses / sizeof near_misses[0]));
    tcase_add_test(tc, test_multiple_flags_come_in_start_order);
    tcase_add_test(tc, test_repeated_finding_is_flagged_each_time);
    tcase_add_test(tc, test_utf8_before_match_gives_byte_offsets);
    tcase_add_test(tc, test_field_name_is_copied_into_each_flag);
    tcase_add_test(tc, test_empty_text_gives_no_flags);
    tcase_add_test(tc, test_control_characters_are_scanned_safely);
    tcase_add_test(tc, test_match_cut_by_end_of_text_is_not_read_past);
    tcase_add_test(tc, test_flags_are_appended_after_existing_elements);
    tcase_add_test(tc, test_out_of_memory_returns_error_and_leaves_flags_unchanged);
    tcase_add_test(tc, test_invalid_arguments_are_refused);
    tcase_add_test(tc, test_more_than_ten_distinct_mentions_give_one_span);
    tcase_add_test(tc, test_ten_distinct_mentions_are_not_mass);
    suite_add_tcase(s, tc);

    TCase *mask = tcase_create("mask");
    tcase_add_test(mask, test_mask_keeps_four_characters);
    tcase_add_test(mask, test_mask_counts_utf8_characters);
    tcase_add_test(mask, test_mask_leaves_short_text_alone);
    tcase_add_test(mask, test_mask_truncates_to_output_size);
    tcase_add_test(mask, test_mask_reads_only_length_bytes);
    suite_add_tcase(s, mask);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(flags_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
