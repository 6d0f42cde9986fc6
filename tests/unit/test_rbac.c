/* test_rbac.c - the permission table: the built-in matrix, grants, and the
 * store's seeded permissions equal to it on both backends; users in the
 * store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "nqba/rbac.h"
#include "srv.h"
#include "store_fixture.h"

/* The matrix as documented in rbac.h, written out independently: for
 * each role, read, run and manage ('x' = allowed) on the business units
 * and on system. */
static const struct {
    const char *role;
    const char *business; /* on nqba, flyfox, goliath, sigma */
    const char *system;
} MATRIX[] = {
    {"admin", "xxx", "xxx"},   {"analyst", "xx-", "x--"}, {"operator", "xx-", "---"},
    {"viewer", "x--", "---"},  {"auditor", "x--", "x--"},
};

static void test_default_matrix(void **state)
{
    (void)state;
    nq_rbac r;
    nq_rbac_default(&r);
    assert_int_equal(r.n_roles, 5);
    for (size_t i = 0; i < sizeof MATRIX / sizeof MATRIX[0]; i++)
        for (int u = 0; u < NQ_UNITS; u++)
            for (int a = 0; a < NQ_ACTIONS; a++) {
                const char *row = u == NQ_UNIT_SYSTEM ? MATRIX[i].system : MATRIX[i].business;
                int want = row[a] == 'x';
                if (nq_rbac_allows(&r, MATRIX[i].role, (nq_unit)u, (nq_action)a) != want)
                    fail_msg("%s %s %s: expected %s", MATRIX[i].role, nq_unit_name((nq_unit)u),
                             nq_action_name((nq_action)a), want ? "allow" : "deny");
            }
    assert_false(nq_rbac_allows(&r, "intruder", NQ_UNIT_NQBA, NQ_ACT_READ));
    assert_false(nq_rbac_allows(&r, NULL, NQ_UNIT_NQBA, NQ_ACT_READ));
    assert_false(nq_rbac_allows(&r, "admin", (nq_unit)7, NQ_ACT_READ));
}

static void test_grants_and_names(void **state)
{
    (void)state;
    nq_rbac r;
    nq_err err;
    nq_rbac_init(&r);
    assert_int_equal(nq_rbac_grant(&r, "trader", NQ_UNIT_GOLIATH, NQ_ACT_RUN, &err), NQ_OK);
    assert_true(nq_rbac_allows(&r, "trader", NQ_UNIT_GOLIATH, NQ_ACT_RUN));
    assert_false(nq_rbac_allows(&r, "trader", NQ_UNIT_SIGMA, NQ_ACT_RUN));
    assert_int_equal(nq_rbac_grant(&r, "Bad Role", NQ_UNIT_NQBA, NQ_ACT_READ, &err), NQ_EINVAL);
    assert_int_equal(nq_rbac_grant(&r, "", NQ_UNIT_NQBA, NQ_ACT_READ, &err), NQ_EINVAL);
    char name[8];
    for (int i = 1; i < NQ_RBAC_MAX_ROLES; i++) {
        snprintf(name, sizeof name, "r%d", i);
        assert_int_equal(nq_rbac_grant(&r, name, NQ_UNIT_NQBA, NQ_ACT_READ, &err), NQ_OK);
    }
    assert_int_equal(nq_rbac_grant(&r, "onemore", NQ_UNIT_NQBA, NQ_ACT_READ, &err), NQ_ELIMIT);
    nq_unit u;
    nq_action a;
    assert_int_equal(nq_unit_parse("goliath", &u), NQ_OK);
    assert_int_equal(u, NQ_UNIT_GOLIATH);
    assert_int_equal(nq_unit_parse("Goliath", &u), NQ_EINVAL);
    assert_int_equal(nq_action_parse("manage", &a), NQ_OK);
    assert_int_equal(a, NQ_ACT_MANAGE);
    assert_string_equal(nq_unit_name(NQ_UNIT_SYSTEM), "system");
}

static int add_perm(void *user, const char *role, const char *unit, const char *action)
{
    nq_rbac *r = user;
    nq_unit u;
    nq_action a;
    nq_err err;
    assert_int_equal(nq_unit_parse(unit, &u), NQ_OK);
    assert_int_equal(nq_action_parse(action, &a), NQ_OK);
    assert_int_equal(nq_rbac_grant(r, role, u, a, &err), NQ_OK);
    return 0;
}

