/* cmd_decide_lp.c - `nqba decide model.mps` when the model has continuous
 * columns: the plain LP/MILP path (lp.h), printed as a summary (status,
 * objective, the nonzero values) or as the answer document (--json). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nqba/lp.h"

int cli_decide_plain(const char *source, const char *data, size_t len, const char *format,
                     double time_limit, int json)
{
    nq_lp_opts o = {.time_limit = time_limit, .mip_gap = 0};
    nq_lp_result r;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_lp_solve(data, len, source, format, &o, &r, &err);
    if (rc) {
        cli_print_input_error(source, &err);
        return cli_exit_for(rc);
    }
    if (json) {
        json_t *doc = nq_lp_result_to_json(&r);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
        json_decref(doc);
    } else {
        printf("model       %s (%d rows, %d columns, %d integer; solved by GLPK as an %s)\n",
               source, (int)r.n_rows, (int)r.n_cols, (int)r.n_int, r.mip ? "MILP" : "LP");
        printf("status      %s\n", r.status);
        if (r.names) {
            printf("objective   %.10g (%s)\n", r.objective, r.maximize ? "maximize" : "minimize");
            printf("values (nonzero)\n");
            for (int32_t j = 0; j < r.n_cols; j++)
                if (fabs(r.values[j]) > 1e-9)
                    printf("  %-24s %.10g\n", r.names[j], r.values[j]);
        }
    }
    nq_lp_result_free(&r);
    return 0;
}
