/*
 * test_kernels.c — bptt's own recurrence kernels and threads.
 *
 *   reference: every kernel bptt has for this CPU (sse, avx2, avx512), the
 *              recurrence's and the own GEMM's micro-kernel, against a
 *              long-double product, on edge shapes; the deferred
 *              algorithm on 1, 2 and 3 threads against the naive form;
 *   identity:  a product split into panel ranges, and each row computed
 *              alone, equal the whole product bitwise; the GEMM kernel's
 *              product equals the recurrence kernel's bitwise; gradients on 2 and 3 threads equal those on 1
 *              bitwise (double and float);
 *   trap:      bptt_workspace_set_threads' errors leave the thread count;
 *              a thread the system refuses gives BPTT_ETHREAD;
 *   dispatch:  BPTT_MAX_ISA caps bptt_kernel_isa().
 *
 * The kernels are internal: this suite links the library's internal static
 * archives (tests/meson.build), so that all of them run in one process,
 * whatever bptt_kernel_isa() picks.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h" /* double: bptt__rec_*, bptt__gemm_*, BPTT_GEMM_KC */
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* The kernels, every ISA the CPU runs                                       */
/* ------------------------------------------------------------------------ */

typedef struct {
    bptt_isa isa;
    size_t nr;
    bptt__rec_fn run;
    bptt__gemm_fn gemm;
} kernel;

static int kernels(kernel k[3])
{
    int n = 0;
    k[n++] = (kernel){BPTT_ISA_SSE, 32 / sizeof(double), bptt__rec_run_sse,
                      bptt__gemm_run_sse};
#ifdef BPTT_HAVE_X86_KERNELS
    if (bptt_cpu_isa() >= BPTT_ISA_AVX2)
        k[n++] = (kernel){BPTT_ISA_AVX2, 64 / sizeof(double), bptt__rec_run_avx2,
                          bptt__gemm_run_avx2};
    if (bptt_cpu_isa() >= BPTT_ISA_AVX512)
        k[n++] = (kernel){BPTT_ISA_AVX512, 128 / sizeof(double),
                          bptt__rec_run_avx512, bptt__gemm_run_avx512};
#endif
    return n;
}

/* C += A·M (trans 0) or A·Mᵀ (trans 1) on B x n by n x n, every kernel,
 * against long double; and the same product split at every panel boundary
 * into two ranges, bitwise equal to the whole. */
START_TEST(kernels_match_reference_and_split_bitwise)
{
    static const size_t ns[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 70};
    static const size_t Bs[] = {1, 2, 3, 4, 5, 9};
    tu_rng rng = {0x5eedULL + (unsigned long long)_i};
    kernel ks[3];
    const int nk = kernels(ks);
    const int trans = _i;
    for (int kk = 0; kk < nk; kk++)
        for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
            for (size_t c = 0; c < sizeof Bs / sizeof *Bs; c++) {
                const size_t n = ns[a], B = Bs[c], nr = ks[kk].nr;
                const size_t Q = bptt__rec_panels(n, nr), lda = n + 2;
                const size_t ldc = n + 1, ldm = n + 3;
                double *A = tu_random(B * lda, 1, &rng);
                double *M = tu_random(n * ldm, 1, &rng);
                double *C0 = tu_random(B * ldc, 1, &rng);
                double *P = malloc(Q * n * nr * sizeof *P);
                double *C = malloc(B * ldc * sizeof *C);
                double *Cs = malloc(B * ldc * sizeof *Cs);
                bptt__rec_pack(trans, n, n, M, ldm, nr, 0, Q, P);
                memcpy(C, C0, B * ldc * sizeof *C);
                ks[kk].run(B, n, n, 0, Q, A, lda, 1, P, C, ldc);
                for (size_t b = 0; b < B; b++) {
                    for (size_t i = 0; i < n; i++) {
                        long double want = C0[b * ldc + i];
                        for (size_t j = 0; j < n; j++)
                            want += (long double)A[b * lda + j] *
                                    (trans ? M[i * ldm + j] : M[j * ldm + i]);
                        ck_assert_msg(fabsl((long double)C[b * ldc + i] - want) <=
                                          1e-14L * (n + 1),
                                      "%s n %zu B %zu: C[%zu][%zu]",
                                      bptt_isa_name(ks[kk].isa), n, B, b, i);
                    }
                    /* the padding column is never written */
                    ck_assert(C[b * ldc + n] == C0[b * ldc + n]);
                }
                /* each row as the product of that row alone: a row's
                 * result does not depend on B or on its place among the
                 * rows (chunked sequences rely on it) */
                for (size_t b = 0; b < B; b++) {
                    memcpy(Cs, C0 + b * ldc, ldc * sizeof *Cs);
                    ks[kk].run(1, n, n, 0, Q, A + b * lda, lda, 1, P, Cs, ldc);
                    ck_assert_msg(memcmp(Cs, C + b * ldc, n * sizeof *C) == 0,
                                  "%s n %zu B %zu: row %zu alone differs",
                                  bptt_isa_name(ks[kk].isa), n, B, b);
                }
                for (size_t q = 1; q < Q; q++) {
                    memcpy(Cs, C0, B * ldc * sizeof *Cs);
                    ks[kk].run(B, n, n, q, Q, A, lda, 1, P, Cs, ldc);
                    ks[kk].run(B, n, n, 0, q, A, lda, 1, P, Cs, ldc);
                    ck_assert_msg(memcmp(Cs, C, B * ldc * sizeof *C) == 0,
                                  "%s n %zu B %zu split at panel %zu",
                                  bptt_isa_name(ks[kk].isa), n, B, q);
                }
                free(A), free(M), free(C0), free(P), free(C), free(Cs);
            }
}
END_TEST

