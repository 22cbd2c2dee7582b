/* The JSON reader of execguard learn: the records execguard writes, decoded exactly, and
 * what is not JSON refused with its place. */
#include <errno.h>
#include <string.h>

#include "json.h"
#include "tests.h"

static struct json *parse_ok(const char *text) {
        struct json *j = NULL;
        size_t at = 0;
        const char *why = NULL;
        int r = json_parse(text, strlen(text), &j, &at, &why);
        ck_assert_msg(r == 0, "%s: %s at %zu", text, why ? why : "?", at);
        return j;
}

/* The error's offset, or -1 if it parsed. */
static long parse_error(const char *text) {
        struct json *j = NULL;
        size_t at = 0;
        const char *why = NULL;
        int r = json_parse(text, strlen(text), &j, &at, &why);
        if (r == 0) {
                json_free(j);
                return -1;
        }
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_nonnull(why);
        return (long) at;
}

START_TEST(json_reads_a_record) {
        struct json *j = parse_ok("{\"event\": {\"action\": \"exec-allowed\"}, \"process\": {\"pid\": 22907, "
                                  "\"args\": [\"sh\", \"-c\"], \"parent\": {\"pid\": 1}}, \"ok\": true, \"n\": null}");
        ck_assert_str_eq(json_get_string(j, "event.action"), "exec-allowed");
        ck_assert(json_get(j, "process.pid")->number == 22907);
        ck_assert(json_get(j, "process.parent.pid")->number == 1);
        const struct json *args = json_get(j, "process.args");
        ck_assert_int_eq(args->type, JSON_ARRAY);
        ck_assert_str_eq(args->kid->string, "sh");
        ck_assert_str_eq(args->kid->next->string, "-c");
        ck_assert_ptr_null(args->kid->next->next);
        ck_assert(json_get(j, "ok")->boolean);
        ck_assert_int_eq(json_get(j, "n")->type, JSON_NULL);
        ck_assert_ptr_null(json_get(j, "process.nothing"));
        ck_assert_ptr_null(json_get_string(j, "process.pid")); /* a number, not a string */
        ck_assert_ptr_null(json_get(j, "process.pid.deeper"));
        json_free(j);
}
END_TEST

START_TEST(json_decodes_escapes) {
        struct json *j = parse_ok("[\"a\\\"b\\\\c\\/d\\n\\t\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\", \"caf\xc3\xa9\"]");
        const struct json *s = j->kid;
        ck_assert_str_eq(s->string, "a\"b\\c/d\n\t");
        ck_assert_str_eq(s->next->string, "\xc3\xa9\xe2\x82\xac");
        ck_assert_str_eq(s->next->next->string, "\xf0\x9f\x98\x80");
        ck_assert_str_eq(s->next->next->next->string, "caf\xc3\xa9");
        json_free(j);
        j = parse_ok(" [ -1.5e3 , 0 , {} , [] ] ");
        ck_assert(j->kid->number == -1500);
        ck_assert_int_eq(j->kid->next->next->type, JSON_OBJECT);
        json_free(j);
}
END_TEST

START_TEST(json_refuses_what_is_not_json) {
        ck_assert_int_eq(parse_error("{\"a\": 1} x"), 9);       /* text after the value */
        ck_assert_int_eq(parse_error("{\"a\": \"b"), 6);        /* unterminated string */
        ck_assert_int_ne(parse_error("{\"a\": \"b\x01\"}"), -1); /* a raw control character */
        ck_assert_int_ne(parse_error("[\"\\u0000\"]"), -1);     /* a NUL would cut the string */
        ck_assert_int_ne(parse_error("[\"\\ud800\"]"), -1);     /* a lone surrogate */
        ck_assert_int_ne(parse_error("[\"\\x\"]"), -1);
        ck_assert_int_ne(parse_error("{\"a\" 1}"), -1);
        ck_assert_int_ne(parse_error("[1,]"), -1);
        ck_assert_int_ne(parse_error("[01]"), -1);
        ck_assert_int_ne(parse_error("[tru]"), -1);
        ck_assert_int_ne(parse_error(""), -1);
        /* Nested deeper than any record: refused, not a deep recursion. */
        char deep[200];
        memset(deep, '[', sizeof deep - 1);
        deep[sizeof deep - 1] = '\0';
        ck_assert_int_ne(parse_error(deep), -1);
}
END_TEST

Suite *json_suite(void) {
        Suite *s = suite_create("json");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, json_reads_a_record);
        tcase_add_test(tc, json_decodes_escapes);
        tcase_add_test(tc, json_refuses_what_is_not_json);
        suite_add_tcase(s, tc);
        return s;
}
