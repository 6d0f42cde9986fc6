/* test_http_cases.c - runs every declarative case in tests/http (the .case
 * files, format in tests/http/README.md) against one `nqba serve` ($NQ_BIN), each
 * case its own cmocka test named after its file. The cases are found
 * through $NQ_SOURCE_DIR, which ctest sets. */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

#define CASE_MAX_EXPECT 64
#define REPORT_CAP 16384

typedef struct expectation {
    char kind[16]; /* "status", "header", "body-subset", "body-contains" */
    char *value;
    int line;
} expectation;

typedef struct http_case {
    char path[HTTP_PATH_LEN * 2];
    char name[128];
    char *text;       /* the file, cut into lines in place */
    const char *method, *target;
    char *headers;    /* "Name: value\r\n" lines */
    char *body;
    size_t body_len;
    int has_body;
    expectation exp[CASE_MAX_EXPECT];
    int n_exp;
} http_case;

static http_server g_server;
static char g_cases_dir[HTTP_PATH_LEN];

/* ---- parsing ---- */

typedef struct lines {
    char **v;
    int n;
} lines;

/* Split text in place at newlines (a trailing \r is dropped). */
static void split_lines(char *text, lines *out)
{
    int cap = 64;
    out->v = malloc(sizeof *out->v * (size_t)cap);
    out->n = 0;
    assert_non_null(out->v);
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[len - 1] = '\0';
        if (out->n == cap) {
            out->v = realloc(out->v, sizeof *out->v * (size_t)(cap *= 2));
            assert_non_null(out->v);
        }
        out->v[out->n++] = p;
        p = nl ? nl + 1 : NULL;
    }
}

/* a + sep + b in a new allocation that replaces a; a NULL a is empty and
 * gets no separator. */
static char *join(char *a, const char *sep, const char *b)
{
    int first = a == NULL;
    size_t la = first ? 0 : strlen(a);
    char *s = realloc(a, la + strlen(sep) + strlen(b) + 1);
    assert_non_null(s);
    if (first)
        s[0] = '\0';
    else
        strcat(s, sep);
    strcat(s, b);
    return s;
}

/* The body: lines joined by \n, trailing newlines dropped; or a file. */
static void case_body(http_case *c, char **v, int n)
{
    while (n > 0 && !v[n - 1][0])
        n--;
    c->has_body = n > 0;
    if (n == 1 && !strncmp(v[0], "body-file:", 10)) {
        const char *f = v[0] + 10;
        while (*f == ' ')
            f++;
        char p[HTTP_PATH_LEN * 2];
        snprintf(p, sizeof p, "%s/%s", g_cases_dir, f);
        c->body = http_slurp(p, &c->body_len);
        if (!c->body)
            fail_msg("%s: body-file %s cannot be read", c->name, p);
        return;
    }
    c->body = NULL;
    for (int i = 0; i < n; i++)
        c->body = join(c->body, "\n", v[i]);
    c->body = c->body ? c->body : join(NULL, "", "");
    c->body_len = strlen(c->body);
}

static void case_expect(http_case *c, char **v, int n, int first_line)
{
    for (int i = 0; i < n; i++) {
        const char *l = v[i];
        if (!l[0] || l[0] == '#')
            continue;
        if ((l[0] == ' ' || l[0] == '\t') && c->n_exp > 0) {
            expectation *e = &c->exp[c->n_exp - 1];
            e->value = join(e->value, "\n", l);
            continue;
        }
        const char *colon = strchr(l, ':');
        if (!colon || colon - l >= 16 || c->n_exp == CASE_MAX_EXPECT)
            fail_msg("%s:%d: expected 'status:', 'header:', 'body-subset:' or 'body-contains:'",
                     c->name, first_line + i);
        expectation *e = &c->exp[c->n_exp++];
        snprintf(e->kind, sizeof e->kind, "%.*s", (int)(colon - l), l);
        const char *val = colon + 1;
        while (*val == ' ')
            val++;
        e->value = join(NULL, "", val);
        e->line = first_line + i;
        if (strcmp(e->kind, "status") && strcmp(e->kind, "header") &&
            strcmp(e->kind, "body-subset") && strcmp(e->kind, "body-contains"))
            fail_msg("%s:%d: unknown expectation '%s'", c->name, e->line, e->kind);
    }
}

/* Read and parse one case file; any format error fails the test. */
static void case_load(http_case *c, const char *file)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", file);
    snprintf(c->path, sizeof c->path, "%s/%s", g_cases_dir, file);
    c->text = http_slurp(c->path, NULL);
    if (!c->text)
        fail_msg("%s: cannot read", c->path);
    lines L;
    split_lines(c->text, &L);
    int i = 0;
    while (i < L.n && (!L.v[i][0] || L.v[i][0] == '#'))
        i++;
    static char method[16], target[2048];
    if (i == L.n || sscanf(L.v[i], "%15s %2047s", method, target) != 2)
        fail_msg("%s:%d: expected a request line 'METHOD TARGET'", c->name, i + 1);
    c->method = method;
    c->target = target;
    c->headers = join(NULL, "", "");
    for (i++; i < L.n && L.v[i][0] && strcmp(L.v[i], "--- expect"); i++)
        c->headers = join(join(c->headers, "", L.v[i]), "", "\r\n");
    int body0 = i < L.n && !L.v[i][0] ? i + 1 : i, end = body0;
    while (end < L.n && strcmp(L.v[end], "--- expect"))
        end++;
    if (end == L.n)
        fail_msg("%s: no '--- expect' line", c->name);
    case_body(c, L.v + body0, end - body0);
    case_expect(c, L.v + end + 1, L.n - end - 1, end + 2);
    free(L.v);
}

