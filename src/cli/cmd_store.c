/* cmd_store.c - store administration: `nqba migrate`, `nqba audit verify`,
 * `nqba export` and `nqba import` (docs/internals/store-admin.md).
 *
 * The four share their options (--db and a few more, each command taking
 * the ones it understands) and how they open the store: migrate and import
 * bring the schema up to date first, the readers (export, audit verify)
 * refuse a database that is missing or not migrated rather than create
 * one. The commands' own messages name a SQLite file but never print a
 * PostgreSQL URL, which may carry a password. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_store.h"
#include "nqba/buf.h"
#include "nqba/clock.h"
#include "nqba/store.h"

#define OUT_PATH_MAX 4096
#define READ_CHUNK (1 << 16)

#define DB_HELP                                                                                    \
    "  --db URL     the store: a SQLite file (PATH or sqlite:PATH) or\n"                           \
    "               postgresql://user@host:port/db (default: $NQBA_DB, "                           \
    "else " NQ_STORE_DEFAULT_PATH ")\n"

/* ---- options ---- */

enum { OPT_DB = 1, OPT_JSON = 2, OPT_SINCE = 4, OPT_OUT = 8, ARG_FILE = 16 };

typedef struct store_args {
    const char *cmd;  /* "migrate", "audit verify", ...: for messages */
    const char *db;   /* resolved: --db, $NQBA_DB or the default */
    const char *out;  /* --out, or NULL for standard output */
    const char *file; /* import's FILE */
    double since;     /* --since, Unix seconds; 0 = everything */
    int json;
} store_args;

static int usage_error(const store_args *a, const char *what, const char *arg)
{
    fprintf(stderr, "nqba %s: %s%s%s%s\nTry 'nqba %s --help'.\n", a->cmd, what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "", a->cmd);
    return CLI_EXIT_USAGE;
}

/* RFC 3339 or Unix seconds, from 1970 on. */
static int parse_since(store_args *a, const char *v)
{
    static const char expected[] = "an RFC 3339 time (2026-01-31T00:00:00Z) or Unix seconds";
    double t = -1;
    if (nq_clock_parse_rfc3339(v, &t) != 0) {
        char *end;
        errno = 0;
        t = v[0] >= '0' && v[0] <= '9' ? strtod(v, &end) : -1;
        if (t >= 0 && (*end || errno == ERANGE || !isfinite(t)))
            t = -1;
    }
    if (t < 0)
        return cli_bad_value(a->cmd, "--since", expected, v);
    a->since = t;
    return 0;
}

static int set_opt(store_args *a, int opt, const char *value)
{
    switch (opt) {
    case OPT_DB:
        a->db = value;
        return 0;
    case OPT_OUT:
        a->out = value;
        return 0;
    case OPT_SINCE:
        return parse_since(a, value);
    default:
        a->json = 1;
        return 0;
    }
}

/* "--name", "--name=value" or "--name value", among the allowed ones. */
static int apply_opt(store_args *a, int allowed, int argc, char **argv, int *i)
{
    static const struct {
        const char *name;
        int opt, takes_value;
    } opts[] = {{"--db", OPT_DB, 1},
                {"--json", OPT_JSON, 0},
                {"--since", OPT_SINCE, 1},
                {"--out", OPT_OUT, 1}};
    const char *eq = strchr(argv[*i], '=');
    size_t len = eq ? (size_t)(eq - argv[*i]) : strlen(argv[*i]);
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (!(allowed & opts[k].opt) || strlen(opts[k].name) != len ||
            strncmp(opts[k].name, argv[*i], len) != 0)
            continue;
        const char *value = eq ? eq + 1 : NULL;
        if (!opts[k].takes_value && value)
            return usage_error(a, "option takes no value:", argv[*i]);
        if (opts[k].takes_value && !value && *i + 1 >= argc)
            return usage_error(a, "missing value for", opts[k].name);
        if (opts[k].takes_value && !value)
            value = argv[++*i];
        if (opts[k].takes_value && !value[0])
            return usage_error(a, "empty value for", opts[k].name);
        return set_opt(a, opts[k].opt, value);
    }
    return usage_error(a, "unknown option", argv[*i]);
}

