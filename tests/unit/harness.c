/* harness.c: the unit-test runner. Each test runs in a forked child with a
 * timeout (libuv's runner); the run ends with "N passed, N failed" and
 * ", N skipped" when a test could not run here (exit 77, qwt_skip).
 * Usage: test_unit [-t SECONDS] [FILTER...]  (substring match on names). */
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "harness.h"

#define MAX_TESTS 2048
static struct {
    const char *name, *file;
    qwt_fn fn;
} tests[MAX_TESTS];
static int ntests;
unsigned long qwt_assertions;

void qwt_register(const char *name, const char *file, qwt_fn fn)
{
    if (ntests < MAX_TESTS)
        tests[ntests++] = (__typeof__(tests[0])){name, file, fn};
}

void qwt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

void qwt_skip(const char *fmt, ...)
{
    va_list ap;
    fputs("    SKIPPED: ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    _exit(QWT_SKIP_EXIT);
}

static int matches(const char *name, int argc, char **argv, int first)
{
    if (first >= argc)
        return 1;
    for (int i = first; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int timeout = 60, first = 1, passed = 0, failed = 0, skipped = 0;
    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        timeout = atoi(argv[2]); /* NOLINT: test runner only */
        first = 3;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < ntests; i++) {
        if (!matches(tests[i].name, argc, argv, first))
            continue;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm((unsigned)timeout);
            qwt_assertions = 0;
            tests[i].fn();
            if (qwt_assertions == 0) {
                fprintf(stderr, "    test made no assertion\n");
                _exit(3);
            }
            exit(0); /* not _exit: let LeakSanitizer check the test */
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            passed++;
            printf("ok   %s\n", tests[i].name);
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == QWT_SKIP_EXIT) {
            skipped++;
            printf("skip %s\n", tests[i].name);
        } else {
            failed++;
            if (WIFSIGNALED(st))
                printf("FAIL %s (%s) [signal %d%s]\n", tests[i].name, tests[i].file, WTERMSIG(st),
                       WTERMSIG(st) == SIGALRM ? ", timeout" : "");
            else
                printf("FAIL %s (%s)\n", tests[i].name, tests[i].file);
        }
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
