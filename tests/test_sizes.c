/*
 * Size arithmetic near SIZE_MAX: each element or byte count is checked at
 * its exact boundary, computed here in 128 bits — the largest size that
 * fits is accepted (or fails later for another reason, which proves the
 * count passed) and the next one is refused with BPTT_EOVERFLOW — and no
 * call with a size that cannot be real touches an array.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

__extension__ typedef unsigned __int128 u128;

static u128 up64(u128 n)
{
    return (n + 63) / 64 * 64;
}

/* bptt_workspace_size's formula (include/bptt/network.h) in 128 bits, or
 * 0 where the call must give BPTT_EOVERFLOW (bytes > SIZE_MAX, or T·B
 * beyond INT_MAX, a BLAS dimension). */
static u128 ws_formula(size_t r, size_t T, size_t B, size_t m, size_t dout)
{
    const u128 rows = (u128)T * B;
    if (rows > INT_MAX)
        return 0;
    const size_t p = 128 / r; /* the packed Wy: whole panels of 128 bytes */
    const size_t din = m - dout;
    u128 kc = din > dout ? din : dout; /* the own GEMM's packed block */
    kc = rows > kc ? rows : kc;
    kc = kc < 512 ? kc : 512;
    const u128 total = 256 + up64(r * rows * m) + 2 * up64(r * rows * dout) +
                       (u128)r * dout * p * ((dout + p - 1) / p) +
                       up64((u128)r * kc * (p * ((m + p - 1) / p) + dout));
    return total > SIZE_MAX ? 0 : total;
}

typedef bptt_status (*size_fn)(const bptt_net *, size_t, size_t, size_t *);

/* The query at (T, B) agrees with the formula: the exact byte count, or
 * BPTT_EOVERFLOW with *bytes untouched. */
static void assert_size(size_fn f, size_t r, const bptt_net *net, size_t T,
                        size_t B)
{
    const size_t m = bptt_net_din(net) + bptt_net_dout(net);
    const u128 want = ws_formula(r, T, B, m, bptt_net_dout(net));
    size_t bytes = 777;
    bptt_status st = f(net, T, B, &bytes);
    if (want) {
        ck_assert_msg(st == BPTT_OK && bytes == (size_t)want,
                      "T %zu B %zu: %s, %zu bytes", T, B, bptt_strerror(st),
                      bytes);
    } else {
        ck_assert_msg(st == BPTT_EOVERFLOW && bytes == 777,
                      "T %zu B %zu: %s, want overflow", T, B,
                      bptt_strerror(st));
    }
}

/* The largest T (with B fixed) or B (with T fixed) that fits. */
static size_t last_fitting(size_t r, const bptt_net *net, size_t fixed,
                           int vary_B)
{
    const size_t m = bptt_net_din(net) + bptt_net_dout(net);
    size_t lo = 1, hi = SIZE_MAX; /* lo fits, hi does not */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        u128 w = vary_B ? ws_formula(r, fixed, mid, m, bptt_net_dout(net))
                        : ws_formula(r, mid, fixed, m, bptt_net_dout(net));
        *(w ? &lo : &hi) = mid;
    }
    return lo;
}

/* m = din + dout = INT_MAX, the largest a descriptor allows, so that the
 * byte count and not T·B reaches SIZE_MAX first (in double). */
