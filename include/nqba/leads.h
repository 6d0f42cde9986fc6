/* leads.h - Sigma Select lead scoring: explainable models trained on
 * historical leads, their metrics, their JSON form, and scoring of new
 * leads with the factors behind each score.
 *
 *   nq_leads_data_from_csv(&csv, &dopts, &data, &err)   table -> data set (schema inferred)
 *   nq_leads_split_mod5 / _indices / _random / _none     which rows are held out
 *   nq_leads_train(&data, &split, &topts, &model, &err)  logistic regression or GBT,
 *                                                        metrics on train and test rows
 *   nq_leads_model_to_json / nq_leads_model_from_json    a self-contained document
 *   nq_leads_score(&model, &batch, &sopts, &scores, &err)  probability, 0..100 score,
 *                                                        tier, top-k factors per lead
 *   nq_leads_auc / _logloss / _metrics                   the metrics on their own
 *
 * Data. A column is numeric when every non-empty cell is a finite number
 * (strtod, no hex, no inf/nan); otherwise it is categorical and its levels
 * are the cell strings, an empty cell being the level "(missing)" (a cell
 * that literally reads "(missing)" is the same level). A numeric column's
 * empty cells are missing: the logistic model imputes the train mean (a
 * standardized 0); the tree model passes them to XGBoost as missing.
 *
 * Encoding (fitted on the train rows only). Numeric: (x - mean) / std with
 * the population std (ddof 0; a constant column gets std 1). Categorical:
 * one feature per level seen in train (none dropped), named "col=level";
 * a level not seen in train encodes as all zeros. Numeric features are
 * named "col". Features are ordered by column, levels sorted bytewise.
 *
 * Logistic regression minimizes 0.5 |w|^2 + C sum_i logloss_i with an
 * unpenalized intercept. liblinear's L2R_LR (trust-region Newton) solves it
 * with a bias feature of value NQ_LEADS_LR_BIAS, which penalizes the
 * intercept b by only 0.5 (b / B)^2; a few exact Newton steps on the true
 * objective in double (dense Hessian of the d + 1 unknowns, Cholesky) then
 * remove that perturbation, so the stored objective is the unpenalized one
 * (above 1,500 unknowns the dense step is skipped and liblinear's point
 * kept; its objective is still recomputed without the bias penalty).
 * liblinear prints through a process-wide function: every training call
 * sets it to a function that prints nothing (the only global it touches).
 *
 * Gradient-boosted trees use XGBoost's C API: binary:logistic, hist trees
 * (default 100 rounds, eta 0.1, depth <= 5, <= 31 leaves), numeric
 * columns raw (missing = NaN, routed by XGBoost's default directions),
 * categoricals one-hot as above, a fixed thread count (default 1) and
 * seed, so training is deterministic. Contributions are XGBoost's exact
 * TreeSHAP values (or, on request, its fast path attribution), one-hot
 * parts summed per column. The booster is kept in XGBoost's JSON format.
 *
 * Pure computation: no files, no environment, no global state (besides the
 * liblinear print hook above). Every number returned is finite; anything
 * that would produce NaN or infinity fails with an error instead. One
 * model may be scored from one thread at a time (XGBoost's prediction
 * buffers belong to its booster); distinct models are independent. */
#ifndef NQBA_LEADS_H
#define NQBA_LEADS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nqba/csv.h"
#include "nqba/err.h"

#define NQ_LEADS_MISSING "(missing)" /* the level of an empty categorical cell */
#define NQ_LEADS_NAME_MAX 256        /* bytes in a column name or level, without the NUL */
#define NQ_LEADS_MAX_FEATURES 10000  /* encoded features in one model */
#define NQ_LEADS_MAX_CELLS 200000000 /* train rows x features for the tree model */
#define NQ_LEADS_ROC_MAX 200         /* points on a stored ROC curve, ends included */
#define NQ_LEADS_CALIB_BINS 10       /* equal-width probability bins */
#define NQ_LEADS_LR_BIAS 100.0       /* liblinear's bias feature value (see above) */

