/* test_store_records.c - companies and leads with their sensitive fields
 * sealed at rest, on SQLite and PostgreSQL: what the database holds never
 * shows the plaintext, a value moved to another row does not open, key
 * rotation re-seals everything (library and `nqba keys rotate-fields`), and
 * an old key alone no longer opens what was rotated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <jansson.h>
#include <sodium.h>

#include "cli_run.h"
#include "nqba/fieldcrypt.h"
#include "store_fixture.h"

#define SECRET_DOC "{\"revenue\": 1234567, \"note\": \"PLAINTEXT-MARKER\"}"
#define LEAD_NAME "Ada Lovelace"
#define LEAD_EMAIL "ada@example.com"
#define LEAD_DOC "{\"phone\": \"+44 20 7946 0000\"}"

static void key_spec(const char *kid, char *out, size_t cap)
{
    unsigned char raw[32];
    char b64[64];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, cap, "%s:%s", kid, b64);
}

static nq_field_ring *ring_of(const char *spec)
{
    nq_field_ring *r = NULL;
    nq_err err;
    assert_int_equal(nq_field_ring_parse(spec, &r, &err), NQ_OK);
    return r;
}

/* Everything stored in the two tables, as one string. */
static int append_row(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    char *all = user;
    for (int i = 0; i < n; i++)
        if (vals[i] && strlen(all) + strlen(vals[i]) + 2 < 65536) {
            strcat(all, vals[i]);
            strcat(all, "|");
        }
    return 0;
}

static void dump(nq_store *s, char *all)
{
    nq_err err;
    all[0] = '\0';
    assert_int_equal(nq__exec1(s, "SELECT name, industry, document FROM companies", 0, NULL,
                               append_row, all, NULL, &err),
                     NQ_OK);
    assert_int_equal(nq__exec1(s, "SELECT name, email, document FROM leads", 0, NULL, append_row,
                               all, NULL, &err),
                     NQ_OK);
}

static nq_store *open_migrated(const char *url)
{
    nq_store *s = NULL;
    nq_err err;
    int applied = 0;
    assert_int_equal(nq_store_open(url, 0, &s, &err), NQ_OK);
    assert_int_equal(nq_store_migrate(s, &applied, &err), NQ_OK);
    return s;
}

static void expect_json(const char *got, const char *want)
{
    json_t *a = json_loads(got, 0, NULL), *b = json_loads(want, 0, NULL);
    assert_non_null(a);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

static void add_both(nq_store *s, nq_field_ring *ring, int64_t *co, int64_t *lead)
{
    nq_err err;
    int rc = nq_store_company_add(s, ring, "Acme", "retail", SECRET_DOC, "tester", co, &err);
    if (rc)
        print_message("company_add: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    assert_int_equal(nq_store_lead_add(s, ring, *co, LEAD_NAME, LEAD_EMAIL, LEAD_DOC, "tester",
                                       lead, &err),
                     NQ_OK);
}

static void expect_readable(nq_store *s, nq_field_ring *ring, int64_t co, int64_t lead)
{
    nq_err err;
    nq_company_rec c;
    assert_int_equal(nq_store_company_get(s, ring, co, &c, &err), NQ_OK);
    assert_string_equal(c.name, "Acme");
    assert_string_equal(c.industry, "retail");
    expect_json(c.document, SECRET_DOC);
    nq_company_rec_free(&c);
    nq_lead_rec l;
    assert_int_equal(nq_store_lead_get(s, ring, lead, &l, &err), NQ_OK);
    assert_string_equal(l.name, LEAD_NAME);
    assert_string_equal(l.email, LEAD_EMAIL);
    expect_json(l.document, LEAD_DOC);
    assert_int_equal(l.company_id, co);
    nq_lead_rec_free(&l);
}

