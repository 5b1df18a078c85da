/* test_modelfile.c: model files v2 (pipeline/models.c, model/modelcfg.c):
 * round trip with bit-identical predictions, checksum damage, every
 * truncated prefix, each configuration field that must match, v1 files,
 * and the origin the dashboard shows. */
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "feed/feed.h"
#include "harness.h"
#include "model/modelcfg.h"
#include "pipeline/models.h"

typedef struct env {
    qw_feed *f;
    qw_pipeline *p;
} env;

static env mk_opts(const qw_pipeline_opts *o)
{
    env e;
    if (qw_feed_create(&e.f, NULL) != QW_OK || qw_pipeline_create(&e.p, o) != QW_OK)
        abort();
    return e;
}

static env mk(void)
{
    qw_pipeline_opts o = {.auto_add = 1, .trades_ring = 4};
    return mk_opts(&o);
}

static void done(env *e)
{
    qw_pipeline_destroy(e->p);
    qw_feed_destroy(e->f);
}

static void feed(env *e, const char *s)
{
    if (qw_pipeline_ingest(e->p, e->f, s, strlen(s), 0, NULL) != QW_OK)
        abort();
}

static const qw_chain *chain(env *e, const char *prod)
{
    size_t idx;
    if (qw_pipeline_product(e->p, prod, strlen(prod), &idx) != QW_OK)
        return NULL;
    return qw_pipeline_chain(e->p, idx);
}

/* A book that moves: hundreds of labeled samples of both classes. */
static void train(env *e, int n, int phase)
{
    feed(e, "{\"type\":\"snapshot\",\"product_id\":\"A-B\",\"bids\":[[\"10\",\"1\"],[\"9\",\"2\"]],"
            "\"asks\":[[\"11\",\"1\"],[\"12\",\"3\"]]}");
    for (int i = 0; i < n; i++) {
        char m[300];
        int k = i + phase;
        snprintf(m, sizeof m,
                 "{\"type\":\"l2update\",\"product_id\":\"A-B\",\"changes\":[[\"buy\",\"%d.5\","
                 "\"%d\"],[\"buy\",\"%d.5\",\"0\"]],"
                 "\"time\":\"2021-04-17T16:%02d:%02d.%03dZ\"}",
                 9 + (k % 2), 1 + k % 3, 9 + ((k + 1) % 2), i / 120, (i / 2) % 60, (i % 2) * 300);
        feed(e, m);
    }
}

static void tmpname(char *path)
{
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void spit(const char *path, const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n)
        abort();
    fclose(f);
}

static const double probes[][4] = {
    {1.0, 0.2, 3.0, 0.001}, {5.0, -0.5, 1.0, 0.0}, {0.1, 0.9, 10.0, 0.01}, {2.0, 0.0, 0.5, 0.2}};

static int same_predictions(const qw_classifier *a, const qw_classifier *b)
{
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        double pa, pb;
        if (qw_classifier_predict(a, probes[i], &pa) != QW_OK ||
            qw_classifier_predict(b, probes[i], &pb) != QW_OK)
            return 0;
        if (memcmp(&pa, &pb, sizeof pa) != 0 || isnan(pa))
            return 0;
    }
    return 1;
}