typedef enum nq_leads_kind { NQ_LEADS_NUMERIC = 0, NQ_LEADS_CATEGORICAL = 1 } nq_leads_kind;
typedef enum nq_leads_algo { NQ_LEADS_LOGISTIC = 0, NQ_LEADS_GBT = 1 } nq_leads_algo;
typedef enum nq_leads_tier { NQ_LEADS_HOT = 0, NQ_LEADS_WARM, NQ_LEADS_LUKEWARM, NQ_LEADS_COLD } nq_leads_tier;

/* "logistic" / "gbt"; "hot", "warm", "lukewarm", "cold"; "numeric" / "categorical". */
const char *nq_leads_algo_name(nq_leads_algo a);
const char *nq_leads_tier_name(nq_leads_tier t);
const char *nq_leads_kind_name(nq_leads_kind k);

/* ---- data sets ------------------------------------------------------------- */

typedef struct nq_leads_data_opts {
    const char *outcome;           /* required: the outcome column's header name */
    const char *positive;          /* the outcome value that means 1 ("yes"); NULL: the
                                    * values must be yes/no, true/false or 1/0 (any case) */
    const char *const *drop;       /* columns to ignore (e.g. "duration"); names that are
                                    * not in the table are an error (NQ_ENOTFOUND) */
    int32_t n_drop;
    int32_t min_rows;              /* 0 = 10 */
    int32_t max_rows;              /* 0 = 1,000,000 */
    int32_t max_cols;              /* input columns kept; 0 = 500 */
    int32_t max_levels;            /* distinct values of one categorical column; 0 = 1,000 */
} nq_leads_data_opts;

typedef struct nq_leads_dcol {
    char *name;
    nq_leads_kind kind;
    double *num;        /* numeric: rows values, NAN = missing; else NULL */
    int32_t *code;      /* categorical: rows indices into levels; else NULL */
    int32_t n_levels;   /* categorical: distinct values in the whole table */
    char **levels;      /* sorted bytewise (strcmp), NQ_LEADS_MISSING for empty cells */
    int32_t n_missing;  /* empty cells */
} nq_leads_dcol;

typedef struct nq_leads_data {
    int32_t rows;       /* data rows, in table order */
    int32_t n_cols;     /* input columns: the table's minus the outcome and dropped ones */
    nq_leads_dcol *cols;
    uint8_t *y;         /* rows outcomes, 0 or 1 */
    int32_t positives;
    char *outcome;      /* the outcome column's name */
    char *positive;     /* the value read as 1 */
} nq_leads_data;

/* Build a data set from a parsed table (every row has every cell; the CSV
 * reader already refused ragged rows with their line numbers). Errors:
 * NQ_EINVAL "/outcome" when the outcome column is absent (naming it), when
 * an outcome cell is empty, when it has one class only, or more than two
 * values, or the positive label is not among them; NQ_ENOTFOUND "/drop"
 * for an unknown dropped column; NQ_ELIMIT for rows, columns, levels or a
 * name over the limits; NQ_EINVAL "/rows" below min_rows, "/columns"
 * without input columns or with a repeated name. Messages about a cell
 * start with "line N: " (the table's line, the header being line 1). */
int nq_leads_data_from_csv(const nq_csv *t, const nq_leads_data_opts *o, nq_leads_data *out,
                           nq_err *err);
/* The same from CSV text (sep: ',', ';' or '\t'); CSV errors keep the
 * reader's "line N: ..." messages under `source`. */
int nq_leads_data_from_text(const char *text, size_t len, char sep, const char *source,
                            const nq_leads_data_opts *o, nq_leads_data *out, nq_err *err);
void nq_leads_data_free(nq_leads_data *d); /* NULL-safe */
/* The column index by name, or -1. */
int32_t nq_leads_data_col(const nq_leads_data *d, const char *name);

/* ---- splits ---------------------------------------------------------------- */

typedef struct nq_leads_split {
    int32_t rows;            /* the data set's rows */
    uint8_t *is_test;        /* rows flags */
    int32_t n_train, n_test;
    int32_t *train, *test;   /* ascending row indices */
    int32_t train_pos, test_pos;
    char method[16];         /* "none", "indices", "mod5", "random" */
} nq_leads_split;

