/*
 * tokens_run.c — one case of bptt-bench-tokens in one precision (breal.h;
 * compiled twice): Network B with a softmax head over the vocabulary,
 * labels the next id, forward + backward (dW, dbh, dWo, dbo; no dx, no
 * dh0) by the one-hot path or the token path.  Public API only, as a user
 * would write it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "breal.h"
#include "timing.h"
#include "tokens_bench.h"

#ifdef BENCH_SINGLE
typedef bpttf_elman_workspace EWS;
#else
typedef bptt_elman_workspace EWS;
#endif

typedef struct state {
    tok_case c;
    bptt_net *net;
    bptt_elman *el;
    EWS *ws;
    R *W, *bh, *Wo, *bo, *x;      /* x: the one-hot rows, T·B x vocab */
    R *dW, *dbh, *dWo, *dbo;
    int32_t *tok;
    int *lab;
    double E;
} state;

/* n weights of standard deviation 0.1 (bptt_init_random), or NULL. */
static R *fill(size_t n, uint64_t seed)
{
    R *p = malloc(n * sizeof *p);
    if (p && P(init_random)(1, n, BPTT_DIST_UNIFORM, 0.1, seed, p, n)) {
        free(p);
        return NULL;
    }
    return p;
}

/* One forward + backward of a path; 0 or -1. */
static int pass(state *s, int path)
{
    const size_t V = s->c.vocab, H = s->c.hidden, T = s->c.T, B = s->c.B;
    const size_t m = V + H;
    if (path == 0) {
        if (P(tokens_onehot)(T * B, V, s->tok, s->x, V) != BPTT_OK ||
            P(elman_forward)(s->el, T, B, s->W, m, s->bh, s->Wo, H, s->bo,
                             s->x, V, NULL, 0, s->lab, NULL, 0, &s->E, NULL,
                             0, NULL, 0, BPTT_ALGO_AUTO, s->ws) != BPTT_OK ||
            P(elman_backward)(s->el, T, B, s->W, m, s->Wo, H, s->lab, NULL, 0,
                              0, s->dW, m, s->dbh, s->dWo, H, s->dbo, NULL, 0,
                              NULL, 0, BPTT_ALGO_AUTO, s->ws) != BPTT_OK)
            return -1;
        return 0;
    }
    if (P(elman_forward_tokens)(s->el, T, B, s->W, m, s->bh, s->Wo, H, s->bo,
                                s->tok, NULL, 0, s->lab, NULL, 0, &s->E, NULL,
                                0, NULL, 0, BPTT_ALGO_AUTO, s->ws) != BPTT_OK ||
        P(elman_backward_tokens)(s->el, T, B, s->W, m, s->Wo, H, s->lab, NULL,
                                 0, 0, s->dW, m, s->dbh, s->dWo, H, s->dbo,
                                 NULL, 0, BPTT_ALGO_AUTO, s->ws) != BPTT_OK)
        return -1;
    return 0;
}

static double relerr(size_t n, const R *a, const R *b)
{
    double d = 0, big = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
        big = fmax(big, fabs((double)b[i]));
    }
    return big > 0 ? d / big : d;
}

void BX(tokens_free)(void *p)
{
    state *s = p;
    if (!s)
        return;
    R *a[] = {s->W, s->bh, s->Wo, s->bo, s->x, s->dW, s->dbh, s->dWo, s->dbo};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i]);
    free(s->tok);
    free(s->lab);
    P(elman_workspace_free)(s->ws);
    bptt_elman_free(s->el);
    bptt_net_free(s->net);
    free(s);
}

int BX(tokens_setup)(const tok_case *c, void **out, double *diff)
{
    const size_t V = c->vocab, H = c->hidden, TB = c->T * c->B, m = V + H;
    state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->c = *c;
    unsigned seed = 20261127u;
    if (bptt_net_create_uniform(V, H, BPTT_ACT_TANH, NULL, &s->net) ||
        bptt_elman_create(s->net, V, BPTT_HEAD_SOFTMAX, &s->el) ||
        P(elman_workspace_alloc)(s->el, c->T, c->B, &s->ws))
        goto fail;
    s->W = fill(H * m, 1);
    s->bh = fill(H, 2);
    s->Wo = fill(V * H, 3);
    s->bo = fill(V, 4);
    s->x = malloc(TB * V * sizeof *s->x);
    s->dW = malloc(H * m * sizeof *s->dW);
    s->dbh = malloc(H * sizeof *s->dbh);
    s->dWo = malloc(V * H * sizeof *s->dWo);
    s->dbo = malloc(V * sizeof *s->dbo);
    s->tok = malloc((TB + c->B) * sizeof *s->tok);
    s->lab = malloc(TB * sizeof *s->lab);
    if (!s->W || !s->bh || !s->Wo || !s->bo || !s->x || !s->dW || !s->dbh ||
        !s->dWo || !s->dbo || !s->tok || !s->lab)
        goto fail;
    /* a stream of ids; the label of step t is the id of step t+1 */
    for (size_t k = 0; k < TB + c->B; k++) {
        seed = seed * 1103515245u + 12345u;
        s->tok[k] = (int32_t)((seed >> 8) % V);
    }
    for (size_t k = 0; k < TB; k++)
        s->lab[k] = s->tok[k + c->B];
    /* both paths once: the figures are of equal results */
    R *dW1 = malloc(H * m * sizeof *dW1), *dWo1 = malloc(V * H * sizeof *dWo1);
    double E1 = 0;
    int rc = dW1 && dWo1 ? pass(s, 0) : -1;
    if (!rc) {
        memcpy(dW1, s->dW, H * m * sizeof *dW1);
        memcpy(dWo1, s->dWo, V * H * sizeof *dWo1);
        E1 = s->E;
        rc = pass(s, 1);
    }
    if (!rc)
        *diff = fmax(fmax(relerr(H * m, s->dW, dW1),
                          relerr(V * H, s->dWo, dWo1)),
                     fabs(s->E - E1) / fabs(E1));
    free(dW1);
    free(dWo1);
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    BX(tokens_free)(s);
    return -1;
}

int BX(tokens_time)(void *p, int path, int iters, double ms[2])
{
    const double w0 = bench_now_ms(), c0 = bench_thread_cpu_ms();
    for (int i = 0; i < iters; i++)
        if (pass(p, path))
            return -1;
    ms[1] = bench_thread_cpu_ms() - c0;
    ms[0] = bench_now_ms() - w0;
    return 0;
}
