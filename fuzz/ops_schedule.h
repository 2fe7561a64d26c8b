/*
 * ops_schedule.h — the body of the schedule ops (ops_schedule.c), included
 * once per precision with
 *
 *   FR          the real type (double, float)
 *   FS(name)    the library's name (bptt_name, bpttf_name)
 *   FO(name)    this file's static name in that precision
 *   FTOL        the gradient's tolerance against full storage (segment
 *               cuts change the order of a few sums)
 */

typedef struct FO(sq) {
    const FR *target;
    size_t dout;
    int fail_at; /* the segment start that fails; -1: none */
} FO(sq);

static bptt_status FO(sq_dy)(void *ctx, size_t t0, size_t n, size_t B,
                             const FR *y, size_t ldy, FR *dy, size_t lddy,
                             double *loss)
{
    const FO(sq) *q = ctx;
    if (q->fail_at >= 0 && (size_t)q->fail_at >= t0 &&
        (size_t)q->fail_at < t0 + n)
        return BPTT_EINVAL;
    double l = 0;
    bptt_status st = FS(loss_squared)(n, B, q->dout, y, ldy,
                                       q->target + t0 * B * q->dout, q->dout,
                                       NULL, &l, dy, lddy);
    *loss += l;
    return st;
}

static FR *FO(randoms)(bytes *r, size_t n, double scale)
{
    FR *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (FR)(scale * ((double)u8(r) - 127.5) / 128);
    return p;
}

static double FO(relerr)(size_t n, const FR *a, const FR *b)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        m = fmax(m, fabs(b[i]));
    }
    return m > 0 ? d / m : d;
}

