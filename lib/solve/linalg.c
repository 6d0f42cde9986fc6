/* linalg.c - the dense linear algebra the portfolio code needs, on LAPACK.
 *
 * LAPACK is column-major; our matrices are row-major. For a symmetric
 * matrix the two layouts hold the same numbers, so a row-major lower
 * triangle is LAPACK's upper one: dpotrf("U") leaves U with A = U'U in
 * column-major, which read row-major is L = U' with A = L L'. */
#include <stdlib.h>
#include <string.h>

#include "nqba/linalg.h"

/* Reference LAPACK built by gfortran takes the lengths of character
 * arguments as hidden trailing size_t parameters. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

int nq_chol(double *A, int32_t n)
{
    int nn = (int)n, info = 0;
    if (n <= 0)
        return NQ_EINVAL;
    dpotrf_("U", &nn, A, &nn, &info, 1);
    if (info != 0)
        return NQ_EINVAL;
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = i + 1; j < n; j++)
            A[(size_t)i * n + j] = 0.0;
    return NQ_OK;
}

void nq_chol_solve(const double *L, int32_t n, double *b)
{
    for (int32_t i = 0; i < n; i++) { /* L y = b */
        double s = b[i];
        const double *row = L + (size_t)i * n;
        for (int32_t k = 0; k < i; k++)
            s -= row[k] * b[k];
        b[i] = s / row[i];
    }
    for (int32_t i = n - 1; i >= 0; i--) { /* L' x = y */
        double s = b[i];
        for (int32_t k = i + 1; k < n; k++)
            s -= L[(size_t)k * n + i] * b[k];
        b[i] = s / L[(size_t)i * n + i];
    }
}

int nq_sym_eig(const double *A, int32_t n, double *evals, double *evecs)
{
    int nn = (int)n, info = 0, lwork = -1, liwork = -1, iwq = 0;
    double wq = 0.0;
    if (n <= 0)
        return NQ_EINTERNAL;
    if (evecs != A)
        memcpy(evecs, A, (size_t)n * n * sizeof *evecs);
    /* Workspace query, then the decomposition. */
    dsyevd_("V", "U", &nn, evecs, &nn, evals, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
    if (info != 0)
        return NQ_EINTERNAL;
    lwork = (int)wq + 1;
    liwork = iwq + 1;
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return NQ_ENOMEM;
    }
    dsyevd_("V", "U", &nn, evecs, &nn, evals, work, &lwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(iwork);
    /* Column k of the column-major result is row k of ours: as promised. */
    return info == 0 ? NQ_OK : NQ_EINTERNAL;
}

double nq_dot(const double *x, const double *y, int32_t n)
{
    double s = 0.0;
    for (int32_t i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

double nq_quad(const double *A, const double *x, const double *y, int32_t n)
{
    double s = 0.0;
    for (int32_t i = 0; i < n; i++)
        s += x[i] * nq_dot(A + (size_t)i * n, y, n);
    return s;
}
