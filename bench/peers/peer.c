/*
 * peer.c — the harness side of the peers (peer.h): find the runners, hand
 * a case to one through the files of protocol.h, and read its outputs and
 * times back.
 */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with realpath */
#include "peer.h"

#include "peer_config.h" /* where meson built and installs the runners */
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const names[] = {"onednn", "torch"};
enum { ONEDNN, TORCH, NPEERS };

const char *bptt_peer_name(size_t i)
{
    return i < NPEERS ? names[i] : NULL;
}

static int peer_index(const char *name)
{
    for (int i = 0; name && i < NPEERS; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* Put a message in the caller's err (if any) and return status. */
static int say(int status, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

static const char *env_or(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    return v && *v ? v : fallback;
}

/* The child's environment: the parent's, with the thread counts and the
 * OpenMP wait policy replaced.  extra[] holds the replacements; the
 * returned array (malloc'd, entries borrowed) ends with NULL. */
static char **child_env(char *const extra[], size_t nextra)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = malloc((n + nextra + 1) * sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < nextra && !replaced; j++) {
            const size_t len = strcspn(extra[j], "=") + 1; /* "NAME=" */
            replaced = strncmp(environ[i], extra[j], len) == 0;
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < nextra; j++)
        env[k++] = extra[j];
    env[k] = NULL;
    return env;
}

/* Run argv (argv[0] searched on PATH if it has no '/') with stdin from
 * /dev/null and stdout+stderr to log (or /dev/null); the exit status, or
 * -1 if it could not start or did not exit normally. */
static int spawn_wait(char *const argv[], char *const env[], const char *log)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa))
        return -1;
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
             | posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null",
                                                O_WRONLY | O_CREAT | O_TRUNC,
                                                0600)
             | posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    if (rc == 0)
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv,
                          env ? env : environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Why each peer is not available, for bptt_peer_why ("" once found). */
static char why[NPEERS][512];

/* The first python3 that imports torch and numpy, or NULL; cached. */
static const char *torch_python(void)
{
    static int known;
    static char found[4096];
    if (known)
        return found[0] ? found : NULL;
    known = 1;
    const char *cand[] = {getenv("BPTT_PEER_PYTHON"), "/usr/bin/python3",
                          PEER_PYTHON, "python3"};
    for (size_t i = 0; i < sizeof cand / sizeof *cand; i++) {
        if (!cand[i] || !*cand[i] || strlen(cand[i]) >= sizeof found)
            continue;
        char *argv[] = {(char *)cand[i], "-c", "import torch, numpy", NULL};
        if (spawn_wait(argv, NULL, NULL) == 0) {
            strcpy(found, cand[i]);
            break;
        }
    }
    return found[0] ? found : NULL;
}

/* The directory of the running program (no trailing '/'), or NULL where
 * /proc/self/exe cannot say; cached. */
