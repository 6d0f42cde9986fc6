/* compliance.h - compliance and audit readiness, the numbers behind the
 * business-assessment unit (assess.h):
 *
 *   catalogs     frameworks as a tree of groups holding controls: the
 *                built-in NIST CSF 2.0 core and SP 800-53 rev5 moderate
 *                baseline (compiled in), or your own in the catalog JSON
 *                format (docs/api/assessment.md); mappings between them
 *   assessment   one answer per control at a date (as_of): status, maturity
 *                on the framework's scale, owner, evidence, notes
 *   scores       per group and overall: CISO-Assistant-style progress, AVG,
 *                SUM and AVG_OF_AVG; Drata-style readiness by controls and
 *                by requirements; XCCDF flat and flat-unweighted
 *   gaps, plan   what is not ready, what fixing it costs and earns, and the
 *                set of fixes that earns most within a budget and an effort
 *                limit, respecting dependencies (the CQM engine, made exact
 *                by GLPK's MILP); the scores if the plan were carried out
 *   health       financial and operational sub-scores, kept apart from the
 *                compliance scores
 *   diff         what changed between two assessments of one catalog
 *
 * Pure: no file I/O, no clock, no global state. Times are seconds since
 * 1970-01-01T00:00:00Z given by the caller (nq_grc_time_parse reads RFC 3339
 * text). Every double a function reports is finite except where NAN is
 * documented as "undefined" (nothing to average, a ratio without a
 * denominator); the JSON layer writes those as null. */
#ifndef NQBA_COMPLIANCE_H
#define NQBA_COMPLIANCE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nqba/buf.h"
#include "nqba/err.h"

#define NQ_GRC_ID_MAX 64          /* bytes in a control, group or catalog id */
#define NQ_GRC_TEXT_MAX 4096      /* bytes in a title, note or evidence field */
#define NQ_GRC_MAX_CONTROLS 5000  /* controls in one catalog */
#define NQ_GRC_MAX_GROUPS 1000    /* groups in one catalog */
#define NQ_GRC_MAX_DEPTH 4        /* group levels (CSF: function, category) */
#define NQ_GRC_MAX_EVIDENCE 64    /* evidence items of one answer */
#define NQ_GRC_MAX_DEPS 32        /* prerequisites of one control */
#define NQ_GRC_MAX_TARGETS 64     /* controls one mapped control maps to */
#define NQ_GRC_NO_TIME INT64_MIN  /* a time that was not given */

/* ---- times --------------------------------------------------------------- */

/* RFC 3339 "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm)"
 * to seconds since the epoch; years 1900..9999. NQ_EINVAL when malformed
 * (no err: the caller knows which field it was). */
int nq_grc_time_parse(const char *s, int64_t *out);
/* "YYYY-MM-DDThh:mm:ssZ" into out (at least 24 bytes); returns out. */
const char *nq_grc_time_format(int64_t t, char *out, size_t cap);

/* ---- catalogs ------------------------------------------------------------ */

/* Remediation figures: cost (money), effort (person-days), risk reduction
 * (points of the plan's objective). A NAN member is "not set here". */
typedef struct nq_grc_cost {
    double cost, effort, risk_reduction;
} nq_grc_cost;

typedef struct nq_grc_group {
    char *id, *title;
    int32_t parent;          /* index of the parent group, -1 at the top */
    int32_t depth;           /* 0 at the top */
    int32_t n_children;      /* subgroups */
    int32_t n_controls;      /* controls held directly (only leaf groups hold any) */
    nq_grc_cost remediation; /* defaults for the controls below; NAN: inherit */
} nq_grc_group;

typedef struct nq_grc_control {
    char *id;
    char *label;           /* another accepted name ("AC-2(1)"), or NULL */
    char *title;
    int32_t group;         /* the leaf group that holds it */
    int32_t parent;        /* base control of an enhancement, or -1 */
    double weight;         /* > 0 (default 1): SUM, AVG and XCCDF flat weights */
    int32_t *depends_on;   /* controls whose remediation comes first: the */
    int32_t n_depends_on;  /* catalog's list, plus the parent if any */
} nq_grc_control;

