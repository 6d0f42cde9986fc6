/* lead_data.c - a lead data set from a parsed CSV table: the outcome read
 * as 0/1, the input columns typed (numeric or categorical) and stored as
 * numbers or level codes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lead_internal.h"

const char *nq_leads_algo_name(nq_leads_algo a) { return a == NQ_LEADS_GBT ? "gbt" : "logistic"; }
const char *nq_leads_kind_name(nq_leads_kind k)
{
    return k == NQ_LEADS_CATEGORICAL ? "categorical" : "numeric";
}
const char *nq_leads_tier_name(nq_leads_tier t)
{
    static const char *const names[] = {"hot", "warm", "lukewarm", "cold"};
    return t >= NQ_LEADS_HOT && t <= NQ_LEADS_COLD ? names[t] : "cold";
}

int nq__lead_parse_num(const char *s, double *out)
{
    if (!s)
        return 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    /* Hex floats, inf and nan are strtod's but nobody's lead data: refuse
     * them like the CSV reader does, so a column of them stays categorical. */
    if (strpbrk(p, "xXnN"))
        return -1;
    char *end = NULL;
    errno = 0;
    double x = strtod(p, &end);
    while (end && *end == ' ')
        end++;
    if (end == p || *end || errno == ERANGE || !isfinite(x))
        return -1;
    *out = x;
    return 1;
}

int32_t nq_leads_data_col(const nq_leads_data *d, const char *name)
{
    for (int32_t c = 0; d && name && c < d->n_cols; c++)
        if (!strcmp(d->cols[c].name, name))
            return c;
    return -1;
}

void nq_leads_data_free(nq_leads_data *d)
{
    if (!d)
        return;
    for (int32_t c = 0; d->cols && c < d->n_cols; c++) {
        nq_leads_dcol *k = &d->cols[c];
        free(k->name);
        free(k->num);
        free(k->code);
        for (int32_t l = 0; k->levels && l < k->n_levels; l++)
            free(k->levels[l]);
        free(k->levels);
    }
    free(d->cols);
    free(d->y);
    free(d->outcome);
    free(d->positive);
    memset(d, 0, sizeof *d);
}

static int line_of(const nq_csv *t, int32_t row) { return t->line ? (int)t->line[row] : row + 2; }

static void opts_fill(const nq_leads_data_opts *o, nq_leads_data_opts *f)
{
    *f = *o;
    f->min_rows = o->min_rows > 0 ? o->min_rows : 10;
    f->max_rows = o->max_rows > 0 ? o->max_rows : 1000000;
    f->max_cols = o->max_cols > 0 ? o->max_cols : 500;
    f->max_levels = o->max_levels > 0 ? o->max_levels : 1000;
}

/* ---- the outcome ------------------------------------------------------------ */

static int is_word(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (!strcasecmp(s, *words))
            return 1;
    return 0;
}

/* Which of the two outcome values is the positive one. */
static int pick_positive(const char *a, const char *b, const char *given, const char **pos,
                         nq_err *err)
{
    if (given) {
        if (strcmp(given, a) && strcmp(given, b))
            return nq_err_set(err, NQ_EINVAL, "/positive",
                              "positive label '%.64s' is not an outcome value (values: '%.64s', "
                              "'%.64s')", given, a, b);
        *pos = !strcmp(given, a) ? a : b;
        return NQ_OK;
    }
    static const char *const yes[] = {"yes", "true", "1", NULL}, *const no[] = {"no", "false", "0", NULL};
    if (is_word(a, yes) && is_word(b, no))
        *pos = a;
    else if (is_word(b, yes) && is_word(a, no))
        *pos = b;
    else
        return nq_err_set(err, NQ_EINVAL, "/positive",
                          "outcome values '%.64s' and '%.64s' are not yes/no, true/false or 1/0: "
                          "name the positive label", a, b);
    return NQ_OK;
}

