/* The 23 benchmark kernels of benchmarks/kernels.py and benchmarks/polybench.py in C, for the
 * C baseline (gcc -O3 -march=native -fopenmp, no -ffast-math; built and called by
 * benchmarks/c_kernels.py).
 *
 * Calling convention, the same for every kernel:
 *   void k_<name>(<the Python loop version's arguments, in order>, <extents>)
 *   - <name> is the kernel's name with '-' -> '_' ("2mm" -> k_2mm);
 *   - arrays are `double *restrict`, float64, C-contiguous, not overlapping one another;
 *     a 2-D argument called X in Python is X_ here and is indexed as X[i][j] through a VLA
 *     pointer (MAT/CUBE below);
 *   - Python floats are `double`, Python ints (tsteps) are `long`;
 *   - <extents> are the array dimensions as `long`, each named once, in the order in which they
 *     first appear among the array arguments' shapes, left to right (gemm: C[ni][nj], A[ni][nk],
 *     B[nk][nj] -> ni, nj, nk; covariance: data[n][m], cov[m][m], mean[m] -> n, m). The shapes
 *     per argument are spelt out in a comment above each function.
 *
 * Loop orders and statement orders are the Python loop versions', expression by expression (C and
 * Python both evaluate a + b + c as (a + b) + c). Without -ffp-contract=off GCC fuses a*b + c
 * into an FMA, so the results then differ from CPython's in the last bits (see c_kernels.py).
 *
 * Parallelism: `#pragma omp parallel for` on the outermost loop that is parallel in that order,
 * the loop a hand-written Numba prange version would use; for kernels with a time loop, on the
 * spatial loops inside it. Each iteration of the parallel loop runs its inner loops in their
 * original order, so parallel results equal serial ones bit for bit. Where no loop is parallel, or
 * the only parallel one is an O(n) loop next to O(n^2) work, the code says why it is serial.
 */

#include <math.h>

#define MAT(name, cols) double (*restrict name)[cols] = (double (*)[cols])name##_
#define CUBE(name, d1, d2) double (*restrict name)[d1][d2] = (double (*)[d1][d2])name##_

/* ------------------------------------------------------------------------------ kernels.py */

/* x[n], y[n] */
void k_saxpy(double a, double *restrict x, double *restrict y, long n)
{
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

/* C[ni][nj], A[ni][nk], B[nk][nj] */
void k_gemm(double alpha, double beta, double *restrict C_, double *restrict A_,
            double *restrict B_, long ni, long nj, long nk)
{
    MAT(C, nj);
    MAT(A, nk);
    MAT(B, nj);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ni; i++) {
        for (long j = 0; j < nj; j++)
            C[i][j] *= beta;
        for (long k = 0; k < nk; k++)
            for (long j = 0; j < nj; j++)
                C[i][j] += alpha * A[i][k] * B[k][j];
    }
}

/* A[n][n], B[n][n] */
void k_jacobi_2d(long tsteps, double *restrict A_, double *restrict B_, long n)
{
    MAT(A, n);
    MAT(B, n);
    for (long t = 0; t < tsteps; t++) {
#pragma omp parallel for schedule(static)
        for (long i = 1; i < n - 1; i++)
            for (long j = 1; j < n - 1; j++)
                B[i][j] = 0.2 * (A[i][j] + A[i][j - 1] + A[i][j + 1] + A[i + 1][j] + A[i - 1][j]);
#pragma omp parallel for schedule(static)
        for (long i = 1; i < n - 1; i++)
            for (long j = 1; j < n - 1; j++)
                A[i][j] = 0.2 * (B[i][j] + B[i][j - 1] + B[i][j + 1] + B[i + 1][j] + B[i - 1][j]);
    }
}

