/* http_msg.c - request and response objects: header lookup and the ways
 * to give a response its body. No sockets here, so the handlers and the
 * fuzzer share every line of it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

const char *http_req_header(const http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

void http_res_init(http_res *res)
{
    memset(res, 0, sizeof *res);
    res->status = 500;
    res->content_type = "text/plain";
}

void http_res_free(http_res *res)
{
    if (!res->body_static)
        free(res->body);
    res->body = NULL;
    res->body_len = 0;
    if (res->stream && res->stream->free)
        res->stream->free(res->stream_cls);
    res->stream = NULL;
    res->stream_cls = NULL;
}

/* Headers beyond the fixed room are dropped: every caller adds a known,
 * small set, so running out is a bug caught by the tests, not by clients. */
void http_res_header(http_res *res, const char *name, const char *value)
{
    if (res->n_headers < HTTP_RES_MAX_HEADERS && value) {
        res->headers[res->n_headers].name = name;
        res->headers[res->n_headers].value = value;
        res->n_headers++;
    }
}

/* Replacing a body frees the old one, so helpers can be called again to
 * turn a half-built answer into an error. */
static void drop_body(http_res *res)
{
    if (!res->body_static)
        free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->body_static = 0;
}

void http_res_take(http_res *res, int status, const char *content_type, char *body, size_t len)
{
    drop_body(res);
    res->status = status;
    res->content_type = content_type;
    res->body = body;
    res->body_len = body ? len : 0;
}

void http_res_text(http_res *res, int status, const char *content_type, const char *text,
                   size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        http_res_static(res, 500, "text/plain", "");
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    http_res_take(res, status, content_type, copy, len);
}

void http_res_static(http_res *res, int status, const char *content_type, const char *text)
{
    drop_body(res);
    res->status = status;
    res->content_type = content_type;
    res->body = (char *)text; /* never written nor freed: body_static */
    res->body_len = strlen(text);
    res->body_static = 1;
}

void http_res_json(http_res *res, int status, const json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    if (!text) {
        http_res_static(res, 500, "text/plain", "");
        return;
    }
    http_res_take(res, status, "application/json", text, strlen(text));
}

void http_res_stream(http_res *res, int status, const char *content_type,
                     const http_stream_ops *ops, void *cls)
{
    drop_body(res);
    res->status = status;
    res->content_type = content_type;
    res->stream = ops;
    res->stream_cls = cls;
}
