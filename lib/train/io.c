/*
 * io.c — checkpoints: a model's description, its parameters and optionally
 * its optimizer state in one versioned binary file (docs/training.md,
 * "Checkpoint format"), each section under a CRC-32C; saved under a
 * temporary name, flushed and renamed, so the real name only ever holds a
 * whole file; loaded by reading and checking the whole file before writing
 * anything.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "real.h"
#include "train/optim.h"

enum {
    HEADER = 64,      /* bytes of the file header */
    SECTION = 16,     /* bytes of a section header: tag, crc, length */
    MODEL_A = 1,
    MODEL_B = 2,
    BOM = 0x01020304, /* as written by this machine */
    BOM_SWAPPED = 0x04030201,
};
static const char magic[8] = {'B', 'P', 'T', 'T', 'C', 'K', 'P', 'T'};
/* Section tags, as the four bytes of their name read on this machine. */
#define TAG(a, b, c, d)                                                        \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |                \
     (uint32_t)(d) << 24)
#define TAG_ACTS TAG('A', 'C', 'T', 'S') /* dh uint32 activation codes */
#define TAG_PARM TAG('P', 'A', 'R', 'M') /* the parameter buffer */
#define TAG_OPTS TAG('O', 'P', 'T', 'S') /* the optimizer state */

/* The model the caller names: exactly one of net and el. */
typedef struct model {
    const bptt_net *net;
    uint32_t kind;
    uint64_t din, dh, nout;
    uint32_t head;
    size_t count; /* parameters */
} model;

static bptt_status model_of(const char *fn, const bptt_net *net,
                            const bptt_elman *el, model *m)
{
    if (!net && !el)
        return bptt__fail(BPTT_ENULL, fn, "net and el are both NULL");
    if (net && el)
        return bptt__fail(BPTT_EINVAL, fn, "give net or el, not both");
    bptt_param_layout p;
    if (el) {
        CHECK(bptt_elman_param_layout(el, &p));
        *m = (model){.net = el->net, .kind = MODEL_B, .nout = el->nout,
                     .head = (uint32_t)el->head};
    } else {
        CHECK(bptt_net_param_layout(net, &p));
        *m = (model){.net = net, .kind = MODEL_A, .head = UINT32_MAX};
    }
    m->din = m->net->din;
    m->dh = m->net->dout;
    m->count = p.count;
    int ok = 1;
    bptt__add(bptt__mul(m->count, sizeof(R), &ok), bptt__mul(m->dh, 4, &ok),
              &ok);
    if (!ok)
        return bptt__fail(BPTT_EOVERFLOW, fn, "the model is too large");
    return BPTT_OK;
}

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The state's bytes as its header states them (0 if it is no state). */
static size_t state_extent(const bptt__optim_header *h)
{
    int ok = 1;
    size_t b = bptt__add(
        BPTT_OPTIM_HEADER,
        bptt__mul(bptt__mul((size_t)h->n, h->arrays, &ok), h->elem, &ok), &ok);
    return ok && h->n == (size_t)h->n ? b : 0;
}

/* ------------------------------------------------------------------------ */
/* Save                                                                      */
/* ------------------------------------------------------------------------ */

static unsigned char *put_section(unsigned char *p, uint32_t tag,
                                  const void *data, size_t bytes)
{
    put32(p, tag);
    put32(p + 4, (uint32_t)bptt_crc32c(0, data, bytes));
    put64(p + 8, bytes);
    memcpy(p + SECTION, data, bytes);
    return p + SECTION + bytes;
}

static bptt_status write_all(const char *fn, int fd, const unsigned char *p,
                             size_t n, const char *tmp)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return bptt__fail(BPTT_EIO, fn, "writing %s: %s", tmp,
                              strerror(w < 0 ? errno : EIO));
        p += w;
        n -= (size_t)w;
    }
    return BPTT_OK;
}

/* Flush the directory holding path, so that the rename is on disk too.
 * Some file systems refuse fsync on a directory: that is not an error of
 * the save (the file itself is on disk). */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else if ((dir = malloc((size_t)(slash - path) + 1)) != NULL) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

