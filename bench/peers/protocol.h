/*
 * protocol.h — the file format between bptt-bench and a peer runner (a
 * child process timing another implementation of Network A with tanh units,
 * or of an LSTM or GRU cell (bptt/gated.h), on the same data).  Shared by peer.c (the harness side) and the C runner
 * onednn_rnn.c; torch_rnn.py mirrors it with struct.  Native byte order:
 * both ends run on the same machine.
 *
 * Input file, written by the harness:
 *
 *   offset  type        field
 *        0  char[8]     "BPTTPEER"
 *        8  uint32      version (PEER_PROTOCOL_VERSION)
 *       12  uint32      precision: bytes per element, 4 (float) or 8 (double)
 *       16  uint32      cell: 0 Network A with tanh units, 1 LSTM, 2 GRU
 *                       (bptt_cell's codes); G = 1, 4, 3 gates
 *       20  uint32      reserved, 0
 *       24  uint64 x 4  din, dout, T, B
 *       56  float64     budget_ms: time the timed repetitions for this long
 *       64  uint32      threads
 *       68  uint32      warmup: untimed repetitions first
 *       72  uint64      cap: at most this many timed repetitions (>= 1)
 *       80  W   (G*dout) x (din+dout), row-major, columns [Wx | Wy]; for a
 *               gated cell [W | U] of bptt/gated.h (gate blocks of dout
 *               rows in bptt's order: i, f, g, o and r, z, n)
 *           b   gated cells only: 2 x (G*dout), the rows bx then bh
 *           x   (T*B) x din,  time-major: row t*B+b is x(t) of sequence b
 *           dy  (T*B) x dout, row t*B+b is dL/dy(t+1) (dL/dh(t+1))
 *       (arrays dense, in the precision's element type; y(0) = 0 (and the
 *        LSTM's c(0) = 0); Network A has no bias and every unit tanh:
 *        z(t+1) = Wx x(t) + Wy y(t), y(t+1) = tanh z(t+1); a gated cell is
 *        bptt_gated_forward's (G1)-(G6) or (G11)-(G14), docs/gated.md)
 *
 * Output file, written by the runner (exit status PEER_EXIT_OK):
 *
 *        0  char[8]     "BPTTPOUT"
 *        8  uint32      version
 *       12  uint32      precision (as the input)
 *       16  uint32      cell (as the input)
 *       20  uint32      reserved, 0
 *       24  uint64 x 4  din, dout, T, B (as the input)
 *       56  uint64      reps: timed repetitions done (1 <= reps <= cap)
 *       64  char[64]    the peer and its version, NUL-padded
 *      128  y   (T*B) x dout,       forward output, rows as x
 *           dW  (G*dout) x (din+dout), dL/dW in W's layout [dL/dWx | dL/dWy]
 *               (the bias gradients are computed but not handed back)
 *           dx  (T*B) x din,        dL/dx
 *           (the outputs of the LAST timed repetition, so that gradients
 *            accumulating across repetitions would be caught by the check)
 *           float64 x 9   forward, backward, forward+backward:
 *                         median, min, max (ms) of the timed repetitions
 *           float64 x 3*reps  the samples (ms): reps forward, then reps
 *                         backward, then reps forward+backward
 *
 * One repetition is a forward (training mode: keeping what backward needs)
 * followed by the backward with grad_output = dy giving dW and dx; the
 * three times come from the same repetitions.  Weight gradients are zeroed
 * and memory allocated outside the timed regions (as far as the peer
 * allows).  Repetitions run until their forward+backward times add up to
 * budget_ms, at least one and at most cap.
 *
 * Runner exit statuses: PEER_EXIT_OK, PEER_EXIT_FAILED (any error, a
 * message on stderr), PEER_EXIT_USAGE (bad command line) and
 * PEER_EXIT_UNSUPPORTED (the peer cannot do this case, e.g. oneDNN in
 * double; a message on stderr, no output file).
 */
#ifndef BPTT_PEER_PROTOCOL_H
#define BPTT_PEER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PEER_MAGIC_IN "BPTTPEER"
#define PEER_MAGIC_OUT "BPTTPOUT"
#define PEER_PROTOCOL_VERSION 2u
#define PEER_NAME_BYTES 64

enum {
    PEER_EXIT_OK = 0,
    PEER_EXIT_FAILED = 1,
    PEER_EXIT_USAGE = 2,
    PEER_EXIT_UNSUPPORTED = 3
};

/* The fixed part of either file (fields unused by one are 0). */
typedef struct peer_header {
    uint32_t precision;
    uint32_t cell;      /* 0 Network A (tanh), 1 LSTM, 2 GRU */
    uint64_t din, dout, T, B;
    /* input only */
    double budget_ms;
    uint32_t threads, warmup;
    uint64_t cap;
    /* output only */
    uint64_t reps;
    char name[PEER_NAME_BYTES];
} peer_header;

/* The gate count of a header's cell: 1 (Network A), 4 (LSTM), 3 (GRU), 0
 * for an unknown code. */
size_t peer_gates(const peer_header *h);

/* Element counts of the arrays of a header: W/dW, b (0 for Network A),
 * x/dx, y/dy.  0 if a count overflows (peer_header_read refuses such a
 * header). */
size_t peer_count_w(const peer_header *h);
size_t peer_count_b(const peer_header *h);
size_t peer_count_x(const peer_header *h);
size_t peer_count_y(const peer_header *h);

/* Write / read the fixed part of an input (out = 0) or output (out = 1)
 * file.  Reading checks the magic, the version, the precision, sizes >= 1
 * with element counts below 2^40 and, for input, cap >= 1.  They return 0,
 * or -1 with a message in err. */
int peer_header_write(FILE *f, int out, const peer_header *h);
int peer_header_read(FILE *f, int out, peer_header *h, char *err,
                     size_t errlen);

/* Write / read n elements of size elsize; 0 or -1. */
int peer_array_write(FILE *f, const void *a, size_t elsize, size_t n);
int peer_array_read(FILE *f, void *a, size_t elsize, size_t n);

/* The median (the mean of the middle two for even n, numpy's default),
 * min and max of n >= 1 samples, written to s[0..2]; the samples are left
 * as they were, scratch (n doubles) is overwritten. */
void peer_summary(const double *samples, size_t n, double *scratch,
                  double s[3]);

#endif