/* The own GEMM's micro-kernel, every ISA, op(A) = A and Aᵀ: C += op(A)·P
 * on M x kc by kc x N against long double, for M and N on every side of
 * the tiles' edges (6 rows; 1 and 2 panels) and kc up to BPTT_GEMM_KC;
 * bitwise equal to the recurrence kernel on the same product (one chain
 * of multiply-adds per element), and to itself split at every panel;
 * started at +0 (zero) bitwise equal to itself on a C of zeros. */
START_TEST(gemm_kernels_match_reference_and_recurrence_bitwise)
{
    static const size_t Ms[] = {1, 5, 6, 7, 12, 13, 19};
    static const size_t kcs[] = {1, 3, 40, BPTT_GEMM_KC};
    tu_rng rng = {0x9e44ULL + (unsigned long long)_i};
    kernel ks[3];
    const int nk = kernels(ks);
    const int transa = _i;
    for (int kk = 0; kk < nk; kk++) {
        const size_t nr = ks[kk].nr;
        const size_t Ns[] = {1, nr - 1, nr, nr + 1, 2 * nr, 3 * nr - 1,
                             4 * nr + 3, 5 * nr};
        for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
            for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
                for (size_t c = 0; c < sizeof kcs / sizeof *kcs; c++) {
                    const size_t M = Ms[a], N = Ns[b], kc = kcs[c];
                    const size_t Q = bptt__rec_panels(N, nr);
                    /* A: M x kc, or kc x M when transposed */
                    const size_t lda = (transa ? M : kc) + 2;
                    const size_t ldc = N + 1, ldm = N + 3;
                    double *A = tu_random((transa ? kc : M) * lda, 1, &rng);
                    double *Bm = tu_random(kc * ldm, 1, &rng);
                    double *C0 = tu_random(M * ldc, 1, &rng);
                    double *P = malloc(Q * kc * nr * sizeof *P);
                    double *C = malloc(M * ldc * sizeof *C);
                    double *Cs = malloc(M * ldc * sizeof *Cs);
                    bptt__rec_pack(0, kc, N, Bm, ldm, nr, 0, Q, P);
                    memcpy(C, C0, M * ldc * sizeof *C);
                    ks[kk].gemm(M, kc, N, 0, Q, transa, A, lda, NULL, P, C,
                                ldc, 0);
                    for (size_t r = 0; r < M; r++) {
                        for (size_t i = 0; i < N; i++) {
                            long double want = C0[r * ldc + i];
                            for (size_t j = 0; j < kc; j++)
                                want += (long double)(transa ? A[j * lda + r]
                                                             : A[r * lda + j]) *
                                        Bm[j * ldm + i];
                            ck_assert_msg(fabsl((long double)C[r * ldc + i] -
                                                want) <= 1e-14L * (kc + 1),
                                          "%s M %zu N %zu kc %zu: C[%zu][%zu]",
                                          bptt_isa_name(ks[kk].isa), M, N, kc,
                                          r, i);
                        }
                        /* the padding column is never written */
                        ck_assert(C[r * ldc + N] == C0[r * ldc + N]);
                    }
                    /* the recurrence kernel's chain, bitwise */
                    memcpy(Cs, C0, M * ldc * sizeof *Cs);
                    ks[kk].run(M, kc, N, 0, Q, A, transa ? 1 : lda,
                               transa ? lda : 1, P, Cs, ldc);
                    ck_assert_msg(memcmp(Cs, C, M * ldc * sizeof *C) == 0,
                                  "%s M %zu N %zu kc %zu: differs from the "
                                  "recurrence kernel",
                                  bptt_isa_name(ks[kk].isa), M, N, kc);
                    /* op(A) = Aᵀ with its groups of rows packed first (by
                     * two calls, as two threads would), the same bitwise */
                    const size_t groups = transa ? M / BPTT_GEMM_MR : 0;
                    double *Ap = malloc((groups * BPTT_GEMM_MR * kc + 1) *
                                        sizeof *Ap);
                    bptt__gemm_pack_a(kc, A, lda, M, NULL, 0, 0, groups / 2,
                                      Ap);
                    bptt__gemm_pack_a(kc, A, lda, M, NULL, 0, groups / 2,
                                      groups, Ap);
                    if (groups) {
                        memcpy(Cs, C0, M * ldc * sizeof *Cs);
                        ks[kk].gemm(M, kc, N, 0, Q, transa, A, lda, Ap, P, Cs,
                                    ldc, 0);
                        ck_assert_msg(memcmp(Cs, C, M * ldc * sizeof *C) == 0,
                                      "%s M %zu N %zu kc %zu: packed Aᵀ "
                                      "differs",
                                      bptt_isa_name(ks[kk].isa), M, N, kc);
                    }
                    for (size_t q = 1; q < Q; q++) {
                        memcpy(Cs, C0, M * ldc * sizeof *Cs);
                        ks[kk].gemm(M, kc, N, q, Q, transa, A, lda,
                                    groups ? Ap : NULL, P, Cs, ldc, 0);
                        ks[kk].gemm(M, kc, N, 0, q, transa, A, lda,
                                    groups ? Ap : NULL, P, Cs, ldc, 0);
                        ck_assert_msg(memcmp(Cs, C, M * ldc * sizeof *C) == 0,
                                      "%s M %zu N %zu kc %zu split at panel "
                                      "%zu",
                                      bptt_isa_name(ks[kk].isa), M, N, kc, q);
                    }
                    /* zero: C = op(A)·P on a C of NaN (never read), bitwise
                     * C += op(A)·P on a C of zeros (the padding column
                     * still NaN: never written) */
                    for (size_t e = 0; e < M * ldc; e++)
                        C[e] = (e % ldc) < N ? 0 : NAN, Cs[e] = NAN;
                    ks[kk].gemm(M, kc, N, 0, Q, transa, A, lda, NULL, P, C,
                                ldc, 0);
                    ks[kk].gemm(M, kc, N, 0, Q, transa, A, lda,
                                groups ? Ap : NULL, P, Cs, ldc, 1);
                    for (size_t e = 0; e < M * ldc; e++)
                        ck_assert_msg((e % ldc) < N
                                          ? memcmp(&C[e], &Cs[e], sizeof *C) == 0
                                          : isnan(Cs[e]),
                                      "%s M %zu N %zu kc %zu: zero start "
                                      "differs at %zu",
                                      bptt_isa_name(ks[kk].isa), M, N, kc, e);
                    free(A), free(Bm), free(C0), free(P), free(C), free(Cs);
                    free(Ap);
                }
    }
}
END_TEST

