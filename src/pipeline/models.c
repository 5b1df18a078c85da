/* models.c: model files of a pipeline (v1 and v2) and live's hot reload
 * (models.h).
 *
 * File layout (integers little-endian):
 *   v2: "QWMODELS" u32 version=2 u32 count u32 cfg_len cfg[cfg_len]
 *       then count x (name[32] u64 len checkpoint[len]) and u32 CRC-32 of
 *       every byte before it.
 *   v1: "QWMODELS" u32 version=1 u32 count, then the entries; no
 *       configuration, no file checksum (each checkpoint has its own).
 * Reading checks the frame and the file checksum before anything else, so
 * a torn or damaged file is refused with "checksum" or "truncated"; then
 * the configuration against the pipeline's; then every checkpoint decodes
 * into a fresh classifier (which checks its shape against the options).
 *
 * Watcher thread: it owns only its stat state and a slot for one result
 * (a set or an error text) under a mutex; the loop thread takes the slot
 * in qw_model_watch_poll. The pipeline is read by the watcher only through
 * its options, which nothing changes after create. */
#define QW_MODULE "models"
#include "pipeline/models.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/file.h"
#include "core/log.h"
#include "core/time.h"
#include "features/features.h"

#define MAGIC "QWMODELS"

struct qw_model_set {
    int version;
    uint32_t crc;
    int has_cfg;
    qw_modelcfg cfg;
    size_t n;
    char (*names)[QW_PRODUCT_MAX];
    qw_classifier **clf;
    char path[512];
};

void qw_pipeline_modelcfg(const qw_pipeline *p, qw_modelcfg *out)
{
    const qw_pipeline_opts *o = qw_pipeline_get_opts(p);
    /* the feature set's names, in the order the model sees them */
    size_t nf = qw_featset_size(&o->features);
    const char *names[QW_NFEATURES_ALL];
    for (size_t i = 0; i < nf; i++)
        names[i] = qw_featset_name(&o->features, i);
    qw_modelcfg_make(out, names, nf, o->labeler.horizon_ns ? o->labeler.horizon_ns : 500000000LL,
                     o->labeler.tau != 0 ? o->labeler.tau : 1e-4,
                     o->model.alpha != 0 ? o->model.alpha : QW_SGD_DEFAULT_ALPHA,
                     (uint32_t)(o->model.window ? o->model.window : QW_ROLLING_DEFAULT_WINDOW),
                     o->model.min_per_class ? o->model.min_per_class
                                            : QW_MODEL_DEFAULT_MIN_PER_CLASS);
}

static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
    return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

qw_err qw_pipeline_save_models(const qw_pipeline *p, const char *path, char *errbuf, size_t errlen)
{
    qw_modelcfg cfg;
    qw_pipeline_modelcfg(p, &cfg);
    size_t n = qw_pipeline_count(p);
    size_t total = 20 + qw_modelcfg_size(&cfg) + 4;
    for (size_t i = 0; i < n; i++)
        total += QW_PRODUCT_MAX + 8 + qw_checkpoint_size(qw_pipeline_chain(p, i)->clf);
    uint8_t *buf = qw_malloc(total);
    if (!buf) {
        QW_SETERR(errbuf, errlen, "out of memory");
        return QW_NOMEM;
    }
    memcpy(buf, MAGIC, 8);
    put32(buf + 8, QW_MODELS_VERSION);
    put32(buf + 12, (uint32_t)n);
    size_t clen;
    qw_modelcfg_encode(&cfg, buf + 20, total - 20, &clen);
    put32(buf + 16, (uint32_t)clen);
    size_t o = 20 + clen;
    for (size_t i = 0; i < n; i++) {
        const qw_chain *c = qw_pipeline_chain(p, i);
        memcpy(buf + o, c->product, QW_PRODUCT_MAX);
        o += QW_PRODUCT_MAX;
        size_t len;
        qw_err e = qw_checkpoint_encode(c->clf, buf + o + 8, total - o - 8, &len);
        if (e != QW_OK) {
            qw_free(buf);
            QW_SETERR(errbuf, errlen, "encode %s: %s", c->product, qw_strerror(e));
            return e;
        }
        put32(buf + o, (uint32_t)len);
        put32(buf + o + 4, 0);
        o += 8 + len;
    }
    put32(buf + o, qw_model_crc32(buf, o));
    o += 4;
    qw_err e = qw_file_write_atomic(path, buf, o, errbuf, errlen);
    qw_free(buf);
    return e;
}