bptt_status X(checkpoint_save)(const char *path, const bptt_net *net,
                               const bptt_elman *el, const R *params,
                               const void *state, size_t state_bytes)
{
    static const char fn[] = PREFIX "checkpoint_save";
    if (!path)
        return bptt__fail(BPTT_ENULL, fn, "path is NULL");
    if (!params)
        return bptt__fail(BPTT_ENULL, fn, "params is NULL");
    model m;
    CHECK(model_of(fn, net, el, &m));
    size_t sbytes = 0;
    if (state) {
        bptt__optim_header h;
        if (state_bytes < BPTT_OPTIM_HEADER ||
            !bptt__optim_header_read(state, &h) || h.elem != sizeof(R))
            return bptt__fail(BPTT_EINVAL, fn,
                              "state is not an optimizer state of this "
                              "precision (" PREFIX "optim_state_init)");
        sbytes = state_extent(&h);
        if (h.n != m.count || sbytes == 0 || sbytes > state_bytes)
            return bptt__fail(BPTT_EINVAL, fn,
                              "state is for %llu parameters in %zu bytes; the "
                              "model has %zu, state_bytes is %zu",
                              (unsigned long long)h.n, sbytes, m.count,
                              state_bytes);
    }
    /* The image in memory first (sizes checked in model_of). */
    const size_t acts = (size_t)m.dh * 4, pbytes = m.count * sizeof(R);
    int ok = 1;
    size_t total = HEADER + 2 * SECTION;
    total = bptt__add(total, acts, &ok);
    total = bptt__add(total, pbytes, &ok);
    if (state)
        total = bptt__add(total, SECTION + sbytes, &ok);
    unsigned char *img = ok ? malloc(total) : NULL;
    uint32_t *codes = malloc(acts);
    if (!img || !codes) {
        free(img);
        free(codes);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu bytes", total);
    }
    memset(img, 0, HEADER);
    memcpy(img, magic, 8);
    put32(img + 8, BPTT_CHECKPOINT_VERSION);
    put32(img + 12, BOM);
    put32(img + 16, sizeof(R));
    put32(img + 20, m.kind);
    put32(img + 24, state ? 3 : 2);
    put64(img + 32, m.din);
    put64(img + 40, m.dh);
    put64(img + 48, m.nout);
    put32(img + 56, m.head);
    put32(img + 60, (uint32_t)bptt_crc32c(0, img, 60));
    for (size_t i = 0; i < m.dh; i++)
        codes[i] = (uint32_t)m.net->act[i];
    unsigned char *p = put_section(img + HEADER, TAG_ACTS, codes, acts);
    p = put_section(p, TAG_PARM, params, pbytes);
    if (state)
        put_section(p, TAG_OPTS, state, sbytes);
    free(codes);

    /* Write-temp-fsync-rename: path never names a part of a file. */
    const size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof ".tmp.XXXXXX");
    if (!tmp) {
        free(img);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating the temporary name");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    bptt_status st = BPTT_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = bptt__fail(BPTT_EIO, fn, "creating %s: %s", tmp, strerror(errno));
    } else {
        (void)fchmod(fd, 0644); /* mkstemp's 0600 */
        st = write_all(fn, fd, img, total, tmp);
        if (st == BPTT_OK && fsync(fd) != 0)
            st = bptt__fail(BPTT_EIO, fn, "fsync of %s: %s", tmp,
                            strerror(errno));
        if (close(fd) != 0 && st == BPTT_OK)
            st = bptt__fail(BPTT_EIO, fn, "closing %s: %s", tmp,
                            strerror(errno));
        if (st == BPTT_OK && rename(tmp, path) != 0)
            st = bptt__fail(BPTT_EIO, fn, "renaming %s to %s: %s", tmp, path,
                            strerror(errno));
        if (st != BPTT_OK)
            unlink(tmp);
        else
            sync_dir(path);
    }
    free(tmp);
    free(img);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Load                                                                      */
/* ------------------------------------------------------------------------ */