/* Every row trains (no test metrics). */
int nq_leads_split_none(const nq_leads_data *d, nq_leads_split *out, nq_err *err);
/* Test rows given as 0-based data-row indices (header excluded); each in
 * range and listed once (NQ_EINVAL "/test/K" otherwise). */
int nq_leads_split_indices(const nq_leads_data *d, const int32_t *test, int32_t n,
                           nq_leads_split *out, nq_err *err);
/* Within each class, rows in table order get ranks r = 0, 1, 2, ...; a row
 * is a test row iff r % 5 == 4. */
int nq_leads_split_mod5(const nq_leads_data *d, nq_leads_split *out, nq_err *err);
/* Stratified random hold-out: within each class, a Fisher-Yates shuffle of
 * its rows (table order) drawn from nq_rng seeded with `seed` and jumped
 * once per class (class 0 first); the first round(fraction * n_class)
 * shuffled rows are test rows, at least one row of each class staying in
 * train. 0 < fraction < 1. Same seed, same data: same split. */
int nq_leads_split_random(const nq_leads_data *d, double fraction, uint64_t seed,
                          nq_leads_split *out, nq_err *err);
void nq_leads_split_free(nq_leads_split *s); /* NULL-safe */
/* Whitespace-separated non-negative integers (a test-index file) into a
 * malloc'd array; NQ_EPARSE with "line N" on anything else; at most
 * max_n of them (NQ_ELIMIT). An empty text gives *n = 0, *out = NULL. */
int nq_leads_parse_indices(const char *text, size_t len, int32_t max_n, int32_t **out,
                           int32_t *n, nq_err *err);

/* ---- metrics --------------------------------------------------------------- */

typedef struct nq_leads_calib_bin {
    double lo, hi;        /* predicted-probability range [lo, hi) ([0.9, 1] for the last) */
    int32_t count;
    double mean_pred;     /* 0 when count is 0 */
    double observed;      /* positive rate; 0 when count is 0 */
} nq_leads_calib_bin;

typedef struct nq_leads_roc_point {
    double fpr, tpr;
    double threshold;     /* scores >= threshold are called positive (> 1 at (0, 0)) */
} nq_leads_roc_point;

typedef struct nq_leads_metrics {
    int32_t n, positives;                  /* n = 0: not computed (no test rows) */
    int has_auc;                           /* both classes present */
    double auc;                            /* Mann-Whitney, ties 1/2; 0 without has_auc */
    double logloss;                        /* mean, probabilities clipped to [1e-15, 1 - 1e-15] */
    double accuracy, threshold;            /* share correct when p >= threshold means 1 */
    double brier;                          /* mean (p - y)^2 */
    nq_leads_calib_bin calib[NQ_LEADS_CALIB_BINS];
    int32_t n_roc;
    nq_leads_roc_point roc[NQ_LEADS_ROC_MAX];
} nq_leads_metrics;

/* ROC AUC in O(n log n): sort, then count pairs group by group of equal
 * scores (a tie counts 1/2). NQ_EINVAL when n < 2, a score is not finite,
 * or one class is absent. */
int nq_leads_auc(const double *p, const uint8_t *y, int32_t n, double *auc, nq_err *err);
/* Mean log loss with p clipped to [1e-15, 1 - 1e-15]; p must lie in [0, 1]. */
int nq_leads_logloss(const double *p, const uint8_t *y, int32_t n, double *out, nq_err *err);
/* All of the above plus accuracy, Brier score, the calibration table and
 * at most NQ_LEADS_ROC_MAX ROC points (every distinct threshold when there
 * are few; an even subsample of them, ends kept, otherwise). */
int nq_leads_metrics_compute(const double *p, const uint8_t *y, int32_t n, double threshold,
                             nq_leads_metrics *out, nq_err *err);

/* ---- schema and models ----------------------------------------------------- */