/* A[n][n][n], B[n][n][n] */
void k_heat_3d(long tsteps, double *restrict A_, double *restrict B_, long n)
{
    CUBE(A, n, n);
    CUBE(B, n, n);
    for (long t = 0; t < tsteps; t++) {
#pragma omp parallel for schedule(static)
        for (long i = 1; i < n - 1; i++)
            for (long j = 1; j < n - 1; j++)
                for (long k = 1; k < n - 1; k++)
                    B[i][j][k] = (0.125 * (A[i + 1][j][k] - 2.0 * A[i][j][k] + A[i - 1][j][k])
                                  + 0.125 * (A[i][j + 1][k] - 2.0 * A[i][j][k] + A[i][j - 1][k])
                                  + 0.125 * (A[i][j][k + 1] - 2.0 * A[i][j][k] + A[i][j][k - 1])
                                  + A[i][j][k]);
#pragma omp parallel for schedule(static)
        for (long i = 1; i < n - 1; i++)
            for (long j = 1; j < n - 1; j++)
                for (long k = 1; k < n - 1; k++)
                    A[i][j][k] = (0.125 * (B[i + 1][j][k] - 2.0 * B[i][j][k] + B[i - 1][j][k])
                                  + 0.125 * (B[i][j + 1][k] - 2.0 * B[i][j][k] + B[i][j - 1][k])
                                  + 0.125 * (B[i][j][k + 1] - 2.0 * B[i][j][k] + B[i][j][k - 1])
                                  + B[i][j][k]);
    }
}

/* data[n][m], cov[m][m], mean[m] */
void k_covariance(double float_n, double *restrict data_, double *restrict cov_,
                  double *restrict mean, long n, long m)
{
    MAT(data, m);
    MAT(cov, m);
#pragma omp parallel for schedule(static)
    for (long j = 0; j < m; j++) {
        mean[j] = 0.0;
        for (long i = 0; i < n; i++)
            mean[j] += data[i][j];
        mean[j] /= float_n;
    }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < m; j++)
            data[i][j] -= mean[j];
    /* Row i of the upper triangle (and its mirror, column i of the lower one) belongs to
     * iteration i alone. Rows get shorter with i: round-robin rows for balance. */
#pragma omp parallel for schedule(static, 1)
    for (long i = 0; i < m; i++)
        for (long j = i; j < m; j++) {
            cov[i][j] = 0.0;
            for (long k = 0; k < n; k++)
                cov[i][j] += data[k][i] * data[k][j];
            cov[i][j] /= float_n - 1.0;
            cov[j][i] = cov[i][j];
        }
}

/* A[n][n]. Serial: Gauss-Seidel, every point depends on its updated neighbours (i-1, j-1). */
void k_seidel_2d(long tsteps, double *restrict A_, long n)
{
    MAT(A, n);
    for (long t = 0; t < tsteps; t++)
        for (long i = 1; i < n - 1; i++)
            for (long j = 1; j < n - 1; j++)
                A[i][j] = (A[i - 1][j - 1] + A[i - 1][j] + A[i - 1][j + 1]
                           + A[i][j - 1] + A[i][j] + A[i][j + 1]
                           + A[i + 1][j - 1] + A[i + 1][j] + A[i + 1][j + 1]) / 9.0;
}

/* ---------------------------------------------------------------------------- polybench.py */

/* tmp[ni][nj], A[ni][nk], B[nk][nj], C[nj][nl], D[ni][nl] */
void k_2mm(double alpha, double beta, double *restrict tmp_, double *restrict A_,
           double *restrict B_, double *restrict C_, double *restrict D_,
           long ni, long nj, long nk, long nl)
{
    MAT(tmp, nj);
    MAT(A, nk);
    MAT(B, nj);
    MAT(C, nl);
    MAT(D, nl);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ni; i++)
        for (long j = 0; j < nj; j++) {
            tmp[i][j] = 0.0;
            for (long k = 0; k < nk; k++)
                tmp[i][j] += alpha * A[i][k] * B[k][j];
        }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ni; i++)
        for (long j = 0; j < nl; j++) {
            D[i][j] *= beta;
            for (long k = 0; k < nj; k++)
                D[i][j] += tmp[i][k] * C[k][j];
        }
}

