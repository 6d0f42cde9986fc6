/* cmd_leads.c - `nqba leads train|score|assign`: Sigma Select from the
 * command line (docs/api/leads.md). train reads historical leads (--data
 * FILE.csv) and writes the model document (--out FILE.json); score reads a
 * model file and leads (--model, --leads) and prints the scores, or writes
 * the scored table as CSV (--csv-out); assign takes the HTTP request body. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nqba/sigma.h"

typedef struct ld_args {
    const char *data, *leads, *model, *out, *csv_out;
} ld_args;

void cli_leads_usage(FILE *out)
{
    fputs("usage: nqba leads train [REQUEST.json] --data FILE.csv [--out MODEL.json] [options]\n"
          "       nqba leads score [REQUEST.json] --model MODEL.json --leads FILE.csv\n"
          "                        [--csv-out FILE.csv] [options]\n"
          "       nqba leads assign REQUEST.json [--json]\n"
          "\n"
          "options:\n"
          "  --data FILE        (train) historical leads with the outcome column\n"
          "  --outcome COL      (train) the outcome column; --positive VALUE its converted value\n"
          "  --separator S      ',' (default), ';' or 'tab'\n"
          "  --algorithm A      (train) logistic (default) or gbt\n"
          "  --out FILE         (train) write the model document\n"
          "  --model FILE       (score) a model document written by train\n"
          "  --leads FILE       (score) the leads to score\n"
          "  --csv-out FILE     (score) the leads with probability, score, tier, top_factors\n"
          "  --json             print the answer document\n",
          out);
}

static int apply(void *user, json_t *doc, const char *opt, const char *v)
{
    ld_args *a = user;
    const char **file = !strcmp(opt, "--data")      ? &a->data
                        : !strcmp(opt, "--leads")   ? &a->leads
                        : !strcmp(opt, "--model")   ? &a->model
                        : !strcmp(opt, "--out")     ? &a->out
                        : !strcmp(opt, "--csv-out") ? &a->csv_out
                                                    : NULL;
    if (file) {
        *file = v;
        return 0;
    }
    if (!strcmp(opt, "--outcome") || !strcmp(opt, "--positive") || !strcmp(opt, "--algorithm")) {
        json_object_set_new(doc, opt + 2, json_string(v));
        return 0;
    }
    if (!strcmp(opt, "--separator")) {
        json_object_set_new(doc, "separator", json_string(!strcmp(v, "tab") ? "\t" : v));
        return 0;
    }
    fprintf(stderr, "nqba leads: unknown option %s (nqba help leads)\n", opt);
    return CLI_EXIT_USAGE;
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "nqba leads: cannot write %s\n", path);
    return ok ? 0 : CLI_EXIT_FAIL;
}

static void print_lines(const json_t *ans)
{
    size_t i;
    const json_t *line;
    json_array_foreach(json_object_get(ans, "explanation"), i, line)
        printf("%s\n", json_string_value(line));
}

static int train(json_t *doc, const ld_args *a, json_t **ans, nq_err *err)
{
    if (!json_object_get(doc, "name"))
        json_object_set_new(doc, "name", json_string("model"));
    nq_sigma_train_req r;
    int rc = nq_sigma_train_parse(doc, &r, err);
    if (!rc) {
        rc = nq_sigma_train_run(&r, NULL, NULL, NULL, ans, err);
        nq_sigma_train_req_free(&r);
    }
    if (!rc && a->out) {
        char *text = json_dumps(json_object_get(*ans, "model"), JSON_INDENT(1));
        rc = text ? write_file(a->out, text, strlen(text)) : CLI_EXIT_FAIL;
        free(text);
    }
    return rc;
}

static int score(json_t *doc, const ld_args *a, json_t **ans, nq_err *err)
{
    json_t *model = NULL;
    int rc = a->model ? cli_request_read(a->model, &model) : 0;
    if (rc)
        return rc;
    if (model)
        json_object_set_new(doc, "model_document", model);
    if (!json_object_get(doc, "model"))
        json_object_set_new(doc, "model", json_string(a->model ? a->model : ""));
    if (a->csv_out)
        json_object_set_new(doc, "output", json_string("csv"));
    nq_sigma_score_req r;
    rc = nq_sigma_score_parse(doc, &r, err);
    if (!rc) {
        rc = nq_sigma_score_run(&r, doc, ans, err);
        nq_sigma_score_req_free(&r);
    }
    const json_t *csv = *ans ? json_object_get(*ans, "csv") : NULL;
    if (!rc && a->csv_out)
        rc = write_file(a->csv_out, json_string_value(csv), json_string_length(csv));
    return rc;
}

static int assign(json_t *doc, json_t **ans, nq_err *err)
{
    nq_sigma_assign_req r;
    int rc = nq_sigma_assign_parse(doc, &r, err);
    if (!rc) {
        rc = nq_sigma_assign_run(&r, NULL, ans, err);
        nq_sigma_assign_req_free(&r);
    }
    return rc;
}

int cli_leads_run(int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : "";
    if (strcmp(cmd, "train") && strcmp(cmd, "score") && strcmp(cmd, "assign")) {
        fprintf(stderr, "nqba leads: expected train, score or assign (nqba help leads)\n");
        return CLI_EXIT_USAGE;
    }
    ld_args a = {NULL, NULL, NULL, NULL, NULL};
    const char *request = NULL;
    int json = 0;
    json_t *doc = NULL, *ans = NULL;
    int rc = cli_request_args("leads", argc, argv, 2, apply, &a, &doc, &request, &json);
    if (!rc && a.data)
        rc = cli_request_file(doc, "data_csv", a.data);
    if (!rc && a.leads)
        rc = cli_request_file(doc, "leads_csv", a.leads);
    nq_err err;
    nq_err_clear(&err);
    if (!rc)
        rc = !strcmp(cmd, "train") ? train(doc, &a, &ans, &err)
             : !strcmp(cmd, "score") ? score(doc, &a, &ans, &err)
                                     : assign(doc, &ans, &err);
    if (rc && err.code) {
        const cli_file_member files[] = {{"/data_csv", a.data}, {"/leads_csv", a.leads}};
        cli_request_error(request, files, 2, &err);
        rc = cli_exit_for(err.code);
    } else if (!rc && json) {
        json_object_del(ans, "model"); /* --out writes it; the summary stays readable */
        json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (!rc) {
        print_lines(ans);
    }
    json_decref(doc);
    json_decref(ans);
    return rc;
}
