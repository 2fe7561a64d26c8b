/*
 * Trap tests: every validation branch returns its status, names the fault
 * in bptt_error_detail(), and writes nothing — every output, every input
 * and the whole workspace buffer are bytewise unchanged.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { DIN = 3, DOUT = 4, M = DIN + DOUT, T = 5, B = 2, TB = T * B };

/* Every array a call may touch, in one block, so one snapshot proves that
 * nothing was written. */
typedef struct arena {
    double W[DOUT * M], b[DOUT], x[TB * DIN], y0[B * DOUT], y[TB * DOUT];
    double dy[TB * DOUT], dW[DOUT * M], db[DOUT], dx[TB * DIN], dy0[B * DOUT];
    unsigned char wsbuf[8192];
} arena;

static bptt_net *net, *other;
static arena *a;
static tu_snap snap; /* of the whole arena, taken before each trap */
static bptt_workspace *ws;

static void setup(void)
{
    tu_rng r = {1};
    net = tu_mixed_net(DIN, DOUT);
    other = tu_mixed_net(DIN, DOUT);
    a = malloc(sizeof *a);
    double *d = (double *)a;
    for (size_t i = 0; i < offsetof(arena, wsbuf) / sizeof(double); i++)
        d[i] = tu_uniform(&r);
    memset(a->wsbuf, 0xA5, sizeof a->wsbuf);
    size_t bytes;
    ck_assert_int_eq(bptt_workspace_size(net, T, B, &bytes), BPTT_OK);
    ck_assert_uint_le(bytes, sizeof a->wsbuf);
    ck_assert_int_eq(bptt_workspace_init(net, T, B, a->wsbuf, sizeof a->wsbuf, &ws),
                     BPTT_OK);
}

static void teardown(void)
{
    bptt_net_free(net);
    bptt_net_free(other);
    free(a);
    tu_snap_free(&snap);
}

static void take_snapshot(void)
{
    tu_snap_free(&snap);
    tu_snap_add(&snap, a, sizeof *a);
}

static void assert_untouched(bptt_status got, bptt_status want, const char *what)
{
    tu_assert_refused(got, want, &snap, what);
}

/* The arguments of one forward call, valid unless a case changes one. */
typedef struct fargs {
    const bptt_net *net;
    size_t T, B;
    const double *W;
    size_t ldw;
    const double *b, *x;
    size_t ldx;
    const double *y0;
    size_t ldy0;
    double *y;
    size_t ldy;
    bptt_algo algo;
    bptt_workspace *ws;
} fargs;

static fargs fvalid(void)
{
    return (fargs){net, T, B, a->W, M, a->b, a->x, DIN, a->y0, DOUT, a->y,
                   DOUT, BPTT_ALGO_AUTO, ws};
}

static bptt_status fcall(fargs f)
{
    return bptt_forward(f.net, f.T, f.B, f.W, f.ldw, f.b, f.x, f.ldx, f.y0,
                        f.ldy0, f.y, f.ldy, f.algo, f.ws);
}

