/* fuzz_http.c - libFuzzer target for the server's request path: routing,
 * header checks, body limits, JSON parsing and validation, problem
 * documents, without sockets (srv_app_handle).
 *
 * Input: "METHOD TARGET\n", then "Name: value\n" header lines up to an
 * empty line, then the body. The application runs in validation-only mode
 * (valid POSTs answer 200 {"valid":true}) so no solve runs. Every answer
 * must have a sane status, and every problem document must be JSON whose
 * "status" is the response's status. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define FUZZ_MAX_HEADERS 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer offers no context pointer: the application made once in
 * LLVMFuzzerInitialize lives here for the whole run. */
static srv_app *g_app;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    srv_config c;
    nq_err err;
    srv_config_default(&c);
    snprintf(c.access_log, sizeof c.access_log, "off");
    c.workers = 1;
    c.sync_budget_ms = 0;
    c.max_body = 1 << 16;
    if (srv_app_new(&c, 1, &g_app, &err) != NQ_OK) {
        fprintf(stderr, "fuzz_http: %s\n", err.msg);
        abort();
    }
    return 0;
}

/* Cut the next line (without its '\n') from text[*pos, len). */
static char *next_line(char *text, size_t len, size_t *pos)
{
    if (*pos >= len)
        return NULL;
    char *start = text + *pos;
    char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    start[n] = '\0';
    *pos += n + (nl ? 1 : 0);
    return start;
}

static void check_reply(const srv_reply *r)
{
    if (r->status < 100 || r->status > 599 || !r->body)
        abort();
    if (strcmp(r->content_type, "application/problem+json") != 0)
        return;
    json_error_t je;
    json_t *doc = json_loadb(r->body, r->body_len, 0, &je);
    json_t *status = json_object_get(doc, "status");
    if (!json_is_integer(status) || json_integer_value(status) != r->status ||
        !json_is_string(json_object_get(doc, "type")))
        abort();
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t pos = 0;
    char *line = next_line(text, size, &pos);
    char *target = line ? strchr(line, ' ') : NULL;
    if (target) {
        *target++ = '\0';
        const char *headers[FUZZ_MAX_HEADERS][2];
        size_t n = 0;
        while ((line = next_line(text, size, &pos)) && line[0] && n < FUZZ_MAX_HEADERS) {
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            *colon = '\0';
            headers[n][0] = line;
            headers[n][1] = colon + 1 + (colon[1] == ' ');
            n++;
        }
        srv_reply r;
        if (srv_app_handle(g_app, text, target, (const char *const(*)[2])headers, n, text + pos,
                           size - pos, &r) == NQ_OK)
            check_reply(&r);
        srv_reply_free(&r);
    }
    free(text);
    return 0;
}
