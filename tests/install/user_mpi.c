/* A user's data-parallel program, built against the installed bptt-mpi
 * with pkg-config by check-install.sh (compiled and linked, not run: that
 * needs mpirun). */
#include <bptt/mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    bptt_net *net = NULL;
    bptt_mpi *ctx = NULL;
    bptt_status st = bptt_net_create_uniform(2, 3, BPTT_ACT_TANH, NULL, &net);
    if (st == BPTT_OK)
        st = bptt_mpi_create(MPI_COMM_WORLD, net, 4, 2, 0, &ctx);
    printf("%s\n", st == BPTT_OK ? "ok" : bptt_mpi_error_detail());
    bptt_mpi_free(ctx);
    bptt_net_free(net);
    MPI_Finalize();
    return st == BPTT_OK ? 0 : 1;
}
