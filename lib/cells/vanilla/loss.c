/*
 * loss.c — the squared-error loss of eqs. (1)-(3) and the gradient-descent
 * step of eq. (13): the two pieces of training that sit around backward.
 */
#include <math.h>

#include "cells/vanilla/core.h"

bptt_status X(loss_squared)(size_t T, size_t B, size_t dout, const R *y,
                            size_t ldy, const R *target, size_t ldt,
                            const unsigned char *mask, double *loss, R *dy,
                            size_t lddy)
{
    static const char fn[] = PREFIX "loss_squared";
    if (!y || !target || !loss)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL",
                          !y ? "y" : !target ? "target" : "loss");
    if (T == 0 || B == 0 || dout == 0)
        return bptt__fail(BPTT_ESIZE, fn,
                          "T (%zu), B (%zu) and dout (%zu) must be > 0", T, B,
                          dout);
    if (ldy < dout || ldt < dout || (dy && lddy < dout))
        return bptt__fail(BPTT_ELD, fn,
                          "ldy (%zu), ldt (%zu) and lddy (%zu) must be >= dout "
                          "(%zu)", ldy, ldt, lddy, dout);
    int ok = 1;
    size_t rows = bptt__mul(T, B, &ok);
    size_t maxld = ldy > ldt ? ldy : ldt;
    if (dy && lddy > maxld)
        maxld = lddy;
    bptt__mul(bptt__mul(rows, maxld, &ok), sizeof(R), &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "T*B rows of ld %zu overflow",
                          maxld);
    /* dy may be y itself (same ld): each entry is read before it is
     * written; then y is not an input dy must avoid. */
    const int in_place = dy == y && lddy == ldy;
    const bptt__region out[] = {RREG("dy", dy, rows, dout, lddy),
                                {"loss", loss, 1, 1, 1, sizeof(double)}};
    const bptt__region in[] = {RREG("y", in_place ? NULL : y, rows, dout, ldy),
                               RREG("target", target, rows, dout, ldt),
                               {"mask", mask, 1, rows, rows, 1}};
    CHECK(bptt__check_overlap(fn, out, 2, in, 3));

    double sum = 0;
    for (size_t k = 0; k < rows; k++) {
        const int on = !mask || mask[k];
        const R *yr = y + k * ldy, *tr = target + k * ldt;
        R *dr = dy ? dy + k * lddy : NULL;
        for (size_t i = 0; i < dout; i++) {
            /* eq. (3): dL/dy_i = y_i − ŷ_i; eq. (1): L = ½ Σ (y_i − ŷ_i)² */
            R e = on ? yr[i] - tr[i] : 0;
            sum += 0.5 * (double)e * (double)e;
            if (dr)
                dr[i] = e;
        }
    }
    *loss = sum;
    return BPTT_OK;
}

bptt_status X(sgd_step)(size_t rows, size_t cols, R alpha, const R *dW,
                        size_t lddw, R *W, size_t ldw)
{
    static const char fn[] = PREFIX "sgd_step";
    if (!dW || !W)
        return bptt__fail(BPTT_ENULL, fn, "%s is NULL", !dW ? "dW" : "W");
    if (rows == 0 || cols == 0)
        return bptt__fail(BPTT_ESIZE, fn, "rows (%zu) and cols (%zu) must be > 0",
                          rows, cols);
    if (lddw < cols || ldw < cols)
        return bptt__fail(BPTT_ELD, fn,
                          "lddw (%zu) and ldw (%zu) must be >= cols (%zu)",
                          lddw, ldw, cols);
    if (!isfinite(alpha))
        return bptt__fail(BPTT_EINVAL, fn, "alpha is not finite");
    int ok = 1;
    bptt__mul(bptt__mul(rows, lddw > ldw ? lddw : ldw, &ok), sizeof(R), &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "%zu rows overflow", rows);
    const bptt__region out[] = {RREG("W", W, rows, cols, ldw)};
    const bptt__region in[] = {RREG("dW", dW, rows, cols, lddw)};
    CHECK(bptt__check_overlap(fn, out, 1, in, 1));
    /* eq. (13): W_kj ← W_kj − α dL/dW_kj */
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            W[i * ldw + j] -= alpha * dW[i * lddw + j];
    return BPTT_OK;
}
