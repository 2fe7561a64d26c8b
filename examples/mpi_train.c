/* mpi_train.c — data-parallel training of Network A over MPI
 * (bptt/mpi.h): the teacher-student problem of train.c with a batch of
 * BATCH sequences split between the ranks.  Every step each rank computes
 * the gradient of its shard; bptt_mpi_gradient returns the sum over all
 * ranks (reduced while the backward runs) and every rank takes the same
 * SGD step (eq. (13)), so the weights stay identical everywhere.
 *
 *   mpirun -np N ./mpi_train [--fixed] [STEPS]
 *
 * Rank 0 prints the loss of the whole batch.  The trajectory equals the
 * one-process run (mpirun -np 1) to rounding; with --fixed (the module's
 * fixed-order sum) it is bitwise the same for every N.
 *
 * Build:  mpicc mpi_train.c $(pkg-config --cflags --libs bptt-mpi) -o mpi_train */
#include <bptt/mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DIN = 4, DOUT = 32, M = DIN + DOUT, T = 40, BATCH = 12, STEPS = 300 };
#define RATE 0.002 /* per sequence: the step is RATE / BATCH */

static double uniform(unsigned long long *s) /* deterministic, in [-1, 1) */
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2 - 1;
}

#define TRY(call)                                                             \
    do {                                                                      \
        bptt_status st_ = (call);                                             \
        if (st_ != BPTT_OK) {                                                 \
            fprintf(stderr, "%s%s\n", bptt_mpi_error_detail(),                \
                    bptt_error_detail());                                     \
            MPI_Abort(MPI_COMM_WORLD, 1);                                     \
        }                                                                     \
    } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, fixed = 0;
    long steps = STEPS;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixed"))
            fixed = 1;
        else
            steps = atol(argv[i]);
    }

    /* This rank's shard: sequences lo..hi-1 of the batch, in rank order
     * (the order the fixed-order sum assumes). */
    const size_t lo = (size_t)rank * BATCH / (size_t)size;
    const size_t hi = (size_t)(rank + 1) * BATCH / (size_t)size, B = hi - lo;

    /* Every rank draws the same weights and the whole batch's inputs from
     * one seed, and keeps its shard (time-major: row t*B + b). */
    static double Wt[DOUT * M], W[DOUT * M], dW[DOUT * M], all[T * BATCH * DIN];
    double *x = calloc((size_t)T * (B ? B : 1) * DIN, sizeof *x);
    double *target = calloc((size_t)T * (B ? B : 1) * DOUT, sizeof *target);
    unsigned long long seed = 42;
    for (int i = 0; i < DOUT * M; i++) {
        Wt[i] = uniform(&seed) * 0.25;  /* teacher */
        W[i] = 0.2 * uniform(&seed);   /* student */
    }
    for (int i = 0; i < T * BATCH * DIN; i++)
        all[i] = uniform(&seed);
    for (size_t t = 0; t < T; t++)
        for (size_t b = 0; b < B; b++)
            memcpy(x + (t * B + b) * DIN, all + (t * BATCH + lo + b) * DIN,
                   DIN * sizeof *x);

    bptt_net *net;
    TRY(bptt_net_create_uniform(DIN, DOUT, BPTT_ACT_TANH, NULL, &net));
    if (B > 0) { /* the teacher's outputs are the targets */
        bptt_workspace *ws;
        TRY(bptt_workspace_alloc(net, T, B, &ws));
        TRY(bptt_forward(net, T, B, Wt, M, NULL, x, DIN, NULL, 0, target,
                         DOUT, BPTT_ALGO_AUTO, ws));
        bptt_workspace_free(ws);
    }

    bptt_mpi *ctx;
    TRY(bptt_mpi_create(MPI_COMM_WORLD, net, T, B ? B : 1,
                        fixed ? BPTT_MPI_FIXED_ORDER : 0, &ctx));
    if (rank == 0)
        printf("%d rank(s), %d sequences of T = %d, dout = %d%s\n", size,
               BATCH, T, DOUT, fixed ? ", fixed-order sums" : "");
    for (long step = 0; step <= steps; step++) {
        double loss;
        /* dW = Σ over every rank's sequences; loss likewise */
        TRY(bptt_mpi_gradient(ctx, T, B, W, M, NULL, x, DIN, NULL, 0, target,
                              DOUT, NULL, &loss, 0.0, dW, M, NULL));
        TRY(bptt_sgd_step(DOUT, M, RATE / BATCH, dW, M, W, M));
        if (rank == 0 && step % 50 == 0)
            printf("step %4ld  loss %.17g\n", step, loss);
    }
    bptt_mpi_free(ctx);
    bptt_net_free(net);
    free(x);
    free(target);
    MPI_Finalize();
    return 0;
}