typedef struct nq_leads_column {
    char *name;
    nq_leads_kind kind;
    /* numeric: fitted on the non-missing train values */
    double mean, std;       /* std: population std, 1 for a constant column */
    double impute;          /* the value a missing cell stands for (the train mean) */
    int32_t train_missing;  /* missing cells among the train rows */
    /* categorical */
    int32_t n_levels;
    char **levels;          /* levels seen in train, strictly increasing (strcmp) */
    int32_t first;          /* index of the column's first feature */
} nq_leads_column;

typedef struct nq_leads_schema {
    int32_t n_cols;
    nq_leads_column *cols;
    int32_t n_features;
    char **features;        /* "col" (numeric) or "col=level" */
    char *outcome, *positive;
} nq_leads_schema;

typedef struct nq_leads_train_opts {
    nq_leads_algo algo;
    double threshold;        /* for accuracy; default 0.5 */
    /* logistic */
    double C;                /* default 1 */
    double eps;              /* liblinear's stopping tolerance; default 1e-6 */
    /* gbt */
    int32_t rounds;          /* boosting rounds; default 100 */
    int32_t max_depth;       /* default 5; 0: no limit (then max_leaves > 1 is needed) */
    int32_t max_leaves;      /* default 31; > 0 grows trees best-first (lossguide),
                              * 0 level by level (depthwise) */
    double eta;              /* default 0.1 */
    double min_child_weight; /* default 1 */
    double lambda;           /* L2 on leaf weights; default 1 */
    int32_t nthread;         /* XGBoost threads; default 1 */
    uint64_t seed;           /* default 0 */
    /* Called now and then with 0..100; a nonzero return cancels (NQ_ECANCEL). */
    int (*progress)(double percent, void *user);
    void *user;
    const atomic_int *cancel; /* nonzero cancels (NQ_ECANCEL); may be NULL */
} nq_leads_train_opts;
void nq_leads_train_opts_default(nq_leads_train_opts *o, nq_leads_algo algo);

typedef struct nq_leads_model {
    nq_leads_algo algo;
    nq_leads_schema schema;
    /* logistic: logit = intercept + sum_j coef[j] * feature_j */
    double intercept;
    double *coef;            /* schema.n_features */
    double objective;        /* 0.5 |coef|^2 + C sum logloss over the train rows */
    int32_t newton_steps;    /* exact Newton steps after liblinear */
    /* gbt */
    char *booster;           /* XGBoost's JSON model, NUL-terminated */
    size_t booster_len;
    void *handle;            /* private: the loaded XGBoost booster */
    /* the options it was trained with (callbacks cleared) */
    nq_leads_train_opts opts;
    char split[16];          /* the split's method */
    int32_t n_train, train_pos;
    nq_leads_metrics train, test; /* test.n = 0 when nothing was held out */
    double train_seconds;
} nq_leads_model;

/* Fit the encoding on split->train rows, train, and measure both parts.
 * split may be NULL (every row trains). Errors: NQ_EINVAL when the train
 * rows hold one class only or bad options ("/C", "/rounds", ...);
 * NQ_ELIMIT over NQ_LEADS_MAX_FEATURES or NQ_LEADS_MAX_CELLS; NQ_ECANCEL;
 * NQ_EINTERNAL when liblinear or XGBoost fails (XGBoost's message kept). */
int nq_leads_train(const nq_leads_data *d, const nq_leads_split *split,
                   const nq_leads_train_opts *o, nq_leads_model *out, nq_err *err);
void nq_leads_model_free(nq_leads_model *m); /* NULL-safe */

/* The model as a JSON document (format "nqba.leads.model", version 1):
 * kind, schema, coefficients or the XGBoost JSON model (embedded as an
 * object), options, metrics. *out is a new reference. */
int nq_leads_model_to_json(const nq_leads_model *m, json_t **out, nq_err *err);
/* Read a document back, validating everything (types, sizes, finiteness,
 * sorted unique levels, feature names, the trees' structure) before the
 * booster reaches XGBoost. Errors name the JSON pointer of the offending
 * member (NQ_EINVAL, NQ_ELIMIT). */
int nq_leads_model_from_json(const json_t *doc, nq_leads_model *out, nq_err *err);

/* ---- scoring --------------------------------------------------------------- */