TEST(modelfile_roundtrip_bit_identical)
{
    env a = mk(), b = mk();
    train(&a, 600, 0);
    const qw_chain *ca = chain(&a, "A-B");
    ASSERT_TRUE(qw_classifier_ready(ca->clf));
    char path[] = "/tmp/qwtest_mf_XXXXXX", eb[512];
    tmpname(path);
    ASSERT_OK(qw_pipeline_save_models(a.p, path, eb, sizeof eb));
    uint8_t buf[8192];
    size_t n = slurp(path, buf, sizeof buf);
    ASSERT_EQ(memcmp(buf, "QWMODELS\2\0\0\0", 12), 0);
    ASSERT_EQ(qw_pipeline_get_origin(b.p)->loaded, 0);
    ASSERT_OK(qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    const qw_chain *cb = chain(&b, "A-B");
    ASSERT_TRUE(same_predictions(ca->clf, cb->clf));
    ASSERT_EQ(qw_classifier_labeled(cb->clf), qw_classifier_labeled(ca->clf));
    const qw_model_origin *o = qw_pipeline_get_origin(b.p);
    ASSERT_EQ(o->loaded, 1);
    ASSERT_EQ(o->version, 2);
    ASSERT_STREQ(o->path, path);
    uint32_t crc = (uint32_t)buf[n - 4] | (uint32_t)buf[n - 3] << 8 | (uint32_t)buf[n - 2] << 16 |
                   (uint32_t)buf[n - 1] << 24;
    ASSERT_EQ(o->crc, crc);
    ASSERT_EQ(crc, qw_model_crc32(buf, n - 4));
    ASSERT_TRUE(strstr(o->config, "horizon_ms=500") != NULL);
    ASSERT_TRUE(strstr(o->config, "features=spread_bps,imbalance,depth,volatility") != NULL);
    ASSERT_EQ(qw_models_learned_since_load(b.p), 0);
    train(&b, 50, 1); /* b keeps learning from its own messages */
    ASSERT_TRUE(qw_models_learned_since_load(b.p) > 0);
    unlink(path);
    done(&a);
    done(&b);
}

TEST(modelfile_checksum_damage_rejected_unchanged)
{
    env a = mk(), b = mk();
    train(&a, 400, 0);
    train(&b, 300, 1);
    char path[] = "/tmp/qwtest_mf_XXXXXX", eb[512];
    tmpname(path);
    ASSERT_OK(qw_pipeline_save_models(a.p, path, eb, sizeof eb));
    uint8_t buf[8192];
    size_t n = slurp(path, buf, sizeof buf);
    const qw_chain *cb = chain(&b, "A-B");
    uint64_t before = qw_classifier_labeled(cb->clf);
    for (size_t off = 8; off < n; off += 37) {
        buf[off] ^= 0x10;
        spit(path, buf, n);
        qw_err e = qw_pipeline_load_models(b.p, path, eb, sizeof eb);
        ASSERT_NE(e, QW_OK);
        buf[off] ^= 0x10;
        ASSERT_EQ(qw_classifier_labeled(cb->clf), before);
    }
    buf[n / 2] ^= 1;
    spit(path, buf, n);
    ASSERT_ERR(QW_CORRUPT, qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    ASSERT_TRUE(strstr(eb, "checksum") != NULL);
    ASSERT_EQ(qw_pipeline_get_origin(b.p)->loaded, 0);
    unlink(path);
    done(&a);
    done(&b);
}

TEST(modelfile_every_truncated_prefix_rejected)
{
    env a = mk(), b = mk();
    train(&a, 400, 0);
    char path[] = "/tmp/qwtest_mf_XXXXXX", eb[512];
    tmpname(path);
    ASSERT_OK(qw_pipeline_save_models(a.p, path, eb, sizeof eb));
    uint8_t buf[8192];
    size_t n = slurp(path, buf, sizeof buf);
    for (size_t k = 0; k < n; k++) {
        spit(path, buf, k);
        qw_err e = qw_pipeline_load_models(b.p, path, eb, sizeof eb);
        if (e == QW_OK)
            qwt_fail(__FILE__, __LINE__, "prefix of %zu/%zu bytes accepted", k, n);
        ASSERT_EQ(e, QW_CORRUPT);
    }
    ASSERT_EQ(qw_pipeline_count(b.p), 0);
    ASSERT_EQ(qw_pipeline_get_origin(b.p)->loaded, 0);
    /* trailing garbage too */
    buf[n] = 0;
    spit(path, buf, n + 1);
    ASSERT_ERR(QW_CORRUPT, qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    unlink(path);
    done(&a);
    done(&b);
}

static void expect_mismatch(const char *path, const qw_pipeline_opts *o, const char *field)
{
    env b = mk_opts(o);
    char eb[512];
    ASSERT_ERR(QW_INVAL, qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    if (!strstr(eb, "configuration mismatch") || !strstr(eb, field))
        qwt_fail(__FILE__, __LINE__, "%s: message \"%s\"", field, eb);
    ASSERT_EQ(qw_pipeline_count(b.p), 0);
    done(&b);
}

TEST(modelfile_config_mismatch_names_the_field)
{
    env a = mk();
    train(&a, 300, 0);
    char path[] = "/tmp/qwtest_mf_XXXXXX", eb[512];
    tmpname(path);
    ASSERT_OK(qw_pipeline_save_models(a.p, path, eb, sizeof eb));
    qw_pipeline_opts o = {.auto_add = 1};
    o.labeler.horizon_ns = 250000000;
    expect_mismatch(path, &o, "horizon_ms: the file has 500, this pipeline uses 250");
    o = (qw_pipeline_opts){.auto_add = 1};
    o.labeler.tau = 2e-4;
    expect_mismatch(path, &o, "tau:");
    o = (qw_pipeline_opts){.auto_add = 1};
    o.model.alpha = 1e-3;
    expect_mismatch(path, &o, "alpha:");
    o = (qw_pipeline_opts){.auto_add = 1};
    o.model.window = 50;
    expect_mismatch(path, &o, "window:");
    o = (qw_pipeline_opts){.auto_add = 1};
    o.model.min_per_class = 7;
    expect_mismatch(path, &o, "min_per_class:");
    o = (qw_pipeline_opts){.auto_add = 1};
    ASSERT_OK(qw_featset_parse("book", &o.features)); /* more features */
    expect_mismatch(path, &o, "features:");
    o = (qw_pipeline_opts){.auto_add = 1};
    ASSERT_OK(qw_featset_parse("spread_bps+imbalance+depth+ofi", &o.features)); /* same count */
    expect_mismatch(path, &o, "features: the file has spread_bps,imbalance,depth,volatility");
    /* defaults spelled out are the same configuration */
    o = (qw_pipeline_opts){.auto_add = 1};
    o.labeler.horizon_ns = 500000000;
    o.labeler.tau = 1e-4;
    o.model.alpha = 1e-4;
    env b = mk_opts(&o);
    ASSERT_OK(qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    done(&b);
    unlink(path);
    done(&a);
}

TEST(modelfile_modelcfg_codec_and_compare)
{
    const char *names[] = {"f1", "feature_two"};
    qw_modelcfg c, d;
    ASSERT_OK(qw_modelcfg_make(&c, names, 2, 750000000, 3e-4, 1e-5, 64, 10));
    uint8_t buf[QW_MODELCFG_MAX_LEN];
    size_t len, used;
    char eb[256];
    ASSERT_OK(qw_modelcfg_encode(&c, buf, sizeof buf, &len));
    ASSERT_EQ(len, qw_modelcfg_size(&c));
    ASSERT_OK(qw_modelcfg_decode(&d, buf, len, &used, eb, sizeof eb));
    ASSERT_EQ(used, len);
    ASSERT_EQ(qw_modelcfg_compare(&d, &c, eb, sizeof eb), 0);
    for (size_t k = 0; k < len; k++)
        ASSERT_ERR(QW_CORRUPT, qw_modelcfg_decode(&d, buf, k, &used, eb, sizeof eb));
    ASSERT_ERR(QW_INVAL, qw_modelcfg_encode(&c, buf, len - 1, &used));
    d = c;
    snprintf(d.schedule, sizeof d.schedule, "invscaling");
    ASSERT_EQ(qw_modelcfg_compare(&d, &c, eb, sizeof eb), 1);
    ASSERT_STREQ(eb, "schedule: the file has invscaling, this pipeline uses optimal");
    d = c;
    snprintf(d.class_weight, sizeof d.class_weight, "balanced");
    ASSERT_EQ(qw_modelcfg_compare(&d, &c, eb, sizeof eb), 1);
    ASSERT_STREQ(eb, "class_weight: the file has balanced, this pipeline uses none");
    d = c;
    snprintf(d.features[1], sizeof d.features[1], "other");
    ASSERT_EQ(qw_modelcfg_compare(&d, &c, eb, sizeof eb), 1);
    ASSERT_STREQ(eb, "features: the file has f1,other, this pipeline uses f1,feature_two");
    qw_modelcfg_summary(&c, (char *)buf, sizeof buf);
    ASSERT_STREQ((char *)buf, "features=f1,feature_two horizon_ms=750 tau=0.00029999999999999997 "
                              "alpha=1.0000000000000001e-05 schedule=optimal class_weight=none "
                              "window=64 min_per_class=10");
    ASSERT_ERR(QW_INVAL, qw_modelcfg_make(&c, names, 0, 1, 1, 1, 1, 1));
}

TEST(modelfile_v1_still_loads)
{
    env a = mk(), b = mk();
    train(&a, 400, 0);
    const qw_chain *ca = chain(&a, "A-B");
    /* a v1 file as the previous build wrote it: no configuration, no file CRC */
    uint8_t buf[4096];
    size_t o = 16, len;
    memcpy(buf, "QWMODELS\1\0\0\0\1\0\0\0", 16);
    memset(buf + o, 0, QW_PRODUCT_MAX);
    memcpy(buf + o, "A-B", 3);
    o += QW_PRODUCT_MAX;
    ASSERT_OK(qw_checkpoint_encode(ca->clf, buf + o + 8, sizeof buf - o - 8, &len));
    uint64_t l64 = len;
    memcpy(buf + o, &l64, 8);
    o += 8 + len;
    char path[] = "/tmp/qwtest_mf_XXXXXX", eb[512];
    tmpname(path);
    spit(path, buf, o);
    ASSERT_OK(qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    ASSERT_TRUE(same_predictions(ca->clf, chain(&b, "A-B")->clf));
    ASSERT_EQ(qw_pipeline_get_origin(b.p)->version, 1);
    ASSERT_EQ(qw_pipeline_get_origin(b.p)->crc, qw_model_crc32(buf, o));
    ASSERT_STREQ(qw_pipeline_get_origin(b.p)->config, "");
    /* v1 truncations are refused too */
    for (size_t k = 0; k < o; k += 7) {
        spit(path, buf, k);
        ASSERT_NE(qw_pipeline_load_models(b.p, path, eb, sizeof eb), QW_OK);
    }
    unlink(path);
    done(&a);
    done(&b);
}

TEST(modelfile_watch_reloads_and_counts)
{
    env a = mk(), b = mk();
    train(&a, 400, 0);
    char path[] = "/tmp/qwtest_mf_XXXXXX", eb[512];
    tmpname(path);
    ASSERT_OK(qw_pipeline_save_models(a.p, path, eb, sizeof eb));
    ASSERT_OK(qw_pipeline_load_models(b.p, path, eb, sizeof eb));
    qw_model_watch *w;
    ASSERT_OK(qw_model_watch_start(&w, b.p, path, eb, sizeof eb));
    const qw_model_origin *o = qw_pipeline_get_origin(b.p);
    /* SIGHUP path: the same file again */
    qw_model_watch_hup(w);
    for (int i = 0; i < 300 && o->reloads_ok == 0; i++) {
        usleep(10000);
        qw_model_watch_poll(w);
    }
    ASSERT_EQ(o->reloads_ok, 1);
    /* garbage replaces the file: counted, models kept */
    uint32_t crc = o->crc;
    spit(path, (const uint8_t *)"QWMODELS junk", 13);
    qw_model_watch_hup(w);
    for (int i = 0; i < 300 && o->reloads_error == 0; i++) {
        usleep(10000);
        qw_model_watch_poll(w);
    }
    ASSERT_EQ(o->reloads_error, 1);
    ASSERT_EQ(o->crc, crc);
    ASSERT_EQ(o->reloads_ok, 1);
    qw_model_watch_stop(w);
    unlink(path);
    done(&a);
    done(&b);
}