START_TEST(workspace_size_at_the_boundary)
{
    bptt_net *net;
    ck_assert_int_eq(bptt_net_create_uniform((size_t)INT_MAX - 4, 4,
                                             BPTT_ACT_TANH, NULL, &net),
                     BPTT_OK);
    const struct {
        size_fn f;
        size_t r;
    } prec[2] = {{bptt_workspace_size, sizeof(double)},
                 {bpttf_workspace_size, sizeof(float)}};
    for (int k = 0; k < 2; k++)
        for (int vary_B = 0; vary_B < 2; vary_B++) {
            const size_t last = last_fitting(prec[k].r, net, 1, vary_B);
            ck_assert_uint_gt(last, 1000);
            for (size_t n = last - 1; n <= last + 1; n++) {
                if (vary_B)
                    assert_size(prec[k].f, prec[k].r, net, 1, n);
                else
                    assert_size(prec[k].f, prec[k].r, net, n, 1);
            }
            assert_size(prec[k].f, prec[k].r, net, SIZE_MAX, 1);
            assert_size(prec[k].f, prec[k].r, net, 1, SIZE_MAX);
        }
    /* in double the byte count is what overflows, just below SIZE_MAX */
    const size_t T = last_fitting(sizeof(double), net, 1, 0);
    size_t bytes = 0;
    ck_assert_int_eq(bptt_workspace_size(net, T, 1, &bytes), BPTT_OK);
    ck_assert_uint_gt(bytes, SIZE_MAX - 64 * ((size_t)INT_MAX + 8));
    /* ... and allocating it fails cleanly */
    bptt_workspace *ws = (bptt_workspace *)&bytes;
    ck_assert_int_eq(bptt_workspace_alloc(net, T, 1, &ws), BPTT_ENOMEM);
    ck_assert_ptr_eq(ws, (bptt_workspace *)&bytes);
    ck_assert_int_eq(bptt_workspace_alloc(net, T + 1, 1, &ws), BPTT_EOVERFLOW);
    bptt_net_free(net);
}
END_TEST

/* T·B itself wrapping around: 2^32 · 2^32 = 0 (mod 2^64) must not pass. */
START_TEST(workspace_rows_wrap)
{
    bptt_net *net = tu_mixed_net(2, 3);
    const size_t h = (size_t)1 << 32;
    assert_size(bptt_workspace_size, sizeof(double), net, h, h);
    assert_size(bpttf_workspace_size, sizeof(float), net, h, h);
    assert_size(bptt_workspace_size, sizeof(double), net, (size_t)INT_MAX, 1);
    assert_size(bptt_workspace_size, sizeof(double), net, (size_t)INT_MAX + 1,
                1);
    assert_size(bptt_workspace_size, sizeof(double), net, 46341, 46341);
    bptt_net_free(net);
}
END_TEST

/* A workspace that claims INT_MAX steps (placed in a small buffer: only its
 * header is ever written, and every call below is refused before any array
 * is touched), so that T·B·ld reaches SIZE_MAX in an array's extent. */