/* BPTT_MAX_ISA, when set (tests/run-all.sh's isa mode), caps the level
 * bptt's kernels run; unset, they run the CPU's widest kernel level. */
START_TEST(kernel_isa_follows_cap)
{
    const bptt_isa cpu = bptt_cpu_isa(), got = bptt_kernel_isa();
    bptt_isa want = cpu >= BPTT_ISA_AVX512 ? BPTT_ISA_AVX512
                    : cpu >= BPTT_ISA_AVX2 ? BPTT_ISA_AVX2
                                           : BPTT_ISA_SSE;
    const char *cap = getenv("BPTT_MAX_ISA");
    if (cap && strcmp(cap, "sse") == 0)
        want = BPTT_ISA_SSE;
    else if (cap && strcmp(cap, "avx2") == 0 && want > BPTT_ISA_AVX2)
        want = BPTT_ISA_AVX2;
    ck_assert_str_eq(bptt_isa_name(got), bptt_isa_name(want));
    ck_assert_str_eq(bptt_isa_name(BPTT_NISA), "invalid");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Threads through the public API                                            */
/* ------------------------------------------------------------------------ */

/* Shapes with B·dout² above the size at which the time loops are shared
 * (2^16), so that 2 and 3 threads really split them; interleaved
 * activations (the grouped path) and a dout that is not a multiple of any
 * panel width. */
static const size_t shapes[][4] = {
    {5, 300, 6, 1}, {3, 130, 5, 4}, {4, 262, 4, 3}};
enum { NSHAPES = sizeof shapes / sizeof *shapes };

static void assert_same(const tu_problem *p, const tu_grads *a,
                        const tu_grads *b, int nth)
{
    const size_t TB = p->T * p->B;
    ck_assert_msg(memcmp(a->y, b->y, TB * p->ldy * sizeof(double)) == 0,
                  "y differs on %d threads", nth);
    ck_assert_msg(memcmp(a->dW, b->dW, p->dout * p->ldw * sizeof(double)) == 0,
                  "dW differs on %d threads", nth);
    ck_assert(memcmp(a->db, b->db, p->dout * sizeof(double)) == 0);
    ck_assert(memcmp(a->dx, b->dx, TB * p->ldx * sizeof(double)) == 0);
    ck_assert(memcmp(a->dy0, b->dy0, p->B * p->ldy0 * sizeof(double)) == 0);
}

START_TEST(threads_bitwise_and_match_naive)
{
    const size_t *s = shapes[_i];
    tu_problem *p = tu_problem_new(tu_mixed_net(s[0], s[1]), s[2], s[3], 1,
                                   TU_BIAS | TU_Y0, 300 + (unsigned)_i);
    tu_grads naive = {0}, one = {0};
    ck_assert_int_eq(tu_gradients(p, BPTT_ALGO_NAIVE, &naive), BPTT_OK);
    ck_assert_int_eq(tu_gradients_threads(p, BPTT_ALGO_DEFERRED, 1, &one),
                     BPTT_OK);
    ck_assert(tu_relerr(p->dout, p->m, one.dW, p->ldw, naive.dW, p->ldw) <=
              TOL_REFERENCE);
    for (int nth = 2; nth <= 3; nth++) {
        tu_grads g = {0};
        ck_assert_int_eq(tu_gradients_threads(p, BPTT_ALGO_DEFERRED, nth, &g),
                         BPTT_OK);
        assert_same(p, &one, &g, nth);
        tu_grads_free(&g);
    }
    tu_grads_free(&naive), tu_grads_free(&one);
    tu_problem_free(p);
}
END_TEST

/* Float: forward and backward on 1, 2 and 3 threads, bitwise equal. */
START_TEST(threads_bitwise_float)
{
    const size_t *s = shapes[_i];
    tu_problem *p = tu_problem_new(tu_mixed_net(s[0], s[1]), s[2], s[3], 0,
                                   TU_BIAS, 400 + (unsigned)_i);
    const size_t TB = p->T * p->B;
    float *W = tu_to_float(p->W, p->dout * p->ldw);
    float *b = tu_to_float(p->b, p->dout);
    float *x = tu_to_float(p->x, TB * p->ldx);
    float *dy = tu_to_float(p->target, TB * p->ldy);
    float *y[3], *dW[3], *dx[3];
    for (int k = 0; k < 3; k++) {
        bpttf_workspace *ws;
        ck_assert_int_eq(bpttf_workspace_alloc(p->net, p->T, p->B, &ws), BPTT_OK);
        ck_assert_int_eq(bpttf_workspace_set_threads(ws, k + 1), BPTT_OK);
        ck_assert_int_eq(bpttf_workspace_threads(ws), k + 1);
        y[k] = calloc(TB * p->ldy, sizeof(float));
        dW[k] = calloc(p->dout * p->ldw, sizeof(float));
        dx[k] = calloc(TB * p->ldx, sizeof(float));
        ck_assert_int_eq(bpttf_forward(p->net, p->T, p->B, W, p->ldw, b, x,
                                       p->ldx, NULL, 0, y[k], p->ldy,
                                       BPTT_ALGO_DEFERRED, ws), BPTT_OK);
        ck_assert_int_eq(bpttf_backward(p->net, p->T, p->B, W, p->ldw, dy,
                                        p->ldy, 0, dW[k], p->ldw, NULL, dx[k],
                                        p->ldx, NULL, 0, BPTT_ALGO_DEFERRED,
                                        ws), BPTT_OK);
        bpttf_workspace_free(ws);
    }
    for (int k = 1; k < 3; k++) {
        ck_assert(memcmp(y[0], y[k], TB * p->ldy * sizeof(float)) == 0);
        ck_assert(memcmp(dW[0], dW[k], p->dout * p->ldw * sizeof(float)) == 0);
        ck_assert(memcmp(dx[0], dx[k], TB * p->ldx * sizeof(float)) == 0);
    }
    for (int k = 0; k < 3; k++)
        free(y[k]), free(dW[k]), free(dx[k]);
    free(W), free(b), free(x), free(dy);
    tu_problem_free(p);
}
END_TEST

START_TEST(set_threads_traps)
{
    bptt_net *net = tu_mixed_net(2, 3);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(net, 4, 2, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_threads(ws), 1);
    ck_assert_int_eq(bptt_workspace_threads(NULL), 0);
    ck_assert_int_eq(bptt_workspace_set_threads(NULL, 2), BPTT_ENULL);
    ck_assert_int_eq(bptt_workspace_set_threads(ws, 2), BPTT_OK);
    const int bad[] = {0, -1, BPTT_MAX_THREADS + 1};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(bptt_workspace_set_threads(ws, bad[k]), BPTT_EINVAL);
        ck_assert(strstr(bptt_error_detail(), "nthreads") != NULL);
        ck_assert_int_eq(bptt_workspace_threads(ws), 2);
    }
    ck_assert_int_eq(bptt_workspace_set_threads(ws, 1), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_threads(ws), 1);
    bptt_workspace_free(ws);
    bptt_net_free(net);
}
END_TEST

