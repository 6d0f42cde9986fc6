/* test_pf_optimize.c - portfolio optimization: the QP solver against
 * exhaustive active-set enumeration and projected gradient, PyPortfolioOpt's
 * reference portfolios (covariance computed here, independently of the
 * library's risk models), min CVaR against the reference and against the
 * same LP read from MPS and solved by GLPK directly, efficient risk,
 * sectors, turnover, large universes, risk parity and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glpk.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/portfolio.h"
#include "nqba/qp.h"
#include "nqba/rng.h"

/* White-box: the subset solve offered to the cardinality search. */
#include "../../lib/units/goliath/goliath_internal.h"

#define NA 20

/* ---- data ------------------------------------------------------------------ */

static void data_path(char *buf, size_t cap, const char *name)
{
    const char *shared = getenv("NQ_SHARED_DIR");
    snprintf(buf, cap, "%s/data/portfolio/%s", shared ? shared : "../shared", name);
}

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    data_path(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

typedef struct dataset {
    char names[NA][16];
    double mu[NA];
    double S[NA * NA];
    double *scen; /* complete return rows */
    int32_t n_scen;
    char first_scen_date[16];
} dataset;

static dataset g_data;

/* stock_prices.csv: date then 20 prices per line, empty cells missing.
 * Returns prices (rows x NA, NAN missing) and dates. */
static double *parse_prices(char *text, int32_t *rows, char (**dates)[16])
{
    int32_t cap = 8192, t = 0;
    double *p = malloc((size_t)cap * NA * sizeof *p);
    *dates = malloc((size_t)cap * sizeof **dates);
    char *line = strtok(text, "\n");
    assert_non_null(line);
    char *hdr = line, *tok = strchr(hdr, ',');
    for (int i = 0; i < NA; i++) { /* names */
        char *next = strchr(tok + 1, ',');
        size_t len = next ? (size_t)(next - tok - 1) : strcspn(tok + 1, "\r");
        snprintf(g_data.names[i], sizeof g_data.names[i], "%.*s", (int)len, tok + 1);
        tok = next;
    }
    while ((line = strtok(NULL, "\n")) && t < cap) {
        char *c = line;
        size_t dl = strcspn(c, ",");
        snprintf((*dates)[t], 16, "%.*s", (int)dl, c);
        c += dl;
        for (int i = 0; i < NA; i++) {
            assert_true(*c == ',');
            c++;
            char *end;
            double v = strtod(c, &end);
            p[(size_t)t * NA + i] = end == c ? NAN : v;
            c = end;
        }
        t++;
    }
    *rows = t;
    return p;
}

static void load_mu(void)
{
    char path[512];
    data_path(path, sizeof path, "reference_results.json");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    json_t *mu = json_object_get(json_object_get(root, "pypfopt_dataset"), "mu");
    for (int i = 0; i < NA; i++)
        g_data.mu[i] = json_number_value(json_object_get(mu, g_data.names[i]));
    json_decref(root);
}

/* pandas pct_change + dropna(how="all"), then the pairwise-complete
 * sample covariance (ddof 1) x 252 and the complete rows as scenarios. */
static void build_dataset(const double *p, int32_t t, char (*dates)[16])
{
    double *r = malloc((size_t)t * NA * sizeof *r);
    int32_t m = 0, *row_date = malloc((size_t)t * sizeof *row_date);
    for (int32_t k = 1; k < t; k++) {
        int any = 0;
        for (int i = 0; i < NA; i++) {
            double a = p[(size_t)(k - 1) * NA + i], b = p[(size_t)k * NA + i];
            double v = isnan(a) || isnan(b) ? NAN : b / a - 1.0;
            r[(size_t)m * NA + i] = v;
            any |= !isnan(v);
        }
        if (any)
            row_date[m++] = k;
    }
    for (int i = 0; i < NA; i++)
        for (int j = 0; j < NA; j++) {
            double si = 0, sj = 0, c = 0;
            int cnt = 0;
            for (int32_t k = 0; k < m; k++) {
                double a = r[(size_t)k * NA + i], b = r[(size_t)k * NA + j];
                if (!isnan(a) && !isnan(b))
                    si += a, sj += b, cnt++;
            }
            si /= cnt, sj /= cnt;
            for (int32_t k = 0; k < m; k++) {
                double a = r[(size_t)k * NA + i], b = r[(size_t)k * NA + j];
                if (!isnan(a) && !isnan(b))
                    c += (a - si) * (b - sj);
            }
            g_data.S[i * NA + j] = c / (cnt - 1) * 252.0;
        }
    g_data.scen = malloc((size_t)m * NA * sizeof *g_data.scen);
    for (int32_t k = 0; k < m; k++) {
        int ok = 1;
        for (int i = 0; i < NA; i++)
            ok &= !isnan(r[(size_t)k * NA + i]);
        if (!ok)
            continue;
        if (g_data.n_scen == 0)
            snprintf(g_data.first_scen_date, sizeof g_data.first_scen_date, "%s",
                     dates[row_date[k]]);
        memcpy(g_data.scen + (size_t)g_data.n_scen++ * NA, r + (size_t)k * NA, NA * sizeof *r);
    }
    free(r);
    free(row_date);
}

static int setup_data(void **state)
{
    (void)state;
    char *text = slurp("pypfopt_stock_prices.csv", NULL);
    int32_t t;
    char(*dates)[16];
    double *p = parse_prices(text, &t, &dates);
    assert_int_equal(t, 7126);
    build_dataset(p, t, dates);
    load_mu();
    free(p);
    free(dates);
    free(text);
    return 0;
}

static int teardown_data(void **state)
{
    (void)state;
    free(g_data.scen);
    return 0;
}

static json_t *reference(const char *key)
{
    char path[512];
    data_path(path, sizeof path, "reference_results.json");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    json_t *o = json_incref(json_object_get(json_object_get(root, "pypfopt_dataset"), key));
    json_decref(root);
    assert_non_null(o);
    return o;
}

static void base_spec(nq_pf_spec *s, nq_pf_objective o)
{
    nq_pf_spec_default(s);
    s->objective = o;
    s->n = NA;
    s->mu = g_data.mu;
    s->S = g_data.S;
}

static double optimize_ok(const nq_pf_spec *s, nq_pf_result *r)
{
    nq_err err = {0};
    double t0 = nq_clock_s();
    int rc = nq_pf_optimize(s, r, &err);
    double dt = nq_clock_s() - t0;
    if (rc)
        print_message("optimize failed: %s %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    double sum = 0.0;
    for (int i = 0; i < s->n; i++)
        sum += r->w[i];
    assert_true(fabs(sum - 1.0) < 1e-12);
    return dt;
}

/* ---- PyPortfolioOpt references ------------------------------------------------ */

/* Figures to 1e-6 and every weight to 1e-4 against reference_results.json. */
static void check_reference(const char *key, nq_pf_objective o, double target)
{
    json_t *ref = reference(key);
    nq_pf_spec s;
    base_spec(&s, o);
    s.target_return = target;
    nq_pf_result r;
    double dt = optimize_ok(&s, &r);
    json_t *w = json_object_get(ref, "weights");
    double dw = 0.0;
    for (int i = 0; i < NA; i++)
        dw = fmax(dw, fabs(r.w[i] - json_number_value(json_object_get(w, g_data.names[i]))));
    double dr = fabs(r.expected_return - json_number_value(json_object_get(ref, "annual_return")));
    double dv = fabs(r.volatility - json_number_value(json_object_get(ref, "annual_volatility")));
    double ds = fabs(r.sharpe - json_number_value(json_object_get(ref, "sharpe")));
    print_message("%-22s max|dw| %.2e  |dret| %.2e  |dvol| %.2e  |dsharpe| %.2e  %.0f us, "
                  "%lld active-set changes\n",
                  key, dw, dr, dv, ds, dt * 1e6, (long long)r.iterations);
    assert_true(dw < 1e-4);
    assert_true(dr < 1e-6 && dv < 1e-6 && ds < 1e-6);
    assert_string_equal(r.method, "active-set QP");
    nq_pf_result_free(&r);
    json_decref(ref);
}

static void test_reference_portfolios(void **state)
{
    (void)state;
    check_reference("min_volatility", NQ_PF_MIN_VOLATILITY, 0.0);
    check_reference("max_sharpe_rf_0.02", NQ_PF_MAX_SHARPE, 0.0);
    check_reference("efficient_return_0.20", NQ_PF_EFFICIENT_RETURN, 0.20);
    check_reference("efficient_return_0.25", NQ_PF_EFFICIENT_RETURN, 0.25);
}

/* Min CVaR: the reference figures, and the same LP as written by PuLP
 * (free MPS) solved by GLPK directly. */
static void test_min_cvar(void **state)
{
    (void)state;
    assert_int_equal(g_data.n_scen, 895);
    assert_string_equal(g_data.first_scen_date, "2014-09-22");
    nq_pf_spec s;
    base_spec(&s, NQ_PF_MIN_CVAR);
    s.S = NULL;
    s.scenarios = g_data.scen;
    s.n_scenarios = g_data.n_scen;
    s.beta = 0.95;
    nq_pf_result r;
    double dt = optimize_ok(&s, &r);
    char path[512];
    data_path(path, sizeof path, "min_cvar_895.mps");
    glp_prob *lp = glp_create_prob();
    int was_on = glp_term_out(GLP_OFF);
    assert_int_equal(glp_read_mps(lp, GLP_MPS_FILE, NULL, path), 0);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    assert_int_equal(glp_simplex(lp, &parm), 0);
    glp_term_out(was_on);
    assert_int_equal(glp_get_status(lp), GLP_OPT);
    double mps = glp_get_obj_val(lp);
    glp_delete_prob(lp);
    print_message("min_cvar: return %.10f (ref 0.177457460) cvar %.12f (ref 0.0170495018, "
                  "MPS %.12f) %.1f ms\n",
                  r.expected_return, r.cvar, mps, dt * 1e3);
    assert_true(fabs(r.expected_return - 0.177457460) < 1e-5);
    assert_true(fabs(r.cvar - 0.0170495018) < 1e-5 * 0.0170495018);
    assert_true(fabs(r.cvar - mps) < 1e-10);
    assert_true(!strncmp(r.method, "GLPK simplex", 12));
    /* The CVaR of the weights, recomputed from the scenarios: the mean
     * loss over the worst (1 - beta) T periods with the fractional tail. */
    double *loss = malloc((size_t)g_data.n_scen * sizeof *loss);
    for (int t = 0; t < g_data.n_scen; t++) {
        loss[t] = 0.0;
        for (int i = 0; i < NA; i++)
            loss[t] -= g_data.scen[(size_t)t * NA + i] * r.w[i];
    }
    double best = INFINITY; /* min over alpha of alpha + E[(loss - alpha)+] / (1 - beta) */
    for (int k = 0; k < g_data.n_scen; k++) {
        double a = loss[k], v = 0.0;
        for (int t = 0; t < g_data.n_scen; t++)
            v += fmax(loss[t] - a, 0.0);
        best = fmin(best, a + v / (0.05 * g_data.n_scen));
    }
    assert_true(fabs(best - r.cvar) < 1e-12);
    free(loss);
    /* No mu: the mean scenario return, annualized. */
    s.mu = NULL;
    nq_pf_result r2;
    optimize_ok(&s, &r2);
    assert_true(fabs(r2.cvar - r.cvar) < 1e-12);
    assert_true(r2.expected_return > 0.0 && r2.expected_return < 1.0);
    nq_pf_result_free(&r2);
    /* Upper bounds that do not bind take the other path (the whole primal
     * LP instead of the dual over tail scenarios): the same optimum. */
    double ub[NA];
    for (int i = 0; i < NA; i++)
        ub[i] = 0.99;
    s.ub = ub;
    optimize_ok(&s, &r2);
    assert_string_equal(r2.method, "GLPK simplex");
    assert_true(strcmp(r.method, "GLPK simplex") != 0);
    assert_true(fabs(r2.cvar - r.cvar) < 1e-10);
    for (int i = 0; i < NA; i++)
        assert_true(fabs(r2.w[i] - r.w[i]) < 1e-6);
    nq_pf_result_free(&r2);
    nq_pf_result_free(&r);
}

/* ---- the QP solver ------------------------------------------------------------ */

/* Gaussian elimination with partial pivoting, m <= 32; 0 when singular. */
static int gauss(double *K, double *b, int m)
{
    for (int c = 0; c < m; c++) {
        int p = c;
        for (int i = c + 1; i < m; i++)
            if (fabs(K[i * m + c]) > fabs(K[p * m + c]))
                p = i;
        if (fabs(K[p * m + c]) < 1e-11)
            return 0;
        for (int k = 0; k < m; k++) {
            double t = K[c * m + k];
            K[c * m + k] = K[p * m + k], K[p * m + k] = t;
        }
        double t = b[c];
        b[c] = b[p], b[p] = t;
        for (int i = c + 1; i < m; i++) {
            double f = K[i * m + c] / K[c * m + c];
            for (int k = c; k < m; k++)
                K[i * m + k] -= f * K[c * m + k];
            b[i] -= f * b[c];
        }
    }
    for (int i = m - 1; i >= 0; i--) {
        for (int k = i + 1; k < m; k++)
            b[i] -= K[i * m + k] * b[k];
        b[i] /= K[i * m + i];
    }
    return 1;
}

#define QN 6
#define QC (3 + 2 * QN) /* inequality rows, then lower and upper bounds */

typedef struct rand_qp {
    int n, meq, min;
    double P[QN * QN], q[QN], Aeq[QN], beq[1], Ain[3 * QN], bin[3], lb[QN], ub[QN];
} rand_qp;

static double qp_obj(const rand_qp *p, const double *x)
{
    double f = 0.0;
    for (int i = 0; i < p->n; i++) {
        f += p->q[i] * x[i];
        for (int j = 0; j < p->n; j++)
            f += 0.5 * x[i] * p->P[i * p->n + j] * x[j];
    }
    return f;
}

/* Row k of the inequalities as c'x <= d (rows, then -x >= -lb, x <= ub);
 * 0 when that bound is infinite. */
static int ineq(const rand_qp *p, int k, double *c, double *d)
{
    int n = p->n;
    memset(c, 0, (size_t)n * sizeof *c);
    if (k < p->min) {
        memcpy(c, p->Ain + k * n, (size_t)n * sizeof *c);
        *d = p->bin[k];
        return 1;
    }
    k -= 3;
    if (k < 0)
        return 0;
    int i = k % QN, upper = k / QN;
    if (i >= n)
        return 0;
    double v = upper ? p->ub[i] : p->lb[i];
    if (!isfinite(v))
        return 0;
    c[i] = upper ? 1.0 : -1.0;
    *d = upper ? v : -v;
    return 1;
}

static int feasible(const rand_qp *p, const double *x, double tol)
{
    double c[QN], d;
    for (int k = 0; k < QC; k++)
        if (ineq(p, k, c, &d) && nq_dot(c, x, p->n) > d + tol)
            return 0;
    return !p->meq || fabs(nq_dot(p->Aeq, x, p->n) - p->beq[0]) <= tol;
}

/* The optimum by trying every set of active inequalities: each solves
 * an equality-constrained QP; the best feasible one is the optimum. */
static double enumerate(const rand_qp *p, double *xbest)
{
    int n = p->n, rows[QC + 1];
    double best = INFINITY;
    for (uint32_t mask = 0; mask < (1u << QC); mask++) {
        int m = 0, ok = 1;
        double K[(2 * QN) * (2 * QN)], rhs[2 * QN], c[QN], d;
        for (int k = 0; k < QC; k++)
            if (mask >> k & 1) {
                ok &= ineq(p, k, c, &d);
                rows[m++] = k;
            }
        if (!ok || m + p->meq > n)
            continue;
        int dim = n + m + p->meq;
        memset(K, 0, sizeof K);
        for (int i = 0; i < n; i++) {
            rhs[i] = -p->q[i];
            for (int j = 0; j < n; j++)
                K[i * dim + j] = p->P[i * n + j];
        }
        for (int r = 0; r < m + p->meq; r++) {
            if (r < m)
                ineq(p, rows[r], c, &d);
            else
                memcpy(c, p->Aeq, (size_t)n * sizeof *c), d = p->beq[0];
            for (int j = 0; j < n; j++)
                K[j * dim + n + r] = c[j], K[(n + r) * dim + j] = c[j];
            rhs[n + r] = d;
        }
        if (!gauss(K, rhs, dim) || !feasible(p, rhs, 1e-9))
            continue;
        double f = qp_obj(p, rhs);
        if (f < best)
            best = f, memcpy(xbest, rhs, (size_t)n * sizeof *xbest);
    }
    return best;
}

static void random_qp(rand_qp *p, nq_rng *g)
{
    int n = p->n = 2 + (int)nq_rng_below(g, QN - 1);
    double B[QN * QN], x0[QN];
    for (int k = 0; k < n * n; k++)
        B[k] = 2.0 * nq_rng_double(g) - 1.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = i == j ? 0.05 : 0.0;
            for (int k = 0; k < n; k++)
                s += B[i * n + k] * B[j * n + k];
            p->P[i * n + j] = s;
        }
    for (int i = 0; i < n; i++) {
        p->q[i] = 4.0 * nq_rng_double(g) - 2.0;
        x0[i] = nq_rng_double(g) - 0.5;
        p->lb[i] = nq_rng_below(g, 4) ? x0[i] - nq_rng_double(g) : -INFINITY;
        p->ub[i] = nq_rng_below(g, 4) ? x0[i] + nq_rng_double(g) : INFINITY;
    }
    p->meq = (int)nq_rng_below(g, 2);
    for (int i = 0; i < n; i++)
        p->Aeq[i] = nq_rng_double(g) + 0.1;
    p->beq[0] = nq_dot(p->Aeq, x0, n);
    p->min = (int)nq_rng_below(g, 4);
    for (int k = 0; k < p->min; k++) {
        for (int i = 0; i < n; i++)
            p->Ain[k * n + i] = 2.0 * nq_rng_double(g) - 1.0;
        p->bin[k] = nq_dot(p->Ain + k * n, x0, n) + 0.3 * nq_rng_double(g);
    }
}

static void test_qp_random_enumeration(void **state)
{
    (void)state;
    nq_rng g;
    nq_rng_seed(&g, 7);
    double worst_f = 0.0, worst_x = 0.0;
    for (int trial = 0; trial < 60; trial++) {
        rand_qp p;
        random_qp(&p, &g);
        nq_qp qp = {.n = p.n,
                    .m_eq = p.meq,
                    .m_in = p.min,
                    .P = p.P,
                    .q = p.q,
                    .A_eq = p.Aeq,
                    .b_eq = p.beq,
                    .A_in = p.Ain,
                    .b_in = p.bin,
                    .lb = p.lb,
                    .ub = p.ub};
        double x[QN], xb[QN], f;
        nq_err err = {0};
        assert_int_equal(nq_qp_solve(&qp, NULL, x, &f, NULL, &err), NQ_OK);
        double best = enumerate(&p, xb);
        assert_true(isfinite(best));
        assert_true(feasible(&p, x, 1e-12));
        assert_true(fabs(f - qp_obj(&p, x)) < 1e-12 * (1.0 + fabs(f)));
        worst_f = fmax(worst_f, fabs(f - best) / (1.0 + fabs(best)));
        for (int i = 0; i < p.n; i++)
            worst_x = fmax(worst_x, fabs(x[i] - xb[i]));
    }
    print_message("random QPs vs enumeration: max rel objective gap %.2e, max |dx| %.2e\n", worst_f,
                  worst_x);
    assert_true(worst_f < 1e-12);
    assert_true(worst_x < 1e-8);
}

/* Projection onto {sum x = 1, 0 <= x <= 1} by bisection on the shift. */
static void project(double *v, int n)
{
    double lo = -2.0, hi = 2.0;
    for (int it = 0; it < 200; it++) {
        double t = 0.5 * (lo + hi), s = 0.0;
        for (int i = 0; i < n; i++)
            s += fmin(fmax(v[i] - t, 0.0), 1.0);
        if (s > 1.0)
            lo = t;
        else
            hi = t;
    }
    for (int i = 0; i < n; i++)
        v[i] = fmin(fmax(v[i] - 0.5 * (lo + hi), 0.0), 1.0);
}

/* A rank-2 P (semidefinite): the optimum against accelerated projected
 * gradient run to convergence. */
static void test_qp_semidefinite(void **state)
{
    (void)state;
    enum { n = 8 };
    nq_rng g;
    nq_rng_seed(&g, 11);
    for (int trial = 0; trial < 10; trial++) {
        double B[n * 2], P[n * n], q[n], lb[n], ub[n], one[n], b1 = 1.0, tr = 0.0;
        for (int k = 0; k < n * 2; k++)
            B[k] = nq_rng_double(&g) - 0.5;
        for (int i = 0; i < n; i++) {
            q[i] = 0.2 * (nq_rng_double(&g) - 0.5);
            lb[i] = 0.0, ub[i] = 1.0, one[i] = 1.0;
            for (int j = 0; j < n; j++)
                P[i * n + j] = B[i * 2] * B[j * 2] + B[i * 2 + 1] * B[j * 2 + 1];
            tr += P[i * n + i];
        }
        nq_qp qp = {
            .n = n, .m_eq = 1, .P = P, .q = q, .A_eq = one, .b_eq = &b1, .lb = lb, .ub = ub};
        double x[n], f;
        nq_err err = {0};
        assert_int_equal(nq_qp_solve(&qp, NULL, x, &f, NULL, &err), NQ_OK);
        double y[n], z[n], xo[n], t = 1.0;
        for (int i = 0; i < n; i++)
            y[i] = z[i] = xo[i] = 1.0 / n;
        for (int it = 0; it < 20000; it++) {
            for (int i = 0; i < n; i++)
                z[i] = y[i] - (nq_dot(P + i * n, y, n) + q[i]) / tr;
            project(z, n);
            double t1 = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t));
            for (int i = 0; i < n; i++)
                y[i] = z[i] + (t - 1.0) / t1 * (z[i] - xo[i]), xo[i] = z[i];
            t = t1;
        }
        double fg = 0.5 * nq_quad(P, xo, xo, n) + nq_dot(q, xo, n), sum = 0.0;
        for (int i = 0; i < n; i++) {
            assert_true(x[i] >= -1e-14 && x[i] <= 1.0 + 1e-14);
            sum += x[i];
        }
        assert_true(fabs(sum - 1.0) < 1e-13);
        assert_true(f <= fg + 1e-12);
        assert_true(f >= fg - 1e-8);
    }
}

