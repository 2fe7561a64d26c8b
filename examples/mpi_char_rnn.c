/* mpi_char_rnn.c — a character-level language model like char-rnn.c's
 * (Network B, softmax head, plain SGD), trained data-parallel over MPI
 * (bptt/mpi.h): STREAMS cursors walk through the text, split between the
 * ranks; each step every rank computes the gradient of its streams' chunk
 * of T bytes, bptt_mpi_elman_gradient returns the sum over all ranks
 * (dWo's reduction overlapping the core's backward, dW's panels the rest),
 * and every rank clips and takes the same SGD step.
 *
 *   mpirun -np N ./mpi_char_rnn [--fixed] [FILE [CHUNKS]]
 *
 * FILE defaults to /usr/share/common-licenses/GPL-3.
 * Unlike char-rnn.c every chunk starts from h = 0 (the module returns the
 * summed gradient, not the shard's hidden states).  Rank 0 prints the mean
 * cross-entropy per byte of the whole batch; the trajectory equals the
 * one-process run (mpirun -np 1) to rounding, and with --fixed is bitwise
 * the same for every N.
 *
 * Build:  mpicc mpi_char_rnn.c $(pkg-config --cflags --libs bptt-mpi) -lm */
#include <bptt/mpi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A real text present on every Debian machine. */
#define CHAR_RNN_TEXT "/usr/share/common-licenses/GPL-3"

enum { HIDDEN = 64, T = 32, STREAMS = 8, CHUNKS = 600, PRINT_EVERY = 50 };
#define RATE 4.0 /* per byte: the step is RATE/(T*STREAMS) */
static const double CLIP = 5.0;

#define TRY(call)                                                             \
    do {                                                                      \
        bptt_status st_ = (call);                                             \
        if (st_ != BPTT_OK) {                                                 \
            fprintf(stderr, "%s%s\n", bptt_mpi_error_detail(),                \
                    bptt_error_detail());                                     \
            MPI_Abort(MPI_COMM_WORLD, 1);                                     \
        }                                                                     \
    } while (0)

static double uniform(unsigned long long *s) /* deterministic, in [0, 1) */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 1);
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
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    *n = len;
    return buf;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, fixed = 0, a = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (a < argc && !strcmp(argv[a], "--fixed"))
        fixed = 1, a++;
    const char *path = a < argc ? argv[a++] : CHAR_RNN_TEXT;
    const long chunks = a < argc ? atol(argv[a]) : CHUNKS;
    size_t len;
    unsigned char *text = read_file(path, &len);

    /* The alphabet: class k is the k-th distinct byte in byte order. */
    int cls[256];
    size_t V = 0;
    for (int c = 0; c < 256; c++)
        cls[c] = -1;
    for (size_t i = 0; i < len; i++)
        cls[text[i]] = 0;
    for (int c = 0; c < 256; c++)
        if (cls[c] == 0)
            cls[c] = (int)V++;

    /* This rank's streams lo..hi-1 (in rank order). */
    const size_t lo = (size_t)rank * STREAMS / (size_t)size;
    const size_t hi = (size_t)(rank + 1) * STREAMS / (size_t)size;
    const size_t B = hi - lo, TB = (size_t)T * (B ? B : 1), M = V + HIDDEN;
    bptt_net *net;
    bptt_elman *el;
    bptt_mpi *ctx;
    TRY(bptt_net_create_uniform(V, HIDDEN, BPTT_ACT_TANH, NULL, &net));
    TRY(bptt_elman_create(net, V, BPTT_HEAD_SOFTMAX, &el));
    TRY(bptt_mpi_create_elman(MPI_COMM_WORLD, el, T, B ? B : 1,
                              fixed ? BPTT_MPI_FIXED_ORDER : 0, &ctx));

    double *W = calloc(HIDDEN * M, sizeof *W), *bh = calloc(HIDDEN, 8);
    double *Wo = calloc(V * HIDDEN, 8), *bo = calloc(V, 8);
    double *dW = calloc(HIDDEN * M, 8), *dbh = calloc(HIDDEN, 8);
    double *dWo = calloc(V * HIDDEN, 8), *dbo = calloc(V, 8);
    double *x = calloc(TB * V, 8);
    int *labels = malloc(TB * sizeof *labels);
    unsigned long long seed = 1; /* the same weights on every rank */
    for (size_t i = 0; i < HIDDEN; i++)
        for (size_t j = 0; j < M; j++)
            W[i * M + j] = (2 * uniform(&seed) - 1) *
                           (j < V ? 0.5 : 1.5 / sqrt((double)HIDDEN));
    for (size_t i = 0; i < V * HIDDEN; i++)
        Wo[i] = (2 * uniform(&seed) - 1) / sqrt((double)HIDDEN);

    size_t pos[STREAMS]; /* stream s starts at byte s·len/STREAMS */
    for (int s = 0; s < STREAMS; s++)
        pos[s] = (size_t)s * (len / STREAMS);
    if (rank == 0)
        printf("%d rank(s); text %zu bytes, %zu classes; hidden %d, T = %d, "
               "%d streams%s\n", size, len, V, HIDDEN, T, STREAMS,
               fixed ? ", fixed-order sums" : "");
    double *const grads[] = {dW, dbh, dWo, dbo}, *const params[] = {W, bh, Wo, bo};
    const size_t rows[] = {HIDDEN, 1, V, 1}, cols[] = {M, HIDDEN, HIDDEN, V};
    double window = 0;
    for (long step = 1; step <= chunks; step++) {
        /* this rank's streams' chunk: x_t = one-hot(byte), label = next */
        memset(x, 0, TB * V * sizeof *x);
        for (size_t t = 0; t < T; t++)
            for (size_t b = 0; b < B; b++) {
                size_t k = t * B + b, p = pos[lo + b] + t;
                x[k * V + (size_t)cls[text[p % len]]] = 1;
                labels[k] = cls[text[(p + 1) % len]];
            }
        double E;
        TRY(bptt_mpi_elman_gradient(ctx, T, B, W, M, bh, Wo, HIDDEN, bo, x, V,
                                    NULL, 0, labels, NULL, 0, &E, 0.0, dW, M,
                                    dbh, dWo, HIDDEN, dbo));
        /* the same summed gradient everywhere: the same clip, same step */
        double ss = 0;
        for (int g = 0; g < 4; g++)
            for (size_t i = 0; i < rows[g] * cols[g]; i++)
                ss += grads[g][i] * grads[g][i];
        double clip = sqrt(ss) > CLIP ? CLIP / sqrt(ss) : 1.0;
        double alpha = RATE / (double)(T * STREAMS) * clip;
        for (int g = 0; g < 4; g++)
            TRY(bptt_sgd_step(rows[g], cols[g], alpha, grads[g], cols[g],
                              params[g], cols[g]));
        for (int s = 0; s < STREAMS; s++)
            pos[s] = (pos[s] + T) % len;
        window += E / (double)(T * STREAMS);
        if (rank == 0 && step % PRINT_EVERY == 0)
            printf("step %5ld  loss %.15f\n", step, window / PRINT_EVERY);
        if (step % PRINT_EVERY == 0)
            window = 0;
    }
    bptt_mpi_free(ctx);
    bptt_elman_free(el);
    bptt_net_free(net);
    free(W), free(bh), free(Wo), free(bo), free(dW), free(dbh), free(dWo);
    free(dbo), free(x), free(labels), free(text);
    MPI_Finalize();
    return 0;
}
