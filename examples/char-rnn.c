/* char-rnn.c — a character-level language model: Network B (the Elman
 * network with a softmax head) learns to predict the next byte of a text.
 *
 *   usage: char-rnn [--cell vanilla|lstm|gru] [FILE [CHUNKS [RATE]]]
 *
 * The hidden layer is the cell --cell names: tanh units (vanilla, the
 * default), an LSTM or a GRU (bptt/gated.h), HIDDEN units either way.
 *
 * The classes are the distinct bytes of the text (its alphabet), the input
 * x_t is the one-hot code of byte t and the label of step t is byte t+1.
 * Training is truncated BPTT(T; T) (bptt_tbptt_elman_step): STREAMS
 * cursors walk through the text (B = STREAMS parallel sequences), T bytes
 * per chunk, and the stream state carries the hidden state from one chunk
 * to the next while gradients stop at the chunk's start.  Each chunk makes one
 * SGD step (eq. (13)) after clipping the gradients' global norm.  Every
 * PRINT_EVERY chunks it prints the mean cross-entropy per byte over those
 * chunks (nats) and the training speed; at the end it samples text from
 * the model with a fixed seed.  Without FILE it reads the passage shipped
 * in examples/data/alice.txt.
 *
 * Build:  cc char-rnn.c $(pkg-config --cflags --libs bptt) -lm -o char-rnn */
#include <bptt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef CHAR_RNN_TEXT
#define CHAR_RNN_TEXT "examples/data/alice.txt"
#endif

enum {
    HIDDEN = 128,       /* tanh units */
    T = 32,             /* steps per chunk (truncation length) */
    STREAMS = 4,        /* parallel sequences, B */
    CHUNKS = 6000,      /* SGD steps of the default run */
    PRINT_EVERY = 250,
    SAMPLE = 400,       /* bytes sampled at the end */
};
#define TEMPERATURE 0.5   /* sampling from y^(1/TEMPERATURE), renormalised */
#define RATE 4.0                   /* per byte: the step is RATE/(T*B) */
static const double CLIP = 5.0;   /* largest global gradient norm */

