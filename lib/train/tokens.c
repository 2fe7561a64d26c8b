/*
 * tokens.c — token ids as inputs: checked once and written as the one-hot
 * rows Network A and B take for x (bptt/train.h).  The gather form (the
 * column of Wx for each id, no one-hot matrix: bptt_forward_tokens and the
 * calls beside it) is in the core's forward and backward
 * (cells/vanilla/network.c).
 */
#include <string.h>

#include "real.h"
#include "internal.h"

bptt_status X(tokens_onehot)(size_t n, size_t vocab, const int32_t *tokens,
                             R *x, size_t ldx)
{
    static const char fn[] = PREFIX "tokens_onehot";
    if (!tokens)
        return bptt__fail(BPTT_ENULL, fn, "tokens is NULL");
    if (n == 0 || vocab == 0)
        return bptt__fail(BPTT_ESIZE, fn, "n (%zu) and vocab (%zu) must be > 0",
                          n, vocab);
    CHECK(bptt__check_mat(fn, "x", x, 1, n, vocab, ldx, sizeof(R)));
    /* every id before any row is written (one sequence of n steps) */
    CHECK(bptt__check_tokens(fn, tokens, n, 1, vocab));
    for (size_t k = 0; k < n; k++) {
        R *row = x + k * ldx;
        memset(row, 0, vocab * sizeof *row); /* all-bits-zero is +0.0 */
        row[tokens[k]] = 1;
    }
    return BPTT_OK;
}
