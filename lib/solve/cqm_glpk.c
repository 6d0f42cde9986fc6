/* cqm_glpk.c - MPS (free or fixed) and CPLEX LP documents, parsed by GLPK
 * and turned into a constrained model of binary and integer variables.
 *
 * GLPK reads only from paths, so the bytes go into an anonymous in-memory
 * file whose /proc/self/fd name GLPK opens; nothing touches the disk. GLPK
 * reports syntax errors as terminal output ("<fname>:<line>: <reason>"), so
 * that output is captured for the duration of the read and turned into an
 * NQ_EPARSE located at "source:line". See docs/internals/glpk.md. */
#include <errno.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "glpk_read.h"
#include "nqba/cqm.h"

/* GLPK builds its own structures at several times the text's size; this
 * keeps a hostile upload from costing gigabytes before it is refused. */
#define GLPK_MAX_INPUT ((size_t)64 << 20)

/* Room for the longest names GLPK accepts (255 bytes) plus ".lo"/".hi":
 * over-long names then reach the builder, which refuses them by name. */
#define GLPK_NAME_BUF 272

/* What GLPK printed during one read. Lives on the reader's stack: the
 * hook gets it through GLPK's info pointer, so no state is shared. */
typedef struct glpk_msgs {
    char fname[32]; /* the name GLPK knows the input by */
    char line[512]; /* the line being assembled (truncated) */
    size_t len;
    long err_line;               /* line of the last located error, -1 if none */
    char reason[NQ_ERR_MSG_MAX]; /* its text */
    char other[NQ_ERR_MSG_MAX];  /* the last unlocated line (fallback reason) */
} glpk_msgs;

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* One complete line of GLPK output. Located lines ("fname:N: text") that
 * are not warnings are errors; the last one wins, since GLPK stops at it. */
static void msgs_line(glpk_msgs *c)
{
    c->line[c->len] = '\0';
    c->len = 0;
    size_t fl = strlen(c->fname);
    if (strncmp(c->line, c->fname, fl) == 0 && c->line[fl] == ':') {
        char *end;
        long ln = strtol(c->line + fl + 1, &end, 10);
        if (end > c->line + fl + 1 && end[0] == ':' && end[1] == ' ') {
            if (strncmp(end + 2, "warning:", 8) != 0) {
                c->err_line = ln;
                copy_trunc(c->reason, sizeof c->reason, end + 2);
            }
            return;
        }
    }
    if (c->line[0])
        copy_trunc(c->other, sizeof c->other, c->line);
}

/* GLPK prints a message in pieces ("fname:N: " then the reason), so the
 * pieces are joined into lines before they are looked at. */
static int msgs_hook(void *info, const char *s)
{
    glpk_msgs *c = info;
    for (; *s; s++) {
        if (*s == '\n')
            msgs_line(c);
        else if (c->len < sizeof c->line - 1)
            c->line[c->len++] = *s;
    }
    return 1; /* nonzero: GLPK writes nothing to stdout itself */
}

static int memfd_with(const char *data, size_t len, const char *source, int *fd_out, nq_err *err)
{
    int fd = memfd_create("nqba-glpk", MFD_CLOEXEC);
    if (fd < 0)
        return nq_err_set(err, NQ_EIO, source, "cannot create an in-memory file: %s",
                          strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return nq_err_set(err, NQ_EIO, source, "cannot fill an in-memory file: %s",
                              strerror(e));
        }
        off += (size_t)w;
    }
    *fd_out = fd;
    return 0;
}

/* Run GLPK's reader on the in-memory file with its output captured. GLPK
 * has no call that returns the current terminal hook, so the hook is reset
 * to none afterwards; the output switch is restored to what it was. */
static int glpk_read(glp_prob *P, int fd, const char *format, glpk_msgs *c)
{
    snprintf(c->fname, sizeof c->fname, "/proc/self/fd/%d", fd);
    c->err_line = -1;
    int was_on = glp_term_out(GLP_ON); /* the hook is only called while output is on */
    glp_term_hook(msgs_hook, c);
    int rc;
    if (strcmp(format, "lp") == 0)
        rc = glp_read_lp(P, NULL, c->fname);
    else
        rc = glp_read_mps(P, strcmp(format, "mps") == 0 ? GLP_MPS_FILE : GLP_MPS_DECK, NULL,
                          c->fname);
    glp_term_hook(NULL, NULL);
    glp_term_out(was_on);
    if (c->len)
        msgs_line(c); /* a last line without its newline */
    return rc;
}

