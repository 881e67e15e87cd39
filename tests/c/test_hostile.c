/* Hostile files: model folders made by tests/fixtures/make_hostile_models.py (external data
 * paths leaving the folder through "..", absolute paths, symlinks, /proc and /dev, FIFOs;
 * dims whose product overflows, absurd and negative dims, offset + length overflow,
 * truncated data, protobuf strings claiming huge lengths, absurd config sizes) and
 * tokenizer.json contents with absurd ids and merges. Every one must be refused with a
 * status and a message, quickly (an alarm catches a load that blocks, e.g. on a FIFO), and
 * nothing outside the folder may be opened: a thread keeps trying to open the canary FIFO
 * outside the folders for writing, which succeeds only while a reader has it open. The
 * fixture folder is made under $ENGRAM_ROOT/build/ctests/hostile, or given as argv[1]. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

static char dir[1024];
static atomic_int stop_watch, canary_opened;
static const char *current = "";

static void *watch_fifo(void *arg) {
    (void)arg;
    char path[1200];
    snprintf(path, sizeof path, "%s/canary.fifo", dir);
    while (!atomic_load(&stop_watch)) {
        int fd = open(path, O_WRONLY | O_NONBLOCK);
        if (fd >= 0) { /* a reader has it open */
            atomic_store(&canary_opened, 1);
            (void)!write(fd, "CANARY!!", 8);
            close(fd);
        }
        usleep(200);
    }
    return NULL;
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_hostile: a load blocked for 30 s: ";
    (void)!write(2, msg, sizeof msg - 1);
    (void)!write(2, current, strlen(current));
    (void)!write(2, "\n", 1);
    _exit(1);
}

/* tokenizer.json text with `vocab` and `merges` (JSON fragments) and `added` tokens. */
static void tokenizer_case(const char *name, const char *vocab, const char *merges, const char *added) {
    char json[4096];
    snprintf(json, sizeof json,
        "{\"version\":\"1.0\",\"added_tokens\":[%s],\"normalizer\":null,"
        "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
        "\"post_processor\":null,\"decoder\":null,"
        "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
        "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
        "\"vocab\":{%s},\"merges\":[%s]}}", added, vocab, merges);
    engram_tokenizer *t = (engram_tokenizer *)0x1;
    current = name;
    alarm(30);
    engram_status s = engram_tokenizer_load_from_memory(json, strlen(json), &t);
    alarm(0);
    if (s != ENGRAM_OK && engram_last_error()[0] && t == (engram_tokenizer *)0x1) {
        check_passed++;
    } else if (s == ENGRAM_OK) {
        /* accepted: then it must be usable without trouble */
        size_t v = 0, n = 0;
        int32_t ids[16];
        CHECK_STATUS(engram_tokenizer_vocab_size(t, &v), ENGRAM_OK);
        CHECK(v <= 1u << 24);
        engram_status e = engram_tokenize(t, "ab ab", 5, 1, ids, 16, &n);
        CHECK(e == ENGRAM_OK || e == ENGRAM_E_BUFFER_TOO_SMALL);
        printf("  tokenizer %s: accepted (vocab size %zu)\n", name, v);
        engram_tokenizer_free(t);
    } else {
        check_failed++;
        fprintf(stderr, "  tokenizer %s: status %d, out %p, message '%s'\n", name, (int)s, (void *)t, engram_last_error());
    }
}

