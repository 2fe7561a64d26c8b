/*
 * ops_misuse.c — the fuzz ops of issue 15's misuse (fuzz/README.md):
 * arguments aliased on purpose, and workspaces kept past their descriptor.
 */
#include "fuzz.h"

/* ------------------------------------------------------------------------ */
/* op: one output placed anywhere in one block with the other arrays         */
/* ------------------------------------------------------------------------ */

/* An array of the call as elements of the pool: rows x cols from off, rows
 * ld apart.  off = SIZE_MAX: absent. */
typedef struct place {
    const char *name;
    size_t off, rows, cols, ld;
} place;

static int present(const place *p)
{
    return p->off != SIZE_MAX;
}

static size_t last(const place *p)
{
    return p->off + (p->rows - 1) * p->ld + p->cols; /* one past */
}

/* Whether p and q share an element, by marking p's elements. */
static int shares(const place *p, const place *q, unsigned char *mark,
                  size_t n)
{
    memset(mark, 0, n);
    for (size_t i = 0; i < p->rows; i++)
        memset(mark + p->off + i * p->ld, 1, p->cols);
    for (size_t i = 0; i < q->rows; i++)
        for (size_t j = 0; j < q->cols; j++)
            if (mark[q->off + i * q->ld + j])
                return 1;
    return 0;
}

/* Whether the library must decide p and q exactly (their address ranges
 * intersect and their rows are equally far apart, or one is a single row
 * within the other's pitch), or may refuse conservatively. */
static int decided(const place *p, const place *q)
{
    if (last(p) <= q->off || last(q) <= p->off)
        return 1;
    return p->ld == q->ld || (p->rows == 1 && p->cols <= q->ld) ||
           (q->rows == 1 && q->cols <= p->ld);
}

