/* cmd_decide_text.c - the readable summary `nqba decide` prints: the
 * status, the objective, the chosen values, the constraints with their
 * tight and violated markers, alternatives, contributions, the baseline,
 * rule hits and actions, conflicts, and solver figures.
 *
 * It reads the answer document (nq_decision_to_json) rather than the
 * result structs, so the summary shows exactly what --json would. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Longer lists are cut; --json has everything. */
#define TEXT_MAX_LINES 200
#define NAME_WIDTH_MAX 24

static const char *fmt(const json_t *v, char *buf, size_t cap)
{
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, cap, "%.10g", json_real_value(v));
    } else if (json_is_string(v)) {
        snprintf(buf, cap, "%s", json_string_value(v));
    } else if (!v || json_is_null(v)) {
        snprintf(buf, cap, "-");
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        snprintf(buf, cap, "%s", s ? s : "?");
        free(s);
    }
    return buf;
}

static const char *member(const json_t *o, const char *key, char *buf, size_t cap)
{
    return fmt(json_object_get(o, key), buf, cap);
}

static int is_true(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

static int name_width(const json_t *names_in, const char *key)
{
    size_t w = 4, i;
    json_t *v;
    json_array_foreach(names_in, i, v)
    {
        const char *s = key ? json_string_value(json_object_get(v, key)) : NULL;
        if (s && strlen(s) > w)
            w = strlen(s);
    }
    return (int)(w > NAME_WIDTH_MAX ? NAME_WIDTH_MAX : w);
}

static void print_list(const char *label, const json_t *a, FILE *out)
{
    size_t i;
    json_t *v;
    char buf[512];
    fprintf(out, "%-12s", label);
    if (json_array_size(a) == 0)
        fputs("(none)", out);
    json_array_foreach(a, i, v) fprintf(out, "%s%s", i ? ", " : "", fmt(v, buf, sizeof buf));
    fputc('\n', out);
}

/* ---- the decision -------------------------------------------------------------- */

static void print_status(const json_t *doc, FILE *out)
{
    const char *status = json_string_value(json_object_get(doc, "status"));
    char a[512], b[512];
    if (json_object_get(doc, "name"))
        fprintf(out, "decision    %s\n", member(doc, "name", a, sizeof a));
    if (strcmp(status, "optimal") == 0)
        fputs("status      optimal (proven)\n", out);
    else if (strcmp(status, "feasible") == 0)
        fputs("status      feasible (not proven optimal)\n", out);
    else if (strcmp(status, "infeasible") == 0)
        fprintf(out, "status      INFEASIBLE: no assignment satisfies every hard constraint%s\n",
                is_true(doc, "proven") ? " (proven)"
                                       : " was found (not proven: a longer time limit may help)");
    else
        fputs("status      policy (no variables: the tables' results are the decision)\n", out);
    if (!json_object_get(doc, "objective"))
        return;
    fprintf(out, "objective   %s (%s)", member(doc, "objective", a, sizeof a),
            member(doc, "sense", b, sizeof b));
    if (json_object_get(doc, "penalty"))
        fprintf(out, ", soft penalties %s", member(doc, "penalty", a, sizeof a));
    fputc('\n', out);
}

/* Choices always, other variables when not 0. */
static void print_assignment(const json_t *doc, FILE *out)
{
    const json_t *asg = json_object_get(doc, "assignment");
    const char *key;
    json_t *v;
    char buf[512];
    size_t zeros = 0, shown = 0;
    fputs(json_is_true(json_object_get(doc, "feasible")) ? "assignment\n"
                                                         : "assignment  (least violated found)\n",
          out);
    json_object_foreach((json_t *)asg, key, v)
    {
        if (json_is_integer(v) && json_integer_value(v) == 0) {
            zeros++;
        } else if (++shown <= TEXT_MAX_LINES) {
            fprintf(out, "  %-*s  %s\n", NAME_WIDTH_MAX, key, fmt(v, buf, sizeof buf));
        }
    }
    if (shown > TEXT_MAX_LINES)
        fprintf(out, "  ... %zu more (use --json)\n", shown - TEXT_MAX_LINES);
    if (zeros)
        fprintf(out, "  (%zu other%s 0)\n", zeros, zeros == 1 ? " is" : "s are");
}

static void print_constraint(const json_t *c, int width, FILE *out)
{
    char line[2048], name[512], value[64], rhs[64], x[64];
    int n =
        snprintf(line, sizeof line, "  %-*s  %12s %s %-12s", width,
                 member(c, "name", name, sizeof name), member(c, "value", value, sizeof value),
                 json_string_value(json_object_get(c, "sense")), member(c, "rhs", rhs, sizeof rhs));
    if (n > 0 && (size_t)n < sizeof line && !is_true(c, "satisfied"))
        n += snprintf(line + n, sizeof line - (size_t)n, "  %s by %s",
                      is_true(c, "hard") ? "VIOLATED" : "violated",
                      member(c, "violation", x, sizeof x));
    if (n > 0 && (size_t)n < sizeof line && is_true(c, "tight"))
        n += snprintf(line + n, sizeof line - (size_t)n, "  tight");
    if (n > 0 && (size_t)n < sizeof line && !is_true(c, "hard"))
        snprintf(line + n, sizeof line - (size_t)n, "  (soft, weight %s)",
                 member(c, "weight", x, sizeof x));
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == ' ')
        line[--len] = '\0';
    fprintf(out, "%s\n", line);
}