static void suite_records(const char *kind)
{
    backend b;
    int f = fresh(kind, &b);
    if (f == 1)
        skip();
    assert_int_equal(f, 0);
    nq_store *s = open_migrated(b.url);
    nq_err err;
    char k1[96], k2[96], both[200], *all = malloc(65536);
    assert_non_null(all);
    key_spec("k1", k1, sizeof k1);
    key_spec("k2", k2, sizeof k2);
    snprintf(both, sizeof both, "%s,%s", k2, k1);
    nq_field_ring *r1 = ring_of(k1), *r2 = ring_of(both), *only2 = ring_of(k2);

    int64_t co = 0, lead = 0, lead2 = 0;
    add_both(s, r1, &co, &lead);
    expect_readable(s, r1, co, lead);
    dump(s, all);
    assert_null(strstr(all, "PLAINTEXT-MARKER"));
    assert_null(strstr(all, "1234567"));
    assert_null(strstr(all, "Lovelace"));
    assert_null(strstr(all, "example.com"));
    assert_null(strstr(all, "7946"));
    assert_non_null(strstr(all, "nqf1:k1:"));
    assert_non_null(strstr(all, "Acme")); /* the name is not sealed: it is how one finds it */

    /* Bad input and unknown rows. */
    assert_int_equal(nq_store_company_add(s, r1, "", NULL, NULL, NULL, NULL, &err), NQ_EINVAL);
    assert_int_equal(nq_store_company_add(s, r1, "X", NULL, "[1]", NULL, NULL, &err), NQ_EINVAL);
    assert_string_equal(err.where, "document");
    assert_int_equal(nq_store_company_add(s, NULL, "X", NULL, NULL, NULL, NULL, &err), NQ_EINVAL);
    nq_company_rec c;
    assert_int_equal(nq_store_company_get(s, r1, 9999, &c, &err), NQ_ENOTFOUND);
    assert_int_equal(nq_store_lead_add(s, r1, 9999, "x", NULL, NULL, NULL, NULL, &err), NQ_EINVAL);

    /* A sealed value copied into another row does not open there. */
    assert_int_equal(nq_store_lead_add(s, r1, 0, "Bob", NULL, NULL, NULL, &lead2, &err), NQ_OK);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE leads SET email = (SELECT email FROM leads WHERE id = %lld) "
             "WHERE id = %lld", (long long)lead, (long long)lead2);
    assert_int_equal(raw(s, sql), NQ_OK);
    nq_lead_rec l;
    assert_int_equal(nq_store_lead_get(s, r1, lead2, &l, &err), NQ_EINVAL);
    assert_string_equal(err.where, "leads.email");

    /* Rotation: 4 values of the first company and lead, Bob's name; the
     * moved email fails and stays as it is. */
    int64_t done = 0, kept = 0, failed = 0;
    assert_int_equal(nq_store_reseal_records(s, r2, &done, &kept, &failed, &err), NQ_OK);
    assert_int_equal(done, 5);
    assert_int_equal(kept, 0);
    assert_int_equal(failed, 1);
    dump(s, all);
    assert_non_null(strstr(all, "nqf1:k2:"));
    expect_readable(s, only2, co, lead); /* the old key is no longer needed */
    assert_int_equal(nq_store_company_get(s, r1, co, &c, &err), NQ_EINVAL);
    assert_int_equal(nq_store_reseal_records(s, r2, &done, &kept, &failed, &err), NQ_OK);
    assert_int_equal(done, 0);
    assert_int_equal(kept, 5);

    nq_field_ring_free(r1);
    nq_field_ring_free(r2);
    nq_field_ring_free(only2);
    free(all);
    nq_store_close(s);
    cleanup(&b);
}

static void test_sqlite_records(void **state)
{
    (void)state;
    suite_records("sqlite");
}

static void test_pg_records(void **state)
{
    (void)state;
    suite_records("postgresql");
}

/* `nqba keys rotate-fields` with the new key first re-seals what the old
 * key sealed; with the keys it needs missing it fails and says how many. */
static void test_cli_rotate(void **state)
{
    env *e = *state;
    char db[PATH_MAX_LEN], k1[96], k2[96], both[200];
    path_in(e, "rotate.db", db);
    key_spec("k1", k1, sizeof k1);
    key_spec("k2", k2, sizeof k2);
    snprintf(both, sizeof both, "%s,%s", k2, k1);
    nq_store *s = open_migrated(db);
    nq_field_ring *r1 = ring_of(k1), *only2 = ring_of(k2);
    int64_t co = 0, lead = 0;
    add_both(s, r1, &co, &lead);
    nq_store_close(s);

    run_out r;
    setenv("NQBA_FIELD_KEYS", k2, 1); /* k1 missing: nothing opens */
    nqba(e, &r, NULL, "keys", "rotate-fields", "--db", db, NULL);
    assert_int_equal(r.status, 1);
    expect_contains(r.out, "4 failed");
    run_free(&r);
    setenv("NQBA_FIELD_KEYS", both, 1);
    nqba(e, &r, NULL, "keys", "rotate-fields", "--db", db, NULL);
    if (r.status != 0)
        print_message("rotate-fields: %s%s\n", r.out, r.err);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "re-encrypted 4 field(s)");
    run_free(&r);
    unsetenv("NQBA_FIELD_KEYS");

    s = open_migrated(db);
    expect_readable(s, only2, co, lead);
    nq_store_close(s);
    nq_field_ring_free(r1);
    nq_field_ring_free(only2);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest store[] = {
        cmocka_unit_test(test_sqlite_records),
        cmocka_unit_test(test_pg_records),
    };
    const struct CMUnitTest cli[] = {
        cmocka_unit_test(test_cli_rotate),
    };
    int failed = cmocka_run_group_tests_name("records", store, NULL, NULL);
    return failed + cmocka_run_group_tests_name("rotate-fields", cli, group_setup, group_teardown);
}
