/* rbac.h - who may do what: roles x business units x actions.
 *
 * A permission is (role, unit, action). Units are the business units
 * (nqba, flyfox, goliath, sigma) and "system" (the platform itself: users,
 * roles, keys, the audit log, metrics). Actions are read (see results and
 * history), run (submit work) and manage (change models, users, settings).
 * The table lives in the store (permissions), seeded with
 * nq_rbac_default, and is editable by admins; nq_rbac is an in-memory
 * copy the server checks every request against. */
#ifndef NQBA_RBAC_H
#define NQBA_RBAC_H

#include <stddef.h>

#include "nqba/err.h"

typedef enum nq_unit {
    NQ_UNIT_NQBA = 0,
    NQ_UNIT_FLYFOX = 1,
    NQ_UNIT_GOLIATH = 2,
    NQ_UNIT_SIGMA = 3,
    NQ_UNIT_SYSTEM = 4
} nq_unit;
#define NQ_UNITS 5

typedef enum nq_action { NQ_ACT_READ = 0, NQ_ACT_RUN = 1, NQ_ACT_MANAGE = 2 } nq_action;
#define NQ_ACTIONS 3

#define NQ_RBAC_MAX_ROLES 32
#define NQ_RBAC_ROLE_MAX 32 /* bytes of a role name, NUL included */

/* The names used in the store and the API ("nqba", "read", ...). */
const char *nq_unit_name(nq_unit u);
const char *nq_action_name(nq_action a);
int nq_unit_parse(const char *name, nq_unit *out);
int nq_action_parse(const char *name, nq_action *out);

typedef struct nq_rbac {
    int n_roles;
    char roles[NQ_RBAC_MAX_ROLES][NQ_RBAC_ROLE_MAX];
    unsigned char allow[NQ_RBAC_MAX_ROLES][NQ_UNITS][NQ_ACTIONS];
} nq_rbac;

void nq_rbac_init(nq_rbac *r);
/* Grant (role, unit, action), adding the role when new; NQ_ELIMIT past
 * NQ_RBAC_MAX_ROLES, NQ_EINVAL for a bad role name (1..31 of [a-z0-9_-]). */
int nq_rbac_grant(nq_rbac *r, const char *role, nq_unit u, nq_action a, nq_err *err);
/* Whether role may do action on unit; an unknown role may do nothing. */
int nq_rbac_allows(const nq_rbac *r, const char *role, nq_unit u, nq_action a);

/* The five built-in roles and what each may do out of the box:
 *   admin    everything;
 *   analyst  read and run on every business unit, read on system;
 *   operator read and run on every business unit;
 *   viewer   read on every business unit;
 *   auditor  read on every business unit and on system (the audit log).
 * Only admin may manage anything. */
void nq_rbac_default(nq_rbac *r);

#endif