/* Network B's workspace passes its threads to its core and frees them. */
START_TEST(elman_set_threads)
{
    bptt_net *net = tu_mixed_net(2, 3);
    bptt_elman *el;
    bpttf_elman_workspace *ws;
    ck_assert_int_eq(bptt_elman_create(net, 4, BPTT_HEAD_SOFTMAX, &el), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_workspace_alloc(el, 4, 2, &ws), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_workspace_threads(ws), 1);
    ck_assert_int_eq(bpttf_elman_workspace_set_threads(NULL, 2), BPTT_ENULL);
    ck_assert_int_eq(bpttf_elman_workspace_set_threads(ws, 0), BPTT_EINVAL);
    ck_assert_int_eq(bpttf_elman_workspace_set_threads(ws, 3), BPTT_OK);
    ck_assert_int_eq(bpttf_elman_workspace_threads(ws), 3);
    bpttf_elman_workspace_free(ws); /* valgrind: no thread or block left */
    bptt_elman_free(el);
    bptt_net_free(net);
}
END_TEST

/* The sanitizers' runtimes define pthread_create themselves. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif

#ifndef SANITIZED
/* pthread_create, interposed: the n-th call from now on fails with EAGAIN
 * (0: none fails).  The library calls it through the dynamic linker, so
 * this definition is the one it gets. */