START_TEST(forward_traps)
{
    struct {
        const char *what;
        bptt_status want;
        fargs f;
    } c[20];
    int n = 0;
#define CASE(w, st, field, val)                                                \
    do {                                                                       \
        c[n].what = w;                                                         \
        c[n].want = st;                                                        \
        c[n].f = fvalid();                                                     \
        c[n].f.field = val;                                                    \
        n++;                                                                   \
    } while (0)
    CASE("net NULL", BPTT_ENULL, net, NULL);
    CASE("W NULL", BPTT_ENULL, W, NULL);
    CASE("x NULL", BPTT_ENULL, x, NULL);
    CASE("y NULL", BPTT_ENULL, y, NULL);
    CASE("ws NULL", BPTT_ENULL, ws, NULL);
    CASE("T zero", BPTT_ESIZE, T, 0);
    CASE("B zero", BPTT_ESIZE, B, 0);
    CASE("ldw small", BPTT_ELD, ldw, M - 1);
    CASE("ldx small", BPTT_ELD, ldx, DIN - 1);
    CASE("ldy0 small", BPTT_ELD, ldy0, DOUT - 1);
    CASE("ldy small", BPTT_ELD, ldy, 0);
    CASE("T over capacity", BPTT_ECAPACITY, T, T + 1);
    CASE("B over capacity", BPTT_ECAPACITY, B, B + 1);
    CASE("other net", BPTT_EMISMATCH, net, other);
    CASE("algo unknown", BPTT_EALGO, algo, BPTT_NALGO);
    CASE("algo negative", BPTT_EALGO, algo, (bptt_algo)-1);
    CASE("ldx beyond INT_MAX", BPTT_EOVERFLOW, ldx, (size_t)INT32_MAX + 1);
    CASE("ldy overflows size_t", BPTT_EOVERFLOW, ldy, SIZE_MAX / 2);
#undef CASE
    for (int k = 0; k < n; k++) {
        take_snapshot();
        assert_untouched(fcall(c[k].f), c[k].want, c[k].what);
    }
    /* and the valid call succeeds, so every case failed for its one fault */
    ck_assert_int_eq(fcall(fvalid()), BPTT_OK);
}
END_TEST

typedef struct bargs {
    const bptt_net *net;
    size_t T, B;
    const double *W;
    size_t ldw;
    const double *dy;
    size_t lddy;
    double beta;
    double *dW;
    size_t lddw;
    double *db, *dx;
    size_t lddx;
    double *dy0;
    size_t lddy0;
    bptt_algo algo;
    bptt_workspace *ws;
} bargs;

static bargs bvalid(void)
{
    return (bargs){net, T, B, a->W, M, a->dy, DOUT, 0.0, a->dW, M, a->db,
                   a->dx, DIN, a->dy0, DOUT, BPTT_ALGO_AUTO, ws};
}

static bptt_status bcall(bargs g)
{
    return bptt_backward(g.net, g.T, g.B, g.W, g.ldw, g.dy, g.lddy, g.beta,
                         g.dW, g.lddw, g.db, g.dx, g.lddx, g.dy0, g.lddy0,
                         g.algo, g.ws);
}

START_TEST(backward_traps)
{
    /* Before any forward: refused. */
    take_snapshot();
    assert_untouched(bcall(bvalid()), BPTT_ENOFORWARD, "no forward");
    ck_assert_int_eq(fcall(fvalid()), BPTT_OK);

    struct {
        const char *what;
        bptt_status want;
        bargs g;
    } c[20];
    int n = 0;
#define CASE(w, st, field, val)                                                \
    do {                                                                       \
        c[n].what = w;                                                         \
        c[n].want = st;                                                        \
        c[n].g = bvalid();                                                     \
        c[n].g.field = val;                                                    \
        n++;                                                                   \
    } while (0)
    CASE("net NULL", BPTT_ENULL, net, NULL);
    CASE("W NULL", BPTT_ENULL, W, NULL);
    CASE("dy NULL", BPTT_ENULL, dy, NULL);
    CASE("ws NULL", BPTT_ENULL, ws, NULL);
    CASE("T zero", BPTT_ESIZE, T, 0);
    CASE("ldw small", BPTT_ELD, ldw, 1);
    CASE("lddy small", BPTT_ELD, lddy, DOUT - 1);
    CASE("lddw small", BPTT_ELD, lddw, M - 1);
    CASE("lddx small", BPTT_ELD, lddx, DIN - 1);
    CASE("lddy0 small", BPTT_ELD, lddy0, DOUT - 1);
    CASE("B over capacity", BPTT_ECAPACITY, B, B + 1);
    CASE("other net", BPTT_EMISMATCH, net, other);
    CASE("algo unknown", BPTT_EALGO, algo, (bptt_algo)99);
    CASE("T differs from forward", BPTT_ENOFORWARD, T, T - 1);
    CASE("B differs from forward", BPTT_ENOFORWARD, B, 1);
    CASE("lddx overflow", BPTT_EOVERFLOW, lddx, SIZE_MAX / 4);
    CASE("beta NaN", BPTT_EINVAL, beta, NAN);
    CASE("beta -Inf", BPTT_EINVAL, beta, -INFINITY);
#undef CASE
    for (int k = 0; k < n; k++) {
        take_snapshot();
        assert_untouched(bcall(c[k].g), c[k].want, c[k].what);
    }
    ck_assert_int_eq(bcall(bvalid()), BPTT_OK);
}
END_TEST