static void test_qp_errors(void **state)
{
    (void)state;
    double P[4] = {1, 0, 0, 1}, q[2] = {-1, -1}, A[2] = {1, 1}, b = 3.0, lb[2] = {0, 0},
           ub[2] = {1, 1}, x[2];
    nq_qp qp = {.n = 2, .m_eq = 1, .P = P, .q = q, .A_eq = A, .b_eq = &b, .lb = lb, .ub = ub};
    nq_err err = {0};
    assert_int_equal(nq_qp_solve(&qp, NULL, x, NULL, NULL, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/constraints");
    assert_non_null(strstr(err.msg, "infeasible"));
    double Z[4] = {0, 0, 0, 0}; /* min -x1 - x2, x >= 0: unbounded */
    nq_qp un = {.n = 2, .P = Z, .q = q, .lb = lb};
    assert_int_equal(nq_qp_solve(&un, NULL, x, NULL, NULL, &err), NQ_ERANGE);
    un.ub = ub; /* boxed: optimum (1, 1) */
    assert_int_equal(nq_qp_solve(&un, NULL, x, NULL, NULL, &err), NQ_OK);
    assert_true(fabs(x[0] - 1.0) < 1e-12 && fabs(x[1] - 1.0) < 1e-12);
    P[1] = NAN;
    assert_int_equal(nq_qp_solve(&qp, NULL, x, NULL, NULL, &err), NQ_EINVAL);
    P[1] = 0.0;
    atomic_int stop = 1;
    nq_qp_opts o;
    nq_qp_opts_default(&o);
    o.cancel = &stop;
    b = 1.0;
    qp.q = (double[]){-5, 3};
    assert_int_equal(nq_qp_solve(&qp, &o, x, NULL, NULL, &err), NQ_ECANCEL);
}

/* ---- objectives and constraints ------------------------------------------------ */

static void test_efficient_risk(void **state)
{
    (void)state;
    double targets[] = {0.16, 0.2, 0.25, 0.3};
    for (size_t k = 0; k < sizeof targets / sizeof *targets; k++) {
        nq_pf_spec s;
        base_spec(&s, NQ_PF_EFFICIENT_RISK);
        s.target_volatility = targets[k];
        nq_pf_result r, e;
        double dt = optimize_ok(&s, &r);
        /* The same portfolio as efficient_return at the return found. */
        s.objective = NQ_PF_EFFICIENT_RETURN;
        s.target_return = r.expected_return;
        optimize_ok(&s, &e);
        double dw = 0.0;
        for (int i = 0; i < NA; i++)
            dw = fmax(dw, fabs(r.w[i] - e.w[i]));
        print_message("efficient_risk %.2f: vol - target %.1e, return %.10f, |dw| vs "
                      "efficient_return %.1e, %.0f us\n",
                      targets[k], r.volatility - targets[k], r.expected_return, dw, dt * 1e6);
        assert_true(fabs(r.volatility - targets[k]) < 1e-8);
        assert_true(fabs(e.volatility - targets[k]) < 1e-8);
        assert_true(fabs(e.expected_return - r.expected_return) < 1e-10);
        assert_true(dw < 1e-6);
        /* No portfolio of this volatility does better: a slightly higher
         * return target needs more volatility. */
        s.target_return = r.expected_return + 1e-4;
        nq_pf_result up;
        optimize_ok(&s, &up);
        assert_true(up.volatility > targets[k] + 1e-9);
        nq_pf_result_free(&up);
        nq_pf_result_free(&r);
        nq_pf_result_free(&e);
    }
    /* Beyond the most volatile efficient portfolio: the largest return. */
    nq_pf_spec s;
    base_spec(&s, NQ_PF_EFFICIENT_RISK);
    s.target_volatility = 5.0;
    nq_pf_result r;
    optimize_ok(&s, &r);
    assert_true(fabs(r.expected_return - g_data.mu[16]) < 1e-9); /* MA, the best asset */
    nq_pf_result_free(&r);
}

static void test_quadratic_utility(void **state)
{
    (void)state;
    nq_pf_spec s;
    base_spec(&s, NQ_PF_MAX_QUADRATIC_UTILITY);
    s.risk_aversion = 5.0;
    nq_pf_result r;
    double dt = optimize_ok(&s, &r);
    double u = r.expected_return - 2.5 * r.volatility * r.volatility;
    /* Optimality: no move along w + t (e_i - e_j) within the bounds helps. */
    for (int i = 0; i < NA; i++)
        for (int j = 0; j < NA; j++) {
            if (i == j || r.w[j] <= 0.0)
                continue;
            double w2[NA], t = fmin(1e-4, r.w[j]);
            memcpy(w2, r.w, sizeof w2);
            w2[i] += t, w2[j] -= t;
            double ret = nq_dot(g_data.mu, w2, NA), v = nq_quad(g_data.S, w2, w2, NA);
            assert_true(ret - 2.5 * v <= u + 1e-13);
        }
    print_message("max_quadratic_utility: utility %.12f, %.0f us\n", u, dt * 1e6);
    nq_pf_result_free(&r);
}

static double sector_sum(const double *w, const int32_t *sec, int k)
{
    double s = 0.0;
    for (int i = 0; i < NA; i++)
        s += sec[i] == k ? w[i] : 0.0;
    return s;
}

static void test_sectors_and_turnover(void **state)
{
    (void)state;
    int32_t sec[NA];
    for (int i = 0; i < NA; i++)
        sec[i] = i % 4;
    double smin[4] = {0.1, NAN, NAN, 0.3}, smax[4] = {0.2, 0.25, NAN, NAN};
    nq_pf_objective objs[] = {NQ_PF_MIN_VOLATILITY, NQ_PF_MAX_SHARPE, NQ_PF_EFFICIENT_RETURN,
                              NQ_PF_MAX_QUADRATIC_UTILITY, NQ_PF_EFFICIENT_RISK};
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++) {
        nq_pf_spec s;
        base_spec(&s, objs[k]);
        s.target_return = 0.2;
        s.target_volatility = 0.2;
        nq_pf_result free_r, con_r, turn_r;
        optimize_ok(&s, &free_r);
        s.n_sectors = 4, s.sector = sec, s.sector_min = smin, s.sector_max = smax;
        optimize_ok(&s, &con_r);
        for (int c = 0; c < 4; c++) {
            double v = sector_sum(con_r.w, sec, c);
            assert_true(!(v > smax[c] + 1e-9) && !(v < smin[c] - 1e-9));
        }
        /* Turnover from equal weights, limited to 0.3. */
        double w0[NA];
        for (int i = 0; i < NA; i++)
            w0[i] = 1.0 / NA;
        s.n_sectors = 0;
        s.w0 = w0;
        s.max_turnover = 0.3;
        optimize_ok(&s, &turn_r);
        assert_true(turn_r.turnover <= 0.3 + 1e-9);
        /* Constraints never make the objective better. */
        double f0, f1, f2;
        if (objs[k] == NQ_PF_MAX_SHARPE)
            f0 = -free_r.sharpe, f1 = -con_r.sharpe, f2 = -turn_r.sharpe;
        else if (objs[k] == NQ_PF_MAX_QUADRATIC_UTILITY)
            f0 = -(free_r.expected_return - 0.5 * free_r.volatility * free_r.volatility),
            f1 = -(con_r.expected_return - 0.5 * con_r.volatility * con_r.volatility),
            f2 = -(turn_r.expected_return - 0.5 * turn_r.volatility * turn_r.volatility);
        else if (objs[k] == NQ_PF_EFFICIENT_RISK)
            f0 = -free_r.expected_return, f1 = -con_r.expected_return, f2 = -turn_r.expected_return;
        else
            f0 = free_r.volatility, f1 = con_r.volatility, f2 = turn_r.volatility;
        print_message("%-22s free %.8f sectors %.8f turnover<=0.3 %.8f (turnover %.6f)\n",
                      nq_pf_objective_name(objs[k]), f0, f1, f2, turn_r.turnover);
        assert_true(f1 >= f0 - 1e-12 && f2 >= f0 - 1e-12);
        if (objs[k] == NQ_PF_EFFICIENT_RETURN)
            assert_true(con_r.expected_return >= 0.2 - 1e-12 &&
                        turn_r.expected_return >= 0.2 - 1e-12);
        for (int i = 0; i < NA; i++)
            assert_true(con_r.w[i] >= 0.0 && turn_r.w[i] >= 0.0);
        nq_pf_result_free(&free_r);
        nq_pf_result_free(&con_r);
        nq_pf_result_free(&turn_r);
    }
}

/* Costs: the reported return is net of cost x turnover, and efficient
 * return meets its target net of costs. */
static void test_costs(void **state)
{
    (void)state;
    double w0[NA];
    for (int i = 0; i < NA; i++)
        w0[i] = 1.0 / NA;
    nq_pf_spec s;
    base_spec(&s, NQ_PF_EFFICIENT_RETURN);
    s.target_return = 0.2;
    s.w0 = w0;
    s.cost = 0.01;
    nq_pf_result r, free_r;
    optimize_ok(&s, &r);
    assert_true(fabs(r.expected_return - (nq_dot(g_data.mu, r.w, NA) - 0.01 * r.turnover)) <
                1e-14);
    assert_true(r.expected_return >= 0.2 - 1e-12);
    s.cost = 0.0;
    optimize_ok(&s, &free_r);
    assert_true(r.volatility >= free_r.volatility - 1e-12);
    s.objective = NQ_PF_MAX_QUADRATIC_UTILITY; /* a cost keeps weights nearer w0 */
    s.risk_aversion = 2.0;
    nq_pf_result a, b;
    optimize_ok(&s, &a);
    s.cost = 0.05;
    optimize_ok(&s, &b);
    assert_true(b.turnover <= a.turnover + 1e-12);
    nq_pf_result_free(&a);
    nq_pf_result_free(&b);
    nq_pf_result_free(&r);
    nq_pf_result_free(&free_r);
}

/* ---- large universes ------------------------------------------------------------ */

static void test_cov500(void **state)
{
    (void)state;
    size_t len;
    char *raw = slurp("cov500_seed0.f64", &len);
    assert_int_equal(len, 500 * 500 * sizeof(double));
    double *S = malloc(len);
    memcpy(S, raw, len); /* little-endian float64, as this machine */
    free(raw);
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.n = 500;
    s.S = S;
    nq_pf_result r;
    double dt = optimize_ok(&s, &r);
    double v = r.volatility * r.volatility;
    print_message("cov500 min_volatility: w'Sw %.12e (ref 5.504291547e-4, rel %.1e), %d held, "
                  "%.1f ms, %lld active-set changes\n",
                  v, fabs(v / 5.504291547e-4 - 1.0), (int)r.held, dt * 1e3,
                  (long long)r.iterations);
    assert_true(fabs(v / 5.504291547e-4 - 1.0) < 1e-6);
    for (int i = 0; i < 500; i++)
        assert_true(r.w[i] >= 0.0);
    nq_pf_result_free(&r);
    free(S);
}

static void test_cov95(void **state)
{
    (void)state;
    char *text = slurp("pypfopt_cov_matrix.csv", NULL);
    int n = 0;
    for (char *c = text; *c && *c != '\n'; c++)
        n += *c == ',';
    assert_int_equal(n, 95);
    double *S = malloc((size_t)n * n * sizeof *S);
    char *c = strchr(text, '\n') + 1;
    for (int i = 0; i < n; i++) {
        c = strchr(c, ','); /* skip the row's name */
        for (int j = 0; j < n; j++) {
            assert_true(*c == ',');
            S[i * n + j] = strtod(c + 1, &c);
        }
        char *nl = strchr(c, '\n');
        assert_true(nl || i == n - 1);
        c = nl ? nl + 1 : c;
    }
    free(text);
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.n = n;
    s.S = S;
    nq_pf_result r;
    double best = INFINITY;
    for (int rep = 0; rep < 5; rep++) {
        double dt = optimize_ok(&s, &r);
        best = fmin(best, dt);
        if (rep < 4)
            nq_pf_result_free(&r);
    }
    print_message("cov95 min_volatility: vol %.10f (ref 0.0016485582), %d held, %.2f ms\n",
                  r.volatility, (int)r.held, best * 1e3);
    assert_true(fabs(r.volatility / 0.0016485582 - 1.0) < 1e-6);
    assert_int_equal(r.held, 8);
    nq_pf_result_free(&r);
    free(S);
}

/* A singular covariance (asset 3 duplicates asset 0): the optimum is not
 * unique, but its value is that of the universe without the duplicate. */
static void test_singular_covariance(void **state)
{
    (void)state;
    double S4[16] = {0.04, 0.01, 0.0,    0.04, 0.01, 0.09, 0.02, 0.01,
                     0.0,  0.02, 0.0625, 0.0,  0.04, 0.01, 0.0,  0.04};
    double S3[9] = {0.04, 0.01, 0.0, 0.01, 0.09, 0.02, 0.0, 0.02, 0.0625};
    double mu[4] = {0.1, 0.15, 0.12, 0.1};
    nq_pf_objective objs[] = {NQ_PF_MIN_VOLATILITY, NQ_PF_MAX_SHARPE, NQ_PF_EFFICIENT_RETURN,
                              NQ_PF_MAX_QUADRATIC_UTILITY, NQ_PF_EFFICIENT_RISK};
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++) {
        nq_pf_spec s;
        nq_pf_spec_default(&s);
        s.objective = objs[k];
        s.n = 4, s.S = S4, s.mu = mu;
        s.target_return = 0.13, s.target_volatility = 0.2;
        nq_pf_result a, b;
        optimize_ok(&s, &a);
        s.n = 3, s.S = S3;
        optimize_ok(&s, &b);
        assert_true(fabs(a.volatility - b.volatility) < 1e-12);
        assert_true(fabs(a.expected_return - b.expected_return) < 1e-12);
        assert_true(fabs(a.w[0] + a.w[3] - b.w[0]) < 1e-9 && fabs(a.w[1] - b.w[1]) < 1e-9);
        nq_pf_result_free(&a);
        nq_pf_result_free(&b);
    }
}