static void print_constraints(const json_t *doc, FILE *out)
{
    const json_t *cons = json_object_get(doc, "constraints");
    size_t i;
    json_t *c;
    if (json_array_size(cons) == 0)
        return;
    int width = name_width(cons, "name");
    fputs("constraints\n", out);
    json_array_foreach(cons, i, c)
    {
        if (i == TEXT_MAX_LINES) {
            fprintf(out, "  ... %zu more (use --json)\n", json_array_size(cons) - i);
            break;
        }
        print_constraint(c, width, out);
    }
}

static void print_contributions(const json_t *doc, FILE *out)
{
    const json_t *a = json_object_get(doc, "contributions");
    size_t i;
    json_t *c;
    char name[512], value[64];
    if (json_array_size(a) == 0)
        return;
    int width = name_width(a, "group");
    fputs("contributions\n", out);
    json_array_foreach(a, i, c)
        fprintf(out, "  %-*s  %12s  %5.1f%%\n", width, member(c, "group", name, sizeof name),
                member(c, "value", value, sizeof value),
                100 * json_number_value(json_object_get(c, "share")));
}

static void print_alternatives(const json_t *doc, FILE *out)
{
    const json_t *a = json_object_get(doc, "alternatives");
    size_t i, k;
    json_t *alt, *name;
    char buf[512], rank[64];
    if (json_array_size(a) == 0)
        return;
    fputs("alternatives\n", out);
    json_array_foreach(a, i, alt)
    {
        const json_t *asg = json_object_get(alt, "assignment");
        fprintf(out, "  #%-3s objective %-12s", member(alt, "rank", rank, sizeof rank),
                member(alt, "objective", buf, sizeof buf));
        json_array_foreach(json_object_get(alt, "differs_from_best"), k, name)
        {
            const char *n = json_string_value(name);
            fprintf(out, " %s=%s", n, fmt(json_object_get(asg, n), buf, sizeof buf));
        }
        fputc('\n', out);
    }
}

static void print_baseline(const json_t *doc, FILE *out)
{
    const json_t *b = json_object_get(doc, "baseline");
    size_t i;
    json_t *c;
    char x[512], y[512];
    if (!b)
        return;
    fprintf(out, "baseline    objective %s, improvement %s, ", member(b, "objective", x, sizeof x),
            member(b, "improvement", y, sizeof y));
    if (is_true(b, "feasible"))
        fputs("feasible\n", out);
    else if (json_object_get(b, "out_of_domain"))
        fprintf(out, "INFEASIBLE: '%s' breaks a fixed value or a veto\n",
                member(b, "out_of_domain", x, sizeof x));
    else
        fprintf(out, "INFEASIBLE: violates %s\n", member(b, "violated_constraints", x, sizeof x));
    json_array_foreach(json_object_get(b, "changed"), i, c)
    {
        if (i == TEXT_MAX_LINES) {
            fputs("  ... (use --json)\n", out);
            break;
        }
        char name[512];
        fprintf(out, "  %-*s  %s -> %s\n", NAME_WIDTH_MAX, member(c, "variable", name, sizeof name),
                member(c, "from", x, sizeof x), member(c, "to", y, sizeof y));
    }
}