static void FO(schedule)(bytes *r)
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
    bptt_status st = FS(schedule_min_bytes)(net, T, B, &minb);
    if (T == 0) {
        REQUIRE(st == BPTT_ESIZE, "T = 0: %d", (int)st);
        FS(schedule) *s = (FS(schedule) *)&minb, *keep = s;
        REQUIRE(FS(schedule_plan)(net, T, B, SIZE_MAX, &s) == BPTT_ESIZE &&
                    s == keep, "plan T = 0");
        bptt_net_free(net);
        return;
    }
    REQUIRE(st == BPTT_OK, "min_bytes");
    FS(schedule) *s = NULL;
    const size_t L = u8(r) % (T + 2), M = u8(r) % 8;
    size_t budget = 0;
    if (mode & 4) {
        /* a fuzzed (L, M), and with mode & 16 pieces of I steps (restaged:
         * every activation here has f' from y): L = 0, L > T and I > L
         * refused */
        const size_t I = (mode & 16) ? 1 + u8(r) % (L + 1) : L;
        st = (mode & 16) ? FS(schedule_plan_pieces)(net, T, B, L, M, I, &s)
                         : FS(schedule_plan_fixed)(net, T, B, L, M, &s);
        if (L == 0 || L > T || I > L) {
            REQUIRE(st == (L ? BPTT_EINVAL : BPTT_ESIZE) && !s,
                    "plan L = %zu I = %zu T = %zu: %d", L, I, T, (int)st);
            bptt_net_free(net);
            return;
        }
    } else {
        /* a budget from just below the minimum to twice full storage */
        size_t full;
        REQUIRE(FS(workspace_size)(net, T, B, &full) == BPTT_OK, "size");
        const unsigned f = u8(r);
        budget = f == 0 ? minb - 1 : minb + (2 * full) / 256 * f;
        st = FS(schedule_plan)(net, T, B, budget, &s);
        if (budget < minb) {
            REQUIRE(st == BPTT_EBUFFER && !s, "budget %zu < %zu: %d", budget,
                    minb, (int)st);
            bptt_net_free(net);
            return;
        }
    }
    REQUIRE(st == BPTT_OK, "plan: %d", (int)st);
    bptt_schedule_info info;
    REQUIRE(FS(schedule_info_get)(s, &info) == BPTT_OK, "info");
    REQUIRE(!budget || info.bytes <= budget, "bytes %zu > budget %zu",
            info.bytes, budget);
    size_t steps;
    REQUIRE(bptt_schedule_cost(T, info.seg, info.slots, &steps) == BPTT_OK &&
                steps == info.forward_steps && steps >= T,
            "cost");
    trace("schedule T=%zu B=%zu L=%zu M=%zu\n", T, B, info.seg, info.slots);

    FR *W = FO(randoms)(r, dout * m, 0.8), *b = FO(randoms)(r, dout, 0.5);
    FR *x = FO(randoms)(r, T * B * din, 1), *y0 = FO(randoms)(r, B * dout, 0.5);
    FR *tg = FO(randoms)(r, T * B * dout, 1);
    FR *y = calloc(T * B * dout, sizeof(FR)), *dy = calloc(T * B * dout, sizeof(FR));
    FR *g0 = calloc(dout * m + dout + T * B * din + B * dout, sizeof(FR));
    FR *g1 = calloc(dout * m + dout + T * B * din + B * dout, sizeof(FR));
    const size_t ng = dout * m + dout + T * B * din + B * dout;
    FR *dW0 = g0, *db0 = dW0 + dout * m, *dx0 = db0 + dout,
           *dy00 = dx0 + T * B * din;
    FR *dW1 = g1, *db1 = dW1 + dout * m, *dx1 = db1 + dout,
           *dy01 = dx1 + T * B * din;
    FS(workspace) *ws;
    double l0, l1 = -1;
    REQUIRE(FS(workspace_alloc)(net, T, B, &ws) == BPTT_OK, "ws");
    REQUIRE(FS(forward)(net, T, B, W, m, b, x, din, y0, dout, y, dout,
                         BPTT_ALGO_AUTO, ws) == BPTT_OK, "forward");
    REQUIRE(FS(loss_squared)(T, B, dout, y, dout, tg, dout, NULL, &l0, dy,
                              dout) == BPTT_OK, "loss");
    REQUIRE(FS(backward)(net, T, B, W, m, dy, dout, 0, dW0, m, db0, dx0, din,
                          dy00, dout, BPTT_ALGO_AUTO, ws) == BPTT_OK,
            "backward");
    FO(sq) q = {tg, dout, (mode & 8) ? (int)(u8(r) % T) : -1};
    FR *keep = malloc(ng * sizeof(FR));
    memcpy(keep, g1, ng * sizeof(FR));
    st = FS(schedule_run)(s, W, m, b, x, din, y0, dout, FO(sq_dy), &q, 0, dW1, m,
                           db1, dx1, din, dy01, dout, NULL, 0, &l1);
    if (q.fail_at >= 0) {
        /* dW, db and dy0 untouched (dx's later rows are documented) */
        REQUIRE(st == BPTT_EINVAL && l1 == -1 &&
                    !memcmp(keep, g1, (dout * m + dout) * sizeof(FR)) &&
                    !memcmp(keep + (dy01 - g1), dy01,
                            B * dout * sizeof(FR)),
                "failing callback: %d", (int)st);
    } else {
        REQUIRE(st == BPTT_OK, "run: %d", (int)st);
        REQUIRE(FO(relerr)(ng, g1, g0) <= FTOL &&
                    fabs(l1 - l0) <= FTOL * (1 + l0),
                "gradient differs by %g", FO(relerr)(ng, g1, g0));
        /* truncated BPTT with h = h' = T */
        FS(tbptt) *tb;
        REQUIRE(FS(tbptt_alloc)(net, T, T, B, &tb) == BPTT_OK, "tbptt");
        REQUIRE(FS(tbptt_reset)(tb, y0, dout) == BPTT_OK, "reset");
        REQUIRE(FS(tbptt_step)(tb, T, W, m, b, x, din, FO(sq_dy), &q, 0, dW1, m,
                                db1, NULL, 0, &l1) == BPTT_OK, "step");
        REQUIRE(!memcmp(dW1, dW0, dout * m * sizeof(FR)) && l1 == l0,
                "tbptt(T; T) is not full BPTT");
        FS(tbptt_free)(tb);
    }
    free(keep);
    FS(workspace_free)(ws);
    FS(schedule_free)(s);
    free(W); free(b); free(x); free(y0); free(tg); free(y); free(dy);
    free(g0); free(g1);
    bptt_net_free(net);
}