/* ---- risk parity, frontier, subsets ------------------------------------------- */

static void test_risk_parity(void **state)
{
    (void)state;
    nq_pf_spec s;
    base_spec(&s, NQ_PF_RISK_PARITY);
    nq_pf_result r;
    double dt = optimize_ok(&s, &r);
    double rc[NA], lo = INFINITY, hi = 0.0;
    for (int i = 0; i < NA; i++) {
        rc[i] = r.w[i] * nq_dot(g_data.S + i * NA, r.w, NA);
        lo = fmin(lo, rc[i]), hi = fmax(hi, rc[i]);
    }
    print_message("risk_parity: contributions spread %.1e relative, %lld Newton steps, %.0f us\n",
                  (hi - lo) / hi, (long long)r.iterations, dt * 1e6);
    assert_true((hi - lo) / hi < 1e-12);
    assert_true(lo > 0.0);
    assert_string_equal(r.method, "Newton (risk budgeting)");
    nq_pf_result_free(&r);
    /* Two uncorrelated assets: weights inverse to volatility. */
    double S2[4] = {0.04, 0.0, 0.0, 0.01};
    s.n = 2, s.S = S2, s.mu = NULL;
    optimize_ok(&s, &r);
    assert_true(fabs(r.w[0] - 1.0 / 3.0) < 1e-14 && fabs(r.w[1] - 2.0 / 3.0) < 1e-14);
    nq_pf_result_free(&r);
}

