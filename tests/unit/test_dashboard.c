/* test_dashboard.c - the dashboard's embedded files and their routes,
 * without sockets: the table generated from web/, the page and file
 * handlers (headers, ETag and 304, unknown names), and the report style
 * hash in the Content-Security-Policy. The browser test of the pages
 * themselves is tests/e2e/dashboard.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "nqba/assess.h"
#include "nqba/sha256.h"
#include "srv.h"

/* One request to a dashboard handler; res must be freed by the caller. */
typedef struct call {
    nq_arena arena;
    http_hdr hdr[1];
    http_req req;
    http_res res;
} call;

static void call_do(call *c, const char *path, const char *name, const char *if_none_match)
{
    memset(c, 0, sizeof *c);
    nq_arena_init(&c->arena, 0, 0);
    c->req.method = "GET";
    c->req.path = path;
    c->req.body = "";
    c->req.arena = &c->arena;
    if (if_none_match) {
        c->hdr[0] = (http_hdr){"If-None-Match", if_none_match};
        c->req.headers = c->hdr;
        c->req.n_headers = 1;
    }
    http_res_init(&c->res);
    if (name)
        srv_h_ui_asset(NULL, &c->req, &c->res, name);
    else
        srv_h_root(NULL, &c->req, &c->res, NULL);
}

static void call_free(call *c)
{
    http_res_free(&c->res);
    nq_arena_free(&c->arena);
}

static const char *res_header(const http_res *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

static void test_table(void **state)
{
    (void)state;
    const char *const must[] = {"index.html", "app.css", "app.js", "api.js", "chart.min.js",
                                "forecast-24h.csv"};
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        if (!srv_asset_find(must[i]))
            fail_msg("%s is not embedded", must[i]);
    for (size_t i = 0; i < srv_n_assets; i++) {
        const srv_asset *f = &srv_assets[i];
        assert_int_equal(strlen((const char *)f->bytes), f->len); /* text, no NUL inside */
        assert_true(f->etag[0] == '"' && f->etag[strlen(f->etag) - 1] == '"');
        assert_non_null(strchr(f->content_type, '/'));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(f->name, srv_assets[j].name);
    }
    assert_null(srv_asset_find("../CMakeLists.txt"));
    assert_null(srv_asset_find(""));
}

static void test_page_headers(void **state)
{
    (void)state;
    call c;
    call_do(&c, "/", NULL, NULL);
    assert_int_equal(c.res.status, 200);
    assert_string_equal(c.res.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(c.res.body, "<!doctype html>"));
    const char *csp = res_header(&c.res, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "script-src 'self';"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_string_equal(res_header(&c.res, "X-Frame-Options"), "DENY");
    assert_string_equal(res_header(&c.res, "Referrer-Policy"), "no-referrer");
    assert_string_equal(res_header(&c.res, "Cache-Control"), "no-cache");
    assert_non_null(res_header(&c.res, "ETag"));
    call_free(&c);
}

static void test_file_and_304(void **state)
{
    (void)state;
    call c;
    call_do(&c, "/ui/app.js", "app.js", NULL);
    assert_int_equal(c.res.status, 200);
    assert_string_equal(c.res.content_type, "text/javascript; charset=utf-8");
    const srv_asset *f = srv_asset_find("app.js");
    assert_int_equal(c.res.body_len, f->len);
    assert_string_equal(res_header(&c.res, "ETag"), f->etag);
    call_free(&c);

    call_do(&c, "/ui/app.js", "app.js", f->etag);
    assert_int_equal(c.res.status, 304);
    assert_int_equal(c.res.body_len, 0);
    call_free(&c);

    call_do(&c, "/ui/app.js", "app.js", "\"stale\"");
    assert_int_equal(c.res.status, 200);
    call_free(&c);
}

/* An unknown name is the route's 404, not the router's ("no such route"),
 * and nothing outside the table is reachable. */
static void test_unknown_names(void **state)
{
    (void)state;
    const char *const names[] = {"nope.js", "..", "%2e%2e", "../CMakeLists.txt",
                                 "/etc/passwd", "index.html/"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        call c;
        call_do(&c, "/ui/x", names[i], NULL);
        assert_int_equal(c.res.status, 404);
        assert_null(strstr(c.res.body, "no such route"));
        call_free(&c);
    }
}

/* The page and the scripts obey their own policy: no inline script or
 * style, no inline event handler. */
static void test_no_inline_code(void **state)
{
    (void)state;
    for (size_t i = 0; i < srv_n_assets; i++) {
        const srv_asset *f = &srv_assets[i];
        if (strcmp(f->content_type, "text/html; charset=utf-8") != 0)
            continue;
        const char *t = (const char *)f->bytes;
        assert_null(strstr(t, "<script>"));
        assert_null(strstr(t, "<style"));
        assert_null(strstr(t, " style="));
        assert_null(strstr(t, " onclick="));
        assert_null(strstr(t, " onload="));
        assert_null(strstr(t, "javascript:"));
    }
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* The CSP allows the assessment report's one <style> block by its hash:
 * hash a real report's block and look for it in the policy. */
static void test_report_style_hash(void **state)
{
    (void)state;
    const char *src = getenv("NQ_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/web/examples/assessment-csf.json", src ? src : ".");
    char *text = read_file(path);
    if (!text)
        fail_msg("cannot read %s", path);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    assert_non_null(doc);
    nq_assess_req req;
    nq_err err;
    json_t *ans = NULL;
    char *html = NULL;
    size_t len = 0;
    memset(&req, 0, sizeof req);
    if (nq_assess_parse(doc, &req, &err) || nq_assess_run(&req, NULL, &ans, &err) ||
        nq_assess_report_html(ans, &html, &len, &err))
        fail_msg("assessment: %s at %s", err.msg, err.where);
    const char *a = strstr(html, "<style>"), *b = a ? strstr(a, "</style>") : NULL;
    assert_non_null(b);
    a += strlen("<style>");
    uint8_t digest[NQ_SHA256_LEN];
    nq_sha256(a, (size_t)(b - a), digest);
    char b64[64], want[96];
    sodium_bin2base64(b64, sizeof b64, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL);
    snprintf(want, sizeof want, "'sha256-%s'", b64);
    if (!strstr(srv_dashboard_csp(), want))
        fail_msg("the report's style hash %s is not in the CSP: %s", want, srv_dashboard_csp());
    assert_null(strstr(b, "<style"));    /* one block only */
    assert_null(strstr(html, " style=")); /* no style attributes (they'd need more) */
    free(html);
    json_decref(ans);
    nq_assess_req_free(&req);
    json_decref(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_page_headers),
        cmocka_unit_test(test_file_and_304),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_no_inline_code),
        cmocka_unit_test(test_report_style_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