/* Copy s into out with every occurrence of the /proc name replaced by
 * source, so no message shows the private file name. */
static void rename_file(const char *s, const char *fname, const char *source, char *out, size_t cap)
{
    size_t fl = strlen(fname), o = 0;
    out[0] = '\0';
    while (*s && o + 1 < cap) {
        if (strncmp(s, fname, fl) == 0) {
            o += (size_t)snprintf(out + o, cap - o, "%s", source);
            s += fl;
        } else {
            out[o++] = *s++;
            out[o] = '\0';
        }
    }
}

static int parse_error(const glpk_msgs *c, const char *source, nq_err *err)
{
    char msg[NQ_ERR_MSG_MAX];
    if (c->err_line >= 0) {
        rename_file(c->reason, c->fname, source, msg, sizeof msg);
        return nq_err_set_line(err, NQ_EPARSE, source, c->err_line, "%s", msg);
    }
    rename_file(c->other[0] ? c->other : "GLPK could not read the document", c->fname, source, msg,
                sizeof msg);
    return nq_err_set(err, NQ_EPARSE, source, "%s", msg);
}

/* A builder call failed: keep its code and message, but locate the error
 * at the document and say which column or row it concerns. */
static int at_source(nq_err *err, int rc, const char *source, const char *what, const char *name)
{
    if (!err)
        return rc;
    char msg[NQ_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return nq_err_set(err, rc, source, "%s %.64s: %s", what, name, msg);
}

/* The name of column j or row i, or a default when GLPK has none. */
static const char *glpk_name(const char *name, char prefix, int k, char *buf, size_t cap)
{
    if (name && *name)
        return name;
    snprintf(buf, cap, "%c%d", prefix, k);
    return buf;
}

static int integer_bounds(glp_prob *P, int j, const char *name, const char *source, int64_t *lb,
                          int64_t *ub, nq_err *err)
{
    int type = glp_get_col_type(P, j);
    if (type != GLP_DB && type != GLP_FX)
        return nq_err_set(err, NQ_EINVAL, source,
                          "column %.64s: integer variable needs finite bounds", name);
    double l = glp_get_col_lb(P, j), u = glp_get_col_ub(P, j);
    if (l != floor(l) || u != floor(u))
        return nq_err_set(err, NQ_EINVAL, source,
                          "column %.64s: integer bounds %g..%g are not whole numbers", name, l, u);
    if (fabs(l) > (double)NQ_CQM_MAX_INT || fabs(u) > (double)NQ_CQM_MAX_INT)
        return nq_err_set(err, NQ_ERANGE, source,
                          "column %.64s: integer bounds must lie within +-%lld", name,
                          (long long)NQ_CQM_MAX_INT);
    *lb = (int64_t)l;
    *ub = (int64_t)u;
    return 0;
}

/* Column j becomes variable j-1 (binary or integer) with its objective
 * coefficient. */
static int add_column(nq_cqm *m, glp_prob *P, int j, const char *source, nq_err *err)
{
    char buf[32];
    const char *name = glpk_name(glp_get_col_name(P, j), 'x', j, buf, sizeof buf);
    if (strchr(name, '='))
        return nq_err_set(err, NQ_EINVAL, source,
                          "column %.64s: names containing '=' are not supported", name);
    int kind = glp_get_col_kind(P, j), v;
    if (kind == GLP_CV)
        return nq_err_set(err, NQ_EINVAL, source,
                          "column %.64s: continuous variables are not supported", name);
    if (kind == GLP_BV) {
        v = nq_cqm_add_binary(m, name, err);
    } else {
        int64_t lb = 0, ub = 0;
        int rc = integer_bounds(P, j, name, source, &lb, &ub, err);
        if (rc)
            return rc;
        v = nq_cqm_add_integer(m, name, lb, ub, err);
    }
    if (v < 0)
        return at_source(err, v, source, "column", name);
    double c = glp_get_obj_coef(P, j);
    int rc = c != 0.0 ? nq_cqm_obj_linear(m, 0, m->vars[v].atom, c, err) : 0;
    return rc ? at_source(err, rc, source, "column", name) : 0;
}

/* One hard constraint over the row's coefficients (ind/val 1-based). */
static int add_con(nq_cqm *m, const char *name, nq_cqm_sense sense, double rhs, int len,
                   const int *ind, const double *val, const char *source, nq_err *err)
{
    int c = nq_cqm_add_constraint(m, name, sense, rhs, 1, -1.0, err);
    if (c < 0)
        return at_source(err, c, source, "row", name);
    for (int k = 1; k <= len; k++) {
        int rc = nq_cqm_con_linear(m, c, m->vars[ind[k] - 1].atom, val[k], err);
        if (rc)
            return at_source(err, rc, source, "row", name);
    }
    return 0;
}

/* Row i: <=, >= or == as one constraint, a range as two ("row.lo" and
 * "row.hi"); free rows constrain nothing and are skipped. */
static int add_row(nq_cqm *m, glp_prob *P, int i, int *ind, double *val, const char *source,
                   nq_err *err)
{
    int type = glp_get_row_type(P, i);
    if (type == GLP_FR)
        return 0;
    char buf[32], name[GLPK_NAME_BUF];
    const char *row = glpk_name(glp_get_row_name(P, i), 'r', i, buf, sizeof buf);
    int len = glp_get_mat_row(P, i, ind, val);
    double lb = glp_get_row_lb(P, i), ub = glp_get_row_ub(P, i);
    if (type == GLP_UP)
        return add_con(m, row, NQ_CQM_LE, ub, len, ind, val, source, err);
    if (type == GLP_LO)
        return add_con(m, row, NQ_CQM_GE, lb, len, ind, val, source, err);
    if (type == GLP_FX)
        return add_con(m, row, NQ_CQM_EQ, lb, len, ind, val, source, err);
    snprintf(name, sizeof name, "%s.lo", row);
    int rc = add_con(m, name, NQ_CQM_GE, lb, len, ind, val, source, err);
    if (rc)
        return rc;
    snprintf(name, sizeof name, "%s.hi", row);
    return add_con(m, name, NQ_CQM_LE, ub, len, ind, val, source, err);
}

static int convert(glp_prob *P, const char *source, nq_cqm *m, nq_err *err)
{
    int n = glp_get_num_cols(P), rows = glp_get_num_rows(P);
    m->maximize = glp_get_obj_dir(P) == GLP_MAX;
    m->offset = glp_get_obj_coef(P, 0);
    if (!isfinite(m->offset) || fabs(m->offset) > NQ_CQM_MAX_COEF)
        return nq_err_set(err, NQ_ERANGE, source, "objective constant must be at most %g",
                          NQ_CQM_MAX_COEF);
    for (int j = 1; j <= n; j++) {
        int rc = add_column(m, P, j, source, err);
        if (rc)
            return rc;
    }
    int *ind = malloc((size_t)(n + 1) * sizeof *ind);
    double *val = malloc((size_t)(n + 1) * sizeof *val);
    int rc = ind && val ? 0 : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int i = 1; i <= rows && !rc; i++)
        rc = add_row(m, P, i, ind, val, source, err);
    free(ind);
    free(val);
    return rc ? rc : nq_cqm_finish(m, err);
}

