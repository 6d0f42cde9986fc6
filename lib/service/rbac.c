/* rbac.c - the role x unit x action table and the built-in defaults. */
#include <stdio.h>
#include <string.h>

#include "nqba/rbac.h"

static const char *const UNIT_NAMES[NQ_UNITS] = {"nqba", "flyfox", "goliath", "sigma", "system"};
static const char *const ACTION_NAMES[NQ_ACTIONS] = {"read", "run", "manage"};

const char *nq_unit_name(nq_unit u)
{
    return (unsigned)u < NQ_UNITS ? UNIT_NAMES[u] : "unknown";
}

const char *nq_action_name(nq_action a)
{
    return (unsigned)a < NQ_ACTIONS ? ACTION_NAMES[a] : "unknown";
}

int nq_unit_parse(const char *name, nq_unit *out)
{
    for (int i = 0; name && i < NQ_UNITS; i++)
        if (strcmp(name, UNIT_NAMES[i]) == 0) {
            *out = (nq_unit)i;
            return NQ_OK;
        }
    return NQ_EINVAL;
}

int nq_action_parse(const char *name, nq_action *out)
{
    for (int i = 0; name && i < NQ_ACTIONS; i++)
        if (strcmp(name, ACTION_NAMES[i]) == 0) {
            *out = (nq_action)i;
            return NQ_OK;
        }
    return NQ_EINVAL;
}

void nq_rbac_init(nq_rbac *r)
{
    memset(r, 0, sizeof *r);
}

static int role_ok(const char *role)
{
    size_t n = role ? strlen(role) : 0;
    if (n < 1 || n >= NQ_RBAC_ROLE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((role[i] >= 'a' && role[i] <= 'z') || (role[i] >= '0' && role[i] <= '9') ||
              role[i] == '_' || role[i] == '-'))
            return 0;
    return 1;
}

static int find_role(const nq_rbac *r, const char *role)
{
    for (int i = 0; role && i < r->n_roles; i++)
        if (strcmp(r->roles[i], role) == 0)
            return i;
    return -1;
}

int nq_rbac_grant(nq_rbac *r, const char *role, nq_unit u, nq_action a, nq_err *err)
{
    if (!role_ok(role))
        return nq_err_set(err, NQ_EINVAL, "role", "1..%d of a-z, 0-9, '_' or '-'",
                          NQ_RBAC_ROLE_MAX - 1);
    if ((unsigned)u >= NQ_UNITS || (unsigned)a >= NQ_ACTIONS)
        return nq_err_set(err, NQ_EINVAL, "permission", "unknown unit or action");
    int i = find_role(r, role);
    if (i < 0) {
        if (r->n_roles == NQ_RBAC_MAX_ROLES)
            return nq_err_set(err, NQ_ELIMIT, "role", "more than %d roles", NQ_RBAC_MAX_ROLES);
        i = r->n_roles++;
        snprintf(r->roles[i], sizeof r->roles[i], "%s", role);
    }
    r->allow[i][u][a] = 1;
    return NQ_OK;
}

int nq_rbac_allows(const nq_rbac *r, const char *role, nq_unit u, nq_action a)
{
    int i = find_role(r, role);
    return i >= 0 && (unsigned)u < NQ_UNITS && (unsigned)a < NQ_ACTIONS && r->allow[i][u][a];
}

void nq_rbac_default(nq_rbac *r)
{
    nq_err err;
    nq_rbac_init(r);
    for (int u = 0; u < NQ_UNITS; u++) {
        int business = u != NQ_UNIT_SYSTEM;
        for (int a = 0; a < NQ_ACTIONS; a++)
            nq_rbac_grant(r, "admin", (nq_unit)u, (nq_action)a, &err);
        nq_rbac_grant(r, "analyst", (nq_unit)u, NQ_ACT_READ, &err);
        if (business) {
            nq_rbac_grant(r, "analyst", (nq_unit)u, NQ_ACT_RUN, &err);
            nq_rbac_grant(r, "operator", (nq_unit)u, NQ_ACT_READ, &err);
            nq_rbac_grant(r, "operator", (nq_unit)u, NQ_ACT_RUN, &err);
            nq_rbac_grant(r, "viewer", (nq_unit)u, NQ_ACT_READ, &err);
        }
        nq_rbac_grant(r, "auditor", (nq_unit)u, NQ_ACT_READ, &err);
    }
}