START_TEST(extents_at_the_boundary)
{
    bptt_net *net = tu_mixed_net(1, 1);
    const size_t T = INT_MAX;
    size_t claim;
    ck_assert_int_eq(bptt_workspace_size(net, T, 1, &claim), BPTT_OK);
    static unsigned char buf[4096];
    bptt_workspace *ws;
    ck_assert_int_eq(bptt_workspace_init(net, T, 1, buf, claim, &ws), BPTT_OK);
    /* extent of T rows at ld: (T − 1)·ld·8 + 1·8 bytes */
    const size_t L = (size_t)((SIZE_MAX - 8) / ((u128)(T - 1) * 8));
    ck_assert((u128)(T - 1) * L * 8 + 8 <= SIZE_MAX);
    ck_assert((u128)(T - 1) * (L + 1) * 8 + 8 > SIZE_MAX);
    double W[2] = {0.5, 0.5}, token[4] = {0};
    const double *x = token;
    /* x's extent fits at L: the call goes on to find y NULL */
    ck_assert_int_eq(bptt_forward(net, T, 1, W, 2, NULL, x, L, NULL, 0, NULL, 1,
                                  BPTT_ALGO_AUTO, ws), BPTT_ENULL);
    ck_assert_int_eq(bptt_forward(net, T, 1, W, 2, NULL, x, L + 1, NULL, 0,
                                  NULL, 1, BPTT_ALGO_AUTO, ws), BPTT_EOVERFLOW);
    /* backward's dy likewise; at L it goes on to find no forward */
    double dW[2];
    ck_assert_int_eq(bptt_backward(net, T, 1, W, 2, token, L, 0, dW, 2, NULL,
                                   NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_ENOFORWARD);
    ck_assert_int_eq(bptt_backward(net, T, 1, W, 2, token, L + 1, 0, dW, 2,
                                   NULL, NULL, 0, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_backward(net, T, 1, W, 2, token, 1, 0, dW, 2, NULL,
                                   token, L + 1, NULL, 0, BPTT_ALGO_AUTO, ws),
                     BPTT_EOVERFLOW); /* dx */
    /* a leading dimension beyond INT_MAX is refused even for one row */
    ck_assert_int_eq(bptt_forward(net, 1, 1, W, (size_t)INT_MAX + 1, NULL, x, 1,
                                  NULL, 0, token, 1, BPTT_ALGO_AUTO, ws),
                     BPTT_EOVERFLOW);
    ck_assert(token[0] == 0 && token[1] == 0);
    bptt_net_free(net);
}
END_TEST

/* Descriptor sizes: din + dout up to INT_MAX, without wrapping. */
START_TEST(descriptor_at_the_boundary)
{
    const bptt_activation act[1] = {BPTT_ACT_TANH};
    bptt_net *net = NULL;
    ck_assert_int_eq(bptt_net_create((size_t)INT_MAX - 1, 1, act, NULL, &net),
                     BPTT_OK);
    ck_assert_uint_eq(bptt_net_din(net) + bptt_net_dout(net), INT_MAX);
    bptt_net_free(net);
    net = NULL;
    ck_assert_int_eq(bptt_net_create((size_t)INT_MAX, 1, act, NULL, &net),
                     BPTT_EOVERFLOW);
    /* SIZE_MAX + SIZE_MAX wraps to SIZE_MAX − 1: must not pass */
    ck_assert_int_eq(bptt_net_create(SIZE_MAX, SIZE_MAX, act, NULL, &net),
                     BPTT_EOVERFLOW);
    /* dout = SIZE_MAX with a one-code array: refused before reading it */
    ck_assert_int_eq(bptt_net_create(1, SIZE_MAX, act, NULL, &net),
                     BPTT_EOVERFLOW);
    /* refused before allocating INT_MAX codes (8 GiB; found by the fuzzer) */
    ck_assert_int_eq(bptt_net_create_uniform((size_t)INT_MAX, (size_t)INT_MAX,
                                             BPTT_ACT_TANH, NULL, &net),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_net_create_uniform(2, SIZE_MAX - 1, BPTT_ACT_TANH,
                                             NULL, &net),
                     BPTT_EOVERFLOW);
    ck_assert_ptr_null(net);
}
END_TEST

/* Loss and SGD: rows·ld·sizeof(R) one past SIZE_MAX, and rows wrapping. */
START_TEST(loss_and_sgd_at_the_boundary)
{
    double token[4] = {0}, loss = 5;
    const size_t t32 = (size_t)1 << 32, t29 = (size_t)1 << 29;
    /* 2^32 · 2^29 rows · 1 · 8 bytes = 2^64 */
    ck_assert_int_eq(bptt_loss_squared(t32, t29, 1, token, 1, token, 1, NULL,
                                       &loss, NULL, 0), BPTT_EOVERFLOW);
    /* in float the same rows take 2^63 bytes: one more doubling overflows */
    float ftoken[4] = {0};
    ck_assert_int_eq(bpttf_loss_squared(t32, t29, 1, ftoken, 1, ftoken, 2,
                                        NULL, &loss, NULL, 0), BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_loss_squared(t32, t32, 1, token, 1, token, 1, NULL,
                                       &loss, NULL, 0), BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_loss_squared(1, 1, 2, token, 2, token, 2, NULL,
                                       &loss, token, SIZE_MAX / 8 + 1),
                     BPTT_EOVERFLOW);
    ck_assert(loss == 5);
    ck_assert_int_eq(bptt_sgd_step((size_t)1 << 61, 1, 0.1, token, 1, token, 1),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_sgd_step(SIZE_MAX, 1, 0.1, token, 1, token, 1),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bpttf_sgd_step((size_t)1 << 62, 1, 0.1f, ftoken, 1,
                                    ftoken, 1), BPTT_EOVERFLOW);
    for (int i = 0; i < 4; i++)
        ck_assert(token[i] == 0 && ftoken[i] == 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sizes");
    TCase *tc = tcase_create("near SIZE_MAX");
    tcase_add_test(tc, workspace_size_at_the_boundary);
    tcase_add_test(tc, workspace_rows_wrap);
    tcase_add_test(tc, extents_at_the_boundary);
    tcase_add_test(tc, descriptor_at_the_boundary);
    tcase_add_test(tc, loss_and_sgd_at_the_boundary);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