/* Returns 0, CLI_EXIT_USAGE after printing why, or -1 when help was asked. */
static int parse_args(int argc, char **argv, int allowed, store_args *a)
{
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (!only_files && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0))
            return -1;
        if (!only_files && strcmp(arg, "--") == 0)
            only_files = 1;
        else if (!only_files && arg[0] == '-' && arg[1] != '\0')
            rc = apply_opt(a, allowed, argc, argv, &i);
        else if (!(allowed & ARG_FILE) || a->file)
            rc = usage_error(a, "unexpected argument", arg);
        else
            a->file = arg;
        if (rc)
            return rc;
    }
    if ((allowed & ARG_FILE) && !a->file)
        return usage_error(a, "missing FILE", NULL);
    const char *env = getenv("NQBA_DB");
    if (!a->db)
        a->db = env && env[0] ? env : NQ_STORE_DEFAULT_PATH;
    return 0;
}

/* ---- opening the store ---- */

static int db_error(const store_args *a, const nq_err *err, int status)
{
    char msg[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 8];
    fprintf(stderr, "nqba %s: %s\n", a->cmd, nq_err_format(err, msg, sizeof msg));
    return status;
}

/* The SQLite file a URL names, or NULL for PostgreSQL. */
static const char *sqlite_file(const char *url)
{
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        return NULL;
    return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

/* The readers' store: it must exist (SQLite would create an empty file)
 * and be at this program's schema version. */
static int open_existing(const store_args *a, int fail_status, nq_store **s)
{
    const char *file = sqlite_file(a->db);
    struct stat st;
    if (file && stat(file, &st) != 0) {
        fprintf(stderr, "nqba %s: %s: no such database (create one with 'nqba migrate')\n", a->cmd,
                file);
        return CLI_EXIT_USAGE;
    }
    nq_err err;
    nq_err_clear(&err);
    int version = 0;
    if (nq_store_open(a->db, 1, s, &err) || nq_store_schema_version(*s, &version, &err)) {
        nq_store_close(*s);
        *s = NULL;
        return db_error(a, &err, fail_status);
    }
    if (version == nq_store_latest_version(*s))
        return 0;
    fprintf(stderr, "nqba %s: the database is at schema version %d, this program's is %d%s\n",
            a->cmd, version, nq_store_latest_version(*s),
            version < nq_store_latest_version(*s) ? ": run 'nqba migrate'" : "");
    nq_store_close(*s);
    *s = NULL;
    return CLI_EXIT_USAGE;
}

/* migrate and import: open and migrate, creating var/ for the default
 * file as `nqba serve` does. */
static int open_migrated(const store_args *a, nq_store **s, int *applied, int *version)
{
    if (strcmp(a->db, NQ_STORE_DEFAULT_PATH) == 0 && mkdir("var", 0700) != 0 && errno != EEXIST)
        fprintf(stderr, "nqba %s: cannot create var/: %s\n", a->cmd, strerror(errno));
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_open(a->db, 1, s, &err);
    if (!rc)
        rc = nq_store_migrate(*s, applied, &err);
    if (!rc)
        rc = nq_store_schema_version(*s, version, &err);
    if (!rc)
        return 0;
    nq_store_close(*s);
    *s = NULL;
    return db_error(a, &err, rc == NQ_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL);
}

/* ---- nqba migrate ---- */

void cli_migrate_usage(FILE *out)
{
    fputs("usage: nqba migrate [--db URL]\n"
          "\n"
          "Bring the store's schema up to date: apply the migrations it lacks, then\n"
          "print the schema version and how many migrations ran. Nodes that run this\n"
          "at once apply each migration once.\n"
          "\n"
          "options:\n" DB_HELP "  --help       show this help\n"
          "\n"
          "Exit status: 0 up to date, 1 the database failed, 2 usage or a database\n"
          "newer than this program.\n",
          out);
}

int cli_migrate_run(int argc, char **argv)
{
    store_args a = {"migrate", NULL, NULL, NULL, 0, 0};
    int rc = parse_args(argc, argv, OPT_DB, &a);
    if (rc < 0) {
        cli_migrate_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    nq_store *s = NULL;
    int applied = 0, version = 0;
    rc = open_migrated(&a, &s, &applied, &version);
    if (rc)
        return rc;
    printf("%s: schema version %d (%d migration%s applied)\n", nq_store_backend(s), version,
           applied, applied == 1 ? "" : "s");
    nq_store_close(s);
    return CLI_EXIT_OK;
}

/* ---- nqba audit verify ---- */

void cli_audit_usage(FILE *out)
{
    fputs("usage: nqba audit verify [--db URL] [--json]\n"
          "\n"
          "Walk the audit log's hash chain in order and compare its end with the\n"
          "recorded head. Prints that the chain verifies, or the first entry that\n"
          "breaks it and why (edited, deleted, inserted, reordered, cut off).\n"
          "\n"
          "options:\n" DB_HELP
          "  --json       print the report as JSON: {\"ok\", \"entries\", \"head_seq\",\n"
          "               \"first_bad_seq\", \"reason\"}\n"
          "  --help       show this help\n"
          "\n"
          "Exit status: 0 the chain verifies, 1 it is broken, 2 usage or database\n"
          "errors.\n",
          out);
}

static int print_report(const nq_audit_report *r, int json)
{
    if (json) {
        json_t *doc = nq_audit_report_json(r);
        int bad = !doc || json_dumpf(doc, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF;
        json_decref(doc);
        if (bad)
            fputs("nqba audit verify: cannot write the report\n", stderr);
    } else if (r->ok) {
        printf("the audit log verifies: %lld entries, head at entry %lld\n", (long long)r->entries,
               (long long)r->head_seq);
    } else {
        printf("the audit log is BROKEN at entry %lld: %s\n"
               "(%lld entries read, head at entry %lld)\n",
               (long long)r->first_bad_seq, r->reason, (long long)r->entries,
               (long long)r->head_seq);
    }
    return r->ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_audit_run(int argc, char **argv)
{
    store_args a = {"audit verify", NULL, NULL, NULL, 0, 0};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_audit_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, "nqba audit: %s%s%s\nTry 'nqba audit --help'.\n",
                argc < 2 ? "missing subcommand (verify)" : "unknown subcommand '",
                argc < 2 ? "" : argv[1], argc < 2 ? "" : "' (verify)");
        return CLI_EXIT_USAGE;
    }
    int rc = parse_args(argc - 1, argv + 1, OPT_DB | OPT_JSON, &a);
    if (rc < 0) {
        cli_audit_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    nq_store *s = NULL;
    rc = open_existing(&a, CLI_EXIT_USAGE, &s);
    if (rc)
        return rc;
    nq_audit_report r;
    nq_err err;
    nq_err_clear(&err);
    rc = nq_store_audit_verify(s, &r, &err);
    nq_store_close(s);
    if (rc)
        return db_error(&a, &err, CLI_EXIT_USAGE);
    return print_report(&r, a.json);
}

/* ---- nqba export ---- */

void cli_export_usage(FILE *out)
{
    fputs("usage: nqba export [--db URL] [--since T] [--out FILE]\n"
          "\n"
          "Write the store as JSON lines: every decision, then every audit entry,\n"
          "then the audit head, all read from one snapshot (a server may keep\n"
          "writing meanwhile). A full export is a backup that 'nqba import' restores.\n"
          "\n"
          "options:\n" DB_HELP
          "  --since T    only the decisions and audit entries from T on: RFC 3339\n"
          "               (2026-01-31T00:00:00Z) or Unix seconds. Such an export is for\n"
          "               reading: its audit log is not a whole chain, so it cannot\n"
          "               be imported.\n"
          "  --out FILE   write FILE instead of standard output; FILE appears only\n"
          "               when the export is complete (it is written as FILE.tmp and\n"
          "               renamed)\n"
          "  --help       show this help\n"
          "\n"
          "Exit status: 0 written, 1 the database or the output failed, 2 usage.\n",
          out);
}

typedef struct line_sink {
    FILE *f;
    int write_errno; /* nonzero: a write failed */
    long decisions, audit_entries;
} line_sink;

static int write_line(void *user, const char *line, size_t len)
{
    static const char decision[] = "{\"type\":\"decision\"";
    static const char audit[] = "{\"type\":\"audit\"";
    line_sink *w = user;
    errno = 0;
    if (fwrite(line, 1, len, w->f) != len || fputc('\n', w->f) == EOF) {
        w->write_errno = errno ? errno : EIO;
        return 1;
    }
    /* The type is always the first member of an exported line. */
    w->decisions += strncmp(line, decision, sizeof decision - 1) == 0;
    w->audit_entries += strncmp(line, audit, sizeof audit - 1) == 0;
    return 0;
}

/* Flush, sync and close the temporary file, then put it in place. */
static int finish_file(FILE *f, const char *tmp, const char *path)
{
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    int saved = errno;
    bad |= fclose(f) != 0;
    if (!bad && rename(tmp, path) == 0)
        return 0;
    if (!bad)
        saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
}

static int export_to(const store_args *a, nq_store *s, FILE *f, line_sink *w)
{
    nq_err err;
    nq_err_clear(&err);
    w->f = f;
    int rc = nq_store_export(s, a->since, write_line, w, &err);
    if (rc && w->write_errno) {
        fprintf(stderr, "nqba export: %s: write error: %s\n", a->out ? a->out : "stdout",
                strerror(w->write_errno));
        return CLI_EXIT_FAIL;
    }
    return rc ? db_error(a, &err, CLI_EXIT_FAIL) : 0;
}

static int export_file(const store_args *a, nq_store *s)
{
    char tmp[OUT_PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", a->out) >= sizeof tmp)
        return usage_error(a, "--out path too long:", a->out);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "nqba export: %s: %s\n", tmp, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    line_sink w = {f, 0, 0, 0};
    int rc = export_to(a, s, f, &w);
    if (rc) {
        fclose(f);
        unlink(tmp);
        return rc;
    }
    if (finish_file(f, tmp, a->out)) {
        fprintf(stderr, "nqba export: %s: %s\n", a->out, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr, "nqba export: %s: %ld decision%s, %ld audit entr%s\n", a->out, w.decisions,
            w.decisions == 1 ? "" : "s", w.audit_entries, w.audit_entries == 1 ? "y" : "ies");
    return CLI_EXIT_OK;
}

int cli_export_run(int argc, char **argv)
{
    store_args a = {"export", NULL, NULL, NULL, 0, 0};
    int rc = parse_args(argc, argv, OPT_DB | OPT_SINCE | OPT_OUT, &a);
    if (rc < 0) {
        cli_export_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    nq_store *s = NULL;
    rc = open_existing(&a, CLI_EXIT_FAIL, &s);
    if (rc)
        return rc;
    line_sink w = {stdout, 0, 0, 0};
    rc = a.out ? export_file(&a, s) : export_to(&a, s, stdout, &w);
    nq_store_close(s);
    return rc;
}

/* ---- nqba import ---- */

void cli_import_usage(FILE *out)
{
    fputs("usage: nqba import [--db URL] FILE|-\n"
          "\n"
          "Restore an export (nqba export) into a fresh store: migrate it, then add\n"
          "every line of FILE ('-': standard input) in one transaction, so that a bad\n"
          "line leaves the store as it was. Decisions keep their ids; the audit log\n"
          "is copied verbatim, hashes included, and only into an empty one. The\n"
          "restored audit log is verified at the end.\n"
          "\n"
          "options:\n" DB_HELP "  --help       show this help\n"
          "\n"
          "Exit status: 0 imported and the audit log verifies; 1 nothing imported (a\n"
          "bad line, reported as FILE:LINE: reason, or a database error) or the\n"
          "restored audit log does not verify; 2 usage or an unreadable FILE.\n",
          out);
}

/* Lines of at most NQ_STORE_LINE_MAX bytes, read through a fixed chunk so
 * that an endless line costs that much memory and no more. */
typedef struct line_reader {
    FILE *f;
    char chunk[READ_CHUNK];
    size_t pos, len;
    int eof;
    nq_buf line; /* the current line, without its newline */
    long n;      /* lines read */
} line_reader;

enum { LINE_END = 0, LINE_OK = 1, LINE_TOO_LONG = -1, LINE_READ_ERROR = -2, LINE_NO_MEMORY = -3 };

static int next_line(line_reader *r)
{
    int got = 0;
    nq_buf_reset(&r->line);
    for (;;) {
        if (r->pos == r->len) {
            r->pos = 0;
            r->len = r->eof ? 0 : fread(r->chunk, 1, sizeof r->chunk, r->f);
            if (r->len == 0 && ferror(r->f))
                return LINE_READ_ERROR;
            if (r->len == 0) {
                r->eof = 1;
                break;
            }
        }
        const char *start = r->chunk + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t take = nl ? (size_t)(nl - start) : r->len - r->pos;
        got = 1;
        int rc = nq_buf_append(&r->line, start, take);
        if (rc) {
            r->n++; /* the line the error names */
            return rc == NQ_ELIMIT ? LINE_TOO_LONG : LINE_NO_MEMORY;
        }
        r->pos += take + (nl != NULL);
        if (nl)
            break;
    }
    r->n += got;
    return got ? LINE_OK : LINE_END;
}

static int read_failed(const line_reader *r, const char *source, int status)
{
    if (status == LINE_TOO_LONG)
        fprintf(stderr, "nqba: %s:%ld: the line is longer than %zu MiB\n", source, r->n,
                NQ_STORE_LINE_MAX >> 20);
    else if (status == LINE_NO_MEMORY)
        fprintf(stderr, "nqba: %s:%ld: out of memory reading the line\n", source, r->n);
    else
        fprintf(stderr, "nqba: %s: read error: %s\n", source, strerror(errno));
    return CLI_EXIT_FAIL;
}

/* "FILE:N: /member: message": the library's location is "line N" and then
 * the member, which follows the file's name here. */
static int line_failed(const char *source, long n, const nq_err *err)
{
    const char *member = err->where;
    if (strncmp(member, "line ", 5) == 0) {
        member += 5 + strspn(member + 5, "0123456789");
        member += strncmp(member, ": ", 2) == 0 ? 2 : 0;
    }
    fprintf(stderr, "nqba: %s:%ld: %s%s%s\n", source, n, member, member[0] ? ": " : "", err->msg);
    return CLI_EXIT_FAIL;
}

/* Every line into im; NQ_OK only when all went in. */
static int import_lines(line_reader *r, const char *source, nq_store_import *im)
{
    nq_err err;
    nq_err_clear(&err);
    int st;
    while ((st = next_line(r)) == LINE_OK) {
        const char *text = r->line.data ? r->line.data : "";
        if (nq_store_import_line(im, text, r->line.len, &err))
            return line_failed(source, r->n, &err);
    }
    return st == LINE_END ? 0 : read_failed(r, source, st);
}

static int verify_after(const store_args *a, nq_store *s)
{
    nq_audit_report r;
    nq_err err;
    nq_err_clear(&err);
    if (nq_store_audit_verify(s, &r, &err))
        return db_error(a, &err, CLI_EXIT_FAIL);
    if (r.ok) {
        printf("the audit log verifies: %lld entries, head at entry %lld\n", (long long)r.entries,
               (long long)r.head_seq);
        return CLI_EXIT_OK;
    }
    fprintf(stderr,
            "nqba import: the restored audit log does not verify: entry %lld: %s\n"
            "(the data is imported; 'nqba audit verify' shows the report)\n",
            (long long)r.first_bad_seq, r.reason);
    return CLI_EXIT_FAIL;
}

static int import_from(const store_args *a, nq_store *s, line_reader *r, const char *source)
{
    nq_store_import *im = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (nq_store_import_begin(s, &im, &err))
        return db_error(a, &err, CLI_EXIT_FAIL);
    int rc = import_lines(r, source, im);
    int64_t decisions = 0, audit_entries = 0;
    nq_store_import_counts(im, &decisions, &audit_entries);
    if (rc) {
        nq_store_import_end(im, 0, &err);
        return rc;
    }
    if (nq_store_import_end(im, 1, &err)) {
        cli_print_input_error(source, &err);
        return CLI_EXIT_FAIL;
    }
    printf("imported %lld decision%s and %lld audit entr%s from %s\n", (long long)decisions,
           decisions == 1 ? "" : "s", (long long)audit_entries, audit_entries == 1 ? "y" : "ies",
           source);
    return verify_after(a, s);
}

/* fopen succeeds on a directory and only the first read fails: catch it
 * before the store is touched. */
static int open_input(const char *path, const char *source, FILE **out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct stat st;
    if (!f) {
        fprintf(stderr, "nqba: %s: %s\n", source, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nqba: %s: is a directory\n", source);
        fclose(f);
        return CLI_EXIT_USAGE;
    }
    *out = f;
    return 0;
}

int cli_import_run(int argc, char **argv)
{
    store_args a = {"import", NULL, NULL, NULL, 0, 0};
    int rc = parse_args(argc, argv, OPT_DB | ARG_FILE, &a);
    if (rc < 0) {
        cli_import_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    int from_stdin = strcmp(a.file, "-") == 0;
    const char *source = from_stdin ? "stdin" : a.file;
    line_reader *r = calloc(1, sizeof *r); /* its chunk is kept off the stack */
    if (!r) {
        fputs("nqba import: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    nq_buf_init(&r->line, NQ_STORE_LINE_MAX);
    rc = open_input(a.file, source, &r->f);
    if (rc) {
        free(r);
        return rc;
    }
    nq_store *s = NULL;
    int applied = 0, version = 0;
    rc = open_migrated(&a, &s, &applied, &version);
    if (!rc)
        rc = import_from(&a, s, r, source);
    nq_store_close(s);
    if (!from_stdin)
        fclose(r->f);
    nq_buf_free(&r->line);
    free(r);
    return rc;
}