/* E[ni][nj], A[ni][nk], B[nk][nj], F[nj][nl], C[nj][nm], D[nm][nl], G[ni][nl] */
void k_3mm(double *restrict E_, double *restrict A_, double *restrict B_, double *restrict F_,
           double *restrict C_, double *restrict D_, double *restrict G_,
           long ni, long nj, long nk, long nl, long nm)
{
    MAT(E, nj);
    MAT(A, nk);
    MAT(B, nj);
    MAT(F, nl);
    MAT(C, nm);
    MAT(D, nl);
    MAT(G, nl);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ni; i++)
        for (long j = 0; j < nj; j++) {
            E[i][j] = 0.0;
            for (long k = 0; k < nk; k++)
                E[i][j] += A[i][k] * B[k][j];
        }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < nj; i++)
        for (long j = 0; j < nl; j++) {
            F[i][j] = 0.0;
            for (long k = 0; k < nm; k++)
                F[i][j] += C[i][k] * D[k][j];
        }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ni; i++)
        for (long j = 0; j < nl; j++) {
            G[i][j] = 0.0;
            for (long k = 0; k < nj; k++)
                G[i][j] += E[i][k] * F[k][j];
        }
}

/* A[m][n], x[n], y[n], tmp[m]. Serial: the i loop carries the sums y[j]; of the inner loops
 * only the second (over j) is parallel, and a fork per row for n multiply-adds costs more than
 * it saves. The O(n) initialisation of y is not worth a fork either. */
void k_atax(double *restrict A_, double *restrict x, double *restrict y, double *restrict tmp,
            long m, long n)
{
    MAT(A, n);
    for (long i = 0; i < n; i++)
        y[i] = 0.0;
    for (long i = 0; i < m; i++) {
        tmp[i] = 0.0;
        for (long j = 0; j < n; j++)
            tmp[i] = tmp[i] + A[i][j] * x[j];
        for (long j = 0; j < n; j++)
            y[j] = y[j] + A[i][j] * tmp[i];
    }
}

/* A[n][m], s[m], q[n], p[m], r[n]. Serial: the i loop carries the sums s[j] and the j loop the
 * sum q[i]; neither loop is parallel without reordering the statements. */
void k_bicg(double *restrict A_, double *restrict s, double *restrict q, double *restrict p,
            double *restrict r, long n, long m)
{
    MAT(A, m);
    for (long i = 0; i < m; i++)
        s[i] = 0.0;
    for (long i = 0; i < n; i++) {
        q[i] = 0.0;
        for (long j = 0; j < m; j++) {
            s[j] = s[j] + r[i] * A[i][j];
            q[i] = q[i] + A[i][j] * p[j];
        }
    }
}

/* x1[n], x2[n], y_1[n], y_2[n], A[n][n] */
void k_mvt(double *restrict x1, double *restrict x2, double *restrict y_1, double *restrict y_2,
           double *restrict A_, long n)
{
    MAT(A, n);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            x1[i] = x1[i] + A[i][j] * y_1[j];
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            x2[i] = x2[i] + A[j][i] * y_2[j];
}

/* A[n][n], u1[n], v1[n], u2[n], v2[n], w[n], x[n], y[n], z[n]. The O(n) loop x += z stays
 * serial (not worth a fork). */
void k_gemver(double alpha, double beta, double *restrict A_, double *restrict u1,
              double *restrict v1, double *restrict u2, double *restrict v2, double *restrict w,
              double *restrict x, double *restrict y, double *restrict z, long n)
{
    MAT(A, n);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            A[i][j] = A[i][j] + u1[i] * v1[j] + u2[i] * v2[j];
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            x[i] = x[i] + beta * A[j][i] * y[j];
    for (long i = 0; i < n; i++)
        x[i] = x[i] + z[i];
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            w[i] = w[i] + alpha * A[i][j] * x[j];
}

