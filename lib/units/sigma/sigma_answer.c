/* sigma_answer.c - a scoring request run: every lead's probability, score,
 * tier and strongest factors, the tier counts, and optionally the table
 * back as CSV with those columns added (batch scoring CSV -> CSV). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/buf.h"
#include "nqba/json.h"
#include "nqba/sigma.h"

static json_t *factors_json(const nq_leads_model *m, const nq_leads_scored *s)
{
    json_t *a = json_array();
    for (int32_t k = 0; a && k < s->n_top; k++)
        json_array_append_new(a, json_pack("{s:s, s:f}", "column",
                                           m->schema.cols[s->top[k].col].name, "contribution",
                                           s->top[k].contribution));
    return a;
}

static json_t *lead_json(const nq_sigma_score_req *r, const nq_leads_scores *sc, int32_t i)
{
    const nq_leads_scored *s = &sc->leads[i];
    json_t *o = json_pack("{s:i, s:f, s:i, s:s, s:o}", "row", (int)i, "probability", s->p, "score",
                          (int)s->score, "tier", nq_leads_tier_name(s->tier), "factors",
                          factors_json(&r->model, s));
    if (o && r->id_col >= 0)
        json_object_set_new(o, "id", json_string(nq_csv_cell(&r->table, i, r->id_col)));
    return o;
}

static int csv_cell(nq_buf *b, const char *s, int first)
{
    int rc = first ? 0 : nq_buf_putc(b, ',');
    rc = rc ? rc : nq_buf_putc(b, '"');
    for (; !rc && *s; s++)
        rc = *s == '"' ? nq_buf_puts(b, "\"\"") : nq_buf_putc(b, *s);
    return rc ? rc : nq_buf_putc(b, '"');
}

/* The leads table with probability, score, tier and top_factors added. */
static json_t *csv_out(const nq_sigma_score_req *r, const nq_leads_scores *sc)
{
    const nq_csv *t = &r->table;
    nq_buf b;
    nq_buf_init(&b, (size_t)1 << 30);
    int rc = 0;
    for (int32_t c = 0; !rc && c < t->cols; c++)
        rc = csv_cell(&b, t->header[c], c == 0);
    rc = rc ? rc : nq_buf_puts(&b, ",probability,score,tier,top_factors\n");
    char tmp[96];
    for (int32_t i = 0; !rc && i < t->rows; i++) {
        const nq_leads_scored *s = &sc->leads[i];
        for (int32_t c = 0; !rc && c < t->cols; c++)
            rc = csv_cell(&b, nq_csv_cell(t, i, c), c == 0);
        snprintf(tmp, sizeof tmp, ",%.6f,%d,%s,", s->p, (int)s->score, nq_leads_tier_name(s->tier));
        rc = rc ? rc : nq_buf_puts(&b, tmp);
        nq_buf top;
        nq_buf_init(&top, 4096);
        for (int32_t k = 0; k < s->n_top; k++) {
            snprintf(tmp, sizeof tmp, "%s%.48s %+.3f", k ? "; " : "",
                     r->model.schema.cols[s->top[k].col].name, s->top[k].contribution);
            nq_buf_puts(&top, tmp);
        }
        rc = rc ? rc : csv_cell(&b, top.data ? top.data : "", 1);
        nq_buf_free(&top);
        rc = rc ? rc : nq_buf_putc(&b, '\n');
    }
    json_t *out = rc ? NULL : json_stringn(b.data, b.len);
    nq_buf_free(&b);
    return out;
}

static json_t *explain(const nq_sigma_score_req *r, const nq_leads_scores *sc, const int *count)
{
    json_t *l = json_array();
    nq_json_say(l, "%d leads scored with the %s model '%s'%s: %d hot, %d warm, %d lukewarm, %d "
                   "cold (thresholds %.3f, %.3f, %.3f).",
                (int)sc->rows, nq_leads_algo_name(r->model.algo),
                r->model_name[0] ? r->model_name : "given", "", count[0], count[1], count[2],
                count[3], sc->hot, sc->warm, sc->lukewarm);
    nq_json_say(l, "Factors are contributions to the log-odds (%s), positive raising the "
                   "probability.",
                r->model.algo == NQ_LEADS_LOGISTIC ? "coefficient x standardized value"
                : r->opts.explain == NQ_LEADS_EXPLAIN_FAST ? "path attribution"
                                                           : "SHAP values");
    return l;
}

int nq_sigma_score_run(const nq_sigma_score_req *r, const json_t *doc, json_t **answer,
                       nq_err *err)
{
    nq_leads_batch b;
    nq_leads_scores sc;
    *answer = NULL;
    nq_leads_batch_from_csv(&r->table, &b);
    int rc = nq_leads_score(&r->model, &b, &r->opts, &sc, err);
    if (rc) {
        if (!strncmp(err->where, "/leads", 6) && json_object_get(doc, "leads_csv")) {
            char rest[NQ_ERR_WHERE_MAX];
            snprintf(rest, sizeof rest, "%s", err->where + 6);
            snprintf(err->where, sizeof err->where, "/leads_csv%.200s", rest);
        }
        return rc;
    }
    int count[4] = {0, 0, 0, 0};
    json_t *leads = json_array();
    for (int32_t i = 0; leads && i < sc.rows; i++) {
        count[sc.leads[i].tier]++;
        json_array_append_new(leads, lead_json(r, &sc, i));
    }
    const char *output = json_string_value(json_object_get(doc, "output"));
    json_t *a = json_pack(
        "{s:{s:s, s:i, s:s}, s:o, s:{s:i, s:i, s:i, s:i}, s:{s:f, s:f, s:f}, s:f, s:o}", "model",
        "name", r->model_name, "version", r->model_version, "algorithm",
        nq_leads_algo_name(r->model.algo), "leads", leads, "tiers", "hot", count[0], "warm",
        count[1], "lukewarm", count[2], "cold", count[3], "thresholds", "hot", sc.hot, "warm",
        sc.warm, "lukewarm", sc.lukewarm, "base", sc.base, "explanation",
        explain(r, &sc, count));
    if (a && output && !strcmp(output, "csv"))
        json_object_set_new(a, "csv", csv_out(r, &sc));
    nq_leads_scores_free(&sc);
    if (!a)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    *answer = a;
    return NQ_OK;
}