/* A framework: groups form a tree (a parent precedes its children), every
 * control sits in a leaf group. The leaf groups are the framework's
 * "requirements" for readiness by requirements (CSF: the 22 categories). */
typedef struct nq_grc_catalog {
    char *id, *name, *version, *source, *licence;
    double scale_min, scale_max;  /* the maturity scale (CSF 2.0: 1..4) */
    int32_t n_levels;             /* names of the group levels, then of the controls */
    char *levels[NQ_GRC_MAX_DEPTH + 1];
    nq_grc_group *groups;
    int32_t n_groups;
    nq_grc_control *controls;
    int32_t n_controls;
    char **withdrawn;             /* ids retired from the framework (better errors) */
    int32_t n_withdrawn;
    int32_t *by_id;               /* private: control indices sorted by id */
    int32_t *by_label;            /* private: controls with a label, sorted by it */
    int32_t n_labels;             /* private */
} nq_grc_catalog;

/* Read a catalog document (format in docs/api/assessment.md); ptr is its
 * JSON pointer for errors ("/custom_catalog"). */
int nq_grc_catalog_from_json(const json_t *doc, const char *ptr, nq_grc_catalog *out,
                             nq_err *err);
/* A built-in catalog by id ("nist-csf-2.0", "nist-sp800-53r5-moderate"),
 * parsed from the copy compiled into the library: NQ_ENOTFOUND when there
 * is no such id (err->msg lists the ids). */
int nq_grc_catalog_builtin(const char *id, nq_grc_catalog *out, nq_err *err);
/* The built-in catalogs' ids: i in 0..count-1, else NULL. */
int32_t nq_grc_builtin_count(void);
const char *nq_grc_builtin_id(int32_t i);
/* The compiled-in document of a built-in catalog (NUL-terminated JSON). */
const char *nq_grc_builtin_json(const char *id, size_t *len);
void nq_grc_catalog_free(nq_grc_catalog *c); /* NULL-safe; leaves *c zeroed */

/* Control index by id or label, else -1. */
int32_t nq_grc_find_control(const nq_grc_catalog *c, const char *id);
int32_t nq_grc_find_group(const nq_grc_catalog *c, const char *id);
/* Nonzero when id is listed as withdrawn. */
int nq_grc_is_withdrawn(const nq_grc_catalog *c, const char *id);

/* A mapping from framework A's controls to framework B's: "A control X
 * covers B controls Y, Z". Stored inverted: for each B control, the A
 * controls that cover it. */
typedef struct nq_grc_mapping {
    const nq_grc_catalog *from, *to;
    int32_t *off;  /* to->n_controls + 1 offsets into src */
    int32_t *src;  /* from-control indices */
} nq_grc_mapping;

/* {"A-id": ["B-id", ...], ...}; ptr names map in errors. Unknown ids on
 * either side are NQ_EINVAL at their pointer. */
int nq_grc_mapping_from_json(const json_t *map, const char *ptr, const nq_grc_catalog *from,
                             const nq_grc_catalog *to, nq_grc_mapping *out, nq_err *err);
void nq_grc_mapping_free(nq_grc_mapping *m);

/* ---- assessments ----------------------------------------------------------- */

/* One vocabulary for both ways of speaking: implementation status
 * (not_started, partial, implemented, not_applicable) and CISO-style results
 * (non_compliant, partially_compliant, compliant, not_applicable,
 * not_assessed). not_started == non_compliant, partial == partially_compliant,
 * implemented == compliant. A control without an answer is not_assessed. */
typedef enum nq_grc_status {
    NQ_GRC_NOT_ASSESSED = 0,
    NQ_GRC_NOT_STARTED = 1,
    NQ_GRC_PARTIAL = 2,
    NQ_GRC_IMPLEMENTED = 3,
    NQ_GRC_NOT_APPLICABLE = 4
} nq_grc_status;
#define NQ_GRC_STATUSES 5

/* Either vocabulary's name -> status; NQ_EINVAL when unknown. */
int nq_grc_status_parse(const char *name, nq_grc_status *out);
const char *nq_grc_status_name(nq_grc_status s); /* "not_started", ..., "not_assessed" */
const char *nq_grc_result_name(nq_grc_status s); /* "non_compliant", ..., "not_assessed" */