/* A[n][n], B[n][n], tmp[n], x[n], y[n] */
void k_gesummv(double alpha, double beta, double *restrict A_, double *restrict B_,
               double *restrict tmp, double *restrict x, double *restrict y, long n)
{
    MAT(A, n);
    MAT(B, n);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        tmp[i] = 0.0;
        y[i] = 0.0;
        for (long j = 0; j < n; j++) {
            tmp[i] = A[i][j] * x[j] + tmp[i];
            y[i] = B[i][j] * x[j] + y[i];
        }
        y[i] = alpha * tmp[i] + beta * y[i];
    }
}

/* C[n][n], A[n][m]. Row i has i + 1 entries: round-robin rows for balance. */
void k_syrk(double alpha, double beta, double *restrict C_, double *restrict A_, long n, long m)
{
    MAT(C, n);
    MAT(A, m);
#pragma omp parallel for schedule(static, 1)
    for (long i = 0; i < n; i++) {
        for (long j = 0; j <= i; j++)
            C[i][j] *= beta;
        for (long k = 0; k < m; k++)
            for (long j = 0; j <= i; j++)
                C[i][j] += alpha * A[i][k] * A[j][k];
    }
}

/* C[n][n], A[n][m], B[n][m]. Row i has i + 1 entries: round-robin rows for balance. */
void k_syr2k(double alpha, double beta, double *restrict C_, double *restrict A_,
             double *restrict B_, long n, long m)
{
    MAT(C, n);
    MAT(A, m);
    MAT(B, m);
#pragma omp parallel for schedule(static, 1)
    for (long i = 0; i < n; i++) {
        for (long j = 0; j <= i; j++)
            C[i][j] *= beta;
        for (long k = 0; k < m; k++)
            for (long j = 0; j <= i; j++)
                C[i][j] += A[j][k] * alpha * B[i][k] + B[j][k] * alpha * A[i][k];
    }
}

/* C[m][n], A[m][m], B[m][n]. Iteration i updates rows k < i of C, so the i loop is serial; the
 * j loop inside it is parallel (iteration j touches column j of C and B only). */
void k_symm(double alpha, double beta, double *restrict C_, double *restrict A_,
            double *restrict B_, long m, long n)
{
    MAT(C, n);
    MAT(A, m);
    MAT(B, n);
    for (long i = 0; i < m; i++) {
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) {
            double temp2 = 0.0;
            for (long k = 0; k < i; k++) {
                C[k][j] += alpha * B[i][j] * A[i][k];
                temp2 += B[k][j] * A[i][k];
            }
            C[i][j] = beta * C[i][j] + alpha * B[i][j] * A[i][i] + alpha * temp2;
        }
    }
}

/* A[m][m], B[m][n]. Iteration i reads rows k > i of B before later iterations overwrite them,
 * so the i loop is serial; the j loop inside it is parallel (column j of B only). */
void k_trmm(double alpha, double *restrict A_, double *restrict B_, long m, long n)
{
    MAT(A, m);
    MAT(B, n);
    for (long i = 0; i < m; i++) {
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) {
            for (long k = i + 1; k < m; k++)
                B[i][j] += A[k][i] * B[k][j];
            B[i][j] = alpha * B[i][j];
        }
    }
}

/* A[n], B[n]. At PolyBench sizes a sweep is a few hundred points, less work than the fork/join of
 * its parallel loop (~0.3 us even for one thread on the project machines): loop-level parallelism
 * makes this kernel slower than serial code, and the comparison shows it. */
void k_jacobi_1d(long tsteps, double *restrict A, double *restrict B, long n)
{
    for (long t = 0; t < tsteps; t++) {
#pragma omp parallel for schedule(static)
        for (long i = 1; i < n - 1; i++)
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1]);
#pragma omp parallel for schedule(static)
        for (long i = 1; i < n - 1; i++)
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1]);
    }
}