bptt_status X(checkpoint_parse)(const void *image, size_t bytes,
                                const bptt_net *net, const bptt_elman *el,
                                R *params, void *state, size_t state_bytes,
                                int *has_state)
{
    static const char fn[] = PREFIX "checkpoint_parse";
    if (!image)
        return bptt__fail(BPTT_ENULL, fn, "image is NULL");
    if (!params)
        return bptt__fail(BPTT_ENULL, fn, "params is NULL");
    model m;
    CHECK(model_of(fn, net, el, &m));
    const unsigned char *img = image;
    if (bytes < 8 || memcmp(img, magic, 8) != 0)
        return bytes < 8 && memcmp(img, magic, bytes) == 0
                   ? bptt__fail(BPTT_ECORRUPT, fn, "truncated: %zu bytes",
                                bytes)
                   : bptt__fail(BPTT_EFORMAT, fn,
                                "not a bptt checkpoint (magic)");
    if (bytes < HEADER)
        return bptt__fail(BPTT_ECORRUPT, fn,
                          "truncated: %zu bytes, the header alone is %d",
                          bytes, HEADER);
    /* Byte order before version: another order misreads every field. */
    const uint32_t bom = get32(img + 12);
    if (bom == BOM_SWAPPED)
        return bptt__fail(BPTT_EFORMAT, fn,
                          "saved on a machine of the other byte order");
    if (bom != BOM)
        return bptt__fail(BPTT_ECORRUPT, fn, "byte-order mark 0x%08x",
                          (unsigned)bom);
    const uint32_t version = get32(img + 8);
    if (version != BPTT_CHECKPOINT_VERSION)
        return bptt__fail(BPTT_EVERSION, fn,
                          "format version %u; this library reads %d",
                          (unsigned)version, BPTT_CHECKPOINT_VERSION);
    if (get32(img + 60) != (uint32_t)bptt_crc32c(0, img, 60))
        return bptt__fail(BPTT_ECORRUPT, fn, "the header fails its CRC-32C");
    const uint32_t elem = get32(img + 16), kind = get32(img + 20);
    const uint32_t nsec = get32(img + 24);
    if (elem != sizeof(R))
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "saved in %u-byte reals; this call loads %zu-byte",
                          (unsigned)elem, sizeof(R));
    if (kind != m.kind)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "saved for Network %c; given Network %c",
                          kind == MODEL_A ? 'A' : kind == MODEL_B ? 'B' : '?',
                          m.kind == MODEL_A ? 'A' : 'B');
    const uint64_t din = get64(img + 32), dh = get64(img + 40);
    const uint64_t nout = get64(img + 48);
    const uint32_t head = get32(img + 56);
    if (din != m.din || dh != m.dh || nout != m.nout || head != m.head)
        return bptt__fail(BPTT_EMISMATCH, fn,
                          "saved for din %llu, dh %llu, nout %llu, head %u; "
                          "given %llu, %llu, %llu, %u",
                          (unsigned long long)din, (unsigned long long)dh,
                          (unsigned long long)nout, (unsigned)head,
                          (unsigned long long)m.din, (unsigned long long)m.dh,
                          (unsigned long long)m.nout, (unsigned)m.head);
    if (nsec != 2 && nsec != 3)
        return bptt__fail(BPTT_ECORRUPT, fn, "%u sections (2 or 3)",
                          (unsigned)nsec);
    const unsigned char *acts = NULL, *parm = NULL, *opts = NULL;
    size_t opts_bytes = 0, at = HEADER;
    for (uint32_t s = 0; s < nsec; s++) {
        if (bytes - at < SECTION)
            return bptt__fail(BPTT_ECORRUPT, fn,
                              "truncated in section %u's header", (unsigned)s);
        const uint32_t tag = get32(img + at), crc = get32(img + at + 4);
        const uint64_t len = get64(img + at + 8);
        at += SECTION;
        if (len > bytes - at)
            return bptt__fail(BPTT_ECORRUPT, fn,
                              "truncated: section %u has %llu bytes, %zu left",
                              (unsigned)s, (unsigned long long)len, bytes - at);
        if (crc != (uint32_t)bptt_crc32c(0, img + at, (size_t)len))
            return bptt__fail(BPTT_ECORRUPT, fn,
                              "section %u fails its CRC-32C", (unsigned)s);
        const unsigned char **slot = tag == TAG_ACTS   ? &acts
                                     : tag == TAG_PARM ? &parm
                                     : tag == TAG_OPTS ? &opts
                                                       : NULL;
        if (!slot || *slot)
            return bptt__fail(BPTT_ECORRUPT, fn,
                              "section %u: %s tag 0x%08x", (unsigned)s,
                              slot ? "repeated" : "unknown", (unsigned)tag);
        const size_t want = tag == TAG_ACTS   ? (size_t)dh * 4
                            : tag == TAG_PARM ? m.count * sizeof(R)
                                              : (size_t)len;
        /* An intact PARM section (its CRC-32C holds) of another length was
         * saved for another core: the header does not record the cell, and
         * an LSTM's, a GRU's and a tanh core's W differ in rows. */
        if (len != want && tag == TAG_PARM)
            return bptt__fail(BPTT_EMISMATCH, fn,
                              "the file holds %llu parameters, the model has "
                              "%zu (another cell?)",
                              (unsigned long long)len / sizeof(R), m.count);
        if (len != want)
            return bptt__fail(BPTT_ECORRUPT, fn,
                              "section %u has %llu bytes; its header says %zu",
                              (unsigned)s, (unsigned long long)len, want);
        *slot = img + at;
        if (tag == TAG_OPTS)
            opts_bytes = (size_t)len;
        at += (size_t)len;
    }
    if (at != bytes)
        return bptt__fail(BPTT_ECORRUPT, fn, "%zu bytes after the last section",
                          bytes - at);
    if (!acts || !parm)
        return bptt__fail(BPTT_ECORRUPT, fn, "the %s section is missing",
                          acts ? "PARM" : "ACTS");
    for (size_t i = 0; i < m.dh; i++) {
        const uint32_t code = get32(acts + 4 * i);
        if (code != (uint32_t)m.net->act[i])
            return bptt__fail(BPTT_EMISMATCH, fn,
                              "unit %zu was saved as %s, the net has %s", i,
                              bptt_activation_name((bptt_activation)code)
                                  ? bptt_activation_name((bptt_activation)code)
                                  : "?",
                              bptt_activation_name(m.net->act[i]));
    }
    int load_state = 0;
    if (opts) {
        bptt__optim_header fh;
        if (opts_bytes < BPTT_OPTIM_HEADER ||
            !bptt__optim_header_read(opts, &fh) || fh.elem != sizeof(R) ||
            fh.n != m.count || state_extent(&fh) != opts_bytes ||
            fh.kind >= BPTT_NOPTIM)
            return bptt__fail(BPTT_ECORRUPT, fn,
                              "the OPTS section is not an optimizer state for "
                              "the model");
        if (state) {
            bptt__optim_header h;
            if (state_bytes < BPTT_OPTIM_HEADER ||
                !bptt__optim_header_read(state, &h))
                return bptt__fail(BPTT_EMISMATCH, fn,
                                  "state was not made by " PREFIX
                                  "optim_state_init");
            if (h.kind != fh.kind || h.n != fh.n || h.elem != fh.elem ||
                h.arrays != fh.arrays || state_bytes < opts_bytes)
                return bptt__fail(BPTT_EMISMATCH, fn,
                                  "the saved state is %s with %u moment "
                                  "arrays in %zu bytes; state is %s with %u "
                                  "in %zu bytes",
                                  bptt_optim_name((bptt_optim_kind)fh.kind),
                                  (unsigned)fh.arrays, opts_bytes,
                                  bptt_optim_name((bptt_optim_kind)h.kind)
                                      ? bptt_optim_name((bptt_optim_kind)h.kind)
                                      : "?",
                                  (unsigned)h.arrays, state_bytes);
            load_state = 1;
        }
    }
    /* Every check passed: now, and only now, write. */
    memcpy(params, parm, m.count * sizeof(R));
    if (load_state)
        memcpy(state, opts, opts_bytes);
    if (has_state)
        *has_state = load_state;
    return BPTT_OK;
}

