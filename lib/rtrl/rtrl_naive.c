/*
 * rtrl_naive.c — the naive loop form of RTRL: the element-wise sums of
 * eqs. (9)-(11) as docs/derivation.md writes them, no BLAS.  The reference
 * the GEMM form is tested against and the baseline bptt-bench (rtrl-naive)
 * times it against, so it stays simple on purpose.
 */
#include "rtrl/rtrl_kernels.h"

/* Column (k, j) of P: j < m is W_kj; j == m is the bias b_k, which acts on
 * a constant input 1. */
static size_t column(size_t n, size_t m, size_t k, size_t j)
{
    return j < m ? k * m + j : n * m + k;
}

void XI(rtrl_naive_sens)(const bptt_net *net, size_t B, const R *W,
                         size_t ldw, int first, struct X(rtrl) *st)
{
    const size_t din = net->din, n = net->dout, m = net->m, ldp = st->ldp;
    R *tmp = st->C; /* n entries: one column of f'(z(t)) ⊙ P(t) */
    for (size_t b = 0; b < B; b++) {
        R *P = st->P + b * n * ldp;
        const R *s = st->S + b * m, *d = st->D + b * n;
        for (size_t k = 0; k < n; k++)
            for (size_t j = 0; j <= m; j++) {
                const size_t c = column(n, m, k, j);
                const R sj = j < m ? s[j] : 1;
                if (first) {
                    /* eq. (9): ∂z_i(1)/∂W_kj = δ_ik s_j(0) */
                    for (size_t i = 0; i < n; i++)
                        P[i * ldp + c] = i == k ? sj : 0;
                    continue;
                }
                /* f_l'(z_l(t)) ∂z_l(t)/∂W_kj for the y-part of s(t): the
                 * indicator of eq. (10) keeps only l = din .. din+dout-1 */
                for (size_t l = 0; l < n; l++)
                    tmp[l] = d[l] * P[l * ldp + c];
                /* eq. (10): ∂z_i(t+1)/∂W_kj = δ_ik s_j(t)
                 *           + Σ_l W_{i,din+l} f_l'(z_l(t)) ∂z_l(t)/∂W_kj */
                for (size_t i = 0; i < n; i++) {
                    R acc = i == k ? sj : 0;
                    for (size_t l = 0; l < n; l++)
                        acc += W[i * ldw + din + l] * tmp[l];
                    P[i * ldp + c] = acc;
                }
            }
    }
}

void XI(rtrl_naive_grad)(const bptt_net *net, size_t B, R *dW, size_t lddw,
                         R *db, const struct X(rtrl) *st)
{
    const size_t n = net->dout, m = net->m, ldp = st->ldp;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j <= m; j++) {
            if (j == m && !db)
                continue;
            const size_t c = column(n, m, k, j);
            /* eq. (11): ∂L(t+1)/∂W_kj = Σ_i e_i(t+1) f_i'(z_i(t+1))
             * ∂z_i(t+1)/∂W_kj — the first line of its derivation, whose
             * last factor eq. (10) has just computed — summed over the
             * sequences. */
            R acc = 0;
            for (size_t b = 0; b < B; b++) {
                const R *P = st->P + b * n * ldp, *g = st->G + b * n;
                for (size_t i = 0; i < n; i++)
                    acc += g[i] * P[i * ldp + c];
            }
            if (j < m)
                dW[k * lddw + j] += acc;
            else
                db[k] += acc;
        }
}