static double f_sin(double z, void *u)
{
    (void)u;
    return sin(z);
}

START_TEST(net_create_traps)
{
    bptt_activation act[DOUT] = {BPTT_ACT_TANH, BPTT_ACT_CUSTOM, BPTT_ACT_RELU,
                                 BPTT_ACT_IDENTITY};
    bptt_custom_activation no_df = {f_sin, NULL, NULL};
    bptt_net *sentinel = (bptt_net *)&act, *out = sentinel;
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, act, NULL, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, NULL, NULL, &out), BPTT_ENULL);
    ck_assert_int_eq(bptt_net_create(0, DOUT, act, NULL, &out), BPTT_ESIZE);
    ck_assert_int_eq(bptt_net_create(DIN, 0, act, NULL, &out), BPTT_ESIZE);
    ck_assert_int_eq(bptt_net_create(SIZE_MAX, DOUT, act, NULL, &out),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_net_create((size_t)INT32_MAX, 1, act, NULL, &out),
                     BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, act, NULL, &out),
                     BPTT_EACTIVATION); /* custom unit, no pair */
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, act, &no_df, &out),
                     BPTT_EACTIVATION);
    act[1] = BPTT_NACTIVATION;
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, act, NULL, &out),
                     BPTT_EACTIVATION);
    act[1] = (bptt_activation)-3;
    ck_assert_int_eq(bptt_net_create(DIN, DOUT, act, NULL, &out),
                     BPTT_EACTIVATION);
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_NACTIVATION,
                                             NULL, &out), BPTT_EACTIVATION);
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_CUSTOM, NULL,
                                             &out), BPTT_EACTIVATION);
    ck_assert_ptr_eq(out, sentinel);
    ck_assert_int_eq(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_CUSTOM, &no_df,
                                             NULL), BPTT_ENULL);
    ck_assert_uint_eq(bptt_net_din(NULL), 0);
    ck_assert_int_eq(bptt_net_activation(net, DOUT), BPTT_NACTIVATION);
}
END_TEST