static int read_outcome(const nq_csv *t, int32_t oc, const nq_leads_data_opts *o, nq_leads_data *d,
                        nq_err *err)
{
    const char *vals[2] = {NULL, NULL};
    for (int32_t r = 0; r < t->rows; r++) {
        const char *s = nq_csv_cell(t, r, oc);
        if (!s[0])
            return nq_err_set(err, NQ_EINVAL, "/outcome", "line %d: empty outcome '%.64s'",
                              line_of(t, r), o->outcome);
        if (vals[0] && !strcmp(s, vals[0]))
            continue;
        if (vals[1] && !strcmp(s, vals[1]))
            continue;
        if (vals[1])
            return nq_err_set(err, NQ_EINVAL, "/outcome",
                              "line %d: outcome '%.64s' has more than two values ('%.40s', "
                              "'%.40s', '%.40s')", line_of(t, r), o->outcome, vals[0], vals[1], s);
        vals[vals[0] ? 1 : 0] = s;
    }
    if (!vals[1])
        return nq_err_set(err, NQ_EINVAL, "/outcome",
                          "outcome '%.64s' has a single class ('%.64s'): nothing to learn",
                          o->outcome, vals[0] ? vals[0] : "");
    const char *pos = NULL;
    int rc = pick_positive(vals[0], vals[1], o->positive, &pos, err);
    if (rc)
        return rc;
    if (!(d->y = malloc((size_t)t->rows)) || !(d->positive = strdup(pos)) ||
        !(d->outcome = strdup(o->outcome)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t r = 0; r < t->rows; r++) {
        d->y[r] = !strcmp(nq_csv_cell(t, r, oc), pos);
        d->positives += d->y[r];
    }
    return NQ_OK;
}

/* ---- input columns ---------------------------------------------------------- */

typedef struct cell_ref {
    const char *s;
    int32_t row;
} cell_ref;

static int cmp_ref(const void *a, const void *b)
{
    const cell_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Sorted distinct cell strings become the levels; each row gets its code. */
static int build_levels(const nq_csv *t, int32_t tc, const nq_leads_data_opts *o, nq_leads_dcol *k,
                        nq_err *err)
{
    int32_t n = t->rows;
    cell_ref *refs = malloc((size_t)n * sizeof *refs);
    k->code = malloc((size_t)n * sizeof *k->code);
    if (!refs || !k->code) {
        free(refs);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t r = 0; r < n; r++) {
        const char *s = nq_csv_cell(t, r, tc);
        refs[r] = (cell_ref){.s = s[0] ? s : NQ_LEADS_MISSING, .row = r};
        k->n_missing += !s[0];
    }
    qsort(refs, (size_t)n, sizeof *refs, cmp_ref);
    int rc = NQ_OK;
    int32_t cap = 0;
    for (int32_t i = 0; i < n && !rc; i++) {
        if (i == 0 || strcmp(refs[i].s, refs[i - 1].s)) {
            if (k->n_levels >= o->max_levels)
                rc = nq_err_set(err, NQ_ELIMIT, "/columns", "column '%.64s' has more than %d levels",
                                k->name, (int)o->max_levels);
            else if (strlen(refs[i].s) > NQ_LEADS_NAME_MAX)
                rc = nq_err_set(err, NQ_ELIMIT, "/columns",
                                "line %d: column '%.64s': a value longer than %d bytes",
                                line_of(t, refs[i].row), k->name, NQ_LEADS_NAME_MAX);
            else if (k->n_levels == cap) {
                cap = cap ? 2 * cap : 16;
                char **grown = realloc(k->levels, (size_t)cap * sizeof *grown);
                if (!grown)
                    rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
                else
                    k->levels = grown;
            }
            if (!rc && !(k->levels[k->n_levels++] = strdup(refs[i].s)))
                rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        }
        k->code[refs[i].row] = k->n_levels - 1;
    }
    free(refs);
    return rc;
}

static int read_column(const nq_csv *t, int32_t tc, const nq_leads_data_opts *o, nq_leads_dcol *k,
                       nq_err *err)
{
    const char *name = t->header[tc];
    if (!name[0] || strlen(name) > NQ_LEADS_NAME_MAX)
        return nq_err_set(err, NQ_EINVAL, "/columns", "column %d: a name of 1 to %d bytes is needed",
                          (int)tc + 1, NQ_LEADS_NAME_MAX);
    if (!(k->name = strdup(name)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int numeric = 1, any = 0;
    for (int32_t r = 0; r < t->rows && numeric; r++) {
        double x;
        int got = nq__lead_parse_num(nq_csv_cell(t, r, tc), &x);
        numeric = got >= 0;
        any |= got == 1;
    }
    if (!(numeric && any)) { /* an all-empty column is one "(missing)" level */
        k->kind = NQ_LEADS_CATEGORICAL;
        return build_levels(t, tc, o, k, err);
    }
    k->kind = NQ_LEADS_NUMERIC;
    if (!(k->num = malloc((size_t)t->rows * sizeof *k->num)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t r = 0; r < t->rows; r++) {
        double x = NAN;
        if (nq__lead_parse_num(nq_csv_cell(t, r, tc), &x) != 1) {
            x = NAN;
            k->n_missing++;
        }
        k->num[r] = x;
    }
    return NQ_OK;
}

static int check_drops(const nq_csv *t, const nq_leads_data_opts *o, nq_err *err)
{
    for (int32_t i = 0; i < o->n_drop; i++) {
        char where[32];
        snprintf(where, sizeof where, "/drop/%d", (int)i);
        if (!o->drop || !o->drop[i] || nq_csv_col(t, o->drop[i]) < 0)
            return nq_err_set(err, NQ_ENOTFOUND, where, "no column '%.64s' to drop",
                              o->drop && o->drop[i] ? o->drop[i] : "(null)");
    }
    return NQ_OK;
}

static int is_dropped(const nq_csv *t, const nq_leads_data_opts *o, int32_t c, int32_t oc)
{
    if (c == oc)
        return 1;
    for (int32_t i = 0; i < o->n_drop; i++)
        if (!strcmp(t->header[c], o->drop[i]))
            return 1;
    return 0;
}

static int read_columns(const nq_csv *t, int32_t oc, const nq_leads_data_opts *o, nq_leads_data *d,
                        nq_err *err)
{
    int32_t keep = 0;
    for (int32_t c = 0; c < t->cols; c++)
        keep += !is_dropped(t, o, c, oc);
    if (keep == 0)
        return nq_err_set(err, NQ_EINVAL, "/columns", "no input columns besides the outcome");
    if (keep > o->max_cols)
        return nq_err_set(err, NQ_ELIMIT, "/columns", "%d input columns, more than the limit %d",
                          (int)keep, (int)o->max_cols);
    if (!(d->cols = calloc((size_t)keep, sizeof *d->cols)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t c = 0; c < t->cols; c++) {
        if (is_dropped(t, o, c, oc))
            continue;
        if (nq_leads_data_col(d, t->header[c]) >= 0)
            return nq_err_set(err, NQ_EINVAL, "/columns", "column '%.64s' appears twice",
                              t->header[c]);
        int rc = read_column(t, c, o, &d->cols[d->n_cols++], err);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

int nq_leads_data_from_csv(const nq_csv *t, const nq_leads_data_opts *o, nq_leads_data *out,
                           nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    memset(out, 0, sizeof *out);
    if (!t || !o || !o->outcome || (o->n_drop > 0 && !o->drop) || o->n_drop < 0)
        return nq_err_set(err, NQ_EINVAL, "/outcome", "a table and an outcome column are needed");
    nq_leads_data_opts f;
    opts_fill(o, &f);
    int32_t oc = nq_csv_col(t, f.outcome);
    if (oc < 0)
        return nq_err_set(err, NQ_EINVAL, "/outcome", "no outcome column '%.64s' in the table",
                          f.outcome);
    if (t->rows < f.min_rows)
        return nq_err_set(err, NQ_EINVAL, "/rows", "%d data rows, fewer than the %d needed",
                          (int)t->rows, (int)f.min_rows);
    if (t->rows > f.max_rows)
        return nq_err_set(err, NQ_ELIMIT, "/rows", "%d data rows, more than the limit %d",
                          (int)t->rows, (int)f.max_rows);
    out->rows = t->rows;
    int rc = check_drops(t, &f, err);
    if (!rc)
        rc = read_outcome(t, oc, &f, out, err);
    if (!rc)
        rc = read_columns(t, oc, &f, out, err);
    if (rc)
        nq_leads_data_free(out);
    return rc;
}

int nq_leads_data_from_text(const char *text, size_t len, char sep, const char *source,
                            const nq_leads_data_opts *o, nq_leads_data *out, nq_err *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.sep = sep;
    if (o && o->max_rows > 0)
        lim.max_rows = o->max_rows;
    nq_csv t;
    int rc = nq_csv_parse(text, len, source ? source : "csv", &lim, &t, err);
    if (rc)
        return rc;
    rc = nq_leads_data_from_csv(&t, o, out, err);
    nq_csv_free(&t);
    return rc;
}