/* The migration seeds exactly the built-in matrix. */
static void seeded_equals_default(const char *kind)
{
    backend b;
    int f = fresh(kind, &b);
    if (f == 1)
        skip();
    assert_int_equal(f, 0);
    nq_store *s = NULL;
    nq_err err;
    assert_int_equal(nq_store_open(b.url, 0, &s, &err), NQ_OK);
    assert_int_equal(nq_store_migrate(s, NULL, &err), NQ_OK);
    nq_rbac seeded, def;
    nq_rbac_init(&seeded);
    nq_rbac_default(&def);
    assert_int_equal(nq_store_permissions(s, add_perm, &seeded, &err), NQ_OK);
    assert_int_equal(seeded.n_roles, def.n_roles);
    for (int i = 0; i < def.n_roles; i++)
        for (int u = 0; u < NQ_UNITS; u++)
            for (int a = 0; a < NQ_ACTIONS; a++)
                assert_int_equal(nq_rbac_allows(&seeded, def.roles[i], (nq_unit)u, (nq_action)a),
                                 nq_rbac_allows(&def, def.roles[i], (nq_unit)u, (nq_action)a));

    /* Users: added (and audited), read back; names and roles checked. */
    int64_t id = 0;
    assert_int_equal(nq_store_user_add(s, "ada@example.com", "$argon2id$v=19$x", "admin", NULL,
                                       &id, &err),
                     NQ_OK);
    assert_true(id > 0);
    nq_user_rec u;
    assert_int_equal(nq_store_user_get(s, "ada@example.com", &u, &err), NQ_OK);
    assert_int_equal(u.id, id);
    assert_string_equal(u.role, "admin");
    assert_string_equal(u.password_hash, "$argon2id$v=19$x");
    assert_int_equal(u.totp_confirmed, 0);
    assert_int_equal(u.totp_last_step, -1);
    assert_int_equal(nq_store_user_add(s, "ada@example.com", "h", "viewer", NULL, NULL, &err),
                     NQ_EINVAL);
    assert_int_equal(nq_store_user_add(s, "bob", "h", "emperor", NULL, NULL, &err), NQ_EINVAL);
    assert_int_equal(nq_store_user_add(s, "b o b", "h", "viewer", NULL, NULL, &err), NQ_EINVAL);
    assert_int_equal(nq_store_user_get(s, "nobody", &u, &err), NQ_ENOTFOUND);
    nq_audit_report rep;
    assert_int_equal(nq_store_audit_verify(s, &rep, &err), NQ_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.entries, 1); /* the one user created */
    nq_store_close(s);
    cleanup(&b);
}

static void test_seeded_sqlite(void **state)
{
    (void)state;
    seeded_equals_default("sqlite");
}

static void test_seeded_pg(void **state)
{
    (void)state;
    seeded_equals_default("postgresql");
}

/* Every served route declares who may call it, and the check the server
 * runs at start refuses a table where one does not. */
static void test_route_table(void **state)
{
    (void)state;
    size_t n = 0;
    const srv_route *routes = srv_routes(&n);
    nq_err err;
    assert_int_equal(srv_routes_check(routes, n, &err), NQ_OK);
    int guarded = 0;
    for (size_t i = 0; i < n; i++)
        guarded += routes[i].access == SRV_GUARDED;
    assert_true(guarded >= 10);
    srv_route bad[2] = {routes[0], routes[0]};
    bad[1].pattern = "/api/v1/new";
    bad[1].access = (srv_access)0; /* a route added without saying who may call it */
    assert_int_equal(srv_routes_check(bad, 2, &err), NQ_EINTERNAL);
    assert_non_null(strstr(err.msg, "/api/v1/new"));
    bad[1].access = SRV_GUARDED;
    bad[1].unit = (nq_unit)NQ_UNITS;
    assert_int_equal(srv_routes_check(bad, 2, &err), NQ_EINTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_matrix),
        cmocka_unit_test(test_route_table),
        cmocka_unit_test(test_grants_and_names),
        cmocka_unit_test(test_seeded_sqlite),
        cmocka_unit_test(test_seeded_pg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
