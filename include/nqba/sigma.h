/* sigma.h - the Sigma Select unit: train a lead-scoring model from
 * historical leads (CSV), score leads with a stored model, and assign
 * leads to reps (docs/api/leads.md). The numbers are leads.h's and
 * assign.h's; this is the JSON layer.
 *
 *   nq_sigma_train_parse / nq_sigma_train_run   request -> {model, metrics}
 *   nq_sigma_score_parse / nq_sigma_score_run   request (with the model
 *       document in "model_document") -> scored leads
 *
 * Personal columns (named in "personal") never reach a model: they are
 * dropped from training and ignored when scoring; the server seals them
 * at rest and keeps them out of the stored request. Errors name the field
 * with a JSON pointer; CSV errors add the line. */
#ifndef NQBA_SIGMA_H
#define NQBA_SIGMA_H

#include <jansson.h>
#include <stdatomic.h>

#include "nqba/assign.h"
#include "nqba/csv.h"
#include "nqba/err.h"
#include "nqba/leads.h"

#define NQ_SIGMA_CSV_MAX (64u * 1024 * 1024) /* bytes of a CSV member */
#define NQ_SIGMA_MAX_PERSONAL 32             /* personal columns */
#define NQ_SIGMA_MODEL_NAME_MAX 64

typedef struct nq_sigma_train_req {
    char name[NQ_SIGMA_MODEL_NAME_MAX + 1];
    nq_leads_data data;
    nq_leads_split split;
    nq_leads_train_opts opts;
} nq_sigma_train_req;

void nq_sigma_train_req_free(nq_sigma_train_req *r); /* NULL-safe */
int nq_sigma_train_parse(const json_t *doc, nq_sigma_train_req *r, nq_err *err);
/* progress: percent 0..100 (may be NULL); a nonzero return cancels. The
 * answer: {"name","algorithm","rows","train_rows","test_rows","features",
 * "metrics":{"train","test"},"model":{the model document},"explanation"}. */
int nq_sigma_train_run(const nq_sigma_train_req *r, int (*progress)(double, void *),
                       void *user, const atomic_int *cancel, json_t **answer, nq_err *err);

typedef struct nq_sigma_score_req {
    nq_leads_model model;
    nq_csv table;          /* the leads, from leads_csv or built from leads[] */
    nq_leads_score_opts opts;
    int32_t id_col;        /* the table's id column, or -1 */
    char model_name[NQ_SIGMA_MODEL_NAME_MAX + 1];
    int model_version;
} nq_sigma_score_req;

void nq_sigma_score_req_free(nq_sigma_score_req *r);
int nq_sigma_score_parse(const json_t *doc, nq_sigma_score_req *r, nq_err *err);
/* {"model":{"name","version","algorithm"},"leads":[{"row","id"?,"probability","score",
 * "tier","factors":[{"column","contribution"}]}],"tiers":{"hot":n,...},
 * "thresholds":{...},"explanation"}; with "output":"csv" also "csv": the
 * table with probability, score, tier and top_factors columns added. */
int nq_sigma_score_run(const nq_sigma_score_req *r, const json_t *doc, json_t **answer,
                       nq_err *err);

typedef struct nq_sigma_assign_req {
    nq_assign_spec spec; /* leads and reps point at the buffers below */
    nq_assign_lead *leads;
    nq_assign_rep *reps;
    const char **lead_ids, **rep_names; /* borrowed from the request document */
    int milp;                           /* 1: the exact MILP instead of the engine */
} nq_sigma_assign_req;

/* {"reps":[{"name","capacity","min_load"?,"skills"?:[...]}],
 *  "leads":[{"id","value","requires"?:[...]}], "assign_all"?, "fairness"?:
 *  "none"|"balanced"|"spread", "fairness_weight"?, "method"?: "engine"|"milp",
 *  "options"?: {"seed","time_limit"}}. The request must outlive r. */
void nq_sigma_assign_req_free(nq_sigma_assign_req *r);
int nq_sigma_assign_parse(const json_t *doc, nq_sigma_assign_req *r, nq_err *err);
/* {"assignment":[{"lead","rep"|null,"value"}],"total_value","objective",
 *  "loads":{rep: n},"assigned","unassigned","proven_optimal","method","explanation"} */
int nq_sigma_assign_run(const nq_sigma_assign_req *r, const atomic_int *cancel, json_t **answer,
                        nq_err *err);

/* The personal columns a request names ("personal": [...]), for the
 * server: n_out of them into names (borrowed from doc). */
int nq_sigma_personal(const json_t *doc, const char **names, int32_t cap, int32_t *n_out,
                      nq_err *err);

#endif
