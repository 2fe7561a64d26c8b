/*
 * ops_trainkit.c — the fuzz ops of the training kit (bptt/train.h): the
 * optimizers, the parameter layouts and checkpoints (fuzz/README.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <unistd.h>

#include "fuzz.h"

/* A value for an optimizer's hyper-parameter or rate: mostly in range,
 * sometimes at or past its edges. */
static double pick_hyper(bytes *r, double lo, double hi)
{
    static const double odd[] = {-1, 1, NAN, INFINITY, -0.0, 1e300, 0.999999,
                                 1e-300};
    const unsigned v = u8(r);
    if (v >= 232)
        return odd[v % 8];
    return lo + (hi - lo) * (v % 232) / 232.0;
}

/* ------------------------------------------------------------------------ */
/* op: optimizers                                                            */
/* ------------------------------------------------------------------------ */

void op_optim(bytes *r)
{
    const int fl = u8(r) & 1;
    const size_t elem = fl ? sizeof(float) : sizeof(double);
    bptt_optim_config c;
    bptt_optim_defaults((bptt_optim_kind)(u8(r) % BPTT_NOPTIM), &c);
    const unsigned mode = u8(r);
    if (mode & 1)
        c.momentum = pick_hyper(r, 0, 1);
    if (mode & 2)
        c.nesterov = 1;
    if (mode & 4)
        c.beta1 = pick_hyper(r, 0, 1);
    if (mode & 8)
        c.beta2 = pick_hyper(r, 0, 1);
    if (mode & 16)
        c.eps = pick_hyper(r, 0, 1e-3);
    if (mode & 32)
        c.weight_decay = pick_hyper(r, 0, 0.1);
    if (mode & 64)
        c.kind = (bptt_optim_kind)(BPTT_NOPTIM + (u8(r) & 3));
    const size_t n = u8(r) % 9;
    /* the harness's rule for a valid configuration */
    int valid = n > 0 && (unsigned)c.kind < BPTT_NOPTIM &&
                c.weight_decay >= 0 && isfinite(c.weight_decay);
    if (c.kind == BPTT_OPTIM_SGD)
        valid &= c.momentum >= 0 && c.momentum < 1 &&
                 !(c.nesterov && c.momentum == 0);
    else
        valid &= c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1 &&
                 c.eps > 0 && isfinite(c.eps);
    bptt_optim *o = (bptt_optim *)&c; /* a sentinel: must stay as it is */
    mark_detail();
    bptt_status st = bptt_optim_create(&c, n, &o);
    if (!valid) {
        REQUIRE(st == (n == 0 ? BPTT_ESIZE : BPTT_EINVAL) &&
                    o == (bptt_optim *)&c,
                "optim_create: invalid config accepted or *opt written (%d)",
                (int)st);
        return;
    }
    REQUIRE(st == BPTT_OK, "optim_create: %s", bptt_error_detail());
    size_t bytes = 0;
    st = fl ? bpttf_optim_state_size(o, &bytes)
            : bptt_optim_state_size(o, &bytes);
    const size_t k = c.kind == BPTT_OPTIM_SGD ? c.momentum > 0 : 2;
    REQUIRE(st == BPTT_OK && bytes == 64 + k * n * elem,
            "optim_state_size: %zu", bytes);
    arena a = {0};
    unsigned char *state = arena_new(&a, bytes);
    void *p = arena_new(&a, n * elem), *g = arena_new(&a, n * elem);
    /* one byte short is refused */
    arena_snapshot(&a);
    mark_detail();
    st = fl ? bpttf_optim_state_init(o, state, bytes - 1)
            : bptt_optim_state_init(o, state, bytes - 1);
    require_rejected(st, BIT(BPTT_EBUFFER),
                     fl ? "bpttf_optim_state_init" : "bptt_optim_state_init",
                     &a);
    st = fl ? bpttf_optim_state_init(o, state, bytes)
            : bptt_optim_state_init(o, state, bytes);
    REQUIRE(st == BPTT_OK, "optim_state_init");
    const int steps = 1 + u8(r) % 4;
    for (int s = 0; s < steps; s++) {
        int finite = 1;
        for (size_t i = 0; i < n; i++) {
            const unsigned v = u8(r);
            const double x = v >= 240 ? (v & 1 ? NAN : -INFINITY)
                                      : ((double)v - 120) / 60;
            finite &= isfinite(x);
            if (fl)
                ((float *)g)[i] = (float)x, ((float *)p)[i] = (float)(x / 3);
            else
                ((double *)g)[i] = x, ((double *)p)[i] = x / 3;
        }
        const double lr = pick_hyper(r, 0, 0.5);
        const int lr_ok = isfinite(lr) && lr >= 0;
        const unsigned long long before = bptt_optim_state_steps(state);
        arena_snapshot(&a);
        mark_detail();
        st = fl ? bpttf_optim_step(o, lr, p, g, state)
                : bptt_optim_step(o, lr, p, g, state);
        const char *fn = fl ? "bpttf_optim_step" : "bptt_optim_step";
        if (!lr_ok || !finite) {
            require_rejected(st, BIT(BPTT_EINVAL) | BIT(BPTT_ENONFINITE), fn,
                             &a);
            continue;
        }
        REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_error_detail());
        REQUIRE(bptt_optim_state_steps(state) == before + 1, "%s: steps", fn);
        REQUIRE(arena_changed(&a, p, state) < 0, "%s wrote g", fn);
    }
    /* a state of the other precision is another optimizer's */
    arena_snapshot(&a);
    mark_detail();
    st = fl ? bptt_optim_step(o, 0.1, p, g, state)
            : bpttf_optim_step(o, 0.1, p, g, state);
    require_rejected(st, BIT(BPTT_EMISMATCH),
                     fl ? "bptt_optim_step" : "bpttf_optim_step", &a);
    bptt_optim_free(o);
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: checkpoints                                                           */
/* ------------------------------------------------------------------------ */