int main(int argc, char **argv) {
    if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
    else {
        const char *root = getenv("ENGRAM_ROOT");
        if (!root) { fprintf(stderr, "test_hostile: set ENGRAM_ROOT or pass a fixture folder\n"); return 1; }
        snprintf(dir, sizeof dir, "%s/build/ctests/hostile", root);
        char cmd[6000];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cd '%s' && .venv/bin/python tests/fixtures/make_hostile_models.py '%s' > '%s.log' 2>&1",
                 dir, root, dir, dir);
        CHECK(system(cmd) == 0);
    }
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    pthread_t watcher;
    CHECK(pthread_create(&watcher, NULL, watch_fifo, NULL) == 0);

    char path[1400], name[256];
    engram_model *m = NULL;
    snprintf(path, sizeof path, "%s/base/model.onnx", dir);
    CHECK_STATUS(engram_model_load(path, NULL, &m), ENGRAM_OK);
    engram_model_free(m);

    snprintf(path, sizeof path, "%s/hostile.txt", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int n = 0;
    while (f && fscanf(f, "%255s", name) == 1) {
        snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
        engram_model *out = (engram_model *)0x1;
        current = name;
        alarm(30);
        engram_status s = engram_model_load(path, NULL, &out);
        alarm(0);
        if (s != ENGRAM_OK && engram_last_error()[0] && out == (engram_model *)0x1) {
            check_passed++;
        } else {
            check_failed++;
            fprintf(stderr, "  %s: status %d (%s), message '%s'%s\n", name, (int)s, engram_status_string(s),
                    engram_last_error(), s == ENGRAM_OK ? " -- ACCEPTED" : "");
            if (s == ENGRAM_OK) engram_model_free(out);
        }
        n++;
    }
    if (f) fclose(f);
    usleep(5000);
    atomic_store(&stop_watch, 1);
    pthread_join(watcher, NULL);
    CHECK(n >= 40);
    CHECK(!atomic_load(&canary_opened)); /* nothing opened the FIFO outside the folders */
    printf("  %d hostile model files refused; the canary FIFO outside the folders was %s\n", n,
           atomic_load(&canary_opened) ? "OPENED" : "never opened");

    /* tokenizer.json with absurd ids and merges */
    tokenizer_case("id 2^40", "\"a\":1099511627776,\"b\":1", "", "");
    tokenizer_case("id -1", "\"a\":-1,\"b\":1", "", "");
    tokenizer_case("id 2^31", "\"a\":2147483648,\"b\":1", "", "");
    tokenizer_case("id 2^31-1", "\"a\":2147483647,\"b\":1", "", "");
    tokenizer_case("id 2e9", "\"a\":2000000000,\"b\":1", "", "");
    tokenizer_case("id 1e300", "\"a\":1e300,\"b\":1", "", "");
    tokenizer_case("id 0.5", "\"a\":0.5,\"b\":1", "", "");
    tokenizer_case("id string", "\"a\":\"0\",\"b\":1", "", "");
    tokenizer_case("duplicate ids", "\"a\":0,\"b\":0", "", "");
    tokenizer_case("merge of unknown tokens", "\"a\":0,\"b\":1", "\"x y\"", "");
    tokenizer_case("merge result missing", "\"a\":0,\"b\":1", "\"a b\"", "");
    tokenizer_case("merge with one part", "\"a\":0,\"b\":1", "\"ab\"", "");
    tokenizer_case("merge with three parts", "\"a\":0,\"b\":1,\"ab\":2", "\"a b c\"", "");
    tokenizer_case("merge as number", "\"a\":0,\"b\":1,\"ab\":2", "7", "");
    tokenizer_case("merge pair of numbers", "\"a\":0,\"b\":1,\"ab\":2", "[0, 1]", "");
    tokenizer_case("merge triple array", "\"a\":0,\"b\":1,\"ab\":2", "[\"a\",\"b\",\"c\"]", "");
    tokenizer_case("added id 2^40", "\"a\":0", "",
        "{\"id\":1099511627776,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
    tokenizer_case("added id 2e9", "\"a\":0", "",
        "{\"id\":2000000000,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
    tokenizer_case("added id -5", "\"a\":0", "",
        "{\"id\":-5,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
    tokenizer_case("added empty content", "\"a\":0", "",
        "{\"id\":1,\"content\":\"\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
    return check_summary("test_hostile");
}