/* ---- rules, conflicts, solver ---------------------------------------------------- */

static void print_rules(const json_t *doc, FILE *out)
{
    const json_t *rules = json_object_get(doc, "rules");
    size_t i;
    json_t *t;
    char a[1024], b[1024], c[1024];
    if (!rules)
        return;
    fputs("rules\n", out);
    json_array_foreach(rules, i, t)
    {
        fprintf(out, "  %s (%s): matched %s", member(t, "table", a, sizeof a),
                member(t, "hit_policy", b, sizeof b), member(t, "matched", c, sizeof c));
        if (json_object_get(t, "aggregation"))
            fprintf(out, ", %s = %s", member(t, "aggregation", a, sizeof a),
                    member(t, "outputs", b, sizeof b));
        else if (json_object_get(t, "selected"))
            fprintf(out, ", selected %s -> %s", member(t, "selected", a, sizeof a),
                    member(t, "outputs", b, sizeof b));
        else
            fprintf(out, " -> %s", member(t, "outputs", a, sizeof a));
        fputc('\n', out);
    }
    const json_t *acts = json_object_get(doc, "actions");
    json_array_foreach(acts, i, t)
    {
        fprintf(out, "  action: %s %s = %s", member(t, "action", a, sizeof a),
                member(t, "target", b, sizeof b), member(t, "value", c, sizeof c));
        if (json_is_null(json_object_get(t, "rule")))
            fprintf(out, "  (%s, aggregate)\n", member(t, "table", a, sizeof a));
        else
            fprintf(out, "  (%s, rule %s)\n", member(t, "table", a, sizeof a),
                    member(t, "rule", b, sizeof b));
    }
}

static void print_conflicts(const json_t *doc, FILE *out)
{
    const json_t *c = json_object_get(doc, "conflicts");
    char buf[512];
    if (!c)
        return;
    print_list("violated", json_object_get(c, "violated"), out);
    if (json_is_array(json_object_get(c, "irreducible")))
        print_list("conflict", json_object_get(c, "irreducible"), out);
    if (json_object_get(c, "out_of_domain"))
        fprintf(out, "%-12s%s\n", "domain", member(c, "out_of_domain", buf, sizeof buf));
    fprintf(out, "%-12s%s\n", "note", member(c, "note", buf, sizeof buf));
}

static void print_solver(const json_t *doc, FILE *out)
{
    const json_t *s = json_object_get(doc, "solver");
    char a[64], b[64], c[64], d[64];
    if (!s)
        return;
    fprintf(out, "solver      %s (found by %s), %.3f s, best after %.3f s, %s iterations%s\n",
            member(s, "requested", a, sizeof a), member(s, "found_by", b, sizeof b),
            json_number_value(json_object_get(s, "elapsed_s")),
            json_number_value(json_object_get(s, "time_to_best_s")),
            member(s, "iterations", c, sizeof c),
            is_true(s, "timed_out") ? ", time limit reached" : "");
    if (json_integer_value(json_object_get(s, "qubo_variables")) > 0)
        fprintf(out, "qubo        %s variables, %s penalty rounds\n",
                member(s, "qubo_variables", c, sizeof c), member(s, "penalty_rounds", d, sizeof d));
}

void cli_decide_print_text(const json_t *doc, FILE *out)
{
    print_status(doc, out);
    if (json_object_get(doc, "assignment")) {
        print_assignment(doc, out);
        print_constraints(doc, out);
        print_contributions(doc, out);
        print_alternatives(doc, out);
        print_baseline(doc, out);
    }
    print_rules(doc, out);
    print_conflicts(doc, out);
    print_solver(doc, out);
}