/* Leads to score: a header and rows of cells aligned with it (row-major,
 * rows x n_cols; NULL or "" = empty). Columns are matched to the schema by
 * exact name; extra columns are ignored; every schema column must be there. */
typedef struct nq_leads_batch {
    int32_t n_cols, rows;
    const char *const *header;
    const char *const *cells;
} nq_leads_batch;
/* A view of a parsed table (no copy; valid while t lives). */
void nq_leads_batch_from_csv(const nq_csv *t, nq_leads_batch *out);

typedef enum nq_leads_tier_mode {
    NQ_LEADS_TIER_THRESHOLDS = 0, /* p >= hot: hot, >= warm: warm, >= lukewarm: lukewarm */
    NQ_LEADS_TIER_QUANTILES = 1   /* the same with thresholds at the batch's quantiles */
} nq_leads_tier_mode;

/* How tree models explain a score (logistic contributions are always
 * exact and cheap). Both kinds of values add up, with the base, to the
 * logit. */
typedef enum nq_leads_explain {
    NQ_LEADS_EXPLAIN_EXACT = 0, /* TreeSHAP (XGBoost's exact contributions): about 0.5 s per
                                 * 1,000 leads with the default trees on one thread */
    NQ_LEADS_EXPLAIN_FAST = 1   /* path attribution (XGBoost's approximate contributions,
                                 * Saabas): about 20 times faster, not SHAP values */
} nq_leads_explain;

typedef struct nq_leads_score_opts {
    int32_t top_k;             /* factors per lead; default 3, clamped to the columns */
    nq_leads_explain explain;  /* default exact */
    nq_leads_tier_mode tier_mode;
    double hot, warm, lukewarm; /* thresholds (defaults 0.5, 0.3, 0.15), decreasing */
    /* quantile mode: the shares of the batch in the hottest tiers (defaults
     * 0.1, 0.2, 0.3): the hot threshold is the p of the ceil(0.1 n)-th best
     * lead, and so on cumulatively; leads with equal p share a tier. */
    double q_hot, q_warm, q_lukewarm;
    int32_t max_rows;          /* default 1,000,000 */
} nq_leads_score_opts;
void nq_leads_score_opts_default(nq_leads_score_opts *o);

typedef struct nq_leads_factor {
    int32_t col;               /* schema column */
    double contribution;       /* logit units, signed */
} nq_leads_factor;

typedef struct nq_leads_scored {
    double p;                  /* probability of a positive outcome */
    int32_t score;             /* round(100 p), 0..100 */
    nq_leads_tier tier;
    double logit;              /* base + the sum of the lead's column contributions */
    nq_leads_factor *top;      /* n_top, by |contribution| descending (ties: column order) */
    int32_t n_top;
} nq_leads_scored;

typedef struct nq_leads_scores {
    int32_t rows, n_cols;
    nq_leads_scored *leads;    /* rows */
    double *contrib;           /* rows x n_cols per-column contributions (logit units):
                                * logistic: coef x encoded value summed over a column's
                                * features; gbt: TreeSHAP summed likewise */
    double base;               /* logistic: the intercept; gbt: SHAP's expected value */
    double hot, warm, lukewarm;/* the thresholds applied */
    nq_leads_factor *factors;  /* private: storage of every lead's top */
} nq_leads_scores;

/* Score a batch. Errors: NQ_EINVAL "/leads" naming a schema column the
 * header lacks; NQ_EINVAL "/leads/R/COL" for a numeric cell that is not a
 * finite number (R 0-based); NQ_ELIMIT over max_rows; NQ_EINVAL for bad
 * tier options. An unseen level is no error (all-zero one-hot). */
int nq_leads_score(const nq_leads_model *m, const nq_leads_batch *b,
                   const nq_leads_score_opts *o, nq_leads_scores *out, nq_err *err);
void nq_leads_scores_free(nq_leads_scores *s); /* NULL-safe */

/* Probabilities of data-set rows (e.g. the test rows of a split): the
 * same encoding as nq_leads_score; rows NULL means 0..n-1. */
int nq_leads_predict_data(const nq_leads_model *m, const nq_leads_data *d, const int32_t *rows,
                          int32_t n, double *p, nq_err *err);

#endif
