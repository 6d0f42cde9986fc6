/* thread_exit.c - per-thread solver state. GLPK keeps its environment in
 * thread-local storage and frees it only when asked: a thread that ran a
 * GLPK solve and exits without glp_free_env leaks it (about 4 KiB per
 * thread, reported by LeakSanitizer). */
#include <glpk.h>

#include "nqba/solve.h"

void nq_solve_thread_exit(void)
{
    glp_free_env(); /* a no-op (returns 1) when this thread never used GLPK */
}