static void case_free(http_case *c)
{
    free(c->text);
    free(c->headers);
    free(c->body);
    for (int i = 0; i < c->n_exp; i++)
        free(c->exp[i].value);
}

/* ---- checking ---- */

/* Check one expectation; on failure append a line to report. */
static void check_one(const http_case *c, const expectation *e, const http_resp *r,
                      char *report, size_t cap)
{
    size_t len = strlen(report);
    char *out = report + len;
    size_t left = cap - len;
    if (!strcmp(e->kind, "status")) {
        if (r->status != atoi(e->value))
            snprintf(out, left, "  line %d: status %d, expected %s\n", e->line, r->status,
                     e->value);
    } else if (!strcmp(e->kind, "header")) {
        char name[128], got[1024];
        const char *colon = strchr(e->value, ':');
        const char *want = colon ? colon + 1 : "";
        while (*want == ' ')
            want++;
        snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - e->value) : 0, e->value);
        size_t wl = strlen(want);
        const char *h = http_header(r, name, got, sizeof got);
        int ok = h && (wl && want[wl - 1] == '*' ? !strncmp(h, want, wl - 1) : !strcmp(h, want));
        if (!ok)
            snprintf(out, left, "  line %d: header %s is %s%s%s, expected '%s'\n", e->line, name,
                     h ? "'" : "", h ? h : "absent", h ? "'" : "", want);
    } else if (!strcmp(e->kind, "body-contains")) {
        if (!r->body || !strstr(r->body, e->value))
            snprintf(out, left, "  line %d: body does not contain '%s'\n", e->line, e->value);
    } else {
        json_error_t je;
        json_t *exp = json_loads(e->value, 0, &je);
        json_t *act = r->body ? json_loadb(r->body, r->body_len, 0, &je) : NULL;
        char where[512] = "", why[768] = "";
        if (!exp)
            snprintf(out, left, "  line %d: expected JSON is invalid: %s\n", e->line, je.text);
        else if (!act)
            snprintf(out, left, "  line %d: body is not JSON\n", e->line);
        else if (!http_subset(exp, act, where, sizeof where, why, sizeof why))
            snprintf(out, left, "  line %d: body at \"%s\": %s\n", e->line, where, why);
        json_decref(exp);
        json_decref(act);
    }
    (void)c;
}

static void run_case(void **state)
{
    const char *file = *state;
    http_case c;
    case_load(&c, file);
    int n_status = 0;
    for (int i = 0; i < c.n_exp; i++)
        n_status += !strcmp(c.exp[i].kind, "status");
    if (n_status != 1)
        fail_msg("%s: needs exactly one 'status:' expectation", c.name);
    http_resp r;
    if (http_try(g_server.port, c.method, c.target, c.headers, c.has_body ? c.body : NULL,
                 c.body_len, &r) != 0)
        fail_msg("%s: %s %s: no complete response (status %d)", c.name, c.method, c.target,
                 r.status);
    char *report = calloc(1, REPORT_CAP);
    assert_non_null(report);
    for (int i = 0; i < c.n_exp; i++)
        check_one(&c, &c.exp[i], &r, report, REPORT_CAP);
    if (report[0])
        fail_msg("%s: %s %s\n%s--- response head:\n%s--- body (start):\n%.1500s", c.name,
                 c.method, c.target, report, r.head, r.body);
    free(report);
    http_resp_free(&r);
    case_free(&c);
}

/* ---- setup ---- */

static int server_up(void **state)
{
    (void)state;
    http_server_start(&g_server, NULL);
    return 0;
}

/* The server must also stop cleanly: SIGTERM, exit status 0. */
static int server_down(void **state)
{
    (void)state;
    int status = http_server_stop(&g_server, 15.0);
    if (status != 0) {
        char *err = http_server_stderr(&g_server);
        fprintf(stderr, "nqba serve exited with %d after SIGTERM; stderr:\n%s\n", status, err);
        free(err);
    }
    http_server_cleanup(&g_server);
    return status == 0 ? 0 : -1;
}

static int is_case(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && !strcmp(d->d_name + n - 5, ".case");
}

int main(void)
{
    const char *src = getenv("NQ_SOURCE_DIR");
    if (!src || !getenv("NQ_BIN")) {
        fprintf(stderr, "NQ_SOURCE_DIR and NQ_BIN must be set (ctest sets them)\n");
        return 1;
    }
    snprintf(g_cases_dir, sizeof g_cases_dir, "%s/tests/http", src);
    struct dirent **list;
    int n = scandir(g_cases_dir, &list, is_case, alphasort);
    if (n <= 0) {
        fprintf(stderr, "no cases in %s\n", g_cases_dir);
        return 1;
    }
    struct CMUnitTest *tests = calloc((size_t)n, sizeof *tests);
    if (!tests)
        return 1;
    for (int i = 0; i < n; i++) {
        char *name = strdup(list[i]->d_name);
        tests[i].name = name;
        tests[i].test_func = run_case;
        tests[i].initial_state = name;
        free(list[i]);
    }
    free(list);
    int rc = _cmocka_run_group_tests("http_cases", tests, (size_t)n, server_up, server_down);
    for (int i = 0; i < n; i++)
        free((void *)tests[i].name);
    free(tests);
    return rc;
}