/* ex[nx][ny], ey[nx][ny], hz[nx][ny], fict[tmax]. The O(ny) boundary row stays serial. */
void k_fdtd_2d(double *restrict ex_, double *restrict ey_, double *restrict hz_,
               double *restrict fict, long nx, long ny, long tmax)
{
    MAT(ex, ny);
    MAT(ey, ny);
    MAT(hz, ny);
    for (long t = 0; t < tmax; t++) {
        for (long j = 0; j < ny; j++)
            ey[0][j] = fict[t];
#pragma omp parallel for schedule(static)
        for (long i = 1; i < nx; i++)
            for (long j = 0; j < ny; j++)
                ey[i][j] = ey[i][j] - 0.5 * (hz[i][j] - hz[i - 1][j]);
#pragma omp parallel for schedule(static)
        for (long i = 0; i < nx; i++)
            for (long j = 1; j < ny; j++)
                ex[i][j] = ex[i][j] - 0.5 * (hz[i][j] - hz[i][j - 1]);
#pragma omp parallel for schedule(static)
        for (long i = 0; i < nx - 1; i++)
            for (long j = 0; j < ny - 1; j++)
                hz[i][j] = hz[i][j] - 0.7 * (ex[i][j + 1] - ex[i][j] + ey[i + 1][j] - ey[i][j]);
    }
}

/* A[n][n]. The i loop and the first j loop (A[i][j] needs A[i][k], k < j) are serial; the second
 * j loop is parallel: A[i][j], j >= i, reads row i left of the diagonal (final by then) and rows
 * k < i. It does i * (n - i) multiply-adds per fork. */
void k_lu(double *restrict A_, long n)
{
    MAT(A, n);
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < i; j++) {
            for (long k = 0; k < j; k++)
                A[i][j] -= A[i][k] * A[k][j];
            A[i][j] /= A[j][j];
        }
#pragma omp parallel for schedule(static)
        for (long j = i; j < n; j++)
            for (long k = 0; k < i; k++)
                A[i][j] -= A[i][k] * A[k][j];
    }
}

/* A[n][n]. Serial: the i loop carries the factor, the j loop needs A[i][k] for k < j, and the
 * diagonal's k loop is a sum; no loop is parallel in this order. */
void k_cholesky(double *restrict A_, long n)
{
    MAT(A, n);
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < i; j++) {
            for (long k = 0; k < j; k++)
                A[i][j] -= A[i][k] * A[j][k];
            A[i][j] /= A[j][j];
        }
        for (long k = 0; k < i; k++)
            A[i][i] -= A[i][k] * A[i][k];
        A[i][i] = sqrt(A[i][i]);
    }
}

/* L[n][n], x[n], b[n]. Serial: forward substitution, x[i] needs every x[j], j < i, and the j loop
 * is a sum. */
void k_trisolv(double *restrict L_, double *restrict x, double *restrict b, long n)
{
    MAT(L, n);
    for (long i = 0; i < n; i++) {
        x[i] = b[i];
        for (long j = 0; j < i; j++)
            x[i] -= L[i][j] * x[j];
        x[i] = x[i] / L[i][i];
    }
}

/* A[nr][nq][np], C4[np][np], sum[np]. The r loop is parallel once the scratch row `sum` is
 * private to each thread (array privatisation); afterwards `sum` gets the last row's values,
 * which is what the serial loops leave in it. */
void k_doitgen(double *restrict A_, double *restrict C4_, double *restrict sum, long nr, long nq,
               long np)
{
    CUBE(A, nq, np);
    MAT(C4, np);
#pragma omp parallel
    {
        double row[np > 0 ? np : 1];
#pragma omp for schedule(static)
        for (long r = 0; r < nr; r++)
            for (long q = 0; q < nq; q++) {
                for (long p = 0; p < np; p++) {
                    row[p] = 0.0;
                    for (long s = 0; s < np; s++)
                        row[p] += A[r][q][s] * C4[s][p];
                }
                for (long p = 0; p < np; p++)
                    A[r][q][p] = row[p];
            }
    }
    if (nr > 0 && nq > 0)
        for (long p = 0; p < np; p++)
            sum[p] = A[nr - 1][nq - 1][p];
}