static int fail_at;

int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                   void *(*fn)(void *), void *arg)
{
    typedef int (*create_fn)(pthread_t *, const pthread_attr_t *,
                             void *(*)(void *), void *);
    static create_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "pthread_create");
        memcpy(&real, &sym, sizeof real);
    }
    if (fail_at > 0 && --fail_at == 0)
        return EAGAIN;
    return real(t, attr, fn, arg);
}

/* The system refuses the second worker of four threads: BPTT_ETHREAD, the
 * first worker is stopped again, the workspace keeps its 2 threads and
 * still computes. */
START_TEST(refused_thread_gives_ethread)
{
    tu_problem *p = tu_problem_new(tu_mixed_net(5, 300), 3, 1, 0, 0, 77);
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_alloc(p->net, 3, 1, &ws), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_set_threads(ws, 2), BPTT_OK);
    fail_at = 2;
    ck_assert_int_eq(bptt_workspace_set_threads(ws, 4), BPTT_ETHREAD);
    fail_at = 0;
    ck_assert(strstr(bptt_error_detail(), "thread 3 of 4") != NULL);
    ck_assert_int_eq(bptt_workspace_threads(ws), 2);
    double *y = calloc(3 * p->ldy, sizeof *y);
    ck_assert_int_eq(bptt_forward(p->net, 3, 1, p->W, p->ldw, NULL, p->x,
                                  p->ldx, NULL, 0, y, p->ldy,
                                  BPTT_ALGO_DEFERRED, ws), BPTT_OK);
    free(y);
    bptt_workspace_free(ws);
    tu_problem_free(p);
}
END_TEST
#endif /* SANITIZED */

static Suite *suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, kernels_match_reference_and_split_bitwise, 0, 2);
    tcase_add_loop_test(tc, gemm_kernels_match_reference_and_recurrence_bitwise,
                        0, 2);
    tcase_add_test(tc, kernel_isa_follows_cap);
    tcase_add_loop_test(tc, threads_bitwise_and_match_naive, 0, NSHAPES);
    tcase_add_loop_test(tc, threads_bitwise_float, 0, NSHAPES);
    tcase_add_test(tc, set_threads_traps);
    tcase_add_test(tc, elman_set_threads);
#ifndef SANITIZED
    tcase_add_test(tc, refused_thread_gives_ethread);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