typedef struct nq_grc_evidence {
    char *name;
    char *link, *hash;      /* at least one of them */
    int64_t collected_at;   /* <= as_of */
    int64_t expires_at;     /* NQ_GRC_NO_TIME: does not expire */
} nq_grc_evidence;

typedef struct nq_grc_answer {
    nq_grc_status status;
    double maturity;        /* on the catalog's scale; NAN: not scored */
    char *owner, *notes;    /* or NULL */
    nq_grc_evidence *evidence;
    int32_t n_evidence;
    int answered;           /* the request named this control */
    int fresh;              /* projection only: count the evidence as valid */
} nq_grc_answer;

typedef struct nq_grc_assessment {
    const nq_grc_catalog *cat;
    int64_t as_of;
    int require_evidence;   /* nonzero: an implemented control needs valid evidence to be ready */
    nq_grc_answer *answers; /* cat->n_controls, in catalog order */
} nq_grc_assessment;

/* Every control not assessed, no evidence. */
int nq_grc_assessment_init(nq_grc_assessment *a, const nq_grc_catalog *cat, int64_t as_of,
                           nq_err *err);
/* Deep copy (shares the catalog). */
int nq_grc_assessment_copy(const nq_grc_assessment *a, nq_grc_assessment *out, nq_err *err);
void nq_grc_assessment_free(nq_grc_assessment *a); /* NULL-safe */

/* Evidence is valid at as_of when collected_at <= as_of < expires_at. */
int nq_grc_evidence_valid(const nq_grc_evidence *e, int64_t as_of);
/* Items of control i whose validity ended at or before as_of. */
int32_t nq_grc_expired_count(const nq_grc_assessment *a, int32_t i);
/* Drata-style: implemented, no expired evidence, and (require_evidence)
 * at least one valid item. Not applicable controls are out of scope, never
 * ready. */
int nq_grc_control_ready(const nq_grc_assessment *a, int32_t i);

/* ---- scores ---------------------------------------------------------------- */

/* The scores of a set of controls (one group's subtree, or all). A NAN
 * member is undefined (nothing to average or divide by).
 *
 *   progress_pct      floor(100 * (controls not "not_assessed") / controls)
 *   avg_score         trunc1(min + mean_w((m - min) / (max - min)) * (max - min))
 *                     over controls with a maturity that are not N/A;
 *                     trunc1(x) = floor(10 x + 1e-9) / 10; avg_score_exact untruncated
 *   sum_score, sum_max   sum of weight * maturity, sum of weight * max
 *   avg_of_avg_score  the same ratio averaged up the group tree (each group:
 *                     the mean of its children's values, children without
 *                     scored controls skipped), denormalised, trunc1
 *   ready_controls_pct       100 * ready / in scope (not N/A)
 *   ready_requirements_pct   100 * ready requirements / requirements with >= 1
 *                     in-scope control; a requirement (leaf group) is ready
 *                     when all its in-scope controls are
 *   xccdf_flat_pct    100 * weight of pass / weight of (pass + fail); pass =
 *                     implemented, fail = not_started or partial, N/A and not
 *                     assessed excluded; xccdf_flat_unweighted_pct counts */
typedef struct nq_grc_scores {
    int32_t n_controls;
    int32_t counts[NQ_GRC_STATUSES]; /* by nq_grc_status */
    int32_t progress_pct;
    int32_t n_scored;
    double avg_score, avg_score_exact;
    double sum_score, sum_max;
    double avg_of_avg_score, avg_of_avg_exact;
    int32_t n_in_scope, n_ready, n_expired; /* n_expired: controls with expired evidence */
    double ready_controls_pct;
    int32_t n_requirements, n_requirements_ready;
    double ready_requirements_pct;
    int32_t n_pass, n_fail;
    double xccdf_flat_pct, xccdf_flat_unweighted_pct;
} nq_grc_scores;

typedef struct nq_grc_scorecard {
    nq_grc_scores overall;
    nq_grc_scores *groups; /* n_groups, catalog order: each group's subtree */
    int32_t n_groups;
} nq_grc_scorecard;

