/*
 * ops_schedule.c — the fuzz op of memory-bounded BPTT and truncated BPTT
 * (bptt/schedule.h), double precision: a plan from a fuzzed budget or a
 * fuzzed (L, M) is refused with its status and writes nothing, or stays
 * within the budget and gives the full-storage gradient; a failing loss
 * callback's status comes back with dW untouched; a truncated-BPTT step
 * with h = h' = T is full BPTT.
 */
#include "fuzz.h"

typedef struct sq {
    const double *target;
    size_t dout;
    int fail_at; /* the segment start that fails; -1: none */
} sq;

static bptt_status sq_dy(void *ctx, size_t t0, size_t n, size_t B,
                         const double *y, size_t ldy, double *dy, size_t lddy,
                         double *loss)
{
    const sq *q = ctx;
    if (q->fail_at >= 0 && (size_t)q->fail_at >= t0 &&
        (size_t)q->fail_at < t0 + n)
        return BPTT_EINVAL;
    double l = 0;
    bptt_status st = bptt_loss_squared(n, B, q->dout, y, ldy,
                                       q->target + t0 * B * q->dout, q->dout,
                                       NULL, &l, dy, lddy);
    *loss += l;
    return st;
}

static double *randoms(bytes *r, size_t n, double scale)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * ((double)u8(r) - 127.5) / 128;
    return p;
}

static double relerr(size_t n, const double *a, const double *b)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        m = fmax(m, fabs(b[i]));
    }
    return m > 0 ? d / m : d;
}

