#!/bin/sh
# mpi-run.sh NP PROGRAM [ARGS...] — run PROGRAM on NP ranks with mpirun, for
# the meson suite 'mpi'.  Exit 77 (skipped) when mpirun is absent.  As root
# Open MPI refuses to start without being told (its documented variables);
# more ranks than cores need --oversubscribe.  One BLAS thread per rank:
# the ranks already share the cores.
np=$1
shift
command -v mpirun >/dev/null 2>&1 || {
    echo "mpi-run.sh: mpirun not found, skipping"
    exit 77
}
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OPENBLAS_NUM_THREADS=1
# Containers often forbid the cross-process reads (CMA) of Open MPI's
# shared-memory transport; the tests' messages are small, so copy through
# the shared segment instead (unless the caller chose otherwise).
: "${OMPI_MCA_btl_vader_single_copy_mechanism:=none}"
export OMPI_MCA_btl_vader_single_copy_mechanism
exec mpirun --oversubscribe -np "$np" "$@"
