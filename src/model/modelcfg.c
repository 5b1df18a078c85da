/* modelcfg.c: encode, decode, compare and describe a model's configuration
 * (modelcfg.h). Decoding is bounds-checked byte by byte: any prefix of a
 * valid encoding is refused as truncated, never read past. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/modelcfg.h"

static qw_err set_name(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n == 0 || n >= QW_MODELCFG_NAME_MAX)
        return QW_INVAL;
    memcpy(dst, src, n + 1);
    return QW_OK;
}

qw_err qw_modelcfg_make(qw_modelcfg *out, const char *const *names, size_t n, int64_t horizon_ns,
                        double tau, double alpha, uint32_t window, uint32_t min_per_class)
{
    qw_modelcfg c;
    memset(&c, 0, sizeof c);
    if (n < 1 || n > QW_MODEL_MAX_FEATURES)
        return QW_INVAL;
    c.n_features = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        if (set_name(c.features[i], names[i]) != QW_OK)
            return QW_INVAL;
    c.horizon_ns = horizon_ns;
    c.tau = tau;
    c.alpha = alpha;
    set_name(c.schedule, "optimal");
    set_name(c.class_weight, "none");
    c.window = window;
    c.min_per_class = min_per_class;
    *out = c;
    return QW_OK;
}

size_t qw_modelcfg_size(const qw_modelcfg *c)
{
    size_t n = 4 + 8 + 8 + 8 + 1 + strlen(c->schedule) + 1 + strlen(c->class_weight) + 8;
    for (uint32_t i = 0; i < c->n_features && i < QW_MODEL_MAX_FEATURES; i++)
        n += 1 + strlen(c->features[i]);
    return n;
}

static void put(uint8_t *b, size_t *o, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b[(*o)++] = (uint8_t)(v >> (8 * i));
}

static void put_str(uint8_t *b, size_t *o, const char *s)
{
    size_t n = strlen(s);
    b[(*o)++] = (uint8_t)n;
    memcpy(b + *o, s, n);
    *o += n;
}

static uint64_t dbits(double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    return v;
}

qw_err qw_modelcfg_encode(const qw_modelcfg *c, uint8_t *buf, size_t cap, size_t *len_out)
{
    size_t o = 0;
    *len_out = 0;
    if (c->n_features < 1 || c->n_features > QW_MODEL_MAX_FEATURES || cap < qw_modelcfg_size(c))
        return QW_INVAL;
    put(buf, &o, c->n_features, 4);
    for (uint32_t i = 0; i < c->n_features; i++)
        put_str(buf, &o, c->features[i]);
    put(buf, &o, (uint64_t)c->horizon_ns, 8);
    put(buf, &o, dbits(c->tau), 8);
    put(buf, &o, dbits(c->alpha), 8);
    put_str(buf, &o, c->schedule);
    put_str(buf, &o, c->class_weight);
    put(buf, &o, c->window, 4);
    put(buf, &o, c->min_per_class, 4);
    *len_out = o;
    return QW_OK;
}

typedef struct rd {
    const uint8_t *p;
    size_t n, o;
    int bad;
} rd;

static uint64_t get(rd *r, int bytes)
{
    uint64_t v = 0;
    if (r->bad || r->n - r->o < (size_t)bytes) {
        r->bad = 1;
        return 0;
    }
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[r->o + (size_t)i] << (8 * i);
    r->o += (size_t)bytes;
    return v;
}

static double get_f64(rd *r)
{
    uint64_t v = get(r, 8);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* A name: 1..NAME_MAX-1 printable bytes. */
