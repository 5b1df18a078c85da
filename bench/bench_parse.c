/* bench_parse.c: per-stage throughput on one NDJSON file held in memory.
 *
 * Stages, each timed over the whole file in the same process run (so the
 * ratios are meaningful on a noisy shared machine):
 *   read    memchr line splitting only (the floor)
 *   jansson json_loadb of every line (a general parser, for scale)
 *   parse   qw_feed_parse only
 *   books   qw_pipeline_ingest with books_only (parse + books + trades)
 *   replay  qw_pipeline_ingest, full chain (+ features, model, labeler)
 * Usage: bench_parse FILE [repeats]   -> a JSON object on stdout.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/time.h"
#include "feed/feed.h"
#include "pipeline/pipeline.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    b[sz] = '\0';
    *n = (size_t)sz;
    return b;
}

typedef enum { ST_READ, ST_JANSSON, ST_PARSE, ST_BOOKS, ST_REPLAY } stage;

static uint64_t run(stage st, const char *buf, size_t n, uint64_t *lines)
{
    qw_feed *f = NULL;
    qw_pipeline *p = NULL;
    qw_pipeline_opts po = {.auto_add = 1, .books_only = st == ST_BOOKS};
    if (qw_feed_create(&f, NULL) != QW_OK || qw_pipeline_create(&p, &po) != QW_OK)
        abort();
    uint64_t ok = 0, nl = 0;
    const char *s = buf, *end = buf + n;
    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        if (!e)
            e = end;
        size_t len = (size_t)(e - s);
        nl++;
        const qw_msg *m;
        switch (st) {
        case ST_READ: ok += len > 0; break;
        case ST_JANSSON: {
            json_error_t err;
            json_t *j = json_loadb(s, len, 0, &err);
            ok += j != NULL;
            json_decref(j);
            break;
        }
        case ST_PARSE: ok += qw_feed_parse(f, s, len, &m) == QW_OK; break;
        case ST_BOOKS:
        case ST_REPLAY: ok += qw_pipeline_ingest(p, f, s, len, 0, &m) == QW_OK; break;
        }
        s = e + 1;
    }
    qw_pipeline_destroy(p);
    qw_feed_destroy(f);
    *lines = nl;
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_parse FILE [repeats] [--no-jansson]\n");
        return 2;
    }
    size_t n;
    char *buf = slurp(argv[1], &n);
    if (!buf) {
        fprintf(stderr, "bench_parse: cannot read %s\n", argv[1]);
        return 1;
    }
    int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    int jansson = !(argc > 3 && strcmp(argv[3], "--no-jansson") == 0);
    if (reps < 1)
        reps = 1;
    static const char *names[] = {"read", "jansson", "parse", "books", "replay"};
    printf("{\"file\":\"%s\",\"bytes\":%zu", argv[1], n);
    for (int st = 0; st < 5; st++) {
        if (st == ST_JANSSON && !jansson)
            continue;
        double best = 1e99;
        uint64_t lines = 0, ok = 0;
        for (int r = 0; r < reps; r++) {
            int64_t t0 = qw_now_mono_ns();
            ok = run((stage)st, buf, n, &lines);
            double secs = (double)(qw_now_mono_ns() - t0) / 1e9;
            if (secs < best)
                best = secs;
        }
        printf(",\"%s\":{\"seconds\":%.6f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.1f,\"ok\":%llu,"
               "\"lines\":%llu}",
               names[st], best, (double)lines / best, (double)n / best / 1e6,
               (unsigned long long)ok, (unsigned long long)lines);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf(",\"peak_rss_kb\":%ld}\n", ru.ru_maxrss);
    free(buf);
    return 0;
}
