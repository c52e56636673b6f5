// SPDX-License-Identifier: MIT
// The request-body JSON reader (cJSON underneath) and the response writer: members and
// types kept, syntax errors and limits (size, nesting, member count) refused with the
// right code, the writer's escaping read back by the reader.
#include <string.h>

#include "base/base.h"
#include "harness.h"
#include "server/server_int.h"

static int parse(const char *s, struct srv_jdoc *d) { return srv_json_parse(s, strlen(s), d); }

int main(void) {
    struct srv_jdoc d;
    TEST_COND("flat object parses", parse(" {\"name\":\"Anna\",\"person\":12,\"hidden\":true,\"x\":null,\"o\":[1,{\"a\":2}]} ", &d) == FH_OK);
    const struct srv_jmember *m = srv_json_get(&d, "name");
    TEST_COND("string member", m && m->type == SRV_J_STR && !strcmp(m->str, "Anna"));
    m = srv_json_get(&d, "person");
    TEST_COND("number member", m && m->type == SRV_J_NUM && m->num == 12);
    m = srv_json_get(&d, "hidden");
    TEST_COND("bool member", m && m->type == SRV_J_BOOL && m->num == 1);
    TEST_COND("null member", (m = srv_json_get(&d, "x")) && m->type == SRV_J_NULL);
    TEST_COND("nested value kept as OTHER", (m = srv_json_get(&d, "o")) && m->type == SRV_J_OTHER);
    TEST_COND("absent member", !srv_json_get(&d, "nope"));
    srv_json_free(&d);
    TEST_COND("arrays of numbers parse", parse("{\"faces\":[3,1,2.5],\"e\":[],\"s\":[1,\"x\"]}", &d) == FH_OK);
    m = srv_json_get(&d, "faces");
    TEST_COND("array of numbers kept", m && m->type == SRV_J_ARR && m->n_arr == 3 && m->arr[0] == 3 && m->arr[2] == 2.5);
    m = srv_json_get(&d, "e");
    TEST_COND("empty array kept, no numbers", m && m->type == SRV_J_ARR && m->n_arr == 0 && !m->arr);
    TEST_COND("mixed array is OTHER", (m = srv_json_get(&d, "s")) && m->type == SRV_J_OTHER && !m->arr);
    srv_json_free(&d);

    TEST_COND("escapes and UTF-8", parse("{\"n\":\"a\\\"b\\u00e9\\ud83d\\ude00\"}", &d) == FH_OK &&
                                       !strcmp(srv_json_get(&d, "n")->str, "a\"b\xc3\xa9\xf0\x9f\x98\x80"));
    srv_json_free(&d);
    TEST_COND("duplicate keys: the last wins", parse("{\"a\":1,\"a\":2}", &d) == FH_OK && srv_json_get(&d, "a")->num == 2);
    srv_json_free(&d);
    TEST_COND("not NUL-terminated input: only n bytes read",
              srv_json_parse("{\"a\":1}garbage", 7, &d) == FH_OK && srv_json_get(&d, "a")->num == 1);
    srv_json_free(&d);

    const char *bad[] = {"", "   ", "{", "{\"name\":", "{\"a\":1,}", "[1,2]", "\"s\"", "42", "{\"a\":1} x",
                         "{a:1}", "{\"a\":01x}", "{\"a\":\"\\u0000\"}", "{\"a\":tru}", "{'a':1}"};
    int all_format = 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse(bad[i], &d);
        if (rc != FH_E_FORMAT) all_format = 0, printf("  not refused as FH_E_FORMAT: '%s' -> %d\n", bad[i], rc);
        if (d.n) all_format = 0;
    }
    TEST_COND("bad documents: FH_E_FORMAT, nothing kept", all_format);

    char deep[200] = "{\"a\":";
    for (int i = 0; i < 40; i++) strcat(deep, "[");
    for (int i = 0; i < 40; i++) strcat(deep, "]");
    strcat(deep, "}");
    TEST_COND("nesting deeper than SRV_JSON_DEPTH: FH_E_LIMIT", parse(deep, &d) == FH_E_LIMIT);
    char many[600] = "{";
    for (int i = 0; i <= SRV_JSON_MEMBERS; i++) sprintf(many + strlen(many), "%s\"k%d\":%d", i ? "," : "", i, i);
    strcat(many, "}");
    TEST_COND("more than SRV_JSON_MEMBERS members: FH_E_LIMIT", parse(many, &d) == FH_E_LIMIT);
    static char big[SRV_MAX_JSON_BYTES + 64];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{', big[sizeof big - 2] = '}';
    TEST_COND("body over SRV_MAX_JSON_BYTES: FH_E_LIMIT", parse(big, &d) == FH_E_LIMIT);
    char longkey[200] = "{\"";
    memset(longkey + 2, 'k', 100);
    strcpy(longkey + 102, "\":1}");
    TEST_COND("a key longer than 63 bytes never matches", parse(longkey, &d) == FH_OK && d.n == 1 && !d.m[0].key[0]);
    srv_json_free(&d);

    // the writer's output reads back
    struct srv_buf b = {0};
    struct srv_json w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_key(&w, "s"), jw_str(&w, "q\"\\\n\x01 \xc3\xa9 \xff");
    jw_key(&w, "i"), jw_int(&w, -42);
    jw_key(&w, "id"), jw_id(&w, 0);
    jw_key(&w, "a"), jw_arr(&w), jw_num(&w, 1.5), jw_bool(&w, 0), jw_arr_end(&w);
    jw_obj_end(&w);
    TEST_COND("writer output parses back", !b.oom && srv_json_parse(b.data, b.len, &d) == FH_OK);
    m = srv_json_get(&d, "s");
    TEST_COND("escaped string round-trips (bad UTF-8 dropped)", m && m->type == SRV_J_STR && !strncmp(m->str, "q\"\\\n\x01 \xc3\xa9 ", 9));
    TEST_COND("int and null id round-trip", srv_json_get(&d, "i")->num == -42 && srv_json_get(&d, "id")->type == SRV_J_NULL);
    srv_json_free(&d);
    srv_buf_free(&b);
    return TEST_REPORT();
}
