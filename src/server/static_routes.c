/* static_routes.c - the dashboard: GET / (index.html) and GET /ui/{name}.
 *
 * The files are compiled in (srv_assets, generated from web/ and Chart.js
 * by CMakeLists.txt), so serving them reads nothing from disk and a path
 * can only name an entry of that fixed table: "..", "%2F" or an absolute
 * path simply match no entry. Each answer carries an ETag (the start of
 * the file's SHA-256) and "Cache-Control: no-cache", so browsers revalidate
 * with If-None-Match and get a bodiless 304 while the binary is the same. */
#include <string.h>

#include "srv.h"

/* The report of a business assessment is shown in a sandboxed srcdoc
 * iframe, which inherits this policy; its only inline content is one
 * fixed <style> block (lib/units/nqba/assess_report.c), allowed here by
 * its hash. tests/unit/test_dashboard.c recomputes the hash from a real
 * report, so a change of that style fails there, not in a browser. */
#define REPORT_STYLE_HASH "'sha256-hgyXsUTNhoGpkvKUDynz6bv/IZl3kBKAdYflUrzRMLM='"

static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self' " REPORT_STYLE_HASH
                          "; img-src 'self' data:; connect-src 'self'; frame-src 'self'; "
                          "object-src 'none'; base-uri 'none'; form-action 'self'; "
                          "frame-ancestors 'none'";

const char *srv_dashboard_csp(void)
{
    return CSP;
}

const srv_asset *srv_asset_find(const char *name)
{
    for (size_t i = 0; i < srv_n_assets; i++)
        if (strcmp(srv_assets[i].name, name) == 0)
            return &srv_assets[i];
    return NULL;
}

/* Whether If-None-Match names the file's current ETag (a list, or "*"). */
static int not_modified(const http_req *req, const srv_asset *f)
{
    const char *inm = http_req_header(req, "If-None-Match");
    return inm && (strcmp(inm, "*") == 0 || strstr(inm, f->etag) != NULL);
}

/* Six headers of the response's eight: the security headers apply to every
 * dashboard answer, the page and each file it loads alike. */
static void dashboard_headers(http_res *res, const srv_asset *f)
{
    http_res_header(res, "Content-Security-Policy", CSP);
    http_res_header(res, "X-Frame-Options", "DENY");
    http_res_header(res, "Referrer-Policy", "no-referrer");
    http_res_header(res, "Cache-Control", "no-cache");
    if (f)
        http_res_header(res, "ETag", f->etag);
}

static void serve(http_req *req, http_res *res, const srv_asset *f)
{
    if (not_modified(req, f)) {
        http_res_static(res, 304, f->content_type, "");
    } else {
        /* The table's bytes live as long as the program: no copy. */
        http_res_static(res, 200, f->content_type, (const char *)f->bytes);
        res->body_len = f->len;
    }
    dashboard_headers(res, f);
}

void srv_h_root(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)a, (void)id;
    const srv_asset *f = srv_asset_find("index.html");
    if (!f) {
        srv_problem(res, req, 500, "internal", "the dashboard was not built in", NULL);
        return;
    }
    serve(req, res, f);
}

void srv_h_ui_asset(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)a;
    const srv_asset *f = id ? srv_asset_find(id) : NULL;
    if (!f) {
        /* Not the router's "no such route": the route exists, the file not. */
        srv_problem(res, req, 404, "not-found", "no such file in the dashboard", NULL);
        return;
    }
    serve(req, res, f);
}