static void test_frontier(void **state)
{
    (void)state;
    nq_pf_spec s;
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    enum { P = 50 };
    double ret[P], vol[P], *w = malloc(P * NA * sizeof *w);
    nq_err err = {0};
    double t0 = nq_clock_s();
    assert_int_equal(nq_pf_frontier(&s, P, ret, vol, w, &err), NQ_OK);
    double dt = nq_clock_s() - t0;
    print_message("frontier of %d points: %.2f ms, return %.6f..%.6f, vol %.6f..%.6f\n", P,
                  dt * 1e3, ret[0], ret[P - 1], vol[0], vol[P - 1]);
    assert_true(fabs(vol[0] - 0.15915084514130026) < 1e-9);
    assert_true(fabs(ret[P - 1] - g_data.mu[16]) < 1e-9);
    for (int k = 1; k < P; k++) {
        assert_true(ret[k] > ret[k - 1]);
        assert_true(vol[k] >= vol[k - 1] - 1e-12);
        assert_true(fabs(ret[k] - ret[k - 1] - (ret[P - 1] - ret[0]) / (P - 1)) < 1e-8);
        assert_true(fabs(nq_dot(g_data.mu, w + k * NA, NA) - ret[k]) < 1e-12);
    }
    assert_int_equal(nq_pf_frontier(&s, 1, ret, vol, NULL, &err), NQ_EINVAL);
    free(w);
}

