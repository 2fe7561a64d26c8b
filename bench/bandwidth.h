/*
 * bandwidth.h — the read-bandwidth limit: how fast this machine can stream
 * an array of a given size (the recurrent matrix Wy of a case) from the
 * cache level or memory that holds it.  Precision-independent: the limit
 * is in bytes.
 */
#ifndef BENCH_BANDWIDTH_H
#define BENCH_BANDWIDTH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit sum (mod 2^64) of the n words at p, read with the widest
 * vector loads the CPU offers (bptt_cpu_isa: AVX-512, AVX2, else portable
 * C).  Integer adds: no value can slow them (no denormals, no NaN), so the
 * loads alone bound the loop. */
uint64_t bench_read_sum(const uint64_t *p, size_t n);

/* Read bandwidth in GB/s (1e9 bytes per second) over an array of bytes
 * bytes (rounded up to whole 8-byte words), summed again and again: the
 * best of the calls made in budget_ms, each call long enough to dwarf the
 * clock's resolution.  NaN when memory runs out or bytes is 0. */
double bench_read_gbs(size_t bytes, double budget_ms);

#endif