/* Save a small model, then parse its image whole, truncated or with one
 * byte changed: whole it loads bitwise; changed it is refused with nothing
 * written (CRC-32C detects every single-byte error).  */
void op_checkpoint(bytes *r)
{
    const int fl = u8(r) & 1, B = u8(r) & 1, with_state = u8(r) & 1;
    const size_t elem = fl ? sizeof(float) : sizeof(double);
    const size_t din = 1 + u8(r) % 3, dh = 1 + u8(r) % 3, nout = 1 + u8(r) % 3;
    bptt_net *net;
    REQUIRE(bptt_net_create_uniform(din, dh, (bptt_activation)(u8(r) % 5),
                                    NULL, &net) == BPTT_OK, "net");
    bptt_elman *el = NULL;
    if (B)
        REQUIRE(bptt_elman_create(net, nout, (bptt_head)(u8(r) & 1), &el) ==
                    BPTT_OK, "elman");
    bptt_param_layout lay;
    REQUIRE((B ? bptt_elman_param_layout(el, &lay)
               : bptt_net_param_layout(net, &lay)) == BPTT_OK, "layout");
    arena a = {0};
    unsigned char *p = arena_new(&a, lay.count * elem);
    for (size_t i = 0; i < lay.count * elem; i++)
        p[i] = (unsigned char)u8(r);
    bptt_optim_config c;
    bptt_optim_defaults((bptt_optim_kind)(u8(r) % BPTT_NOPTIM), &c);
    bptt_optim *o;
    REQUIRE(bptt_optim_create(&c, lay.count, &o) == BPTT_OK, "optim");
    size_t sb;
    (fl ? bpttf_optim_state_size : bptt_optim_state_size)(o, &sb);
    unsigned char *state = arena_new(&a, sb);
    (fl ? bpttf_optim_state_init : bptt_optim_state_init)(o, state, sb);
    char path[64];
    snprintf(path, sizeof path, "/tmp/bptt-fuzz-%ld.ckpt", (long)getpid());
    const bptt_net *an = B ? NULL : net;
    bptt_status st =
        fl ? bpttf_checkpoint_save(path, an, el, (float *)p,
                                   with_state ? state : NULL, sb)
           : bptt_checkpoint_save(path, an, el, (double *)p,
                                  with_state ? state : NULL, sb);
    REQUIRE(st == BPTT_OK, "checkpoint_save: %s", bptt_error_detail());
    FILE *f = fopen(path, "rb");
    REQUIRE(f, "open %s", path);
    unsigned char img[4096];
    const size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    unlink(path);
    unsigned char *q = arena_new(&a, lay.count * elem);
    unsigned char *s2 = arena_new(&a, sb);
    (fl ? bpttf_optim_state_init : bptt_optim_state_init)(o, s2, sb);
    int *has = arena_new(&a, sizeof *has);
    const unsigned how = u8(r) % 3;
    const size_t at = ((size_t)u8(r) << 8 | u8(r)) % n;
    const unsigned char flip = (unsigned char)(1 + u8(r) % 255);
    size_t len = n;
    if (how == 1)
        len = at;
    else if (how == 2)
        img[at] ^= flip;
    arena_snapshot(&a);
    mark_detail();
    st = fl ? bpttf_checkpoint_parse(img, len, an, el, (float *)q, s2, sb, has)
            : bptt_checkpoint_parse(img, len, an, el, (double *)q, s2, sb, has);
    const char *fn = fl ? "bpttf_checkpoint_parse" : "bptt_checkpoint_parse";
    if (how == 0) {
        REQUIRE(st == BPTT_OK, "%s: intact image refused: %s", fn,
                bptt_error_detail());
        REQUIRE(memcmp(p, q, lay.count * elem) == 0, "%s: params differ", fn);
        REQUIRE(*has == with_state &&
                    (!with_state || memcmp(state, s2, sb) == 0),
                "%s: state differs", fn);
    } else {
        require_rejected(st, BIT(BPTT_ECORRUPT) | BIT(BPTT_EFORMAT) |
                                 BIT(BPTT_EVERSION) | BIT(BPTT_EMISMATCH),
                         fn, &a);
    }
    bptt_optim_free(o);
    arena_free(&a);
    bptt_elman_free(el);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: token ids to one-hot rows                                             */
/* ------------------------------------------------------------------------ */

void op_tokens(bytes *r)
{
    const int fl = u8(r) & 1;
    const size_t elem = fl ? sizeof(float) : sizeof(double);
    const size_t n = u8(r) % 7, vocab = u8(r) % 6;
    const unsigned ldsel = u8(r);
    /* vocab, one or two more, one less (for vocab 0: SIZE_MAX), or huge */
    const size_t ld = ldsel >= 250 ? SIZE_MAX / 2
                                   : vocab + ldsel % 3 - (ldsel % 5 == 4);
    const unsigned nulls = u8(r);
    arena a = {0};
    int32_t *tok = arena_new(&a, (n ? n : 1) * sizeof *tok);
    int bad_id = 0;
    for (size_t k = 0; k < n; k++) {
        const unsigned v = u8(r);
        tok[k] = v >= 250 ? (v & 1 ? INT32_MIN : INT32_MAX)
                          : (int32_t)(v % 8) - 1;
        bad_id |= tok[k] < 0 || (size_t)tok[k] >= vocab;
    }
    const int small = ld <= 8 && n > 0;
    void *x = arena_new(&a, small ? ((n - 1) * ld + (vocab ? vocab : 1)) * elem
                                  : elem);
    const int32_t *ct = nulls & 1 ? NULL : tok;
    void *cx = nulls & 2 ? NULL : x;
    unsigned faults = 0;
    if (!ct)
        faults |= BIT(BPTT_ENULL);
    if (!n || !vocab)
        faults |= BIT(BPTT_ESIZE);
    else {
        if (!cx)
            faults |= BIT(BPTT_ENULL);
        if (ld < vocab)
            faults |= BIT(BPTT_ELD);
        if (!small)
            faults |= BIT(BPTT_EOVERFLOW) | BIT(BPTT_ELD);
        if (bad_id)
            faults |= BIT(BPTT_EINVAL);
    }
    if (!small && !faults)
        faults = BIT(BPTT_EOVERFLOW);
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = fl ? bpttf_tokens_onehot(n, vocab, ct, cx, ld)
                        : bptt_tokens_onehot(n, vocab, ct, cx, ld);
    const char *fn = fl ? "bpttf_tokens_onehot" : "bptt_tokens_onehot";
    if (faults) {
        require_rejected(st, faults, fn, &a);
    } else {
        REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_error_detail());
        const unsigned char *old = arena_snap_of(&a, x);
        for (size_t k = 0; k < n; k++)
            for (size_t j = 0; j < ld && (k + 1 < n || j < vocab); j++) {
                const size_t i = k * ld + j;
                const double v = fl ? ((float *)x)[i] : ((double *)x)[i];
                if (j < vocab)
                    REQUIRE(v == (j == (size_t)tok[k]), "%s: x[%zu]", fn, i);
                else
                    REQUIRE(memcmp((unsigned char *)x + i * elem,
                                   old + i * elem, elem) == 0,
                            "%s: padding x[%zu] written", fn, i);
            }
    }
    arena_free(&a);
}

