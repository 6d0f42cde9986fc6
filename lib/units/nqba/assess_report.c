/* assess_report.c - an answer as a printable HTML page: one file, inline
 * CSS, no scripts, no external resources. Every text that came from a
 * request or catalog (titles, owners, notes, evidence names and links) is
 * escaped, so a control titled "<script>" prints as text. Links are shown,
 * not made clickable: a report should not carry a javascript: URL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess_internal.h"
#include "nqba/buf.h"

static const char CSS[] =
    "body{font-family:Helvetica,Arial,sans-serif;font-size:11pt;margin:2em;color:#111}"
    "h1{font-size:18pt}h2{font-size:14pt;margin-top:1.5em;border-bottom:1px solid #999}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}"
    "th{background:#eee}td.n{text-align:right}.muted{color:#666}"
    "@media print{body{margin:0}h2{page-break-after:avoid}tr{page-break-inside:avoid}}";

static int esc(nq_buf *b, const char *s)
{
    return nq_grc_html_escape(b, s);
}

/* A JSON value as cell text: strings escaped, numbers to 6 significant
 * digits, null as a dash. */
static int value(nq_buf *b, const json_t *v)
{
    if (json_is_string(v))
        return esc(b, json_string_value(v));
    if (json_is_integer(v))
        return nq_buf_printf(b, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return nq_buf_printf(b, "%.6g", json_real_value(v));
    if (json_is_boolean(v))
        return nq_buf_puts(b, json_is_true(v) ? "yes" : "no");
    return nq_buf_puts(b, "&ndash;");
}

static int row(nq_buf *b, const json_t *obj, const char *const *keys)
{
    int rc = nq_buf_puts(b, "<tr>");
    for (int i = 0; !rc && keys[i]; i++) {
        const json_t *v = json_object_get(obj, keys[i]);
        rc = nq_buf_puts(b, json_is_number(v) ? "<td class=\"n\">" : "<td>");
        if (!rc)
            rc = value(b, v);
        if (!rc)
            rc = nq_buf_puts(b, "</td>");
    }
    return rc ? rc : nq_buf_puts(b, "</tr>\n");
}

static int header(nq_buf *b, const char *const *labels)
{
    int rc = nq_buf_puts(b, "<table><tr>");
    for (int i = 0; !rc && labels[i]; i++)
        rc = nq_buf_printf(b, "<th>%s</th>", labels[i]); /* our own constant labels */
    return rc ? rc : nq_buf_puts(b, "</tr>\n");
}

static int scores_table(nq_buf *b, const json_t *scores)
{
    static const char *const keys[] = {"progress_pct",     "avg_score",
                                       "sum_score",        "sum_max",
                                       "avg_of_avg_score", "ready_by_controls_pct",
                                       "ready_by_requirements_pct", "xccdf_flat_pct",
                                       "xccdf_flat_unweighted_pct", NULL};
    static const char *const labels[] = {"Progress %",  "AVG",         "SUM",
                                         "SUM max",     "AVG of AVG",  "Ready (controls) %",
                                         "Ready (requirements) %", "XCCDF flat %",
                                         "XCCDF flat-unweighted %", NULL};
    const json_t *all = json_object_get(scores, "overall"), *groups = json_object_get(scores, "groups");
    int rc = nq_buf_puts(b, "<table><tr><th>Scope</th>");
    for (int i = 0; !rc && labels[i]; i++)
        rc = nq_buf_printf(b, "<th>%s</th>", labels[i]);
    rc = rc ? rc : nq_buf_puts(b, "</tr>\n<tr><td><b>Overall</b></td>");
    for (int i = 0; !rc && keys[i]; i++) {
        rc = nq_buf_puts(b, "<td class=\"n\">");
        rc = rc ? rc : value(b, json_object_get(all, keys[i]));
        rc = rc ? rc : nq_buf_puts(b, "</td>");
    }
    rc = rc ? rc : nq_buf_puts(b, "</tr>\n");
    const char *id;
    json_t *g;
    json_object_foreach((json_t *)groups, id, g) {
        if (rc)
            break;
        int top = json_is_null(json_object_get(g, "parent"));
        rc = nq_buf_printf(b, "<tr><td>%s", top ? "<b>" : "&nbsp;&nbsp;");
        rc = rc ? rc : esc(b, id);
        rc = rc ? rc : nq_buf_puts(b, " ");
        rc = rc ? rc : esc(b, json_string_value(json_object_get(g, "title")));
        rc = rc ? rc : nq_buf_puts(b, top ? "</b></td>" : "</td>");
        for (int i = 0; !rc && keys[i]; i++) {
            rc = nq_buf_puts(b, "<td class=\"n\">");
            rc = rc ? rc : value(b, json_object_get(g, keys[i]));
            rc = rc ? rc : nq_buf_puts(b, "</td>");
        }
        rc = rc ? rc : nq_buf_puts(b, "</tr>\n");
    }
    return rc ? rc : nq_buf_puts(b, "</table>\n");
}

static int list_table(nq_buf *b, const json_t *list, const char *const *keys,
                      const char *const *labels)
{
    int rc = header(b, labels);
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v) {
        if (rc)
            break;
        rc = row(b, v, keys);
    }
    return rc ? rc : nq_buf_puts(b, "</table>\n");
}

