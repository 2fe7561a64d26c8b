/*
 * bptt-bench-schedule — time of forward + loss + backward of memory-bounded
 * BPTT (bptt_schedule_run_squared) at a budget given as a share of the
 * full-storage workspace, against full storage (share 0), and the peak
 * memory of the process (getrusage: run one configuration per process).
 *
 *   bptt-bench-schedule PREC DIN DOUT T B SHARE [REPS]
 *
 * PREC d or f; SHARE e.g. 0.05 for 5%, 0 for full storage.  Prints one
 * line: prec din dout T B share budget bytes seg slots forward_steps
 * median_s maxrss_kB full_bytes, or the minimum budget when SHARE is
 * below it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "schedule_bench.h"

int main(int argc, char **argv)
{
    if (argc < 7 || (argv[1][0] != 'd' && argv[1][0] != 'f')) {
        fprintf(stderr, "usage: %s d|f DIN DOUT T B SHARE [REPS]\n", argv[0]);
        return 2;
    }
    sched_case c = {strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                    strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10),
                    strtod(argv[6], NULL), argc > 7 ? atoi(argv[7]) : 3};
    if (!c.din || !c.dout || !c.T || !c.B || c.share < 0 || c.reps < 1) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 2;
    }
    sched_result r = {0};
    int rc = argv[1][0] == 'd' ? bench_d_schedule_case(&c, &r)
                               : bench_f_schedule_case(&c, &r);
    if (rc == 3) {
        printf("%c %zu %zu %zu %zu %g %zu refused: the minimum is %zu bytes\n",
               argv[1][0], c.din, c.dout, c.T, c.B, c.share, r.budget, r.bytes);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "%s: a call failed\n", argv[0]);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%c %zu %zu %zu %zu %g %zu %zu %zu %zu %zu %.4f %ld %zu\n",
           argv[1][0], c.din, c.dout, c.T, c.B, c.share, r.budget, r.bytes,
           r.seg, r.slots, r.steps, r.median, ru.ru_maxrss, r.full_bytes);
    return 0;
}