static void test_subsets(void **state)
{
    (void)state;
    nq_pf_objective objs[] = {NQ_PF_MIN_VOLATILITY, NQ_PF_MAX_SHARPE, NQ_PF_EFFICIENT_RETURN,
                              NQ_PF_MAX_QUADRATIC_UTILITY, NQ_PF_EFFICIENT_RISK};
    int pick[5] = {1, 2, 7, 13, 16};
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++) {
        nq_pf_spec s, sub;
        base_spec(&s, objs[k]);
        s.target_return = 0.25;
        s.target_volatility = 0.2;
        unsigned char in[NA] = {0};
        double mu5[5], S5[25];
        for (int a = 0; a < 5; a++) {
            in[pick[a]] = 1;
            mu5[a] = g_data.mu[pick[a]];
            for (int b = 0; b < 5; b++)
                S5[a * 5 + b] = g_data.S[pick[a] * NA + pick[b]];
        }
        sub = s;
        sub.n = 5, sub.mu = mu5, sub.S = S5;
        nq_pf_result r = {0}, d;
        nq_err err = {0};
        assert_int_equal(nq__pf_solve_subset(&s, in, 0.05, &r, &err), NQ_OK);
        double lb5[5] = {0.05, 0.05, 0.05, 0.05, 0.05};
        sub.lb = lb5;
        optimize_ok(&sub, &d);
        for (int a = 0; a < 5; a++)
            assert_true(fabs(r.w[pick[a]] - d.w[a]) < 1e-9 && r.w[pick[a]] >= 0.05 - 1e-12);
        assert_int_equal(r.held, 5);
        /* Infeasible subsets: an error, not a crash. */
        assert_int_equal(nq__pf_solve_subset(&s, in, 0.3, &r, &err), NQ_EINVAL);
        nq_pf_result_free(&r);
        nq_pf_result_free(&d);
    }
    /* Every 5-of-20 subset of min_volatility: the speed the search needs. */
    nq_pf_spec s;
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    nq_pf_result r = {0};
    nq_err err = {0};
    int count = 0;
    double best = INFINITY, t0 = nq_clock_s();
    for (uint32_t m = 0; m < (1u << NA); m++) {
        if (__builtin_popcount(m) != 5)
            continue;
        unsigned char in[NA];
        for (int i = 0; i < NA; i++)
            in[i] = m >> i & 1;
        assert_int_equal(nq__pf_solve_subset(&s, in, 0.0, &r, &err), NQ_OK);
        best = fmin(best, r.volatility);
        count++;
    }
    double dt = nq_clock_s() - t0;
    print_message("%d subsets of 5: %.1f us each, best vol %.10f\n", count, dt / count * 1e6, best);
    assert_int_equal(count, 15504);
    assert_true(best >= 0.15915084514130026 - 1e-12);
    nq_pf_result_free(&r);
}

