/* cli_run.h - running the real nqba binary ($NQ_BIN) from the CLI tests:
 * a temporary directory per test group, input files written there, and the
 * exit status, stdout and stderr of each run (include after cmocka.h). */
#ifndef NQ_TEST_CLI_RUN_H
#define NQ_TEST_CLI_RUN_H

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PATH_MAX_LEN 1024
#define MAX_ARGS 32

typedef struct env {
    const char *bin;    /* the nqba binary */
    const char *shared; /* NQ_SHARED_DIR */
    char dir[PATH_MAX_LEN / 2];
} env;

typedef struct run_out {
    int status; /* exit status; -1 if the process did not exit normally */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
} run_out;

/* ---- files ---- */

static inline char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t got;
    while ((got = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
            assert_non_null(s);
        }
    }
    fclose(f);
    s[len] = '\0';
    if (len_out)
        *len_out = len;
    return s;
}

static inline void path_in(const env *e, const char *name, char out[PATH_MAX_LEN])
{
    snprintf(out, PATH_MAX_LEN, "%s/%s", e->dir, name);
}

/* Write data to e->dir/name; the full path goes to out. */
static inline void write_tmp(const env *e, const char *name, const char *data, size_t len,
                             char out[PATH_MAX_LEN])
{
    path_in(e, name, out);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline void write_tmp_str(const env *e, const char *name, const char *data,
                                 char out[PATH_MAX_LEN])
{
    write_tmp(e, name, data, strlen(data), out);
}

/* ---- running the binary ---- */

static inline void spawn_files(const env *e, const char *in_path, posix_spawn_file_actions_t *fa)
{
    char out[PATH_MAX_LEN], err[PATH_MAX_LEN];
    path_in(e, "run.stdout", out);
    path_in(e, "run.stderr", err);
    assert_int_equal(posix_spawn_file_actions_init(fa), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(fa, 0, in_path ? in_path : "/dev/null", O_RDONLY, 0), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
}

/* Run nqba with argv (NULL-terminated, without argv[0]) and stdin from
 * in_path (NULL: /dev/null). Output goes through files, not pipes, so a
 * large stdout can never deadlock against an unread stderr. */
static inline void run_argv(const env *e, const char *in_path, const char *const *args, run_out *r)
{
    char *argv[MAX_ARGS + 2];
    int n = 0;
    argv[n++] = (char *)e->bin;
    for (; args[n - 1] && n <= MAX_ARGS; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    spawn_files(e, in_path, &fa);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, e->bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    char path[PATH_MAX_LEN];
    path_in(e, "run.stdout", path);
    r->out = slurp(path, NULL);
    path_in(e, "run.stderr", path);
    r->err = slurp(path, NULL);
}

static inline void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* nqba(e, &r, in_path, "solve", file, ..., NULL) */
static inline void nqba(const env *e, run_out *r, const char *in_path, ...)
    __attribute__((sentinel));
static inline void nqba(const env *e, run_out *r, const char *in_path, ...)
{
    const char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, in_path);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < MAX_ARGS);
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    run_argv(e, in_path, args, r);
}

static inline void expect_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("expected to find \"%s\" in:\n%s", needle, haystack);
}

/* Parse stdout of a successful --json run. */
static inline json_t *run_json(const env *e, run_out *r)
{
    if (r->status != 0)
        fail_msg("nqba exited %d; stderr:\n%s", r->status, r->err);
    (void)e;
    json_error_t jerr;
    json_t *j = json_loads(r->out, 0, &jerr);
    if (!j)
        fail_msg("stdout is not JSON (%s): %s", jerr.text, r->out);
    assert_true(json_is_object(j));
    return j;
}

static inline double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("member \"%s\" is missing or not a number", key);
    return json_number_value(v);
}

static inline int flag(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v))
        fail_msg("member \"%s\" is missing or not a boolean", key);
    return json_is_true(v);
}

/* ---- setup ---- */

static inline int group_setup(void **state)
{
    env *e = calloc(1, sizeof *e); /* handed to every test through *state */
    if (!e)
        return -1;
    e->bin = getenv("NQ_BIN");
    e->shared = getenv("NQ_SHARED_DIR");
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/nqba-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!e->bin || !e->shared) {
        fprintf(stderr, "NQ_BIN and NQ_SHARED_DIR must be set (ctest sets them)\n");
        free(e);
        return -1;
    }
    if (!mkdtemp(e->dir)) {
        free(e);
        return -1;
    }
    *state = e;
    return 0;
}

static inline int group_teardown(void **state)
{
    env *e = *state;
    if (!e) /* setup failed */
        return 0;
    DIR *d = opendir(e->dir);
    if (d) {
        struct dirent *de;
        char p[PATH_MAX_LEN];
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.') {
                path_in(e, de->d_name, p);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(e->dir);
    free(e);
    return 0;
}

#endif
