/*
 * head.c — Network B's output head, forward and backward side by side: the
 * readout ȳ_t = Wo h_t + bo, the output nonlinearity (softmax or identity)
 * and the loss (cross-entropy or squared error), and their gradients
 * (docs/derivation.md §9, eqs. (B1)-(B5)).
 *
 * The softmax Jacobian is never formed: for
 * E = −lᵀ log softmax(ȳ) the chain rule collapses to
 * ∂E/∂ȳ_j = −Σ_i l_i (δ_ij − y_j) = (Σ_i l_i) y_j − l_j, which is y − l for
 * a label row summing to 1.
 */
#include <math.h>
#include <string.h>

#include "heads/elman_impl.h"

/* ------------------------------------------------------------------------ */
/* Targets                                                                   */
/* ------------------------------------------------------------------------ */

bptt_status XI(head_check_targets)(const char *fn, const bptt_elman *el,
                                   size_t rows, const int *labels, const R *L,
                                   size_t ldl)
{
    const size_t nout = el->nout;
    if (el->head == BPTT_HEAD_LINEAR) {
        if (labels)
            return bptt__fail(BPTT_EINVAL, fn,
                              "the linear head takes targets in L, not labels");
        return XI(check_arg)(fn, "L", L, 1, rows, nout, ldl);
    }
    if (labels && L)
        return bptt__fail(BPTT_EINVAL, fn, "give labels or L, not both");
    if (!labels && !L)
        return bptt__fail(BPTT_ENULL, fn, "labels and L are both NULL");
    if (labels) {
        for (size_t k = 0; k < rows; k++)
            if (labels[k] != BPTT_IGNORE_LABEL &&
                (labels[k] < 0 || (size_t)labels[k] >= nout))
                return bptt__fail(BPTT_EINVAL, fn,
                                  "labels[%zu] = %d is not in [0, %zu) nor "
                                  "BPTT_IGNORE_LABEL", k, labels[k], nout);
        return BPTT_OK;
    }
    bptt_status st = XI(check_arg)(fn, "L", L, 1, rows, nout, ldl);
    if (st != BPTT_OK)
        return st;
    /* Soft labels weigh log y: a negative or infinite weight has no
     * minimum to train towards, a NaN no meaning. */
    for (size_t k = 0; k < rows; k++)
        for (size_t j = 0; j < nout; j++) {
            R v = L[k * ldl + j];
            if (!(v >= 0) || isinf(v))
                return bptt__fail(BPTT_EINVAL, fn,
                                  "L[%zu][%zu] = %g is not finite and >= 0", k,
                                  j, (double)v);
        }
    return BPTT_OK;
}

/* ------------------------------------------------------------------------ */
/* Readout ȳ = H Woᵀ + bo                                                    */
/* ------------------------------------------------------------------------ */

static void readout(const bptt_elman *el, size_t rows, const R *Wo,
                    size_t ldwo, const R *bo, const R *H, int naive, R *Z)
{
    const size_t dh = el->net->dout, nout = el->nout;
    if (naive) {
        for (size_t k = 0; k < rows; k++)
            for (size_t i = 0; i < nout; i++) {
                /* ȳ_i = Σ_j Wo_ij h_j */
                R acc = 0;
                for (size_t j = 0; j < dh; j++)
                    acc += Wo[i * ldwo + j] * H[k * dh + j];
                Z[k * nout + i] = acc;
            }
    } else {
        /* Ȳ = H Woᵀ: all T*B steps in one GEMM, as the readout does not
         * recur. */
        CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows,
                    (int)nout, (int)dh, 1, H, (int)dh, Wo, (int)ldwo, 0, Z,
                    (int)nout);
    }
    if (bo)
        for (size_t k = 0; k < rows; k++)
            for (size_t i = 0; i < nout; i++)
                Z[k * nout + i] += bo[i];
}