int nq_grc_score(const nq_grc_assessment *a, nq_grc_scorecard *out, nq_err *err);
void nq_grc_scorecard_free(nq_grc_scorecard *s); /* NULL-safe */

/* Framework B seen through a mapping from the assessed framework A: each B
 * control takes the worst status of the A controls covering it
 * (implemented only when all are; not applicable only when all are; not
 * assessed when none covers it or one is not assessed), the lowest of
 * their maturities (rescaled to B's scale), and is ready only when every
 * covering control is ready (Drata: a requirement with no mapped control
 * is not ready). out is an assessment of m->to; its answers hold no
 * evidence, their "fresh" flag carries readiness. */
int nq_grc_project_mapping(const nq_grc_assessment *a, const nq_grc_mapping *m,
                           nq_grc_assessment *out, nq_err *err);

/* ---- gaps and the remediation plan ---------------------------------------- */

typedef enum nq_grc_gap_kind {
    NQ_GRC_GAP_NOT_ASSESSED = 0,     /* unknown: costed as not started */
    NQ_GRC_GAP_NOT_STARTED = 1,
    NQ_GRC_GAP_PARTIAL = 2,
    NQ_GRC_GAP_EVIDENCE_EXPIRED = 3, /* implemented, evidence to renew */
    NQ_GRC_GAP_EVIDENCE_MISSING = 4  /* implemented, no evidence (require_evidence) */
} nq_grc_gap_kind;
const char *nq_grc_gap_kind_name(nq_grc_gap_kind k);
/* Share of a control's full remediation a gap still needs: 1, 1, 0.5, 0.2, 0.2. */
double nq_grc_gap_fraction(nq_grc_gap_kind k);

/* One remediation action per gap: do it and the control becomes ready. */
typedef struct nq_grc_action {
    int32_t control;         /* catalog index; -1 for actions built by hand */
    nq_grc_gap_kind kind;
    double cost, effort, risk_reduction; /* >= 0 */
    int32_t *deps;           /* indices of actions that must be chosen too */
    int32_t n_deps;
} nq_grc_action;

/* How gaps are costed: the control's override when set, else base figures
 * (group default from the request, else from the catalog, nearest group
 * first, else `base`) times the gap's fraction, risk reduction also times
 * the control's weight. deps: per control, a replacement for the catalog's
 * prerequisites (n_deps[i] < 0 keeps the catalog's). */
typedef struct nq_grc_costing {
    nq_grc_cost base;              /* every member set */
    const nq_grc_cost *group;      /* n_groups or NULL; NAN members inherit */
    const nq_grc_cost *control;    /* n_controls or NULL; NAN members inherit */
    int32_t *const *deps;          /* n_controls or NULL */
    const int32_t *n_deps;
} nq_grc_costing;
/* base = {cost 10000, effort 10, risk_reduction 10}, no tables. */
void nq_grc_costing_default(nq_grc_costing *c);

/* The controls that are in scope and not ready, in catalog order, each an
 * action. A dependency on a control that is not a gap (ready, N/A) is
 * already met and left out. Free with nq_grc_actions_free. */
int nq_grc_gaps(const nq_grc_assessment *a, const nq_grc_costing *c, nq_grc_action **out,
                int32_t *n, nq_err *err);
void nq_grc_actions_free(nq_grc_action *a, int32_t n);

typedef struct nq_grc_plan_opts {
    double budget;           /* >= 0, money */
    double effort_limit;     /* >= 0, person-days; INFINITY: no limit */
    uint64_t seed;           /* engine seed */
    double time_limit;       /* engine seconds; 0: stop on stagnation or moves */
    int64_t engine_moves;    /* engine move budget; 0: 20 per action + 1000 (deterministic) */
    double milp_time_limit;  /* GLPK seconds; 0: 10 */
    const atomic_int *cancel;
} nq_grc_plan_opts;
void nq_grc_plan_opts_default(nq_grc_plan_opts *o); /* budget 0, no effort limit, seed 1 */

