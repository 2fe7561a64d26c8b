/*
 * bptt-bench-schedule — time of forward + loss + backward of memory-bounded
 * BPTT (bptt_schedule_run_squared) at budgets given as shares of the
 * full-storage workspace, against full storage, and RTRL's point; and the
 * peak memory of the process (getrusage).
 *
 *   bptt-bench-schedule PREC DIN DOUT T B ARMS [REPS]
 *
 * PREC d or f; ARMS a comma-separated list of shares, e.g. 0,0.05,0.25:
 * 0 is full storage, 0.05 a budget of 5% of its workspace, r is RTRL
 * (steps of one sequence, extrapolated to T steps of B sequences).  The
 * arms run interleaved (schedule_bench.h), REPS rounds (default 3), and
 * print one CSV row each:
 *
 *   prec,din,dout,T,B,share,budget,bytes,mem_frac,seg,piece,slots,
 *   forward_steps,median_s,time_ratio,maxrss_kB,full_bytes,load1,note
 *
 * mem_frac = bytes / full_bytes; time_ratio = median / the full-storage
 * arm's median of the same process (empty without a 0 arm); maxrss_kB the
 * process's peak resident memory after all its arms, so it is one arm's
 * own only when ARMS has one entry.  Without PREC, --header prints the
 * header row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "schedule_bench.h"

static const char header[] =
    "prec,din,dout,T,B,share,budget,bytes,mem_frac,seg,piece,slots,"
    "forward_steps,median_s,time_ratio,maxrss_kB,full_bytes,load1,note";

static int parse_arms(char *s, sched_case *c)
{
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (c->narms == SCHED_MAX_ARMS)
            return 1;
        char *end;
        double v = tok[0] == 'r' && !tok[1] ? -1 : strtod(tok, &end);
        if (v >= 0 && (*end || v > 1e6))
            return 1;
        c->share[c->narms++] = v;
    }
    return c->narms == 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--header")) {
        puts(header);
        return 0;
    }
    sched_case c = {0};
    if (argc < 7 || (argv[1][0] != 'd' && argv[1][0] != 'f') || argv[1][1]) {
        fprintf(stderr, "usage: %s d|f DIN DOUT T B ARMS [REPS] | --header\n",
                argv[0]);
        return 2;
    }
    c.din = strtoul(argv[2], NULL, 10);
    c.dout = strtoul(argv[3], NULL, 10);
    c.T = strtoul(argv[4], NULL, 10);
    c.B = strtoul(argv[5], NULL, 10);
    c.reps = argc > 7 ? atoi(argv[7]) : 3;
    if (!c.din || !c.dout || !c.T || !c.B || c.reps < 1 ||
        parse_arms(argv[6], &c)) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 2;
    }
    sched_result r[SCHED_MAX_ARMS];
    size_t full = 0;
    const char p = argv[1][0];
    int rc = p == 'd' ? bench_d_schedule_case(&c, r, &full)
                      : bench_f_schedule_case(&c, r, &full);
    if (rc) {
        fprintf(stderr, "%s: a call failed\n", argv[0]);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = 0;
        fclose(f);
    }
    double base = 0;
    for (size_t i = 0; i < c.narms; i++)
        if (c.share[i] == 0)
            base = r[i].median;
    for (size_t i = 0; i < c.narms; i++) {
        char share[32], ratio[32] = "", note[96] = "";
        if (c.share[i] < 0)
            snprintf(share, sizeof share, "rtrl");
        else
            snprintf(share, sizeof share, "%g", c.share[i]);
        if (base > 0 && !r[i].refused)
            snprintf(ratio, sizeof ratio, "%.4f", r[i].median / base);
        if (r[i].refused)
            snprintf(note, sizeof note, "refused: the minimum is %zu bytes",
                     r[i].bytes);
        else if (c.share[i] < 0)
            snprintf(note, sizeof note,
                     "extrapolated: %.6f s per step of one sequence x T x B",
                     r[i].rtrl_step);
        printf("%c,%zu,%zu,%zu,%zu,%s,%zu,%zu,%.6f,%zu,%zu,%zu,%zu,%.6f,%s,%ld,"
               "%zu,%.2f,%s\n",
               p, c.din, c.dout, c.T, c.B, share, r[i].budget, r[i].bytes,
               (double)r[i].bytes / (double)full, r[i].seg, r[i].piece,
               r[i].slots,
               r[i].steps, r[i].refused ? 0.0 : r[i].median, ratio,
               ru.ru_maxrss, full, load, note);
    }
    return 0;
}