/* ------------------------------------------------------------------------ */
/* Forward                                                                   */
/* ------------------------------------------------------------------------ */

/* One row: z (n logits) becomes y = softmax(z), computed from z − max z so
 * that no exp overflows; returns −lᵀ log y for the row's target (0 with no
 * target), with log y_j = (z_j − max) − log Σ exp(z − max) taken from the
 * logits, never from y (which may underflow to 0). */
static double softmax_row(size_t n, R *z, int label, const R *l)
{
    R mx = z[0];
    for (size_t j = 1; j < n; j++)
        if (z[j] > mx)
            mx = z[j];
    /* While z is still there: Σ_j l_j (z_j − max) and Σ_j l_j, skipping
     * l_j = 0 (0·log 0 = 0). */
    double lz = 0, lsum = 0;
    if (l) {
        for (size_t j = 0; j < n; j++)
            if (l[j] != 0) {
                lz += (double)l[j] * (double)(z[j] - mx);
                lsum += (double)l[j];
            }
    } else if (label != BPTT_IGNORE_LABEL) {
        lz = (double)(z[label] - mx);
        lsum = 1;
    }
    R sum = 0;
    for (size_t j = 0; j < n; j++) {
        z[j] = EXP(z[j] - mx);
        sum += z[j];
    }
    for (size_t j = 0; j < n; j++)
        z[j] /= sum;
    /* −Σ_j l_j log y_j = (Σ_j l_j) log Σ exp(z − max) − Σ_j l_j (z_j − max) */
    return lsum != 0 ? lsum * (double)LOG(sum) - lz : 0;
}

void XI(head_forward)(const bptt_elman *el, size_t rows, const R *Wo,
                      size_t ldwo, const R *bo, const R *H, const int *labels,
                      const R *L, size_t ldl, int naive, R *Y, double *E)
{
    const size_t nout = el->nout;
    readout(el, rows, Wo, ldwo, bo, H, naive, Y);
    double loss = 0;
    if (el->head == BPTT_HEAD_SOFTMAX) {
        for (size_t k = 0; k < rows; k++) {
            /* Without E the targets are not read. */
            const int label = E && labels ? labels[k] : BPTT_IGNORE_LABEL;
            const R *l = E && L ? L + k * ldl : NULL;
            loss += softmax_row(nout, Y + k * nout, label, l);
        }
    } else if (E) {
        /* y = ȳ;  E = ½ Σ ‖y − l‖² */
        for (size_t k = 0; k < rows; k++)
            for (size_t j = 0; j < nout; j++) {
                double e = (double)(Y[k * nout + j] - L[k * ldl + j]);
                loss += 0.5 * e * e;
            }
    }
    if (E)
        *E = loss;
}

/* ------------------------------------------------------------------------ */
/* Backward                                                                  */
/* ------------------------------------------------------------------------ */

/* dYbar = ∂E/∂ȳ for every row. */
static void dlogits(const bptt_elman *el, size_t rows, const R *Y,
                    const int *labels, const R *L, size_t ldl, R *dYbar)
{
    const size_t nout = el->nout;
    for (size_t k = 0; k < rows; k++) {
        const R *y = Y + k * nout;
        R *d = dYbar + k * nout;
        if (el->head == BPTT_HEAD_LINEAR) {
            /* ½‖y − l‖² with y = ȳ:  ∂E/∂ȳ = y − l */
            for (size_t j = 0; j < nout; j++)
                d[j] = y[j] - L[k * ldl + j];
        } else if (labels) {
            /* one-hot l = e_c:  ∂E/∂ȳ = y − e_c;  no target: 0 */
            const int c = labels[k];
            if (c == BPTT_IGNORE_LABEL) {
                memset(d, 0, nout * sizeof *d);
            } else {
                memcpy(d, y, nout * sizeof *d);
                d[c] -= 1;
            }
        } else {
            /* ∂E/∂ȳ = (Σ_i l_i) y − l, which is y − l when Σ l = 1 */
            const R *l = L + k * ldl;
            R s = 0;
            for (size_t j = 0; j < nout; j++)
                s += l[j];
            for (size_t j = 0; j < nout; j++)
                d[j] = s * y[j] - l[j];
        }
    }
}