/* The plan: maximize the risk reduction of the chosen actions subject to
 * sum cost <= budget, sum effort <= effort_limit, and every chosen action's
 * dependencies chosen. The CQM engine ("native") answers first; GLPK's
 * branch and bound then solves the same model and the better feasible
 * answer is kept, proven optimal when GLPK finished. When every action fits
 * the answer is all of them without either solver (trivially optimal). */
typedef struct nq_grc_plan {
    int32_t n_actions, n_chosen;
    uint8_t *chosen;          /* n_actions flags */
    double cost, effort, risk_reduction; /* of the chosen actions */
    double total_risk_reduction;         /* of all actions */
    int proven_optimal;
    char method[16];          /* "all-fit", "none", "engine", "milp" */
    struct {
        int ran, feasible;
        double value;          /* risk reduction of its answer */
        double elapsed;
        int64_t iterations;
        char found_by[24];
    } engine;
    struct {
        int ran, status;       /* nq_milp_result status: 0 optimal, 1 feasible, 2, 3 */
        double value, bound;   /* value of its answer, upper bound on the optimum */
        double elapsed;
    } milp;
} nq_grc_plan;

int nq_grc_plan_solve(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o,
                      nq_grc_plan *out, nq_err *err);
void nq_grc_plan_free(nq_grc_plan *p); /* NULL-safe */

/* The assessment as it would be with the chosen actions done: those
 * controls implemented, maturity raised to target (clamped to the scale),
 * evidence counted as fresh. */
int nq_grc_project_plan(const nq_grc_assessment *a, const nq_grc_action *actions,
                        const uint8_t *chosen, int32_t n, double target_maturity,
                        nq_grc_assessment *out, nq_err *err);

/* ---- business health -------------------------------------------------------- */

/* Inputs; NAN: not given. Money in any one currency; percentages 0..100. */
typedef struct nq_grc_health_in {
    double revenue, net_income;
    double total_assets, total_liabilities;
    double current_assets, current_liabilities;
    double uptime_pct, on_time_delivery_pct, employee_turnover_pct, customer_churn_pct;
} nq_grc_health_in;
void nq_grc_health_in_init(nq_grc_health_in *h); /* all NAN */

/* Ratios and 0..100 sub-scores, piecewise linear and clamped (the points
 * are in docs/api/assessment.md); NAN where an input is missing.
 * financial and operational are the means of the sub-scores available in
 * their family. These are reported beside the compliance scores, never
 * mixed into them. */
typedef struct nq_grc_health {
    double net_margin, debt_ratio, current_ratio;
    double profitability, leverage, liquidity;
    double availability, delivery, retention, churn;
    double financial, operational;
} nq_grc_health;

/* NQ_EINVAL names the field: "/revenue" must be > 0 to give a margin,
 * "/total_assets" > 0, "/current_liabilities" > 0, percentages in 0..100,
 * amounts finite and (but net income) >= 0. */
int nq_grc_health_eval(const nq_grc_health_in *in, nq_grc_health *out, nq_err *err);

/* ---- diff ------------------------------------------------------------------- */

enum {
    NQ_GRC_CH_STATUS = 1,
    NQ_GRC_CH_MATURITY = 2,
    NQ_GRC_CH_EVIDENCE = 4, /* items added, removed, or validity changed */
    NQ_GRC_CH_READY = 8,
    NQ_GRC_CH_OWNER = 16
};

typedef struct nq_grc_change {
    int32_t control;
    unsigned what;            /* NQ_GRC_CH_ bits */
    nq_grc_status before, after;
    double maturity_before, maturity_after; /* NAN: not scored */
    int32_t evidence_before, evidence_after; /* valid items */
    int ready_before, ready_after;
} nq_grc_change;

/* Controls that differ between two assessments of the same catalog (same
 * id and controls), catalog order. NQ_EINVAL when the catalogs differ. */
int nq_grc_diff(const nq_grc_assessment *before, const nq_grc_assessment *after,
                nq_grc_change **out, int32_t *n, nq_err *err);

/* ---- report helpers ------------------------------------------------------------ */

/* Append s to b with &, <, >, " and ' written as character references, and
 * control characters other than tab and newline dropped. */
int nq_grc_html_escape(nq_buf *b, const char *s);

#endif
