/*
 * protocol.c — reading and writing the peer file format of protocol.h.
 */
#include "protocol.h"

#include <stdlib.h>
#include <string.h>

/* Element counts are kept below 2^40 so that every byte count and every
 * product below fits in 64 bits without further checks. */
#define PEER_MAX_COUNT ((uint64_t)1 << 40)

static uint64_t mul_capped(uint64_t a, uint64_t b)
{
    if (a == 0 || b == 0)
        return 0;
    if (a > PEER_MAX_COUNT / b)
        return PEER_MAX_COUNT;
    return a * b;
}

size_t peer_gates(const peer_header *h)
{
    static const size_t gates[] = {1, 4, 3}; /* vanilla, lstm, gru */
    return h->cell < sizeof gates / sizeof *gates ? gates[h->cell] : 0;
}

static uint64_t count_w(const peer_header *h)
{
    return mul_capped(mul_capped(peer_gates(h), h->dout), h->din + h->dout);
}

static uint64_t count_rows(const peer_header *h, uint64_t width)
{
    return mul_capped(mul_capped(h->T, h->B), width);
}

size_t peer_count_w(const peer_header *h)
{
    uint64_t n = count_w(h);
    return n >= PEER_MAX_COUNT ? 0 : (size_t)n;
}

size_t peer_count_b(const peer_header *h)
{
    if (h->cell == 0)
        return 0;
    uint64_t n = mul_capped(2 * peer_gates(h), h->dout);
    return n >= PEER_MAX_COUNT ? 0 : (size_t)n;
}

size_t peer_count_x(const peer_header *h)
{
    uint64_t n = count_rows(h, h->din);
    return n >= PEER_MAX_COUNT ? 0 : (size_t)n;
}

size_t peer_count_y(const peer_header *h)
{
    uint64_t n = count_rows(h, h->dout);
    return n >= PEER_MAX_COUNT ? 0 : (size_t)n;
}

static int put(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int get(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -1;
}

int peer_header_write(FILE *f, int out, const peer_header *h)
{
    const uint32_t version = PEER_PROTOCOL_VERSION;
    const uint64_t sizes[4] = {h->din, h->dout, h->T, h->B};
    const uint32_t cell[2] = {h->cell, 0};
    int rc = put(f, out ? PEER_MAGIC_OUT : PEER_MAGIC_IN, 8);
    rc |= put(f, &version, 4);
    rc |= put(f, &h->precision, 4);
    rc |= put(f, cell, sizeof cell);
    rc |= put(f, sizes, sizeof sizes);
    if (out) {
        char name[PEER_NAME_BYTES] = {0}; /* NUL-padded, NUL-terminated */
        for (size_t i = 0; i < PEER_NAME_BYTES - 1 && h->name[i]; i++)
            name[i] = h->name[i];
        rc |= put(f, &h->reps, 8);
        rc |= put(f, name, sizeof name);
    } else {
        rc |= put(f, &h->budget_ms, 8);
        rc |= put(f, &h->threads, 4);
        rc |= put(f, &h->warmup, 4);
        rc |= put(f, &h->cap, 8);
    }
    return rc ? -1 : 0;
}

int peer_header_read(FILE *f, int out, peer_header *h, char *err,
                     size_t errlen)
{
    char magic[8];
    uint32_t version;
    uint32_t cell[2];
    uint64_t sizes[4];
    memset(h, 0, sizeof *h);
    if (get(f, magic, 8) || get(f, &version, 4) || get(f, &h->precision, 4)
        || get(f, cell, sizeof cell) || get(f, sizes, sizeof sizes)) {
        snprintf(err, errlen, "truncated header");
        return -1;
    }
    if (memcmp(magic, out ? PEER_MAGIC_OUT : PEER_MAGIC_IN, 8) != 0) {
        snprintf(err, errlen, "bad magic (not a peer %s file)",
                 out ? "output" : "input");
        return -1;
    }
    if (version != PEER_PROTOCOL_VERSION) {
        snprintf(err, errlen, "protocol version %u, expected %u",
                 (unsigned)version, PEER_PROTOCOL_VERSION);
        return -1;
    }
    if (h->precision != 4 && h->precision != 8) {
        snprintf(err, errlen, "precision %u is neither 4 nor 8",
                 (unsigned)h->precision);
        return -1;
    }
    h->cell = cell[0];
    if (!peer_gates(h)) {
        snprintf(err, errlen, "cell %u is none of 0 (vanilla), 1 (lstm), "
                 "2 (gru)", (unsigned)h->cell);
        return -1;
    }
    h->din = sizes[0];
    h->dout = sizes[1];
    h->T = sizes[2];
    h->B = sizes[3];
    if (!h->din || !h->dout || !h->T || !h->B || h->din >= PEER_MAX_COUNT
        || h->dout >= PEER_MAX_COUNT || !peer_count_w(h) || !peer_count_x(h)
        || !peer_count_y(h) || (h->cell && !peer_count_b(h))) {
        snprintf(err, errlen, "sizes din %llu dout %llu T %llu B %llu out of "
                 "range", (unsigned long long)h->din,
                 (unsigned long long)h->dout, (unsigned long long)h->T,
                 (unsigned long long)h->B);
        return -1;
    }
    if (out) {
        if (get(f, &h->reps, 8) || get(f, h->name, PEER_NAME_BYTES)) {
            snprintf(err, errlen, "truncated header");
            return -1;
        }
        h->name[PEER_NAME_BYTES - 1] = '\0';
        if (h->reps == 0 || h->reps >= PEER_MAX_COUNT) {
            snprintf(err, errlen, "reps %llu out of range",
                     (unsigned long long)h->reps);
            return -1;
        }
    } else {
        if (get(f, &h->budget_ms, 8) || get(f, &h->threads, 4)
            || get(f, &h->warmup, 4) || get(f, &h->cap, 8)) {
            snprintf(err, errlen, "truncated header");
            return -1;
        }
        if (h->cap == 0 || h->cap >= PEER_MAX_COUNT || !(h->budget_ms >= 0)) {
            snprintf(err, errlen, "cap %llu or budget %g out of range",
                     (unsigned long long)h->cap, h->budget_ms);
            return -1;
        }
    }
    return 0;
}

int peer_array_write(FILE *f, const void *a, size_t elsize, size_t n)
{
    return fwrite(a, elsize, n, f) == n ? 0 : -1;
}

int peer_array_read(FILE *f, void *a, size_t elsize, size_t n)
{
    return fread(a, elsize, n, f) == n ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void peer_summary(const double *samples, size_t n, double *scratch,
                  double s[3])
{
    memcpy(scratch, samples, n * sizeof *scratch);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    s[0] = n % 2 ? scratch[n / 2]
                 : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
    s[1] = scratch[0];
    s[2] = scratch[n - 1];
}