void op_alias(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    const unsigned call = u8(r) % 4; /* forward, backward, loss, sgd */
    static const char *const names[4] = {"forward", "backward",
                                         "loss_squared", "sgd_step"};
    char fn[64];
    fname(A, names[call], fn);
    const size_t din = 1 + u8(r) % 4, dout = 1 + u8(r) % 4, m = din + dout;
    const size_t T = 1 + u8(r) % 3, B = 1 + u8(r) % 2, TB = T * B;
    const int bias = u8(r) & 1;
    /* the arrays of each call, inputs first; the last ones are outputs */
    place pl[8];
    size_t np = 0, nout = 0;
#define ADD(nm, rows, cols) \
    (pl[np++] = (place){nm, 0, rows, cols, (cols) + u8(r) % 3})
    switch (call) {
    case 0:
        ADD("W", dout, m);
        ADD("b", 1, dout);
        ADD("x", TB, din);
        ADD("y0", B, dout);
        ADD("y", TB, dout);
        nout = 1;
        if (!bias)
            pl[1].off = SIZE_MAX;
        break;
    case 1:
        ADD("W", dout, m);
        ADD("dy", TB, dout);
        ADD("dW", dout, m);
        ADD("db", 1, dout);
        ADD("dx", TB, din);
        ADD("dy0", B, dout);
        nout = 4;
        break;
    case 2:
        ADD("y", TB, dout);
        ADD("target", TB, dout);
        ADD("dy", TB, dout);
        nout = 1;
        break;
    default:
        ADD("dW", dout, m);
        ADD("W", dout, m);
        nout = 1;
    }
#undef ADD
    /* consecutive, then the victim (one output) moved anywhere */
    size_t n = 0;
    for (size_t i = 0; i < np; i++)
        if (present(&pl[i])) {
            pl[i].off = n;
            n = last(&pl[i]) + u8(r) % 2;
        }
    place *v = &pl[np - nout + u8(r) % nout];
    const size_t vlen = last(v) - v->off;
    v->off = (size_t)(u8(r) | u8(r) << 8) % (n - vlen + 1);
    if (call == 2 && u8(r) % 4 == 0) { /* dy exactly y: allowed */
        pl[2].off = pl[0].off;
        pl[2].ld = pl[0].ld;
    }
    const int in_place =
        call == 2 && pl[2].off == pl[0].off && pl[2].ld == pl[0].ld;

    arena a = {0};
    unsigned char *pool = arena_new(&a, n * A->r);
    unsigned char *mark = malloc(n);
    for (size_t i = 0; i < n; i++)
        A->set(pool, i, (double)(int)(u8(r) % 17 - 8) / 8);
    /* the truth: does an output share an element with another array? */
    int overlap = 0, exact = 1;
    for (size_t i = np - nout; i < np; i++) {
        if (!present(&pl[i]))
            continue;
        for (size_t j = 0; j < np; j++) {
            /* each pair of outputs once; dy = y is the allowed case */
            if (j == i || !present(&pl[j]) || (j >= np - nout && j < i) ||
                (in_place && i == 2 && j == 0))
                continue;
            overlap |= shares(&pl[i], &pl[j], mark, n);
            exact &= decided(&pl[i], &pl[j]);
        }
    }
    free(mark);
    void *p[8];
    for (size_t i = 0; i < np; i++)
        p[i] = present(&pl[i]) ? pool + pl[i].off * A->r : NULL;

    /* backward needs a forward of its own arrays first */
    void *ws = NULL;
    bptt_net *net = NULL;
    if (call <= 1) {
        REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL,
                                        &net) == BPTT_OK, "net");
        REQUIRE(A->alloc(net, T, B, &ws) == BPTT_OK, "alloc");
    }
    arena ref = {0};
    if (call == 1) {
        mat W = mat_dense(&ref, A, dout, m), x = mat_dense(&ref, A, TB, din);
        mat y = mat_dense(&ref, A, TB, dout);
        REQUIRE(A->forward(net, T, B, W.p, m, NULL, x.p, din, NULL, 0, y.p,
                           dout, BPTT_ALGO_AUTO, ws) == BPTT_OK,
                "forward for backward");
    }
    trace("%s: din %zu dout %zu T %zu B %zu, %s at %zu of %zu%s\n", fn, din,
          dout, T, B, v->name, v->off, n, in_place ? ", dy = y" : "");
    double loss = 0;
    arena_snapshot(&a);
    mark_detail();
    bptt_status st;
    switch (call) {
    case 0:
        st = A->forward(net, T, B, p[0], pl[0].ld, p[1], p[2], pl[2].ld, p[3],
                        pl[3].ld, p[4], pl[4].ld, BPTT_ALGO_AUTO, ws);
        break;
    case 1:
        st = A->backward(net, T, B, p[0], pl[0].ld, p[1], pl[1].ld, 0, p[2],
                         pl[2].ld, p[3], p[4], pl[4].ld, p[5], pl[5].ld,
                         BPTT_ALGO_AUTO, ws);
        break;
    case 2:
        st = A->loss(T, B, dout, p[0], pl[0].ld, p[1], pl[1].ld, NULL, &loss,
                     p[2], pl[2].ld);
        break;
    default:
        st = A->sgd(dout, m, 0.5, p[0], pl[0].ld, p[1], pl[1].ld);
    }
    if (overlap) {
        require_rejected(st, BIT(BPTT_EOVERLAP), fn, &a);
        HIT(H_OTHER_REJECTED);
    } else if (exact) {
        REQUIRE(st == BPTT_OK, "%s: %s apart from the others, refused: %s",
                fn, v->name, bptt_error_detail());
        HIT(H_OTHER_CHECKED);
    } else if (st != BPTT_OK) {
        require_rejected(st, BIT(BPTT_EOVERLAP), fn, &a);
        HIT(H_OTHER_REJECTED);
    }
    if (ws)
        A->free(ws);
    bptt_net_free(net);
    arena_free(&ref);
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: a workspace, state or Elman workspace kept past its descriptor        */
/* ------------------------------------------------------------------------ */

/* The descriptor is freed and another made, often of other sizes (at the
 * same address, unless ASan's quarantine keeps it); every call with the new
 * descriptor and the old workspace is refused, nothing written. */
