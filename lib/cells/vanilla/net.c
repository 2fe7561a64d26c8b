/*
 * net.c — the network descriptor: sizes and per-unit activations, validated
 * once here so that forward and backward need not look at them again.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bptt_status bptt_net_create(size_t din, size_t dout, const bptt_activation *act,
                            const bptt_custom_activation *custom,
                            bptt_net **net)
{
    static const char fn[] = "bptt_net_create";
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (!act)
        return bptt__fail(BPTT_ENULL, fn, "act is NULL");
    if (din == 0 || dout == 0)
        return bptt__fail(BPTT_ESIZE, fn, "din (%zu) and dout (%zu) must be > 0",
                          din, dout);
    /* Every row length must pass to BLAS as an int. */
    if (din > BPTT_INT_MAX || dout > BPTT_INT_MAX - din)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "din + dout (%zu + %zu) exceeds INT_MAX", din, dout);
    int needs_custom = 0;
    for (size_t i = 0; i < dout; i++) {
        if ((unsigned)act[i] >= BPTT_NACTIVATION)
            return bptt__fail(BPTT_EACTIVATION, fn,
                              "act[%zu] = %d is not an activation", i,
                              (int)act[i]);
        needs_custom |= act[i] == BPTT_ACT_CUSTOM;
    }
    if (needs_custom && (!custom || !custom->f || !custom->df))
        return bptt__fail(BPTT_EACTIVATION, fn,
                          "a unit is BPTT_ACT_CUSTOM but custom, custom->f or "
                          "custom->df is NULL");

    size_t nruns = 1;
    for (size_t i = 1; i < dout; i++)
        nruns += act[i] != act[i - 1];

    int ok = 1;
    size_t act_bytes = bptt__mul(dout, sizeof *act, &ok);
    size_t run_bytes = bptt__mul(nruns, sizeof(bptt_run), &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "dout (%zu) too large", dout);

    bptt_net *n = calloc(1, sizeof *n);
    bptt_activation *a = malloc(act_bytes);
    bptt_run *r = malloc(run_bytes);
    if (!n || !a || !r) {
        free(n);
        free(a);
        free(r);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating the descriptor");
    }
    memcpy(a, act, act_bytes);
    size_t k = 0;
    r[0] = (bptt_run){.start = 0, .len = 1, .act = a[0]};
    for (size_t i = 1; i < dout; i++) {
        if (a[i] == r[k].act) {
            r[k].len++;
        } else {
            r[++k] = (bptt_run){.start = i, .len = 1, .act = a[i]};
        }
    }
    n->din = din;
    n->dout = dout;
    n->m = din + dout;
    n->act = a;
    n->runs = r;
    n->nruns = nruns;
    n->gen = bptt__generation();
    /* Runs shorter than 8 units on average leave the kind switch nearly
     * per element and the loops too short to vectorize: group the units
     * by kind instead (activation.c gathers and scatters them). */
    if (nruns * 8 > dout) {
        n->order = malloc(dout * sizeof *n->order); /* dout <= INT_MAX */
        if (!n->order) {
            bptt_net_free(n);
            return bptt__fail(BPTT_ENOMEM, fn, "allocating the descriptor");
        }
        size_t pos = 0;
        for (int kind = 0; kind < BPTT_NACTIVATION; kind++) {
            n->group[kind] = pos;
            for (size_t i = 0; i < dout; i++)
                if (a[i] == (bptt_activation)kind)
                    n->order[pos++] = i;
        }
        n->group[BPTT_NACTIVATION] = pos;
    }
    if (needs_custom)
        n->custom = *custom;
    *net = n;
    return BPTT_OK;
}

bptt_status bptt_net_create_uniform(size_t din, size_t dout, bptt_activation act,
                                    const bptt_custom_activation *custom,
                                    bptt_net **net)
{
    static const char fn[] = "bptt_net_create_uniform";
    if (!net)
        return bptt__fail(BPTT_ENULL, fn, "net is NULL");
    if (dout == 0 || din == 0)
        return bptt__fail(BPTT_ESIZE, fn, "din (%zu) and dout (%zu) must be > 0",
                          din, dout);
    /* bptt_net_create's size check, made before allocating dout codes for
     * a call that would fail anyway (found by fuzz/fuzz_api: 8 GiB). */
    if (din > BPTT_INT_MAX || dout > BPTT_INT_MAX - din)
        return bptt__fail(BPTT_EOVERFLOW, fn,
                          "din + dout (%zu + %zu) exceeds INT_MAX", din, dout);
    int ok = 1;
    size_t bytes = bptt__mul(dout, sizeof(bptt_activation), &ok);
    bptt_activation *a = ok ? malloc(bytes) : NULL;
    if (!a)
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu codes", dout);
    for (size_t i = 0; i < dout; i++)
        a[i] = act;
    bptt_status st = bptt_net_create(din, dout, a, custom, net);
    free(a);
    return st;
}

void bptt_net_free(bptt_net *net)
{
    if (!net)
        return;
    free(net->act);
    free(net->runs);
    free(net->order);
    free(net);
}

size_t bptt_net_din(const bptt_net *net)
{
    return net ? net->din : 0;
}

size_t bptt_net_dout(const bptt_net *net)
{
    return net ? net->dout : 0;
}

bptt_activation bptt_net_activation(const bptt_net *net, size_t unit)
{
    if (!net || unit >= net->dout)
        return BPTT_NACTIVATION;
    return net->act[unit];
}

/* The deferred algorithm's backward was the fastest on every shape of
 * bptt-bench's grid, in both precisions, but one where it tied with
 * gemv-ger (docs/algorithms.md): it does the same per-step recurrent
 * product and replaces the T memory-bound GERs by one compute-bound GEMM.
 * So the rule is unconditional; the arguments stay for a rule that needs
 * them. */
bptt_algo bptt_algo_resolve(const bptt_net *net, size_t T, size_t B)
{
    (void)net;
    (void)T;
    (void)B;
    return BPTT_ALGO_DEFERRED;
}
