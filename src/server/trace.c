/* trace.c - request ids and W3C trace context.
 *
 * A client's X-Request-Id is kept when it is short and made of safe
 * characters (it ends up in logs and headers, so nothing that could split
 * a line or a header); otherwise the server makes one. A valid traceparent
 * (https://www.w3.org/TR/trace-context/) is echoed as sent, so the caller's
 * trace continues; otherwise a new one is started with the sampled flag.
 * Ids come from getrandom(2): no shared generator state between threads. */
#include <string.h>
#include <sys/random.h>

#include "nqba/clock.h"
#include "srv.h"

#define REQUEST_ID_MAX 128

static int safe_id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-_.:~+/=@", c) != NULL;
}

static int request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= REQUEST_ID_MAX || !safe_id_char((unsigned char)s[n]))
            return 0;
    return n > 0;
}

static int lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return 0;
    return 1;
}

/* version "-" trace-id(32) "-" parent-id(16) "-" flags(2). Version ff is
 * invalid; a later version may append fields after another '-'. */
int srv_traceparent_valid(const char *s)
{
    size_t len = strlen(s);
    if (len < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return 0;
    if (!lower_hex(s, 2) || !lower_hex(s + 3, 32) || !lower_hex(s + 36, 16) ||
        !lower_hex(s + 53, 2))
        return 0;
    if (strncmp(s, "ff", 2) == 0 || all_zero(s + 3, 32) || all_zero(s + 36, 16))
        return 0;
    if (strncmp(s, "00", 2) == 0)
        return len == 55;
    return len == 55 || s[55] == '-';
}

static void hex(char *out, const unsigned char *bytes, size_t n)
{
    static const char DIGITS[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = DIGITS[bytes[i] >> 4];
        out[2 * i + 1] = DIGITS[bytes[i] & 15];
    }
}

/* Random bytes; if the kernel cannot give them (it always can on the
 * systems we run on), the clock keeps ids unique enough for logs. */
static void random_bytes(unsigned char *out, size_t n)
{
    if (getrandom(out, n, 0) == (ssize_t)n)
        return;
    uint64_t t = nq_clock_ns() ^ ((uint64_t)(uintptr_t)out << 17);
    for (size_t i = 0; i < n; i++) {
        t ^= t << 13, t ^= t >> 7, t ^= t << 17;
        out[i] = (unsigned char)t;
    }
}

void srv_trace_ids(http_req *req)
{
    const char *rid = http_req_header(req, "X-Request-Id");
    const char *tp = http_req_header(req, "traceparent");
    int need_rid = !(rid && request_id_ok(rid));
    int need_tp = !(tp && srv_traceparent_valid(tp));
    unsigned char rnd[40]; /* 16 for the request id, 16 + 8 for the trace */
    if (need_rid || need_tp)
        random_bytes(rnd, sizeof rnd);
    if (need_rid) {
        char *s = nq_arena_alloc(req->arena, 33);
        if (s) {
            hex(s, rnd, 16);
            s[32] = '\0';
        }
        rid = s;
    }
    if (need_tp) {
        char *s = nq_arena_alloc(req->arena, 56);
        if (s) {
            memcpy(s, "00-", 3);
            hex(s + 3, rnd + 16, 16);
            s[35] = '-';
            hex(s + 36, rnd + 32, 8);
            memcpy(s + 52, "-01", 4);
        }
        tp = s;
    }
    req->request_id = rid;
    req->traceparent = tp;
}
