/* fork() after the library has used its worker pool: the child has none of the parent's
 * threads, so its calls must run on its own thread and finish (not wait for workers that do
 * not exist), with the parent's results; the parent goes on as before. An alarm turns a hang
 * into a failure. Uses the bundled model ($ENGRAM_ROOT/examples/model, or argv[1]). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

enum { T = 96 };

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_fork: a forward pass hung for 60 s\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

/* Prefill of T tokens (long enough to use the pool) from a fresh context; the last logits. */
static int run(engram_model *m, const int32_t *ids, float *out, size_t v) {
    engram_context *ctx = NULL;
    size_t n = 0;
    engram_context_params p = engram_context_default_params();
    p.n_threads = 2;
    if (engram_context_new(m, &p, &ctx) != ENGRAM_OK) return 0;
    int ok = engram_context_prefill(ctx, ids, T, out, v, &n) == ENGRAM_OK && n == v;
    engram_context_free(ctx);
    return ok;
}

int main(int argc, char **argv) {
    char dir[1024], path[1200];
    const char *root = getenv("ENGRAM_ROOT");
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else if (root) snprintf(dir, sizeof dir, "%s/examples/model", root);
    else { fprintf(stderr, "test_fork: set ENGRAM_ROOT or pass the model folder\n"); return 1; }
    signal(SIGALRM, on_alarm);
    alarm(60);

    engram_model *m = NULL;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    CHECK_STATUS(engram_model_load(path, NULL, &m), ENGRAM_OK);
    if (!m) return check_summary("test_fork");
    enum { V = 4096 };
    static float before[V], child[V], after[V];
    int32_t ids[T];
    for (int i = 0; i < T; i++) ids[i] = (int32_t)((i * 37 + 11) % 4000);
    CHECK(run(m, ids, before, V));

    for (int round = 0; round < 3; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            int ok = run(m, ids, child, V) && run(m, ids, child, V);
            if (ok) ok = write(fds[1], child, sizeof child) == (ssize_t)sizeof child;
            _exit(ok ? 0 : 2);
        }
        close(fds[1]);
        size_t got = 0;
        while (got < sizeof child) {
            ssize_t r = read(fds[0], (char *)child + got, sizeof child - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        close(fds[0]);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(got == sizeof child && memcmp(child, before, sizeof child) == 0);
        CHECK(run(m, ids, after, V));
        CHECK(memcmp(after, before, sizeof after) == 0);
    }
    engram_model_free(m);
    return check_summary("test_fork");
}