static int check_args(const char *data, size_t len, const char *format, nq_cqm *out, nq_err *err)
{
    if (!out || (!data && len))
        return nq_err_set(err, NQ_EINVAL, NULL, "no model or no data");
    if (!format || (strcmp(format, "mps") != 0 && strcmp(format, "mps-fixed") != 0 &&
                    strcmp(format, "lp") != 0))
        return nq_err_set(err, NQ_EINVAL, "format", "format must be mps, mps-fixed or lp");
    if (len > GLPK_MAX_INPUT)
        return nq_err_set(err, NQ_ELIMIT, NULL, "input larger than %zu MiB", GLPK_MAX_INPUT >> 20);
    return 0;
}

int nq__glpk_read(const char *data, size_t len, const char *source, const char *format,
                  glp_prob **out, nq_err *err)
{
    *out = NULL;
    int fd = -1, rc = memfd_with(data ? data : "", len, source, &fd, err);
    if (rc)
        return rc;
    glp_prob *P = glp_create_prob();
    glpk_msgs c = {.len = 0};
    int bad = glpk_read(P, fd, format, &c);
    close(fd);
    if (bad) {
        glp_delete_prob(P);
        return parse_error(&c, source, err);
    }
    *out = P;
    return NQ_OK;
}

int nq_cqm_read_glpk(const char *data, size_t len, const char *source, const char *format,
                     nq_cqm *out, nq_err *err)
{
    if (out)
        nq_cqm_init(out);
    int rc = check_args(data, len, format, out, err);
    if (rc)
        return rc;
    if (!source || !*source)
        source = "input";
    glp_prob *P = NULL;
    rc = nq__glpk_read(data, len, source, format, &P, err);
    if (rc)
        return rc;
    rc = convert(P, source, out, err);
    glp_delete_prob(P);
    if (rc)
        nq_cqm_free(out);
    return rc;
}
