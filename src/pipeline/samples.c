/* samples.c: the --samples CSV writer (samples.h), through stdio. */
#include "pipeline/samples.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

struct qw_samples {
    FILE *f;
    qw_featset fs;
};

qw_err qw_samples_open(qw_samples **out, const char *path, const char *features)
{
    qw_samples *s = qw_calloc(1, sizeof *s);
    if (!s)
        return QW_NOMEM;
    s->f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!s->f) {
        qw_free(s);
        return QW_IO;
    }
    s->fs = qw_featset_of(features);
    fputs("product,t_ns", s->f);
    for (size_t i = 0; i < qw_featset_size(&s->fs); i++)
        fprintf(s->f, ",%s", qw_featset_name(&s->fs, i));
    fputs(",mid,mid_future,label,n_learned,p\n", s->f);
    *out = s;
    return QW_OK;
}

void qw_samples_write(qw_samples *s, const char *product, const qw_labeled *l)
{
    double x[QW_NFEATURES_ALL];
    size_t n = qw_featset_gather(&s->fs, l->s.f.x, x);
    fprintf(s->f, "%s,%lld", product, (long long)l->s.f.t_ns);
    for (size_t i = 0; i < n; i++)
        fprintf(s->f, ",%.17g", x[i]);
    fprintf(s->f, ",%.17g,%.17g,%d,%llu,", l->s.f.mid, l->mid_future, l->label,
            (unsigned long long)l->s.n_learned);
    if (!isnan(l->s.p))
        fprintf(s->f, "%.17g", l->s.p);
    fputc('\n', s->f);
}

qw_err qw_samples_close(qw_samples *s)
{
    if (!s)
        return QW_OK;
    int bad = fflush(s->f) != 0;
    if (s->f != stdout && fclose(s->f) != 0)
        bad = 1;
    qw_free(s);
    return bad ? QW_IO : QW_OK;
}