void op_stale(bytes *r)
{
    const api *A = &apis[u8(r) & 1];
    const unsigned kind = u8(r) % 3; /* Network A, RTRL, Elman */
    const size_t din = 1 + u8(r) % 4, dout = 1 + u8(r) % 4;
    const size_t din2 = 1 + u8(r) % 8, dout2 = 1 + u8(r) % 8;
    const size_t T = 1 + u8(r) % 3, B = 1 + u8(r) % 2, TB = T * B;
    const size_t nout = 1 + u8(r) % 4, nout2 = 1 + u8(r) % 8;
    bptt_net *net, *net2 = NULL;
    REQUIRE(bptt_net_create_uniform(din, dout, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    bptt_elman *el = NULL, *el2 = NULL;
    void *ws = NULL;
    char fn[64];
    switch (kind) {
    case 0:
        fname(A, "forward", fn);
        REQUIRE(A->alloc(net, T, B, &ws) == BPTT_OK, "alloc");
        break;
    case 1:
        fname(A, "rtrl_sequence", fn);
        REQUIRE(A->rt_alloc(net, T, B, &ws) == BPTT_OK, "rtrl alloc");
        break;
    default:
        fname(A, "elman_forward", fn);
        REQUIRE(bptt_elman_create(net, nout, BPTT_HEAD_LINEAR, &el) == BPTT_OK,
                "elman");
        REQUIRE(A->el_alloc(el, T, B, &ws) == BPTT_OK, "elman alloc");
    }
    const void *old = kind == 2 ? (const void *)el : (const void *)net;
    if (kind == 2 && (u8(r) & 1)) {
        /* the Elman descriptor remade over the same core */
        bptt_elman_free(el);
        REQUIRE(bptt_elman_create(net, nout2, BPTT_HEAD_LINEAR, &el2) ==
                    BPTT_OK, "elman again");
        net2 = net;
        net = NULL;
    } else {
        if (el)
            bptt_elman_free(el);
        bptt_net_free(net);
        net = NULL;
        REQUIRE(bptt_net_create_uniform(din2, dout2, BPTT_ACT_TANH, NULL,
                                        &net2) == BPTT_OK, "net2");
        if (kind == 2)
            REQUIRE(bptt_elman_create(net2, nout2, BPTT_HEAD_LINEAR, &el2) ==
                        BPTT_OK, "elman2");
    }
    const int reused = (kind == 2 ? (const void *)el2 : (const void *)net2) ==
                       old;
    const size_t m2 = din2 + dout2, no = kind == 2 ? nout2 : dout2;
    arena a = {0};
    mat W = mat_dense(&a, A, dout2, m2), x = mat_dense(&a, A, TB, din2);
    mat y = mat_dense(&a, A, TB, no), t = mat_dense(&a, A, TB, no);
    mat Wo = mat_dense(&a, A, nout2, dout2), dW = mat_dense(&a, A, dout2, m2);
    double *loss = arena_new(&a, sizeof(double));
    trace("%s: stale %s, %zu x %zu -> %zu x %zu, address %s\n", fn,
          kind == 0 ? "workspace" : kind == 1 ? "state" : "Elman workspace",
          din, dout, din2, dout2, reused ? "reused" : "new");
    arena_snapshot(&a);
    mark_detail();
    bptt_status st;
    switch (kind) {
    case 0:
        st = A->forward(net2, T, B, W.p, m2, NULL, x.p, din2, NULL, 0, y.p,
                        dout2, BPTT_ALGO_AUTO, ws);
        break;
    case 1:
        st = A->rt_sequence(net2, T, B, W.p, m2, NULL, x.p, din2, NULL, 0,
                            t.p, dout2, NULL, y.p, dout2, loss, 0, dW.p, m2,
                            NULL, BPTT_RTRL_AUTO, ws);
        break;
    default:
        st = A->el_forward(el2, T, B, W.p, m2, NULL, Wo.p, dout2, NULL, x.p,
                           din2, NULL, 0, NULL, t.p, nout2, loss, NULL, 0,
                           y.p, nout2, BPTT_ALGO_AUTO, ws);
    }
    require_rejected(st, BIT(BPTT_EMISMATCH), fn, &a);
    HIT(reused ? H_OTHER_CHECKED : H_OTHER_REJECTED);
    switch (kind) {
    case 0:
        A->free(ws);
        break;
    case 1:
        A->rt_free(ws);
        break;
    default:
        A->el_free(ws);
    }
    bptt_elman_free(el2);
    bptt_net_free(net2);
    arena_free(&a);
}
