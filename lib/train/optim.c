/*
 * optim.c — the optimizers' steps over a flat parameter buffer: SGD with
 * momentum or Nesterov, Adam (Kingma & Ba 2015) and AdamW (Loshchilov &
 * Hutter 2019), in the rounding order of PyTorch 2's torch.optim
 * single-tensor loops, so a twin program agrees to rounding.  The state is
 * the caller's block: a header (train/optim.h) and the moment arrays.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "real.h"
#include "train/optim.h"

static bptt_status state_bytes(const char *fn, const bptt_optim *opt,
                               size_t *bytes)
{
    int ok = 1;
    size_t b = bptt__mul(bptt__mul(opt->n, bptt__optim_arrays(opt), &ok),
                         sizeof(R), &ok);
    b = bptt__add(b, BPTT_OPTIM_HEADER, &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "n (%zu) too large", opt->n);
    *bytes = b;
    return BPTT_OK;
}

bptt_status X(optim_state_size)(const bptt_optim *opt, size_t *bytes)
{
    static const char fn[] = PREFIX "optim_state_size";
    if (!opt)
        return bptt__fail(BPTT_ENULL, fn, "opt is NULL");
    if (!bytes)
        return bptt__fail(BPTT_ENULL, fn, "bytes is NULL");
    return state_bytes(fn, opt, bytes);
}

bptt_status X(optim_state_init)(const bptt_optim *opt, void *state,
                                size_t bytes)
{
    static const char fn[] = PREFIX "optim_state_init";
    if (!opt)
        return bptt__fail(BPTT_ENULL, fn, "opt is NULL");
    if (!state)
        return bptt__fail(BPTT_ENULL, fn, "state is NULL");
    size_t need = 0;
    CHECK(state_bytes(fn, opt, &need));
    if (bytes < need)
        return bptt__fail(BPTT_EBUFFER, fn, "bytes (%zu) < required (%zu)",
                          bytes, need);
    if ((uintptr_t)state % sizeof(R))
        return bptt__fail(BPTT_EINVAL, fn, "state is not aligned to %zu bytes",
                          sizeof(R));
    bptt__optim_header h = {.magic = BPTT_OPTIM_MAGIC, .n = opt->n,
                            .kind = (uint32_t)opt->cfg.kind,
                            .elem = sizeof(R),
                            .arrays = bptt__optim_arrays(opt)};
    memset(state, 0, need);
    memcpy(state, &h, sizeof h);
    return BPTT_OK;
}

/* SGD: g ← g + λp; v ← μv + g; p ← p − lr·(nesterov ? g + μv : v). */
static void sgd(const bptt_optim_config *c, size_t n, R lr, R *p,
                const R *g, R *v)
{
    const R wd = (R)c->weight_decay, mu = (R)c->momentum;
    for (size_t i = 0; i < n; i++) {
        R gi = wd != 0 ? g[i] + wd * p[i] : g[i];
        if (v) {
            v[i] = mu * v[i] + gi;
            gi = c->nesterov ? gi + mu * v[i] : v[i];
        }
        p[i] = p[i] + (-lr) * gi;
    }
}

/* Adam and AdamW at step t (1 for the first).  m by PyTorch's lerp (w =
 * 1 − β1 < 0.5: m + w(g − m)), v ← β2 v + (1 − β2) g g, then
 * p ← p − (lr/c1) · m / (sqrt(v)/sqrt(c2) + ε), c_k = 1 − β_k^t. */
static void adam(const bptt_optim_config *c, size_t n, double lr, double t,
                 R *p, const R *g, R *m, R *v)
{
    const int decoupled = c->kind == BPTT_OPTIM_ADAMW;
    const R wd = (R)c->weight_decay;
    const R decay = (R)(1 - lr * c->weight_decay); /* AdamW's p(1 − lr λ) */
    const R w1 = (R)(1 - c->beta1), b2 = (R)c->beta2, w2 = (R)(1 - c->beta2);
    const double c1 = 1 - pow(c->beta1, t), c2 = 1 - pow(c->beta2, t);
    const R step = (R)(lr / c1), c2s = (R)sqrt(c2), eps = (R)c->eps;
    for (size_t i = 0; i < n; i++) {
        R gi = g[i];
        if (wd != 0) {
            if (decoupled)
                p[i] = p[i] * decay;
            else
                gi = gi + wd * p[i];
        }
        m[i] = m[i] + w1 * (gi - m[i]);
        v[i] = v[i] * b2 + w2 * gi * gi;
        const R denom = (R)sqrt(v[i]) / c2s + eps;
        p[i] = p[i] + (-step) * (m[i] / denom);
    }
}

bptt_status X(optim_step)(const bptt_optim *opt, double lr, R *p, const R *g,
                          void *state)
{
    static const char fn[] = PREFIX "optim_step";
    if (!opt)
        return bptt__fail(BPTT_ENULL, fn, "opt is NULL");
    if (!p)
        return bptt__fail(BPTT_ENULL, fn, "p is NULL");
    if (!g)
        return bptt__fail(BPTT_ENULL, fn, "g is NULL");
    if (!state)
        return bptt__fail(BPTT_ENULL, fn, "state is NULL");
    if (!isfinite(lr) || !(lr >= 0))
        return bptt__fail(BPTT_EINVAL, fn, "lr (%g) must be finite and >= 0",
                          lr);
    if ((uintptr_t)state % sizeof(R))
        return bptt__fail(BPTT_EINVAL, fn, "state is not aligned to %zu bytes",
                          sizeof(R));
    bptt__optim_header h;
    if (!bptt__optim_header_read(state, &h))
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "state was not made by " PREFIX "optim_state_init");
    if (h.n != opt->n || h.kind != (uint32_t)opt->cfg.kind ||
        h.elem != sizeof(R) || h.arrays != bptt__optim_arrays(opt))
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "state is for %s, n = %llu, %u-byte reals; opt is "
                          "%s, n = %zu, %zu-byte reals",
                          bptt_optim_name((bptt_optim_kind)h.kind)
                              ? bptt_optim_name((bptt_optim_kind)h.kind)
                              : "?",
                          (unsigned long long)h.n, (unsigned)h.elem,
                          bptt_optim_name(opt->cfg.kind), opt->n, sizeof(R));
    const size_t n = opt->n;
    /* p and the state are written, g read: none may share a byte with
     * another (a g inside the state would change as the moments do). */
    const bptt__region out[] = {
        {"p", p, 1, n, n, sizeof(R)},
        {"state", state, 1, BPTT_OPTIM_HEADER + h.arrays * n * sizeof(R), 1,
         1}}; /* its size known not to overflow: the state was made */
    const bptt__region in[] = {{"g", g, 1, n, n, sizeof(R)}};
    CHECK(bptt__check_overlap(fn, out, 2, in, 1));
    /* The scan before any write: one bad batch leaves p and state as they
     * were. */
    for (size_t i = 0; i < n; i++)
        if (!isfinite(g[i]))
            return bptt__fail(BPTT_ENONFINITE, fn, "g[%zu] is %s", i,
                              isnan(g[i]) ? "NaN"
                                          : (g[i] > 0 ? "+Inf" : "-Inf"));
    R *m = (R *)((unsigned char *)state + BPTT_OPTIM_HEADER);
    h.steps++;
    if (opt->cfg.kind == BPTT_OPTIM_SGD)
        sgd(&opt->cfg, n, (R)lr, p, g, h.arrays ? m : NULL);
    else
        adam(&opt->cfg, n, lr, (double)h.steps, p, g, m, m + n);
    memcpy(state, &h, sizeof h);
    return BPTT_OK;
}