/* ---- errors and names ----------------------------------------------------------- */

static void expect_error(const nq_pf_spec *s, int code, const char *where)
{
    nq_pf_result r;
    nq_err err = {0};
    assert_int_equal(nq_pf_optimize(s, &r, &err), code);
    assert_string_equal(err.where, where);
    assert_null(r.w);
}

static void test_errors(void **state)
{
    (void)state;
    nq_pf_spec s;
    base_spec(&s, NQ_PF_EFFICIENT_RETURN);
    s.target_return = 0.5;
    expect_error(&s, NQ_EINVAL, "/target_return");
    nq_pf_result r;
    nq_err err = {0};
    nq_pf_optimize(&s, &r, &err);
    assert_non_null(strstr(err.msg, "0.3886658284")); /* names the largest achievable */
    double ub[NA];
    for (int i = 0; i < NA; i++)
        ub[i] = 0.04;
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    s.ub = ub;
    expect_error(&s, NQ_EINVAL, "/bounds");
    double mu[NA];
    memcpy(mu, g_data.mu, sizeof mu);
    mu[3] = NAN;
    base_spec(&s, NQ_PF_MAX_SHARPE);
    s.mu = mu;
    expect_error(&s, NQ_EINVAL, "/mu/3");
    base_spec(&s, NQ_PF_MAX_SHARPE);
    s.rf = 0.5;
    expect_error(&s, NQ_EINVAL, "/rf");
    base_spec(&s, NQ_PF_EFFICIENT_RISK);
    s.target_volatility = 0.15;
    expect_error(&s, NQ_EINVAL, "/target_volatility");
    double S[NA * NA];
    memcpy(S, g_data.S, sizeof S);
    S[1 * NA + 2] = NAN;
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    s.S = S;
    expect_error(&s, NQ_EINVAL, "/cov_matrix/1/2");
    base_spec(&s, NQ_PF_MAX_QUADRATIC_UTILITY);
    s.risk_aversion = 0.0;
    expect_error(&s, NQ_EINVAL, "/risk_aversion");
    int32_t sec[NA] = {0};
    double smin[1] = {1.5}, smax[1] = {NAN};
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    s.n_sectors = 1, s.sector = sec, s.sector_min = smin, s.sector_max = smax;
    expect_error(&s, NQ_EINVAL, "/sectors");
    double w0[NA] = {1.0};
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    s.w0 = w0, s.max_turnover = 0.0;
    optimize_ok(&s, &r); /* no trading: stays at w0 */
    assert_true(r.w[0] == 1.0 && r.turnover < 1e-12);
    nq_pf_result_free(&r);
    double lb[NA] = {0.0};
    lb[5] = 0.5;
    s.lb = lb; /* must hold 0.5 of asset 5 but may not trade */
    expect_error(&s, NQ_EINVAL, "/max_turnover");
    base_spec(&s, NQ_PF_MIN_CVAR);
    s.scenarios = g_data.scen, s.n_scenarios = g_data.n_scen, s.beta = 1.0;
    expect_error(&s, NQ_EINVAL, "/beta");
    base_spec(&s, NQ_PF_MIN_VOLATILITY);
    s.n = 0;
    expect_error(&s, NQ_EINVAL, "/n");
}