static void get_str(rd *r, char *dst)
{
    size_t n = (size_t)get(r, 1);
    if (r->bad || n == 0 || n >= QW_MODELCFG_NAME_MAX || r->n - r->o < n) {
        r->bad = 1;
        dst[0] = '\0';
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (r->p[r->o + i] < 0x21 || r->p[r->o + i] > 0x7e)
            r->bad = 1;
    memcpy(dst, r->p + r->o, n);
    dst[n] = '\0';
    r->o += n;
}

qw_err qw_modelcfg_decode(qw_modelcfg *out, const uint8_t *buf, size_t len, size_t *used,
                          char *errbuf, size_t errlen)
{
    rd r = {buf, len, 0, 0};
    memset(out, 0, sizeof *out);
    out->n_features = (uint32_t)get(&r, 4);
    if (!r.bad && (out->n_features < 1 || out->n_features > QW_MODEL_MAX_FEATURES)) {
        QW_SETERR(errbuf, errlen, "model configuration: %u features (1..%d)",
                  (unsigned)out->n_features, QW_MODEL_MAX_FEATURES);
        return QW_CORRUPT;
    }
    for (uint32_t i = 0; i < out->n_features && !r.bad; i++)
        get_str(&r, out->features[i]);
    out->horizon_ns = (int64_t)get(&r, 8);
    out->tau = get_f64(&r);
    out->alpha = get_f64(&r);
    get_str(&r, out->schedule);
    get_str(&r, out->class_weight);
    out->window = (uint32_t)get(&r, 4);
    out->min_per_class = (uint32_t)get(&r, 4);
    if (r.bad) {
        QW_SETERR(errbuf, errlen, "model configuration truncated or malformed");
        return QW_CORRUPT;
    }
    if (out->horizon_ns <= 0 || !isfinite(out->tau) || out->tau < 0 || !isfinite(out->alpha) ||
        out->alpha <= 0) {
        QW_SETERR(errbuf, errlen, "model configuration out of range");
        return QW_CORRUPT;
    }
    *used = r.o;
    return QW_OK;
}

static int dbl_eq(double a, double b)
{
    return dbits(a) == dbits(b);
}

static void fmt_features(const qw_modelcfg *c, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < c->n_features && o < cap; i++) {
        int k = snprintf(buf + o, cap - o, "%s%s", i ? "," : "", c->features[i]);
        if (k < 0)
            return;
        o += (size_t)k;
    }
}

int qw_modelcfg_compare(const qw_modelcfg *file, const qw_modelcfg *want, char *errbuf,
                        size_t errlen)
{
    int same_features = file->n_features == want->n_features;
    for (uint32_t i = 0; same_features && i < file->n_features; i++)
        same_features = strcmp(file->features[i], want->features[i]) == 0;
    if (!same_features) {
        char a[QW_MODEL_MAX_FEATURES * QW_MODELCFG_NAME_MAX];
        char b[QW_MODEL_MAX_FEATURES * QW_MODELCFG_NAME_MAX];
        fmt_features(file, a, sizeof a);
        fmt_features(want, b, sizeof b);
        QW_SETERR(errbuf, errlen, "features: the file has %s, this pipeline uses %s", a, b);
        return 1;
    }
    if (file->horizon_ns != want->horizon_ns) {
        QW_SETERR(errbuf, errlen, "horizon_ms: the file has %g, this pipeline uses %g",
                  (double)file->horizon_ns / 1e6, (double)want->horizon_ns / 1e6);
        return 1;
    }
    if (!dbl_eq(file->tau, want->tau)) {
        QW_SETERR(errbuf, errlen, "tau: the file has %.17g, this pipeline uses %.17g", file->tau,
                  want->tau);
        return 1;
    }
    if (!dbl_eq(file->alpha, want->alpha)) {
        QW_SETERR(errbuf, errlen, "alpha: the file has %.17g, this pipeline uses %.17g",
                  file->alpha, want->alpha);
        return 1;
    }
    if (strcmp(file->schedule, want->schedule) != 0) {
        QW_SETERR(errbuf, errlen, "schedule: the file has %s, this pipeline uses %s",
                  file->schedule, want->schedule);
        return 1;
    }
    if (strcmp(file->class_weight, want->class_weight) != 0) {
        QW_SETERR(errbuf, errlen, "class_weight: the file has %s, this pipeline uses %s",
                  file->class_weight, want->class_weight);
        return 1;
    }
    if (file->window != want->window) {
        QW_SETERR(errbuf, errlen, "window: the file has %u, this pipeline uses %u",
                  (unsigned)file->window, (unsigned)want->window);
        return 1;
    }
    if (file->min_per_class != want->min_per_class) {
        QW_SETERR(errbuf, errlen, "min_per_class: the file has %u, this pipeline uses %u",
                  (unsigned)file->min_per_class, (unsigned)want->min_per_class);
        return 1;
    }
    return 0;
}

void qw_modelcfg_summary(const qw_modelcfg *c, char *buf, size_t cap)
{
    char f[QW_MODEL_MAX_FEATURES * QW_MODELCFG_NAME_MAX];
    fmt_features(c, f, sizeof f);
    snprintf(buf, cap,
             "features=%s horizon_ms=%g tau=%.17g alpha=%.17g schedule=%s class_weight=%s "
             "window=%u min_per_class=%u",
             f, (double)c->horizon_ns / 1e6, c->tau, c->alpha, c->schedule, c->class_weight,
             (unsigned)c->window, (unsigned)c->min_per_class);
}