#define TRY(call)                                                             \
    do {                                                                      \
        bptt_status st_ = (call);                                             \
        if (st_ != BPTT_OK) {                                                 \
            fprintf(stderr, "%s\n", bptt_error_detail());                     \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static double uniform(unsigned long long *s) /* deterministic, in [0, 1) */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static double seconds(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0)
        if ((len += got) == cap)
            buf = realloc(buf, cap *= 2);
    fclose(f);
    if (!buf || len < (size_t)T * STREAMS + 1) {
        fprintf(stderr, "%s: need at least %d bytes of text\n", path,
                T * STREAMS + 1);
        exit(1);
    }
    *n = len;
    return buf;
}

static double *alloc0(size_t n)
{
    double *p = calloc(n, sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* Scale every gradient block so that their global 2-norm is at most CLIP;
 * returns the factor (1 when nothing was clipped). */
static double clip_factor(double *const blocks[], const size_t count[], int n)
{
    double ss = 0;
    for (int b = 0; b < n; b++)
        for (size_t i = 0; i < count[b]; i++)
            ss += blocks[b][i] * blocks[b][i];
    double norm = sqrt(ss);
    return norm > CLIP ? CLIP / norm : 1.0;
}

int main(int argc, char **argv)
{
    bptt_cell cell = BPTT_CELL_VANILLA;
    if (argc > 2 && strcmp(argv[1], "--cell") == 0) {
        while ((unsigned)cell < BPTT_NCELL &&
               strcmp(argv[2], bptt_cell_name(cell)) != 0)
            cell = (bptt_cell)(cell + 1);
        if ((unsigned)cell >= BPTT_NCELL) {
            fprintf(stderr, "--cell %s: not vanilla, lstm or gru\n", argv[2]);
            return 2;
        }
        argc -= 2, argv += 2;
    }
    /* Rows of W per hidden unit: the gates of a gated cell are stacked. */
    const size_t G = cell == BPTT_CELL_VANILLA ? 1 : bptt_gated_gates(cell);
    const char *path = argc > 1 ? argv[1] : CHAR_RNN_TEXT;
    const long chunks = argc > 2 ? atol(argv[2]) : CHUNKS;
    const double rate = argc > 3 ? atof(argv[3]) : RATE;
    size_t len;
    unsigned char *text = read_file(path, &len);

    /* The alphabet: class k is the k-th distinct byte in byte order. */
    int cls[256];
    unsigned char byte[256];
    size_t V = 0;
    for (int c = 0; c < 256; c++)
        cls[c] = -1;
    for (size_t i = 0; i < len; i++)
        cls[text[i]] = 0;
    for (int c = 0; c < 256; c++)
        if (cls[c] == 0) {
            byte[V] = (unsigned char)c;
            cls[c] = (int)V++;
        }

    /* Network B: core W = [Wi | Wh] over [x_t; h_{t−1}] (G·HIDDEN rows,
     * [W_ih | W_hh] for a gated cell), head Wo, bo. */
    const size_t M = V + HIDDEN, TB = (size_t)T * STREAMS, GH = G * HIDDEN;
    bptt_net *net;
    bptt_elman *el;
    bptt_elman_plan *plan; /* sampling: one step of one sequence */
    bptt_tbptt *tb;        /* training: truncated BPTT(T; T) over the streams */
    TRY(bptt_net_create_uniform(V, HIDDEN, BPTT_ACT_TANH, NULL, &net));
    TRY(bptt_elman_create_cell(cell, net, V, BPTT_HEAD_SOFTMAX, &el));
    TRY(bptt_elman_plan_create(el, T, STREAMS, NULL, BPTT_ALGO_AUTO, &plan));
    TRY(bptt_tbptt_elman_alloc(el, T, T, STREAMS, &tb));

    double *W = alloc0(GH * M), *bh = alloc0(GH);
    double *Wo = alloc0(V * HIDDEN), *bo = alloc0(V);
    double *dW = alloc0(GH * M), *dbh = alloc0(GH);
    double *dWo = alloc0(V * HIDDEN), *dbo = alloc0(V);
    double *x = alloc0(TB * V), *h = alloc0(TB * HIDDEN);
    double *h0 = alloc0(STREAMS * HIDDEN), *y = alloc0(V);
    int *labels = malloc(TB * sizeof *labels);
    unsigned long long seed = 1;
    for (size_t i = 0; i < GH; i++)
        for (size_t j = 0; j < M; j++) /* Wi a lookup table, Wh ~ 1/sqrt(H) */
            W[i * M + j] = (2 * uniform(&seed) - 1) *
                           (j < V ? 0.5 : 1.5 / sqrt((double)HIDDEN));
    if (cell == BPTT_CELL_LSTM) /* forget gate open at first: remember */
        for (size_t i = HIDDEN; i < 2 * HIDDEN; i++)
            bh[i] = 1;
    for (size_t i = 0; i < V * HIDDEN; i++)
        Wo[i] = (2 * uniform(&seed) - 1) / sqrt((double)HIDDEN);

    /* Stream b starts at byte b·len/STREAMS and wraps around the text. */
    size_t pos[STREAMS];
    for (int b = 0; b < STREAMS; b++)
        pos[b] = (size_t)b * (len / STREAMS);

    printf("text %s: %zu bytes, %zu classes; hidden %d %s, T = %d, "
           "B = %d, %ld chunks, rate %g\n", path, len, V, HIDDEN,
           cell == BPTT_CELL_VANILLA ? "tanh" : bptt_cell_name(cell), T,
           STREAMS, chunks, rate);
    const bptt_elman_params prm = {W, bh, Wo, bo};
    double *const grads[] = {dW, dbh, dWo, dbo};
    const size_t counts[] = {GH * M, GH, V * HIDDEN, V};
    double *const params[] = {W, bh, Wo, bo};
    const size_t rows[] = {GH, 1, V, 1}, cols[] = {M, GH, HIDDEN, V};
    double window = 0, t0 = seconds();
    for (long step = 1; step <= chunks; step++) {
        /* The chunk: x_t = one-hot(byte t), label_t = byte t+1. */
        memset(x, 0, TB * V * sizeof *x);
        for (int t = 0; t < T; t++)
            for (int b = 0; b < STREAMS; b++) {
                size_t k = (size_t)t * STREAMS + b, p = pos[b] + (size_t)t;
                x[k * V + cls[text[p % len]]] = 1;
                labels[k] = cls[text[(p + 1) % len]];
            }
        /* Truncated BPTT(T; T): the stream state carries the last hidden
         * state into the next chunk; the gradient stops at its start. */
        double E;
        TRY(bptt_tbptt_elman_step(tb, el, T, W, M, bh, Wo, HIDDEN, bo, x, V,
                                  labels, NULL, 0, 0.0, dW, M, dbh, dWo,
                                  HIDDEN, dbo, NULL, 0, &E));
        const double alpha = rate / (double)TB * clip_factor(grads, counts, 4);
        for (int p = 0; p < 4; p++)
            TRY(bptt_sgd_step(rows[p], cols[p], alpha, grads[p], cols[p],
                              params[p], cols[p]));
        for (int b = 0; b < STREAMS; b++)
            pos[b] = (pos[b] + T) % len;
        window += E / (double)TB;
        if (step % PRINT_EVERY == 0) {
            double t1 = seconds();
            printf("step %6ld  loss %.4f  %8.0f chars/s\n", step,
                   window / PRINT_EVERY,
                   (double)PRINT_EVERY * (double)TB / (t1 - t0));
            fflush(stdout);
            window = 0;
            t0 = t1;
        }
    }

    /* Sample: prime with the text's first byte from h = 0, then feed each
     * drawn byte back in, one step of one sequence at a time.  A
     * temperature below 1 sharpens y, trading variety for fewer slips that
     * a model of so small a text cannot recover from. */
    unsigned long long sseed = 2026;
    int c = cls[text[0]];
    memset(h0, 0, HIDDEN * sizeof *h0);
    printf("--- sample ---\n%c", byte[c]);
    for (int i = 0; i < SAMPLE; i++) {
        memset(x, 0, V * sizeof *x);
        x[c] = 1;
        TRY(bptt_elman_plan_forward(plan, 1, 1, &prm, x, h0, NULL, NULL, h,
                                    y));
        memcpy(h0, h, HIDDEN * sizeof *h);
        double z = 0, acc = 0;
        for (size_t k = 0; k < V; k++)
            z += y[k] = pow(y[k], 1 / TEMPERATURE);
        double u = uniform(&sseed) * z;
        for (c = 0; c + 1 < (int)V && (acc += y[c]) <= u; c++)
            ;
        putchar(byte[c]);
    }
    printf("\n");

    bptt_elman_plan_destroy(plan);
    bptt_tbptt_free(tb);
    bptt_elman_free(el);
    bptt_net_free(net);
    free(W), free(bh), free(Wo), free(bo), free(dW), free(dbh), free(dWo);
    free(dbo), free(x), free(h), free(h0), free(y), free(labels), free(text);
    return 0;
}