static const char *exe_dir(void)
{
    static int known;
    static char dir[4096];
    if (!known) {
        known = 1;
        const ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        dir[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(dir, '/');
        if (n <= 0 || (size_t)n >= sizeof dir - 1 || !slash)
            dir[0] = '\0';
        else
            *slash = '\0';
    }
    return dir[0] ? dir : NULL;
}

/* 1 when the running program lies in the build tree it was built in:
 * then the runners are where meson built them; otherwise it is installed. */
static int in_build_tree(void)
{
    static int known, inside;
    if (!known) {
        known = 1;
        char root[4096];
        const char *dir = exe_dir();
        if (dir && realpath(PEER_BUILD_ROOT, root)) {
            const size_t len = strlen(root);
            inside = strncmp(dir, root, len) == 0
                     && (dir[len] == '/' || dir[len] == '\0');
        }
    }
    return inside;
}

/* Where the installed runners are: the install's libexec directory
 * relative to the installed program's bindir, from the running program's
 * directory — so a staged (DESTDIR) or moved install finds its own; the
 * configured absolute directory when the program's cannot be known. */
static void installed_path(char *buf, size_t size, const char *file)
{
    const char *bin = PEER_INSTALL_BINDIR, *dst = PEER_INSTALL_LIBEXECDIR;
    const char *dir = exe_dir();
    if (!dir) {
        snprintf(buf, size, "%s/%s", dst, file);
        return;
    }
    /* the longest common prefix of whole components */
    size_t common = 0;
    for (size_t i = 0; bin[i] && bin[i] == dst[i]; i++)
        if (bin[i + 1] == '\0' || bin[i + 1] == '/')
            if (dst[i + 1] == '\0' || dst[i + 1] == '/')
                common = i + 1;
    size_t len = (size_t)snprintf(buf, size, "%s", dir);
    for (const char *p = bin + common; *p; p++)
        if (*p == '/' && p[1] && p[1] != '/' && len < size)
            len += (size_t)snprintf(buf + len, size - len, "/..");
    if (len < size)
        snprintf(buf + len, size - len, "%s/%s", dst + common, file);
}

/* The runner's or script's path into buf, or NULL with the reason in
 * why[peer]: the environment's override, else the build tree's file or
 * the installed one, whichever this program is. */
static const char *locate(int peer, const char *var, const char *built,
                          const char *file, int mode, char *buf, size_t size)
{
    const char *v = getenv(var);
    const char *from = "";
    if (v && *v) {
        snprintf(buf, size, "%s", v);
        from = var;
    } else if (in_build_tree()) {
        snprintf(buf, size, "%s", built);
        from = "the build tree";
    } else {
        installed_path(buf, size, file);
        from = "the installed files";
    }
    if (access(buf, mode) == 0)
        return buf;
    snprintf(why[peer], sizeof why[peer], "%s (from %s): %s", buf, from,
             strerror(errno));
    return NULL;
}

static const char *onednn_runner(void)
{
    static char path[4096];
    if (!PEER_ONEDNN_BUILT && !getenv("BPTT_PEER_ONEDNN")) {
        snprintf(why[ONEDNN], sizeof why[ONEDNN],
                 "not built: libdnnl was not found when bptt was configured "
                 "(install libdnnl-dev, then configure again: sh setup.sh "
                 "--peers)");
        return NULL;
    }
    return locate(ONEDNN, "BPTT_PEER_ONEDNN", PEER_ONEDNN_RUNNER,
                  "bptt-peer-onednn", X_OK, path, sizeof path);
}

static const char *torch_script(void)
{
    static char path[4096];
    return locate(TORCH, "BPTT_PEER_TORCH", PEER_TORCH_SCRIPT, "torch_rnn.py",
                  R_OK, path, sizeof path);
}

int bptt_peer_available(const char *name)
{
    const int i = peer_index(name);
    if (i < 0)
        return 0;
    why[i][0] = '\0';
    if (i == ONEDNN)
        return onednn_runner() != NULL;
    if (!torch_script())
        return 0;
    if (!torch_python()) {
        snprintf(why[TORCH], sizeof why[TORCH],
                 "no python3 that imports torch and numpy (tried "
                 "$BPTT_PEER_PYTHON, /usr/bin/python3, %s, python3 on PATH)",
                 PEER_PYTHON[0] ? PEER_PYTHON : "-");
        return 0;
    }
    return 1;
}

const char *bptt_peer_why(const char *name)
{
    const int i = peer_index(name);
    if (i < 0)
        return "no such peer";
    bptt_peer_available(name);
    return why[i];
}

/* The temporary directory of one run and its three files. */
typedef struct rundir {
    char dir[4096], in[4200], out[4200], log[4200];
} rundir;

static int rundir_make(rundir *d)
{
    const char *tmp = env_or("TMPDIR", "/tmp");
    if ((size_t)snprintf(d->dir, sizeof d->dir, "%s/bptt-peer-XXXXXX", tmp)
            >= sizeof d->dir
        || !mkdtemp(d->dir))
        return -1;
    snprintf(d->in, sizeof d->in, "%s/in.bin", d->dir);
    snprintf(d->out, sizeof d->out, "%s/out.bin", d->dir);
    snprintf(d->log, sizeof d->log, "%s/log.txt", d->dir);
    return 0;
}

static void rundir_remove(const rundir *d)
{
    unlink(d->in);
    unlink(d->out);
    unlink(d->log);
    rmdir(d->dir);
}

/* The last non-empty line of the runner's log, into buf. */
static void last_line(const char *log, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] && strlen(line) < len)
            memcpy(buf, line, strlen(line) + 1);
    }
    fclose(f);
}

static int write_input(const char *path, const peer_input *in)
{
    peer_header h = {0};
    h.precision = (uint32_t)in->elsize;
    h.cell = in->cell;
    h.din = in->din;
    h.dout = in->dout;
    h.T = in->T;
    h.B = in->B;
    h.budget_ms = in->budget_ms;
    h.threads = in->threads;
    h.warmup = in->warmup;
    h.cap = in->cap;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc = peer_header_write(f, 0, &h)
             | peer_array_write(f, in->W, in->elsize, peer_count_w(&h))
             | peer_array_write(f, in->b, in->elsize, peer_count_b(&h))
             | peer_array_write(f, in->x, in->elsize, peer_count_x(&h))
             | peer_array_write(f, in->dy, in->elsize, peer_count_y(&h));
    return (fclose(f) | rc) ? -1 : 0;
}

