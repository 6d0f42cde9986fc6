/* lead_internal.h - shared pieces of the lead-scoring unit (leads.h).
 *
 * Both training and scoring go through one intermediate form, the
 * "resolved" matrix: rows x schema columns of doubles, where a numeric
 * column holds its raw value (NAN = missing) and a categorical column the
 * index of its level in the schema (-1: unseen or missing without a
 * "(missing)" level). Training rows (from a data set) and scored leads
 * (from strings) reach it through the same number parser and level
 * lookup, so a lead scores exactly as the same row did in training. */
#ifndef NQBA_LEAD_INTERNAL_H
#define NQBA_LEAD_INTERNAL_H

#include <stdint.h>

#include "nqba/leads.h"

/* 1: a finite number in *out; 0: an empty (or all-space) cell; -1: not a
 * number. The CSV reader's rules: strtod, whole cell, no hex, finite. */
int nq__lead_parse_num(const char *s, double *out);

/* Index of s among the column's sorted levels, or -1. */
int32_t nq__lead_level_find(const nq_leads_column *c, const char *s);

/* Schema: fit on the train rows (names, kinds, levels, means/stds), then
 * number the features and name them. */
int nq__lead_schema_fit(const nq_leads_data *d, const nq_leads_split *s, nq_leads_schema *out,
                        nq_err *err);
int nq__lead_schema_features(nq_leads_schema *s, nq_err *err);
void nq__lead_schema_free(nq_leads_schema *s);

/* Resolved matrices (malloc'd, rows x schema n_cols). */
int nq__lead_resolve_data(const nq_leads_schema *s, const nq_leads_data *d, const int32_t *rows,
                          int32_t n, double **out, nq_err *err);
int nq__lead_resolve_batch(const nq_leads_schema *s, const nq_leads_batch *b, double **out,
                           nq_err *err);

/* Stable logistic function and its use for log loss. */
double nq__lead_sigmoid(double z);

/* Logistic regression. */
int nq__lead_lr_train(const nq_leads_schema *s, const double *v, const uint8_t *y, int32_t n,
                      const nq_leads_train_opts *o, nq_leads_model *m, nq_err *err);
/* The logit of one resolved row; per-column contributions into contrib
 * (schema n_cols) when not NULL. */
double nq__lead_lr_logit(const nq_leads_model *m, const double *row, double *contrib);

/* Gradient-boosted trees. */
int nq__lead_gbt_train(const nq_leads_schema *s, const double *v, const uint8_t *y, int32_t n,
                       const nq_leads_train_opts *o, nq_leads_model *m, nq_err *err);
/* Probabilities of n resolved rows; with contrib (n x schema n_cols) also
 * the per-column SHAP values (approx: path attribution instead) and, in
 * *base, the expected value. */
int nq__lead_gbt_predict(const nq_leads_model *m, const double *v, int32_t n, double *p,
                         double *contrib, double *base, int approx, nq_err *err);
/* Load m->booster into a new handle (m->handle). */
int nq__lead_gbt_load(nq_leads_model *m, nq_err *err);
void nq__lead_gbt_free(nq_leads_model *m);
/* Validate XGBoost's JSON model structure (ptr names it in errors). */
int nq__lead_gbt_check(const json_t *booster, int32_t n_features, const char *ptr, nq_err *err);

/* Probabilities of resolved rows with either model. */
int nq__lead_predict(const nq_leads_model *m, const double *v, int32_t n, double *p, nq_err *err);

/* Metrics to / from JSON (from: validated; ptr names the object). */
json_t *nq__lead_metrics_to_json(const nq_leads_metrics *mt);
int nq__lead_metrics_from_json(const json_t *obj, const char *ptr, nq_leads_metrics *out,
                               nq_err *err);

/* Options to / from JSON. */
json_t *nq__lead_opts_to_json(const nq_leads_train_opts *o);
int nq__lead_opts_from_json(const json_t *obj, const char *ptr, nq_leads_algo algo,
                            nq_leads_train_opts *out, nq_err *err);
int nq__lead_opts_check(const nq_leads_train_opts *o, nq_err *err);

/* Nonzero when the caller asked to stop; calls progress with pct. */
int nq__lead_should_stop(const nq_leads_train_opts *o, double pct);

#endif