void op_schedule(bytes *r)
{
    const size_t din = 1 + u8(r) % 4, dout = 1 + u8(r) % 4, m = din + dout;
    const size_t T = u8(r) % 14, B = 1 + u8(r) % 3;
    const unsigned mode = u8(r);
    static const bptt_activation acts[4] = {BPTT_ACT_TANH, BPTT_ACT_LOGISTIC,
                                            BPTT_ACT_RELU, BPTT_ACT_IDENTITY};
    bptt_net *net = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, acts[mode % 4], NULL, &net) ==
                BPTT_OK, "net");
    size_t minb = 0;
    bptt_status st = bptt_schedule_min_bytes(net, T, B, &minb);
    if (T == 0) {
        REQUIRE(st == BPTT_ESIZE, "T = 0: %d", (int)st);
        bptt_schedule *s = (bptt_schedule *)&minb, *keep = s;
        REQUIRE(bptt_schedule_plan(net, T, B, SIZE_MAX, &s) == BPTT_ESIZE &&
                    s == keep, "plan T = 0");
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "min_bytes");
    bptt_schedule *s = NULL;
    const size_t L = u8(r) % (T + 2), M = u8(r) % 8;
    size_t budget = 0;
    if (mode & 4) {
        /* a fuzzed (L, M): L = 0 and L > T refused */
        st = bptt_schedule_plan_fixed(net, T, B, L, M, &s);
        if (L == 0 || L > T) {
            REQUIRE(st == (L ? BPTT_EINVAL : BPTT_ESIZE) && !s,
                    "plan_fixed L = %zu T = %zu: %d", L, T, (int)st);
            bptt_net_free(net);
            return;
        }
    } else {
        /* a budget from just below the minimum to twice full storage */
        size_t full;
        REQUIRE(bptt_workspace_size(net, T, B, &full) == BPTT_OK, "size");
        const unsigned f = u8(r);
        budget = f == 0 ? minb - 1 : minb + (2 * full) / 256 * f;
        st = bptt_schedule_plan(net, T, B, budget, &s);
        if (budget < minb) {
            REQUIRE(st == BPTT_EBUFFER && !s, "budget %zu < %zu: %d", budget,
                    minb, (int)st);
            bptt_net_free(net);
            return;
        }
    }
    REQUIRE(st == BPTT_OK, "plan: %d", (int)st);
    bptt_schedule_info info;
    REQUIRE(bptt_schedule_info_get(s, &info) == BPTT_OK, "info");
    REQUIRE(!budget || info.bytes <= budget, "bytes %zu > budget %zu",
            info.bytes, budget);
    size_t steps;
    REQUIRE(bptt_schedule_cost(T, info.seg, info.slots, &steps) == BPTT_OK &&
                steps == info.forward_steps && steps >= T,
            "cost");
    trace("schedule T=%zu B=%zu L=%zu M=%zu\n", T, B, info.seg, info.slots);

    double *W = randoms(r, dout * m, 0.8), *b = randoms(r, dout, 0.5);
    double *x = randoms(r, T * B * din, 1), *y0 = randoms(r, B * dout, 0.5);
    double *tg = randoms(r, T * B * dout, 1);
    double *y = calloc(T * B * dout, 8), *dy = calloc(T * B * dout, 8);
    double *g0 = calloc(dout * m + dout + T * B * din + B * dout, 8);
    double *g1 = calloc(dout * m + dout + T * B * din + B * dout, 8);
    const size_t ng = dout * m + dout + T * B * din + B * dout;
    double *dW0 = g0, *db0 = dW0 + dout * m, *dx0 = db0 + dout,
           *dy00 = dx0 + T * B * din;
    double *dW1 = g1, *db1 = dW1 + dout * m, *dx1 = db1 + dout,
           *dy01 = dx1 + T * B * din;
    bptt_workspace *ws;
    double l0, l1 = -1;
    REQUIRE(bptt_workspace_alloc(net, T, B, &ws) == BPTT_OK, "ws");
    REQUIRE(bptt_forward(net, T, B, W, m, b, x, din, y0, dout, y, dout,
                         BPTT_ALGO_AUTO, ws) == BPTT_OK, "forward");
    REQUIRE(bptt_loss_squared(T, B, dout, y, dout, tg, dout, NULL, &l0, dy,
                              dout) == BPTT_OK, "loss");
    REQUIRE(bptt_backward(net, T, B, W, m, dy, dout, 0, dW0, m, db0, dx0, din,
                          dy00, dout, BPTT_ALGO_AUTO, ws) == BPTT_OK,
            "backward");
    sq q = {tg, dout, (mode & 8) ? (int)(u8(r) % T) : -1};
    double *keep = malloc(dout * m * 8);
    memcpy(keep, dW1, dout * m * 8);
    st = bptt_schedule_run(s, W, m, b, x, din, y0, dout, sq_dy, &q, 0, dW1, m,
                           db1, dx1, din, dy01, dout, NULL, 0, &l1);
    if (q.fail_at >= 0) {
        REQUIRE(st == BPTT_EINVAL && l1 == -1 &&
                    !memcmp(keep, dW1, dout * m * 8),
                "failing callback: %d", (int)st);
    } else {
        REQUIRE(st == BPTT_OK, "run: %d", (int)st);
        REQUIRE(relerr(ng, g1, g0) <= 1e-12 && fabs(l1 - l0) <= 1e-12 * (1 + l0),
                "gradient differs by %g", relerr(ng, g1, g0));
        /* truncated BPTT with h = h' = T */
        bptt_tbptt *tb;
        REQUIRE(bptt_tbptt_alloc(net, T, T, B, &tb) == BPTT_OK, "tbptt");
        REQUIRE(bptt_tbptt_reset(tb, y0, dout) == BPTT_OK, "reset");
        REQUIRE(bptt_tbptt_step(tb, T, W, m, b, x, din, sq_dy, &q, 0, dW1, m,
                                db1, NULL, 0, &l1) == BPTT_OK, "step");
        REQUIRE(!memcmp(dW1, dW0, dout * m * 8) && l1 == l0,
                "tbptt(T; T) is not full BPTT");
        bptt_tbptt_free(tb);
    }
    free(keep);
    bptt_workspace_free(ws);
    bptt_schedule_free(s);
    free(W); free(b); free(x); free(y0); free(tg); free(y); free(dy);
    free(g0); free(g1);
    bptt_net_free(net);
}