static int plan_section(nq_buf *b, const json_t *plan)
{
    static const char *const keys[] = {"budget",         "cost_used",     "budget_left",
                                       "effort_limit",   "effort_used",   "n_chosen",
                                       "n_actions",      "risk_reduction", "total_risk_reduction",
                                       "proven_optimal", "method",        NULL};
    static const char *const labels[] = {"Budget",      "Spent",          "Left",
                                         "Effort limit", "Effort used",   "Actions chosen",
                                         "Gaps",        "Risk reduction", "Of total",
                                         "Proven optimal", "Method",      NULL};
    int rc = nq_buf_puts(b, "<h2>Remediation plan</h2>\n");
    rc = rc ? rc : header(b, labels);
    rc = rc ? rc : row(b, plan, keys);
    rc = rc ? rc : nq_buf_puts(b, "</table>\n<p>Chosen: ");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(plan, "chosen"), i, v) {
        rc = rc ? rc : nq_buf_puts(b, i ? ", " : "");
        rc = rc ? rc : esc(b, json_string_value(v));
    }
    rc = rc ? rc : nq_buf_puts(b, "</p>\n<h2>Scores with the plan done</h2>\n");
    return rc ? rc : scores_table(b, json_object_get(plan, "projected_scores"));
}

static int health_section(nq_buf *b, const json_t *h)
{
    int rc = nq_buf_puts(b, "<h2>Business health (reported apart from compliance)</h2>\n"
                            "<table><tr><th>Measure</th><th>Value</th></tr>\n");
    const char *groups[] = {"ratios", "sub_scores"};
    for (int g = 0; !rc && g < 2; g++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(h, groups[g]), k, v) {
            rc = rc ? rc : nq_buf_puts(b, "<tr><td>");
            rc = rc ? rc : esc(b, k);
            rc = rc ? rc : nq_buf_puts(b, "</td><td class=\"n\">");
            rc = rc ? rc : value(b, v);
            rc = rc ? rc : nq_buf_puts(b, "</td></tr>\n");
        }
    }
    const char *totals[] = {"financial", "operational"};
    for (int t = 0; !rc && t < 2; t++) {
        rc = nq_buf_printf(b, "<tr><td><b>%s</b></td><td class=\"n\">", totals[t]);
        rc = rc ? rc : value(b, json_object_get(h, totals[t]));
        rc = rc ? rc : nq_buf_puts(b, "</td></tr>\n");
    }
    return rc ? rc : nq_buf_puts(b, "</table>\n");
}