static int read_output(const char *path, const peer_input *in,
                       peer_output *out, char *err, size_t errlen)
{
    char why[256];
    peer_header h;
    FILE *f = fopen(path, "rb");
    if (!f)
        return say(-1, err, errlen, "no output file");
    int rc = -1;
    if (peer_header_read(f, 1, &h, why, sizeof why)) {
        say(-1, err, errlen, "output: %s", why);
    } else if (h.precision != in->elsize || h.cell != in->cell
               || h.din != in->din
               || h.dout != in->dout || h.T != in->T || h.B != in->B
               || h.reps > in->cap) {
        say(-1, err, errlen, "output: header does not match the input");
    } else {
        double sum[3 * PEER_NPASS];
        rc = peer_array_read(f, out->y, in->elsize, peer_count_y(&h))
             | peer_array_read(f, out->dW, in->elsize, peer_count_w(&h))
             | peer_array_read(f, out->dx, in->elsize, peer_count_x(&h))
             | peer_array_read(f, sum, sizeof *sum, 3 * PEER_NPASS);
        for (int p = 0; p < PEER_NPASS; p++) {
            out->time[p] = (peer_timing){sum[3 * p], sum[3 * p + 1],
                                         sum[3 * p + 2]};
            if (out->samples[p])
                rc |= peer_array_read(f, out->samples[p], sizeof(double),
                                      h.reps);
            else
                rc |= fseek(f, (long)(h.reps * sizeof(double)), SEEK_CUR);
        }
        out->reps = h.reps;
        snprintf(out->version, sizeof out->version, "%s", h.name);
        if (rc)
            say(-1, err, errlen, "output: truncated");
    }
    fclose(f);
    return rc ? -1 : 0;
}

int bptt_peer_run(const char *name, const peer_input *in, peer_output *out,
                  char *err, size_t errlen)
{
    say(0, err, errlen, "");
    const int which = peer_index(name);
    if (which < 0)
        return say(PEER_UNAVAILABLE, err, errlen, "unknown peer '%s'",
                   name ? name : "(null)");
    if (!in || !out || !in->W || !in->x || !in->dy || !out->y || !out->dW
        || !out->dx || (in->elsize != 4 && in->elsize != 8) || !in->din
        || !in->dout || !in->T || !in->B || !in->threads || !in->cap
        || in->cell > 2 || (in->cell && !in->b))
        return say(PEER_FAILED, err, errlen, "%s: invalid arguments", name);
    if (!bptt_peer_available(name))
        return say(PEER_UNAVAILABLE, err, errlen, "%s: not available: %s",
                   name, bptt_peer_why(name));

    rundir d;
    if (rundir_make(&d))
        return say(PEER_FAILED, err, errlen,
                   "%s: cannot make a temporary directory", name);
    int status = PEER_FAILED;
    char omp[64], openblas[64], mkl[64];
    snprintf(omp, sizeof omp, "OMP_NUM_THREADS=%u", in->threads);
    snprintf(openblas, sizeof openblas, "OPENBLAS_NUM_THREADS=%u",
             in->threads);
    snprintf(mkl, sizeof mkl, "MKL_NUM_THREADS=%u", in->threads);
    char *extra[] = {omp, openblas, mkl, "OMP_WAIT_POLICY=PASSIVE"};
    char **env = child_env(extra, sizeof extra / sizeof *extra);
    if (!env) {
        say(0, err, errlen, "%s: out of memory", name);
    } else if (write_input(d.in, in)) {
        say(0, err, errlen, "%s: cannot write %s", name, d.in);
    } else {
        char *argv[5] = {0};
        if (which == ONEDNN) {
            argv[0] = (char *)onednn_runner();
            argv[1] = d.in;
            argv[2] = d.out;
        } else {
            argv[0] = (char *)torch_python();
            argv[1] = (char *)torch_script();
            argv[2] = d.in;
            argv[3] = d.out;
        }
        const int rc = spawn_wait(argv, env, d.log);
        char line[512];
        last_line(d.log, line, sizeof line);
        if (rc == PEER_EXIT_OK) {
            char why[256];
            if (read_output(d.out, in, out, why, sizeof why) == 0)
                status = PEER_OK;
            else
                say(0, err, errlen, "%s: %s", name, why);
        } else if (rc == PEER_EXIT_UNSUPPORTED) {
            status = PEER_UNSUPPORTED;
            say(0, err, errlen, "%s", line[0] ? line : "unsupported");
        } else {
            say(0, err, errlen, "%s: runner %s (%d)%s%s", name,
                rc < 0 ? "did not run or crashed" : "failed", rc,
                line[0] ? ": " : "", line);
        }
    }
    free(env);
    rundir_remove(&d);
    return status;
}
