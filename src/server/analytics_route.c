/* analytics_route.c - GET /api/v1/analytics/summary?from=&to=&bucket=: the
 * dashboard's counts, latency percentiles, series and value sums
 * (nq_store_analytics).
 *
 * It runs on the HTTP thread like the other history reads: the store caps
 * the rows it scans (NQ_ANALYTICS_ROWS_MAX) and the buckets it answers
 * with (NQ_ANALYTICS_BUCKETS_MAX), so one request costs bounded time and
 * memory. The query-argument helpers mirror store_routes.c's, which keeps
 * them static to itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/store.h"
#include "srv.h"

void srv_h_analytics(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const known[] = {"from", "to", "bucket", NULL};
    nq_analytics_query q;
    memset(&q, 0, sizeof q);
    /* Arguments first: they are checked even without a store (the fuzzer). */
    if (srv_args_known(req, res, known) || srv_arg_time(req, res, "from", &q.from) ||
        srv_arg_time(req, res, "to", &q.to) || srv_no_store(a, req, res))
        return;
    q.bucket = srv_arg(req, "bucket");
    if (!q.bucket)
        q.bucket = "day";
    json_t *doc = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_analytics(a->store, &q, &doc, &err);
    srv_query_answer(req, res, rc, &err, doc);
}
