/* store_fixture.h - fresh databases for the store tests: a SQLite file in
 * a new directory, or a new PostgreSQL schema (NQ_TEST_PG_URL; selected
 * through the URL's options) so that tests never see each other's rows.
 * Include after cmocka.h; uses the driver interface for raw SQL. */
#ifndef NQBA_TEST_STORE_FIXTURE_H
#define NQBA_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/store/store_internal.h"
#include "nqba/store.h"

typedef struct backend {
    const char *name;
    char url[768];
    char dir[64];
} backend;

/* Raw SQL (several statements allowed), as an operator or an attacker
 * with database access would run it. */
static inline int raw(nq_store *s, const char *sql)
{
    nq__db *db;
    nq_err err;
    int rc = nq__get(s, &db, &err);
    if (rc)
        return rc;
    rc = s->drv->script(db, sql, &err);
    if (rc)
        print_message("raw %s: %s\n", sql, err.msg);
    nq__put(s, db, 0);
    return rc;
}

/* 0 with b ready, 1 when kind is PostgreSQL and no server is configured
 * (the caller skips), -1 on failure. */
static inline int fresh(const char *kind, backend *b)
{
    static int counter; /* schema names: pid and a count, unique per run */
    memset(b, 0, sizeof *b);
    b->name = kind;
    if (strcmp(kind, "sqlite") == 0) {
        snprintf(b->dir, sizeof b->dir, "/tmp/nqstoreXXXXXX");
        if (!mkdtemp(b->dir))
            return -1;
        snprintf(b->url, sizeof b->url, "%s/nqba.db", b->dir);
        return 0;
    }
    const char *base = getenv("NQ_TEST_PG_URL");
    if (!base || !base[0])
        return 1;
    char schema[64], create[192];
    snprintf(schema, sizeof schema, "nqt_%d_%d", (int)getpid(), ++counter);
    snprintf(create, sizeof create, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema,
             schema);
    nq_store *s;
    nq_err err;
    if (nq_store_open(base, 1, &s, &err))
        return -1;
    int rc = raw(s, create);
    nq_store_close(s);
    if (rc)
        return -1;
    snprintf(b->url, sizeof b->url, "%s%soptions=-csearch_path%%3D%s", base,
             strchr(base, '?') ? "&" : "?", schema);
    return 0;
}

static inline void cleanup(backend *b)
{
    if (b->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
        if (system(cmd) != 0)
            print_message("could not remove %s\n", b->dir);
    }
}

#endif