void qw_model_set_free(qw_model_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        qw_classifier_destroy(s->clf[i]);
    qw_free(s->clf);
    qw_free(s->names);
    qw_free(s);
}

static qw_err read_all(const char *path, uint8_t **out, size_t *len, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        QW_SETERR(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return QW_IO;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    qw_err e = QW_OK;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            if (cap >= QW_MODELS_MAX_BYTES) {
                QW_SETERR(errbuf, errlen, "%s: larger than %u bytes", path, QW_MODELS_MAX_BYTES);
                e = QW_CORRUPT;
                break;
            }
            uint8_t *nb = qw_realloc(buf, ncap);
            if (!nb) {
                QW_SETERR(errbuf, errlen, "out of memory");
                e = QW_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            QW_SETERR(errbuf, errlen, "read %s: %s", path, strerror(errno));
            e = QW_IO;
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    if (e != QW_OK) {
        qw_free(buf);
        return e;
    }
    *out = buf;
    *len = n;
    return QW_OK;
}

/* Frame, checksum and configuration of buf; *o = offset of the first entry,
 * *end = offset after the last. */
static qw_err check_frame(const qw_pipeline *p, qw_model_set *s, const uint8_t *buf, size_t n,
                          size_t *o, size_t *end, char *errbuf, size_t errlen)
{
    if (n < 16 || memcmp(buf, MAGIC, 8) != 0) {
        QW_SETERR(errbuf, errlen, "%s",
                  n < 16 && n > 0 && memcmp(buf, MAGIC, n < 8 ? n : 8) == 0
                      ? "truncated model file"
                      : "not a QuoteWatch model file");
        return QW_CORRUPT;
    }
    s->version = (int)get32(buf + 8);
    s->n = get32(buf + 12);
    if (s->version == 1) {
        s->crc = qw_model_crc32(buf, n);
        *o = 16;
        *end = n;
        return QW_OK;
    }
    if (s->version != QW_MODELS_VERSION) {
        QW_SETERR(errbuf, errlen, "model file version %d, this build reads 1 and %d", s->version,
                  QW_MODELS_VERSION);
        return QW_CORRUPT;
    }
    if (n < 24) {
        QW_SETERR(errbuf, errlen, "truncated model file (%zu bytes)", n);
        return QW_CORRUPT;
    }
    s->crc = get32(buf + n - 4);
    uint32_t got = qw_model_crc32(buf, n - 4);
    if (got != s->crc) {
        QW_SETERR(errbuf, errlen,
                  "model file checksum mismatch (stored %08x, computed %08x): damaged or "
                  "truncated",
                  (unsigned)s->crc, (unsigned)got);
        return QW_CORRUPT;
    }
    size_t clen = get32(buf + 16), used = 0;
    if (clen > n - 24) {
        QW_SETERR(errbuf, errlen, "truncated model file (configuration)");
        return QW_CORRUPT;
    }
    char why[256];
    if (qw_modelcfg_decode(&s->cfg, buf + 20, clen, &used, why, sizeof why) != QW_OK ||
        used != clen) {
        QW_SETERR(errbuf, errlen, "%s", used != clen ? "model configuration malformed" : why);
        return QW_CORRUPT;
    }
    s->has_cfg = 1;
    qw_modelcfg want;
    qw_pipeline_modelcfg(p, &want);
    if (qw_modelcfg_compare(&s->cfg, &want, why, sizeof why)) {
        QW_SETERR(errbuf, errlen, "model configuration mismatch: %s", why);
        return QW_INVAL;
    }
    *o = 20 + clen;
    *end = n - 4;
    return QW_OK;
}

qw_err qw_model_set_read(const qw_pipeline *p, const char *path, qw_model_set **out, char *errbuf,
                         size_t errlen)
{
    uint8_t *buf;
    size_t n, o, end;
    char eb[384];
    qw_err e = read_all(path, &buf, &n, errbuf, errlen);
    if (e != QW_OK)
        return e;
    qw_model_set *s = qw_calloc(1, sizeof *s);
    if (!s) {
        qw_free(buf);
        QW_SETERR(errbuf, errlen, "out of memory");
        return QW_NOMEM;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    e = check_frame(p, s, buf, n, &o, &end, eb, sizeof eb);
    size_t count = s->n;
    s->n = 0;
    if (e == QW_OK && count > (end - o) / (QW_PRODUCT_MAX + 8)) {
        snprintf(eb, sizeof eb, "truncated model file (%zu entries announced)", count);
        e = QW_CORRUPT;
    }
    if (e == QW_OK) {
        s->names = qw_calloc(count ? count : 1, sizeof *s->names);
        s->clf = qw_calloc(count ? count : 1, sizeof *s->clf);
        if (!s->names || !s->clf) {
            snprintf(eb, sizeof eb, "out of memory");
            e = QW_NOMEM;
        }
    }
    const qw_classifier_opts *mo = &qw_pipeline_get_opts(p)->model;
    for (size_t i = 0; e == QW_OK && i < count; i++) {
        if (end - o < QW_PRODUCT_MAX + 8) {
            snprintf(eb, sizeof eb, "truncated model file (entry %zu)", i);
            e = QW_CORRUPT;
            break;
        }
        char *name = s->names[i];
        memcpy(name, buf + o, QW_PRODUCT_MAX);
        name[QW_PRODUCT_MAX - 1] = '\0';
        uint64_t len = get64(buf + o + QW_PRODUCT_MAX);
        o += QW_PRODUCT_MAX + 8;
        if (len > end - o || !qw_feed_product_ok(name, strlen(name))) {
            snprintf(eb, sizeof eb, "truncated or corrupt entry %zu", i);
            e = QW_CORRUPT;
            break;
        }
        e = qw_classifier_create(&s->clf[i], mo);
        if (e != QW_OK) {
            snprintf(eb, sizeof eb, "%s: %s", name, qw_strerror(e));
            break;
        }
        s->n = i + 1;
        char cb[QW_CHECKPOINT_ERRLEN];
        e = qw_checkpoint_decode(s->clf[i], buf + o, (size_t)len, cb, sizeof cb);
        if (e != QW_OK)
            snprintf(eb, sizeof eb, "%s: %s", name, cb);
        o += (size_t)len;
    }
    if (e == QW_OK && o != end) {
        snprintf(eb, sizeof eb, "%zu trailing bytes", end - o);
        e = QW_CORRUPT;
    }
    qw_free(buf);
    if (e != QW_OK) {
        QW_SETERR(errbuf, errlen, "%s: %s", path, eb);
        qw_model_set_free(s);
        return e;
    }
    *out = s;
    return QW_OK;
}

static uint64_t learned_total(const qw_pipeline *p)
{
    uint64_t n = 0;
    for (size_t i = 0; i < qw_pipeline_count(p); i++)
        n += qw_classifier_labeled(qw_pipeline_chain(p, i)->clf);
    return n;
}

uint64_t qw_models_learned_since_load(const qw_pipeline *p)
{
    const qw_model_origin *o = qw_pipeline_get_origin(p);
    uint64_t n = learned_total(p);
    return o->loaded && n > o->learned_at_load ? n - o->learned_at_load : 0;
}

qw_err qw_model_set_apply(qw_pipeline *p, qw_model_set *s, char *errbuf, size_t errlen)
{
    /* chains first (the only step that can fail), then the swaps */
    for (size_t i = 0; i < s->n; i++) {
        qw_err e = qw_pipeline_add_product(p, s->names[i]);
        if (e != QW_OK) {
            QW_SETERR(errbuf, errlen, "%s: product %s: %s", s->path, s->names[i], qw_strerror(e));
            qw_model_set_free(s);
            return e;
        }
    }
    for (size_t i = 0; i < qw_pipeline_count(p); i++) {
        const qw_chain *c = qw_pipeline_chain(p, i);
        for (size_t j = 0; j < s->n; j++)
            if (s->clf[j] && strcmp(c->product, s->names[j]) == 0) {
                qw_classifier_destroy(qw_pipeline_swap_model(p, i, s->clf[j]));
                s->clf[j] = NULL;
            }
    }
    qw_model_origin *o = qw_pipeline_origin(p);
    o->loaded = 1;
    o->version = s->version;
    snprintf(o->path, sizeof o->path, "%s", s->path);
    o->crc = s->crc;
    o->config[0] = '\0';
    if (s->has_cfg)
        qw_modelcfg_summary(&s->cfg, o->config, sizeof o->config);
    o->loaded_at_ns = qw_now_wall_ns();
    o->learned_at_load = learned_total(p);
    qw_model_set_free(s);
    return QW_OK;
}

qw_err qw_pipeline_load_models(qw_pipeline *p, const char *path, char *errbuf, size_t errlen)
{
    qw_model_set *s;
    qw_err e = qw_model_set_read(p, path, &s, errbuf, errlen);
    return e == QW_OK ? qw_model_set_apply(p, s, errbuf, errlen) : e;
}

/* ---- the watcher ---- */
typedef struct fid {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    int ok; /* stat succeeded */
} fid;

struct qw_model_watch {
    qw_pipeline *p;
    char path[512];
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, hup;       /* {mu} */
    qw_model_set *ready; /* {mu} checked file waiting for the loop */
    char error[512];     /* {mu} a failed read waiting to be counted */
    int has_error;       /* {mu} */
    fid last;            /* watcher thread only */
};

static fid stat_fid(const char *path)
{
    struct stat st;
    fid f = {0};
    if (stat(path, &st) == 0) {
        f.dev = st.st_dev;
        f.ino = st.st_ino;
        f.size = st.st_size;
        f.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        f.ok = 1;
    }
    return f;
}

static int fid_eq(const fid *a, const fid *b)
{
    return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

static void *watch_main(void *arg)
{
    qw_model_watch *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (!w->hup)
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stop)
            break;
        int hup = w->hup;
        w->hup = 0;
        pthread_mutex_unlock(&w->mu);
        fid now = stat_fid(w->path);
        qw_model_set *s = NULL;
        char eb[512] = "";
        int tried = 0;
        qw_err e = QW_OK;
        /* a vanished file (mid-replace) is not an event: wait for the new one */
        if (hup || (now.ok && !fid_eq(&now, &w->last))) {
            tried = 1;
            w->last = now;
            e = qw_model_set_read(w->p, w->path, &s, eb, sizeof eb);
        }
        pthread_mutex_lock(&w->mu);
        if (tried && e == QW_OK) {
            qw_model_set_free(w->ready); /* an older one not applied yet */
            w->ready = s;
        } else if (tried) {
            snprintf(w->error, sizeof w->error, "%s", eb);
            w->has_error = 1;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

qw_err qw_model_watch_start(qw_model_watch **out, qw_pipeline *p, const char *path, char *errbuf,
                            size_t errlen)
{
    qw_model_watch *w = qw_calloc(1, sizeof *w);
    if (!w) {
        QW_SETERR(errbuf, errlen, "out of memory");
        return QW_NOMEM;
    }
    w->p = p;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->last = stat_fid(path);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, watch_main, w) != 0) {
        QW_SETERR(errbuf, errlen, "cannot start the model watcher thread");
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        qw_free(w);
        return QW_IO;
    }
    *out = w;
    return QW_OK;
}

void qw_model_watch_hup(qw_model_watch *w)
{
    if (!w) {
        QW_LOG(WARN, "SIGHUP: no --load-model file to reload");
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->hup = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void qw_model_watch_poll(qw_model_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    qw_model_set *s = w->ready;
    w->ready = NULL;
    int has_error = w->has_error;
    char error[512];
    memcpy(error, w->error, sizeof error);
    w->has_error = 0;
    pthread_mutex_unlock(&w->mu);
    qw_model_origin *o = qw_pipeline_origin(w->p);
    if (has_error) {
        o->reloads_error++;
        QW_LOG(ERROR, "model reload failed, models unchanged: %s", error);
    }
    if (s) {
        char eb[512];
        if (qw_model_set_apply(w->p, s, eb, sizeof eb) == QW_OK) {
            o->reloads_ok++;
            QW_LOG(INFO, "models reloaded from %s (crc %08x)", o->path, (unsigned)o->crc);
        } else {
            o->reloads_error++;
            QW_LOG(ERROR, "model reload failed, models unchanged: %s", eb);
        }
    }
}

void qw_model_watch_stop(qw_model_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    qw_model_set_free(w->ready);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    qw_free(w);
}