static int body(nq_buf *b, const json_t *ans)
{
    static const char *const gap_keys[] = {"control", "title", "kind", "cost", "effort",
                                           "risk_reduction", NULL};
    static const char *const gap_labels[] = {"Control", "Title", "Gap", "Cost", "Effort",
                                             "Risk reduction", NULL};
    static const char *const ctl_keys[] = {"id", "title", "result", "maturity", "owner", "ready",
                                           "expired_evidence", "notes", NULL};
    static const char *const ctl_labels[] = {"Control", "Title", "Result", "Maturity", "Owner",
                                             "Ready", "Expired evidence", "Notes", NULL};
    const json_t *fw = json_object_get(ans, "framework");
    int rc = nq_buf_puts(b, "<h1>Assessment: ");
    rc = rc ? rc : esc(b, json_string_value(json_object_get(fw, "name")));
    rc = rc ? rc : nq_buf_puts(b, "</h1>\n<p class=\"muted\">Framework ");
    rc = rc ? rc : esc(b, json_string_value(json_object_get(fw, "id")));
    rc = rc ? rc : nq_buf_puts(b, ", as of ");
    rc = rc ? rc : value(b, json_object_get(ans, "as_of"));
    rc = rc ? rc : nq_buf_puts(b, ". Licence of the catalog: ");
    rc = rc ? rc : value(b, json_object_get(fw, "licence"));
    rc = rc ? rc : nq_buf_puts(b, ".</p>\n<h2>Summary</h2>\n<ul>\n");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ans, "explanation"), i, v) {
        rc = rc ? rc : nq_buf_puts(b, "<li>");
        rc = rc ? rc : esc(b, json_string_value(v));
        rc = rc ? rc : nq_buf_puts(b, "</li>\n");
    }
    rc = rc ? rc : nq_buf_puts(b, "</ul>\n<h2>Scores</h2>\n");
    rc = rc ? rc : scores_table(b, json_object_get(ans, "scores"));
    rc = rc ? rc : nq_buf_puts(b, "<h2>Gaps</h2>\n");
    rc = rc ? rc : list_table(b, json_object_get(ans, "gaps"), gap_keys, gap_labels);
    if (!rc && json_is_object(json_object_get(ans, "plan")))
        rc = plan_section(b, json_object_get(ans, "plan"));
    if (!rc && json_is_object(json_object_get(ans, "health")))
        rc = health_section(b, json_object_get(ans, "health"));
    if (!rc && json_is_array(json_object_get(ans, "controls"))) {
        rc = nq_buf_puts(b, "<h2>Controls</h2>\n");
        rc = rc ? rc : list_table(b, json_object_get(ans, "controls"), ctl_keys, ctl_labels);
    }
    return rc;
}

int nq_assess_report_html(const json_t *ans, char **html, size_t *len, nq_err *err)
{
    *html = NULL;
    if (len)
        *len = 0;
    if (!json_is_object(ans) || !json_is_object(json_object_get(ans, "framework")) ||
        !json_is_object(json_object_get(ans, "scores")))
        return nq_err_set(err, NQ_EINVAL, "", "expected an assessment answer "
                          "(framework, scores)");
    nq_buf b;
    nq_buf_init(&b, NQ_ASSESS_HTML_MAX);
    int rc = nq_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                             "<title>Assessment: ");
    rc = rc ? rc : esc(&b, json_string_value(json_object_get(json_object_get(ans, "framework"),
                                                             "id")));
    rc = rc ? rc : nq_buf_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n", CSS);
    rc = rc ? rc : body(&b, ans);
    rc = rc ? rc : nq_buf_puts(&b, "</body></html>\n");
    if (rc) {
        nq_buf_free(&b);
        return nq_err_set(err, rc == NQ_ELIMIT ? NQ_ELIMIT : NQ_ENOMEM, NULL,
                          "the report would exceed %u bytes", NQ_ASSESS_HTML_MAX);
    }
    if (!(*html = nq_buf_steal(&b, len))) {
        nq_buf_free(&b);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    return NQ_OK;
}
