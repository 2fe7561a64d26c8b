/*
 * peer.h — other implementations of Network A with tanh units and of the
 * LSTM and GRU cells of bptt/gated.h ("peers"), run by bptt-bench on the same shapes and the same data as bptt, each in
 * a child process (a runner) that times its own forward and backward and
 * hands back its outputs, so that the harness can check them against
 * bptt's naive form before reporting the times.
 *
 * Peers: "onednn" (oneDNN's vanilla RNN primitive, float only; the runner
 * bptt-peer-onednn is built when libdnnl is found) and "torch"
 * (torch.nn.RNN(nonlinearity='tanh', bias=False) on CPU through
 * torch_rnn.py, float and double; needs a python3 that imports torch and
 * numpy).  The file format between the two sides is protocol.h's.
 *
 * The work of one repetition is that of bptt's forward + backward with
 * dL/dW and dL/dx: forward over T steps of B sequences from y(0) = 0,
 * no bias, then the backward with dL/dy = dy giving dL/dWx, dL/dWy and
 * dL/dx (both peers always compute dL/dx; oneDNN also a B x dout dL/dy(0)).
 * For a gated cell (cell 1 LSTM: oneDNN's LSTM, nn.LSTM; 2 GRU: oneDNN's
 * lbr_gru, nn.GRU) the same with the cell's biases bx, bh in, h(0) = 0
 * (and c(0) = 0), and dL/dW = [dW | dU] of bptt_gated_backward out (the
 * peers also compute the biases' gradients, not handed back).
 */
#ifndef BPTT_PEER_H
#define BPTT_PEER_H

#include <stddef.h>

/* Statuses of bptt_peer_run. */
enum {
    PEER_OK = 0,
    PEER_UNAVAILABLE, /* runner not built, or no python3 with torch */
    PEER_UNSUPPORTED, /* the peer cannot do this case (oneDNN in double) */
    PEER_FAILED       /* anything else; err says what */
};

/* Indices of peer_output.time and .samples. */
enum { PEER_FWD = 0, PEER_BWD, PEER_FWDBWD, PEER_NPASS };

/* One case.  The arrays are dense, of elements of elsize bytes: 4 float,
 * 8 double; W is (G*dout) x (din+dout), row-major, columns [Wx | Wy] (G =
 * 1) or a gated cell's [W | U] (G = 4 LSTM, 3 GRU); b (gated cells only)
 * is 2 x (G*dout), the rows bx then bh; x is (T*B) x din and dy (T*B) x
 * dout, time-major (row t*B+b). */
typedef struct peer_input {
    size_t din, dout, T, B;
    size_t elsize;
    const void *W, *x, *dy;
    double budget_ms; /* time repetitions until fwd+bwd add up to this */
    unsigned threads; /* >= 1; also OMP_NUM_THREADS of the child */
    unsigned warmup;  /* untimed repetitions first */
    size_t cap;       /* at most this many timed repetitions (>= 1) */
    unsigned cell;    /* 0 Network A (tanh units), 1 LSTM, 2 GRU */
    const void *b;    /* the gated cells' biases; NULL for Network A */
} peer_input;

typedef struct peer_timing {
    double median, min, max; /* ms over the timed repetitions */
} peer_timing;

/* The results.  The caller allocates y ((T*B) x dout), dW ((G*dout) x
 * (din+dout), in W's layout) and dx ((T*B) x din), dense, elsize
 * each; they receive the outputs of the last timed repetition.  samples[p]
 * is optional (NULL: not wanted), else the caller's array of cap doubles
 * receiving the reps times (ms) of pass p. */
typedef struct peer_output {
    void *y, *dW, *dx;
    double *samples[PEER_NPASS];
    size_t reps;                   /* timed repetitions done, 1..cap */
    peer_timing time[PEER_NPASS];  /* forward, backward, forward+backward */
    char version[64];              /* e.g. "oneDNN 2.6.3", "PyTorch 1.13.0a0" */
} peer_output;

/* The known peers' names, in report order; NULL past the last. */
const char *bptt_peer_name(size_t i);

/* 1 if the peer can run here (its runner is built, or a python3 that
 * imports torch and numpy exists; the interpreter found is cached), 0
 * otherwise and for an unknown name.  The runner (bptt-peer-onednn) and
 * the script (torch_rnn.py) are looked up where this program is: in the
 * build tree when it runs from there, else in the install's
 * libexecdir/bptt, found relative to the program's own directory (so a
 * staged or moved install uses its own).  The environment overrides:
 * BPTT_PEER_ONEDNN (the runner), BPTT_PEER_TORCH (the script),
 * BPTT_PEER_PYTHON (the interpreter, tried before /usr/bin/python3 and
 * python3 on PATH). */
int bptt_peer_available(const char *name);

/* Why the peer is not available, naming the file looked for and where
 * ("/usr/local/libexec/bptt/bptt-peer-onednn (from the installed files):
 * No such file or directory", or that it was not built); "" when it is.
 * Static storage, overwritten by the next call. */
const char *bptt_peer_why(const char *name);

/* Run peer name on in, filling out.  Writes the input file to a fresh
 * directory under $TMPDIR (or /tmp), runs the runner with stdout and
 * stderr to a log there and OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
 * MKL_NUM_THREADS = in->threads and OMP_WAIT_POLICY=PASSIVE (so that
 * OpenMP workers do not spin against BLAS's) in its environment, reads the
 * output back and removes the directory.  Returns a PEER_ status; on any
 * status but PEER_OK, err holds a message (the runner's last stderr line
 * when there is one) and out's arrays may have been partly written.  Not
 * thread-safe (one run at a time). */
int bptt_peer_run(const char *name, const peer_input *in, peer_output *out,
                  char *err, size_t errlen);

#endif