void XI(head_backward)(const bptt_elman *el, size_t rows, const R *Wo,
                       size_t ldwo, const R *H, const R *Y, const int *labels,
                       const R *L, size_t ldl, int naive, R *dYbar, R *dWo,
                       size_t lddwo, R *dbo, R *dH)
{
    const size_t dh = el->net->dout, nout = el->nout;
    dlogits(el, rows, Y, labels, L, ldl, dYbar);
    if (dbo)
        for (size_t k = 0; k < rows; k++)
            for (size_t i = 0; i < nout; i++)
                dbo[i] += dYbar[k * nout + i];
    if (naive) {
        /* ∂E/∂Wo_ij = Σ_t ∂E/∂ȳ_ti h_tj;  ∂E/∂h_tj = Σ_i Wo_ij ∂E/∂ȳ_ti */
        for (size_t k = 0; k < rows; k++) {
            const R *d = dYbar + k * nout, *h = H + k * dh;
            for (size_t i = 0; i < nout; i++)
                for (size_t j = 0; j < dh; j++)
                    dWo[i * lddwo + j] += d[i] * h[j];
            for (size_t j = 0; j < dh; j++) {
                R acc = 0;
                for (size_t i = 0; i < nout; i++)
                    acc += Wo[i * ldwo + j] * d[i];
                dH[k * dh + j] = acc;
            }
        }
        return;
    }
    /* dWo += dȲᵀ H: one GEMM over all T*B steps */
    CBLAS(gemm)(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nout, (int)dh,
                (int)rows, 1, dYbar, (int)nout, H, (int)dh, 1, dWo,
                (int)lddwo);
    /* dH = dȲ Wo: the head's Woᵀ ∂E/∂ȳ_t for every t in one GEMM, the
     * core's dL/dy(t) */
    CBLAS(gemm)(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)dh,
                (int)nout, 1, dYbar, (int)nout, Wo, (int)ldwo, 0, dH, (int)dh);
}

bptt_status XI(head_dy)(void *ctx, size_t t0, size_t n, size_t B,
                        const R *y, size_t ldy, R *dy, size_t lddy,
                        double *loss)
{
    (void)ldy;
    (void)lddy; /* both dh: the callers' own row arrays */
    const XI(head_loss) *h = ctx;
    const size_t rows = n * B, nout = h->el->nout, dh = h->el->net->dout;
    const size_t k = (t0 - h->t_base) * B; /* the first row's targets */
    const int *labels = h->labels ? h->labels + k : NULL;
    const R *L = h->L ? h->L + k * h->ldl : NULL;
    double e = 0;
    XI(head_forward)(h->el, rows, h->Wo, h->ldwo, h->bo, y, labels, L, h->ldl,
                     0, h->Y, &e);
    XI(head_backward)(h->el, rows, h->Wo, h->ldwo, y, h->Y, labels, L, h->ldl,
                      0, h->dYbar, h->acc, dh, h->acc + nout * dh, dy);
    *loss += e;
    return BPTT_OK;
}

void XI(head_deliver)(size_t nout, size_t dh, R beta, const R *acc, R *dWo,
                      size_t lddwo, R *dbo)
{
    for (size_t i = 0; dWo && i < nout; i++)
        for (size_t j = 0; j < dh; j++)
            dWo[i * lddwo + j] = (beta == 0 ? 0 : beta * dWo[i * lddwo + j]) +
                                 acc[i * dh + j];
    for (size_t i = 0; dbo && i < nout; i++)
        dbo[i] = (beta == 0 ? 0 : beta * dbo[i]) + acc[nout * dh + i];
}