bptt_status X(checkpoint_load)(const char *path, const bptt_net *net,
                               const bptt_elman *el, R *params, void *state,
                               size_t state_bytes, int *has_state)
{
    static const char fn[] = PREFIX "checkpoint_load";
    if (!path)
        return bptt__fail(BPTT_ENULL, fn, "path is NULL");
    if (!params)
        return bptt__fail(BPTT_ENULL, fn, "params is NULL");
    model m;
    CHECK(model_of(fn, net, el, &m));
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return bptt__fail(BPTT_EIO, fn, "opening %s: %s", path,
                          strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return bptt__fail(BPTT_EIO, fn, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return bptt__fail(BPTT_EIO, fn, "%s: not a regular file", path);
    }
    const size_t n = (size_t)sb.st_size;
    unsigned char *img = malloc(n ? n : 1);
    if (!img) {
        close(fd);
        return bptt__fail(BPTT_ENOMEM, fn, "allocating %zu bytes", n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, img + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(img);
            return bptt__fail(BPTT_EIO, fn, "reading %s: %s", path,
                              strerror(e));
        }
        if (r == 0)
            break; /* shrank meanwhile: parse what is there */
        got += (size_t)r;
    }
    close(fd);
    bptt_status st = X(checkpoint_parse)(img, got, net, el, params, state,
                                         state_bytes, has_state);
    free(img);
    if (st != BPTT_OK) { /* the detail names the file, not the parser */
        char why[200];
        const char *d = strchr(bptt_error_detail(), ':');
        snprintf(why, sizeof why, "%s", d ? d + 2 : bptt_error_detail());
        bptt__fail(st, fn, "%s: %s", path, why);
    }
    return st;
}
