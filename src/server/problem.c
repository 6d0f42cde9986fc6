/* problem.c - RFC 7807 problem documents (application/problem+json).
 *
 * Every 4xx and 5xx answer goes through here, so all of them carry the
 * same members: type (a URL made from a stable slug), title, status,
 * detail, pointer (when a member of the request is to blame), instance
 * (the request path) and request_id (to find the access log line). */
#include <string.h>

#include "srv.h"

#define PROBLEM_BASE "https://nqba.dev/problems/"

typedef struct problem_kind {
    int status;
    const char *slug;
    const char *title;
} problem_kind;

static const problem_kind KINDS[] = {
    {400, "malformed-json", "Malformed JSON"},
    {400, "bad-header", "Bad header"},
    {400, "bad-query", "Bad query parameter"},
    {401, "unauthorized", "Unauthorized"},
    {403, "forbidden", "Forbidden"},
    {404, "not-found", "Not found"},
    {405, "method-not-allowed", "Method not allowed"},
    {409, "conflict", "Conflict"},
    {413, "too-large", "Payload too large"},
    {415, "unsupported-media-type", "Unsupported media type"},
    {422, "invalid-field", "Invalid field"},
    {429, "queue-full", "Queue full"},
    {429, "rate-limited", "Too many requests"},
    {429, "locked", "Account locked"},
    {500, "internal", "Internal error"},
    {503, "unavailable", "Service unavailable"},
};

#define N_KINDS (sizeof KINDS / sizeof KINDS[0])

static const char *title_for(const char *slug)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(KINDS[i].slug, slug) == 0)
            return KINDS[i].title;
    return "Error";
}

const char *srv_slug_for_status(int status)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (KINDS[i].status == status)
            return KINDS[i].slug;
    return "internal";
}

/* A problem must always go out, even without memory for JSON: then a
 * fixed document stands in. */
static const char FALLBACK[] = "{\"type\":\"" PROBLEM_BASE "internal\",\"title\":\"Internal "
                               "error\",\"status\":500}";

void srv_problem(http_res *res, const http_req *req, int status, const char *slug,
                 const char *detail, const char *pointer)
{
    char type[128];
    snprintf(type, sizeof type, PROBLEM_BASE "%s", slug);
    json_t *doc =
        json_pack("{s:s, s:s, s:i}", "type", type, "title", title_for(slug), "status", status);
    if (doc && detail)
        json_object_set_new(doc, "detail", json_string(detail));
    if (doc && pointer)
        json_object_set_new(doc, "pointer", json_string(pointer));
    if (doc && req && req->path)
        json_object_set_new(doc, "instance", json_string(req->path));
    if (doc && req && req->request_id)
        json_object_set_new(doc, "request_id", json_string(req->request_id));
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text)
        http_res_take(res, status, "application/problem+json", text, strlen(text));
    else
        http_res_static(res, 500, "application/problem+json", FALLBACK);
}

int srv_status_for_code(int code)
{
    switch (code) {
    case NQ_EPARSE:
    case NQ_EINVAL:
    case NQ_ERANGE:
    case NQ_ENOTFOUND:
        return 422;
    case NQ_ELIMIT:
        return 413;
    case NQ_ECANCEL:
    case NQ_EUNAVAIL:
        return 503;
    default:
        return 500; /* NQ_ENOMEM, NQ_EIO, NQ_EINTERNAL: ours, not the client's */
    }
}

/* jansson's positions come as "request body:LINE:COL"; the detail keeps
 * "LINE:COL: what" so a client sees where without our source name. */
static void parse_detail(const nq_err *err, char *out, size_t cap)
{
    const char *where = strchr(err->where, ':');
    snprintf(out, cap, "%s: %s", where ? where + 1 : err->where, err->msg);
}

void srv_problem_err(http_res *res, const http_req *req, const nq_err *err, int body_parse)
{
    char detail[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 8];
    if (body_parse && err->code == NQ_EPARSE) {
        parse_detail(err, detail, sizeof detail);
        srv_problem(res, req, 400, "malformed-json", detail, NULL);
        return;
    }
    int status = srv_status_for_code(err->code);
    /* A JSON pointer ("" or "/a/0") names a member; anything else
     * ("text:3", a file name) is a position that belongs in the detail. */
    int is_ptr = err->where[0] == '/' || (err->where[0] == '\0' && status == 422);
    if (is_ptr || !err->where[0])
        snprintf(detail, sizeof detail, "%s", err->msg[0] ? err->msg : nq_code_name(err->code));
    else
        snprintf(detail, sizeof detail, "%s: %s", err->where, err->msg);
    const char *slug = status == 500 ? "internal" : srv_slug_for_status(status);
    srv_problem(res, req, status, slug, detail, is_ptr ? err->where : NULL);
}