static void test_names_and_defaults(void **state)
{
    (void)state;
    for (int k = 0; k < NQ_PF_OBJECTIVES; k++) {
        nq_pf_objective o;
        assert_int_equal(nq_pf_objective_parse(nq_pf_objective_name((nq_pf_objective)k), &o),
                         NQ_OK);
        assert_int_equal(o, k);
    }
    nq_pf_objective o;
    assert_int_equal(nq_pf_objective_parse("max_return", &o), NQ_ENOTFOUND);
    assert_string_equal(nq_pf_objective_name(NQ_PF_EFFICIENT_RISK), "efficient_risk");
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    assert_true(s.rf == 0.02 && s.risk_aversion == 1.0 && s.beta == 0.95);
    assert_true(s.max_turnover == -1.0 && s.frequency == 252 && s.seed == 1);
    assert_null(s.mu);
    nq_pf_result_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_defaults),
        cmocka_unit_test(test_qp_random_enumeration),
        cmocka_unit_test(test_qp_semidefinite),
        cmocka_unit_test(test_qp_errors),
        cmocka_unit_test(test_reference_portfolios),
        cmocka_unit_test(test_min_cvar),
        cmocka_unit_test(test_efficient_risk),
        cmocka_unit_test(test_quadratic_utility),
        cmocka_unit_test(test_sectors_and_turnover),
        cmocka_unit_test(test_costs),
        cmocka_unit_test(test_cov500),
        cmocka_unit_test(test_cov95),
        cmocka_unit_test(test_singular_covariance),
        cmocka_unit_test(test_risk_parity),
        cmocka_unit_test(test_frontier),
        cmocka_unit_test(test_subsets),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup_data, teardown_data);
}