/* ------------------------------------------------------------------------ */
/* op: parameter layouts and the gradient check                              */
/* ------------------------------------------------------------------------ */

void op_gradcheck(bytes *r)
{
    const int B_net = u8(r) & 1;
    const size_t din = 1 + u8(r) % 2, dh = 1 + u8(r) % 3, nout = 1 + u8(r) % 2;
    const size_t T = u8(r) % 3, B = 1 + u8(r) % 2;
    const unsigned nulls = u8(r);
    static const double hs[] = {0, 1e-5, 1e-4, -1, NAN, INFINITY, 1e-7, 0};
    const double h = hs[u8(r) % 8];
    bptt_net *net;
    const bptt_activation act = (bptt_activation)(u8(r) % 5);
    REQUIRE(bptt_net_create_uniform(din, dh, act, NULL, &net) == BPTT_OK,
            "net");
    bptt_elman *el = NULL;
    const bptt_head head = (bptt_head)(u8(r) & 1);
    if (B_net)
        REQUIRE(bptt_elman_create(net, nout, head, &el) == BPTT_OK, "el");
    bptt_param_layout lay;
    REQUIRE((B_net ? bptt_elman_param_layout(el, &lay)
                   : bptt_net_param_layout(net, &lay)) == BPTT_OK, "layout");
    size_t sum = 0;
    for (size_t v = 0; v < lay.nviews; v++) {
        REQUIRE(lay.view[v].offset == sum &&
                    lay.view[v].ld == lay.view[v].cols,
                "layout: view %zu not packed", v);
        sum += lay.view[v].rows * lay.view[v].cols;
    }
    REQUIRE(sum == lay.count, "layout: count");
    arena a = {0};
    const size_t TB = (T ? T : 1) * B;
    double *p = arena_new(&a, lay.count * sizeof *p);
    double *x = arena_new(&a, TB * din * sizeof *x);
    double *tg = arena_new(&a, TB * (B_net ? nout : dh) * sizeof *tg);
    int *labels = arena_new(&a, TB * sizeof *labels);
    bptt_gradcheck_result *res = arena_new(&a, sizeof *res);
    for (size_t i = 0; i < lay.count; i++)
        p[i] = ((double)u8(r) - 128) / 256;
    for (size_t i = 0; i < TB * din; i++)
        x[i] = ((double)u8(r) - 128) / 128;
    for (size_t i = 0; i < TB * (B_net ? nout : dh); i++)
        tg[i] = (double)(u8(r) % 4) / 4;
    for (size_t i = 0; i < TB; i++)
        labels[i] = (int)(u8(r) % (nout + 1)) - 1;
    const int use_labels = B_net && head == BPTT_HEAD_SOFTMAX && (nulls & 8);
    unsigned faults = 0;
    if (nulls & 1 || nulls & 2 || (nulls & 4 && !use_labels) || nulls & 16)
        faults |= BIT(BPTT_ENULL);
    if (T == 0)
        faults |= BIT(BPTT_ESIZE);
    if (!(h >= 0) || !isfinite(h))
        faults |= BIT(BPTT_EINVAL);
    double *cp = nulls & 1 ? NULL : p, *cx = nulls & 2 ? NULL : x;
    double *ct = nulls & 4 || use_labels ? NULL : tg;
    bptt_gradcheck_result *cr = nulls & 16 ? NULL : res;
    arena_snapshot(&a);
    mark_detail();
    bptt_status st =
        B_net ? bptt_gradcheck_elman(el, T, B, cp, cx, NULL,
                                     use_labels ? labels : NULL, ct, h, cr)
              : bptt_gradcheck_net(net, T, B, cp, cx, NULL, ct, h, cr);
    const char *fn = B_net ? "bptt_gradcheck_elman" : "bptt_gradcheck_net";
    if (faults) {
        require_rejected(st, faults, fn, &a);
    } else {
        /* an ignored label everywhere still gives a loss (0); a kink of a
         * ReLU may give any error, but a finite one at a valid place */
        REQUIRE(st == BPTT_OK, "%s: %s", fn, bptt_error_detail());
        REQUIRE(isfinite(res->max_relerr) && res->max_relerr >= 0 &&
                    res->index < lay.count && res->view,
                "%s: result", fn);
        REQUIRE(arena_changed(&a, res, NULL) < 0, "%s: params not restored",
                fn);
    }
    arena_free(&a);
    bptt_elman_free(el);
    bptt_net_free(net);
}