START_TEST(workspace_traps)
{
    size_t bytes = 12345;
    bptt_workspace *out = (bptt_workspace *)&bytes;
    ck_assert_int_eq(bptt_workspace_size(NULL, T, B, &bytes), BPTT_ENULL);
    ck_assert_int_eq(bptt_workspace_size(net, T, B, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_workspace_size(net, 0, B, &bytes), BPTT_ESIZE);
    ck_assert_int_eq(bptt_workspace_size(net, T, 0, &bytes), BPTT_ESIZE);
    ck_assert_int_eq(bptt_workspace_size(net, SIZE_MAX, 2, &bytes), BPTT_EOVERFLOW);
    ck_assert_int_eq(bptt_workspace_size(net, (size_t)1 << 16, (size_t)1 << 16,
                                         &bytes), BPTT_EOVERFLOW); /* T*B > INT_MAX */
    ck_assert_int_eq(bpttf_workspace_size(net, SIZE_MAX / 8, 1, &bytes),
                     BPTT_EOVERFLOW);
    ck_assert_uint_eq(bytes, 12345);
    ck_assert_int_eq(bptt_workspace_alloc(net, T, B, NULL), BPTT_ENULL);
    ck_assert_int_eq(bptt_workspace_alloc(net, 0, B, &out), BPTT_ESIZE);
    ck_assert_int_eq(bptt_workspace_init(net, T, B, NULL, 100, &out), BPTT_ENULL);
    ck_assert_int_eq(bptt_workspace_size(net, T, B, &bytes), BPTT_OK);
    take_snapshot();
    assert_untouched(bptt_workspace_init(net, T, B, a->wsbuf, bytes - 1, &out),
                     BPTT_EBUFFER, "buffer one byte short");
    ck_assert_ptr_eq(out, (bptt_workspace *)&bytes);
    /* A workspace of 16 TiB is refused by the allocator, not by a crash. */
    bptt_net *huge;
    ck_assert_int_eq(bptt_net_create_uniform((size_t)1 << 20, (size_t)1 << 20,
                                             BPTT_ACT_TANH, NULL, &huge), BPTT_OK);
    ck_assert_int_eq(bptt_workspace_alloc(huge, (size_t)1 << 20, 1, &out),
                     BPTT_ENOMEM);
    bptt_net_free(huge);
}
END_TEST

START_TEST(loss_and_sgd_traps)
{
    double loss = 7;
    take_snapshot();
    assert_untouched(bptt_loss_squared(T, B, DOUT, NULL, DOUT, a->dy, DOUT,
                                       NULL, &loss, a->dx, DOUT), BPTT_ENULL, "y NULL");
    assert_untouched(bptt_loss_squared(T, B, DOUT, a->y, DOUT, a->dy, DOUT,
                                       NULL, NULL, a->dx, DOUT), BPTT_ENULL, "loss NULL");
    assert_untouched(bptt_loss_squared(T, 0, DOUT, a->y, DOUT, a->dy, DOUT,
                                       NULL, &loss, a->dx, DOUT), BPTT_ESIZE, "B zero");
    assert_untouched(bptt_loss_squared(T, B, DOUT, a->y, DOUT, a->dy, DOUT - 1,
                                       NULL, &loss, a->dx, DOUT), BPTT_ELD, "ldt");
    assert_untouched(bptt_loss_squared(T, B, DOUT, a->y, SIZE_MAX / 2, a->dy,
                                       DOUT, NULL, &loss, a->dx, DOUT),
                     BPTT_EOVERFLOW, "ldy overflow");
    ck_assert(loss == 7);
    assert_untouched(bptt_sgd_step(DOUT, M, NAN, a->dW, M, a->W, M), BPTT_EINVAL,
                     "alpha NaN");
    assert_untouched(bptt_sgd_step(DOUT, M, INFINITY, a->dW, M, a->W, M),
                     BPTT_EINVAL, "alpha inf");
    assert_untouched(bptt_sgd_step(DOUT, M, 0.1, NULL, M, a->W, M), BPTT_ENULL,
                     "dW NULL");
    assert_untouched(bptt_sgd_step(0, M, 0.1, a->dW, M, a->W, M), BPTT_ESIZE,
                     "rows zero");
    assert_untouched(bptt_sgd_step(DOUT, M, 0.1, a->dW, M, a->W, M - 1), BPTT_ELD,
                     "ldw small");
}
END_TEST

START_TEST(every_status_has_a_message)
{
    for (int s = 0; s < BPTT_NSTATUS; s++) {
        const char *m = bptt_strerror((bptt_status)s);
        ck_assert(m && m[0]);
        for (int t = 0; t < s; t++)
            ck_assert_str_ne(m, bptt_strerror((bptt_status)t));
    }
    ck_assert_str_eq(bptt_strerror(BPTT_NSTATUS), "unknown status");
    ck_assert_str_eq(bptt_strerror((bptt_status)-1), "unknown status");
    ck_assert_ptr_null(bptt_algo_name(BPTT_NALGO));
    ck_assert_ptr_null(bptt_activation_name(BPTT_NACTIVATION));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("traps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, forward_traps);
    tcase_add_test(tc, backward_traps);
    tcase_add_test(tc, net_create_traps);
    tcase_add_test(tc, workspace_traps);
    tcase_add_test(tc, loss_and_sgd_traps);
    tcase_add_test(tc, every_status_has_a_message);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
