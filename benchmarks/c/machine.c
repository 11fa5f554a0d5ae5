/* The machine's limits, for the roofline of the benchmark report (built with kernels.c by
 * benchmarks/c_kernels.py): STREAM triad bandwidth and peak FMA throughput, both with OpenMP, so
 * both follow omp_set_num_threads (set_threads below). */

#include <math.h>
#include <omp.h>
#include <stdlib.h>

void set_threads(int n) { omp_set_num_threads(n); }

int get_threads(void) { return omp_get_max_threads(); }

/* Keeps results alive so the compiler cannot drop the work that made them. */
static volatile double sink;

/* Best GB/s of a[i] = b[i] + s * c[i] over `reps` runs, counting 24 bytes per element (STREAM's
 * convention: the write-allocate read of a is not counted). Each array is first touched by the
 * thread that later streams it, so its pages sit on that thread's memory node. Returns -1 when
 * the arrays cannot be allocated. */
double machine_triad_gbs(long n, int reps)
{
    double *a = malloc(sizeof(double) * n);
    double *b = malloc(sizeof(double) * n);
    double *c = malloc(sizeof(double) * n);
    double best = INFINITY;
    if (a && b && c) {
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            a[i] = 0.0;
            b[i] = 1.0;
            c[i] = 2.0;
        }
        const double s = 3.0;
        for (int r = 0; r < reps; r++) {
            double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
            for (long i = 0; i < n; i++)
                a[i] = b[i] + s * c[i];
            double t = omp_get_wtime() - t0;
            best = t < best ? t : best;
            sink = a[(long)r * 7919 % n];
        }
    }
    free(a);
    free(b);
    free(c);
    return isfinite(best) && best > 0.0 ? 24.0 * (double)n / best * 1e-9 : -1.0;
}

/* The widest vector the target has, so that acc * mul + add is one vfmadd per chain. */
#if defined(__AVX512F__)
#define VBYTES 64
#elif defined(__AVX__)
#define VBYTES 32
#else
#define VBYTES 16
#endif
#define LANES (VBYTES / (int)sizeof(double))
typedef double vdouble __attribute__((vector_size(VBYTES)));

/* Independent accumulator chains per thread: enough to cover FMA latency (4-5 cycles) times the
 * number of FMA ports (2) and still fit in 16 vector registers with mul and add. */
#define CHAINS 12

static double fma_chains(long iters, double seed)
{
    vdouble acc[CHAINS];
    vdouble mul = (vdouble){0} + 0.999999;
    vdouble add = (vdouble){0} + 1e-6;
    for (int c = 0; c < CHAINS; c++)
        acc[c] = (vdouble){0} + (seed + c);
    for (long it = 0; it < iters; it++)
        for (int c = 0; c < CHAINS; c++)
            acc[c] = acc[c] * mul + add; /* contracted to an FMA (GCC's default fp-contract) */
    double total = 0.0;
    for (int c = 0; c < CHAINS; c++)
        for (int l = 0; l < LANES; l++)
            total += acc[c][l];
    return total;
}

/* Best GFLOP/s over 3 runs of `iters` iterations per thread, counting 2 flops per FMA lane. */
double machine_fma_gflops(long iters)
{
    double best = INFINITY;
    int threads = 1;
    for (int r = 0; r < 3; r++) {
        double t0 = omp_get_wtime();
#pragma omp parallel
        {
            double total = fma_chains(iters, omp_get_thread_num());
#pragma omp atomic
            sink += total;
#pragma omp master
            threads = omp_get_num_threads();
        }
        double t = omp_get_wtime() - t0;
        best = t < best ? t : best;
    }
    return 2.0 * CHAINS * LANES * (double)iters * threads / best * 1e-9;
}