/* ------------------------------------------------------------------------ */
/* op: the Elman workspace's non-finite check and error flow                 */
/* ------------------------------------------------------------------------ */

/* A tiny Network B with the check on: a NaN or ±Inf in an input of
 * forward (W, bh, Wo, bo, x, h0) or backward (W, Wo) is refused with
 * nothing written; finite inputs are accepted, and the flow recorded at
 * the last step is ‖Woᵀ(y − l)‖ (linear head) computed here. */
void op_elman_finite(bytes *r)
{
    const size_t din = 1 + u8(r) % 2, dh = 1 + u8(r) % 3, nout = 1 + u8(r) % 2;
    const size_t T = 1 + u8(r) % 3, B = 1 + u8(r) % 2, TB = T * B;
    const unsigned poison = u8(r), at = u8(r);
    bptt_net *net;
    bptt_elman *el;
    bptt_elman_workspace *ws;
    REQUIRE(bptt_net_create_uniform(din, dh, BPTT_ACT_TANH, NULL, &net) ==
                BPTT_OK, "net");
    REQUIRE(bptt_elman_create(net, nout, BPTT_HEAD_LINEAR, &el) == BPTT_OK,
            "el");
    REQUIRE(bptt_elman_workspace_alloc(el, T, B, &ws) == BPTT_OK, "ws");
    REQUIRE(bptt_elman_workspace_check_finite(ws, 1) == BPTT_OK, "check");
    arena a = {0};
    const size_t m = din + dh;
    double *W = arena_new(&a, dh * m * sizeof *W);
    double *bh = arena_new(&a, dh * sizeof *bh);
    double *Wo = arena_new(&a, nout * dh * sizeof *Wo);
    double *bo = arena_new(&a, nout * sizeof *bo);
    double *x = arena_new(&a, TB * din * sizeof *x);
    double *h0 = arena_new(&a, B * dh * sizeof *h0);
    double *L = arena_new(&a, TB * nout * sizeof *L);
    double *y = arena_new(&a, TB * nout * sizeof *y);
    double *E = arena_new(&a, sizeof *E);
    double *dW = arena_new(&a, dh * m * sizeof *dW);
    double *dWo = arena_new(&a, nout * dh * sizeof *dWo);
    double *gn = arena_new(&a, TB * sizeof *gn);
    struct {
        double *p;
        size_t n;
        int bwd; /* read by backward too */
    } in[] = {{W, dh * m, 1}, {bh, dh, 0}, {Wo, nout * dh, 1},
              {bo, nout, 0},  {x, TB * din, 0}, {h0, B * dh, 0}};
    for (size_t k = 0; k < 6; k++)
        for (size_t i = 0; i < in[k].n; i++)
            in[k].p[i] = ((double)u8(r) - 128) / 256;
    for (size_t i = 0; i < TB * nout; i++)
        L[i] = ((double)u8(r) - 128) / 128;
    static const double bad[] = {NAN, INFINITY, -INFINITY};
    const int poisoned = poison >= 128;
    const size_t which = poison % 6;
    if (poisoned)
        in[which].p[at % in[which].n] = bad[poison % 3];
    REQUIRE(bptt_elman_workspace_record_flow(ws, gn, NULL) == BPTT_OK,
            "record_flow");
    arena_snapshot(&a);
    mark_detail();
    bptt_status st = bptt_elman_forward(el, T, B, W, m, bh, Wo, dh, bo, x, din,
                                        h0, dh, NULL, L, nout, E, NULL, 0, y,
                                        nout, BPTT_ALGO_AUTO, ws);
    if (poisoned) {
        /* the core's scans name bptt_forward */
        REQUIRE(st == BPTT_ENONFINITE && arena_changed(&a, NULL, NULL) < 0,
                "elman_forward with a non-finite input: %d, %s", (int)st,
                bptt_error_detail());
        if (!in[which].bwd)
            goto done;
        /* a clean forward, then backward with the poison */
        const double keep = in[which].p[at % in[which].n];
        in[which].p[at % in[which].n] = 0;
        REQUIRE(bptt_elman_forward(el, T, B, W, m, bh, Wo, dh, bo, x, din, h0,
                                   dh, NULL, L, nout, E, NULL, 0, y, nout,
                                   BPTT_ALGO_AUTO, ws) == BPTT_OK,
                "clean forward");
        in[which].p[at % in[which].n] = keep;
        arena_snapshot(&a);
        mark_detail();
        st = bptt_elman_backward(el, T, B, W, m, Wo, dh, NULL, L, nout, 0, dW,
                                 m, NULL, dWo, dh, NULL, NULL, 0, NULL, 0,
                                 BPTT_ALGO_AUTO, ws);
        require_rejected(st, BIT(BPTT_ENONFINITE), "bptt_elman_backward", &a);
        goto done;
    }
    REQUIRE(st == BPTT_OK, "elman_forward: %s", bptt_error_detail());
    st = bptt_elman_backward(el, T, B, W, m, Wo, dh, NULL, L, nout, 0, dW, m,
                             NULL, dWo, dh, NULL, NULL, 0, NULL, 0,
                             BPTT_ALGO_AUTO, ws);
    REQUIRE(st == BPTT_OK, "elman_backward: %s", bptt_error_detail());
    for (size_t b = 0; b < B; b++) {
        const size_t row = (T - 1) * B + b;
        double s = 0;
        for (size_t j = 0; j < dh; j++) {
            double v = 0;
            for (size_t k = 0; k < nout; k++)
                v += Wo[k * dh + j] * (y[row * nout + k] - L[row * nout + k]);
            s += v * v;
        }
        REQUIRE(fabs(gn[row] - sqrt(s)) <= 1e-12 * (1 + sqrt(s)),
                "flow at the last step: %g, want %g", gn[row], sqrt(s));
    }
done:
    arena_free(&a);
    bptt_elman_workspace_free(ws);
    bptt_elman_free(el);
    bptt_net_free(net);
}
