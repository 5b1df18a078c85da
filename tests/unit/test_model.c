/* test_model.c: the online model (src/model/).
 *
 * Hand-checked first steps of the scaler and SGD, readiness, rolling
 * accuracy and base rates against a naive recomputation, all-or-nothing
 * learn, bit-exact checkpoint round trips, rejection of corrupt, truncated,
 * wrong-version and incompatible checkpoints (model unchanged), allocation
 * failure at every point, and the scikit-learn equivalence test
 * model_sklearn_equivalence over the fixtures of tests/ref/sklearn_oracle.py
 * (directory in QW_SKLEARN_FIXTURE_DIR; the test is SKIPPED when it is
 * unset -- tests/e2e/test_model_sklearn.sh generates the fixtures and runs
 * it, and fails unless it passed).
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "model/model.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double rng_unit(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) * 0x1p-53;
}

/* A plausible feature vector and a label correlated with it. */
static int gen_sample(double *x, size_t nf)
{
    for (size_t j = 0; j < nf; j++)
        x[j] = (rng_unit() - 0.5) * (j == 2 ? 2e4 : j == 3 ? 1e-6 : 2.0) + (j == 2 ? 1e4 : 0.0);
    return rng_unit() < 1.0 / (1.0 + exp(-3.0 * x[0]));
}

static qw_classifier *trained(size_t n, uint32_t min_per_class)
{
    qw_classifier *c;
    qw_classifier_opts o = {.min_per_class = min_per_class};
    if (qw_classifier_create(&c, &o) != QW_OK)
        abort();
    double x[4];
    for (size_t i = 0; i < n; i++) {
        int y = gen_sample(x, 4);
        double p;
        if (qw_classifier_predict(c, x, &p) != QW_OK || qw_classifier_learn(c, x, y, p) != QW_OK)
            abort();
    }
    return c;
}

#define ASSERT_SAME_STATE(a, b) ASSERT_TRUE(memcmp((a), (b), sizeof *(a)) == 0)

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

static void reseal(uint8_t *buf, size_t len) /* recompute the trailing CRC */
{
    uint32_t c = crc32_ref(buf, len - 4);
    for (int i = 0; i < 4; i++)
        buf[len - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
}

static char *tmpdir_make(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/qwtest_model.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    return dir;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        abort();
}

/* ---- scaler ---- */

TEST(model_scaler_first_samples)
{
    qw_scaler *s;
    double x[2] = {3.5, -2.0}, out[2];
    ASSERT_ERR(QW_INVAL, qw_scaler_create(&s, 0));
    ASSERT_ERR(QW_INVAL, qw_scaler_create(&s, QW_MODEL_MAX_FEATURES + 1));
    ASSERT_OK(qw_scaler_create(&s, 2));
    ASSERT_ERR(QW_INVAL, qw_scaler_transform(s, x, out)); /* not fitted */
    ASSERT_OK(qw_scaler_partial_fit(s, x));
    ASSERT_EQ(1, qw_scaler_n_seen(s));
    ASSERT_TRUE(qw_scaler_mean(s)[0] == 3.5 && qw_scaler_mean(s)[1] == -2.0);
    ASSERT_TRUE(qw_scaler_var(s)[0] == 0.0 && qw_scaler_scale(s)[0] == 1.0);
    ASSERT_OK(qw_scaler_transform(s, x, out));
    ASSERT_TRUE(out[0] == 0.0 && out[1] == 0.0);
    double x2[2] = {5.5, -2.0};
    ASSERT_OK(qw_scaler_partial_fit(s, x2));
    ASSERT_TRUE(qw_scaler_mean(s)[0] == 4.5);
    ASSERT_TRUE(qw_scaler_var(s)[0] == 1.0); /* population variance */
    ASSERT_TRUE(qw_scaler_var(s)[1] == 0.0 && qw_scaler_scale(s)[1] == 1.0);
    ASSERT_OK(qw_scaler_transform(s, x2, out));
    ASSERT_TRUE(out[0] == 1.0 && out[1] == 0.0);
    double bad[2] = {NAN, 1.0};
    ASSERT_ERR(QW_INVAL, qw_scaler_partial_fit(s, bad));
    ASSERT_EQ(2, qw_scaler_n_seen(s));
    double m[2] = {1.0, 2.0}, v[2] = {-1.0, 0.0};
    ASSERT_ERR(QW_INVAL, qw_scaler_restore(s, 3, m, v));
    ASSERT_ERR(QW_INVAL, qw_scaler_restore(s, 0, m, (double[2]){0, 0}));
    ASSERT_TRUE(qw_scaler_mean(s)[0] == 4.5);
    qw_scaler_destroy(s);
    qw_scaler_destroy(NULL);
}

TEST(model_scaler_near_constant_feature)
{
    /* A constant that is not a binary fraction: mean*n/(n+1) rounds, the
     * variance picks up noise (sklearn: var_ ~ 4e-21 after 1000 samples),
     * and the Chan-Golub-LeVeque bound must still call it constant. */
    qw_scaler *s;
    double x = 12345.678, out;
    int noisy = 0;
    ASSERT_OK(qw_scaler_create(&s, 1));
    for (int i = 0; i < 1000; i++) {
        ASSERT_OK(qw_scaler_partial_fit(s, &x));
        noisy += qw_scaler_var(s)[0] != 0.0;
        ASSERT_TRUE(qw_scaler_scale(s)[0] == 1.0);
    }
    ASSERT_TRUE(noisy > 900); /* sklearn 1.2.1: 989 */
    ASSERT_OK(qw_scaler_transform(s, &x, &out));
    ASSERT_TRUE(fabs(out) < 1e-9);
    qw_scaler_destroy(s);
}

/* ---- sgd ---- */

TEST(model_sgd_first_step_by_hand)
{
    /* alpha 1e-4: typw = 10, initial_eta0 = 10, optimal_init = 1000, so
     * eta = 10 on the first sample; p = 0, dloss = -1/2, update = 5; the L2
     * shrink 0.999 is applied through wscale and undone by the division in
     * add(), then re-applied by reset_wscale. */
    qw_sgd *m;
    double x[4] = {0.5, -1.0, 2.0, 0.0};
    ASSERT_ERR(QW_INVAL, qw_sgd_create(&m, 4, 0.0));
    ASSERT_ERR(QW_INVAL, qw_sgd_create(&m, 4, NAN));
    ASSERT_OK(qw_sgd_create(&m, 4, QW_SGD_DEFAULT_ALPHA));
    ASSERT_TRUE(qw_sgd_t(m) == 1.0);
    ASSERT_TRUE(qw_sgd_predict_proba(m, x) == 0.5);
    ASSERT_OK(qw_sgd_partial_fit(m, x, 1));
    const double want[4] = {2.5, -5.0, 10.0, 0.0}; /* sklearn 1.2.1 prints exactly this */
    for (int i = 0; i < 4; i++)
        ASSERT_TRUE(qw_sgd_coef(m)[i] == want[i]);
    ASSERT_TRUE(qw_sgd_intercept(m) == 5.0);
    ASSERT_TRUE(qw_sgd_t(m) == 2.0);
    ASSERT_TRUE(qw_sgd_decision(m, x) == 1.25 + 5.0 + 20.0 + 5.0);
    qw_sgd_destroy(m);
}

TEST(model_sgd_rejects_bad_input_unchanged)
{
    qw_sgd *m;
    double x[2] = {1.0, 2.0};
    ASSERT_OK(qw_sgd_create(&m, 2, 1e-4));
    ASSERT_OK(qw_sgd_partial_fit(m, x, 0));
    double c0 = qw_sgd_coef(m)[0], b0 = qw_sgd_intercept(m);
    ASSERT_ERR(QW_INVAL, qw_sgd_partial_fit(m, x, 2));
    ASSERT_ERR(QW_INVAL, qw_sgd_partial_fit(m, x, -1));
    ASSERT_ERR(QW_INVAL, qw_sgd_partial_fit(m, (double[2]){INFINITY, 0}, 1));
    /* 1e308 * 10 overflows: sklearn raises "Floating-point under-/overflow" */
    ASSERT_ERR(QW_BAD_NUMBER, qw_sgd_partial_fit(m, (double[2]){1e308, 0}, 1));
    ASSERT_TRUE(qw_sgd_coef(m)[0] == c0 && qw_sgd_intercept(m) == b0);
    ASSERT_TRUE(qw_sgd_t(m) == 2.0);
    ASSERT_ERR(QW_INVAL, qw_sgd_restore(m, x, 0.0, 1.5));
    ASSERT_ERR(QW_INVAL, qw_sgd_restore(m, x, NAN, 3.0));
    ASSERT_ERR(QW_INVAL, qw_sgd_restore(m, (double[2]){0, NAN}, 0.0, 3.0));
    ASSERT_OK(qw_sgd_restore(m, x, -1.0, 7.0));
    ASSERT_TRUE(qw_sgd_t(m) == 7.0 && qw_sgd_intercept(m) == -1.0);
    qw_sgd_destroy(m);
}

TEST(model_sgd_large_alpha_resets_wscale)
{
    /* alpha = 2: 1 - eta*alpha < 0 on the first step, the shrink clamps to
     * 0, wscale < 1e-9 triggers reset_wscale (w = 0) and the update is then
     * added at wscale 1: w = x * update exactly. */
    qw_sgd *m;
    double x[2] = {1.0, -3.0};
    ASSERT_OK(qw_sgd_create(&m, 2, 2.0));
    ASSERT_OK(qw_sgd_partial_fit(m, x, 1));
    double b = qw_sgd_intercept(m); /* = update */
    ASSERT_TRUE(b > 0.0);
    ASSERT_TRUE(qw_sgd_coef(m)[0] == b && qw_sgd_coef(m)[1] == -3.0 * b);
    qw_sgd_destroy(m);
}

/* ---- rolling ---- */

TEST(model_rolling_accuracy_and_base_rates)
{
    qw_rolling *r;
    ASSERT_ERR(QW_INVAL, qw_rolling_create(&r, QW_ROLLING_MAX_WINDOW + 1));
    ASSERT_OK(qw_rolling_create(&r, 0));
    ASSERT_EQ(100, qw_rolling_window(r));
    ASSERT_TRUE(isnan(qw_rolling_accuracy(r)) && isnan(qw_rolling_base_rate(r)));
    ASSERT_TRUE(isnan(qw_rolling_base_rate_all(r)));
    enum { N = 357 };
    static int ys[N], preds[N], has_p[N];
    uint64_t pos = 0;
    for (int i = 0; i < N; i++) {
        ys[i] = rng_unit() < 0.3;
        has_p[i] = rng_unit() < 0.8;
        double p = i % 17 ? rng_unit() : 0.5; /* the boundary counts as class 1 */
        preds[i] = p >= 0.5;
        ASSERT_OK(qw_rolling_add(r, ys[i], has_p[i] ? p : NAN));
        pos += (uint64_t)ys[i];
        /* naive recomputation over the last 100 scored samples */
        int fill = 0, correct = 0, wpos = 0;
        for (int k = i; k >= 0 && fill < 100; k--)
            if (has_p[k])
                fill++, correct += preds[k] == ys[k], wpos += ys[k];
        ASSERT_EQ(fill, qw_rolling_fill(r));
        ASSERT_TRUE(!fill || qw_rolling_accuracy(r) == (double)correct / fill);
        ASSERT_TRUE(!fill || qw_rolling_base_rate(r) == (double)wpos / fill);
        ASSERT_TRUE(qw_rolling_base_rate_all(r) == (double)pos / (double)(i + 1));
    }
    ASSERT_EQ(N, qw_rolling_labels(r));
    ASSERT_EQ(pos, qw_rolling_positives(r));
    ASSERT_ERR(QW_INVAL, qw_rolling_add(r, 2, 0.3));
    ASSERT_ERR(QW_INVAL, qw_rolling_add(r, 1, 1.5));
    ASSERT_ERR(QW_INVAL, qw_rolling_add(r, 1, -INFINITY));
    ASSERT_EQ(N, qw_rolling_labels(r));

    /* restore from the entries reproduces every statistic */
    uint8_t e[QW_ROLLING_MAX_WINDOW];
    size_t fill = qw_rolling_entries(r, e);
    qw_rolling *r2;
    ASSERT_OK(qw_rolling_create(&r2, 100));
    ASSERT_OK(qw_rolling_restore(r2, e, fill, qw_rolling_scored(r), N, pos));
    ASSERT_TRUE(qw_rolling_accuracy(r2) == qw_rolling_accuracy(r));
    ASSERT_TRUE(qw_rolling_base_rate(r2) == qw_rolling_base_rate(r));
    ASSERT_TRUE(qw_rolling_base_rate_all(r2) == qw_rolling_base_rate_all(r));
    /* and the two stay in step afterwards (eviction order preserved) */
    for (int i = 0; i < 150; i++) {
        int y = rng_unit() < 0.5;
        double p = rng_unit();
        ASSERT_OK(qw_rolling_add(r, y, p));
        ASSERT_OK(qw_rolling_add(r2, y, p));
        ASSERT_TRUE(qw_rolling_accuracy(r2) == qw_rolling_accuracy(r));
        ASSERT_TRUE(qw_rolling_base_rate(r2) == qw_rolling_base_rate(r));
    }
    e[0] = 4;
    ASSERT_ERR(QW_INVAL, qw_rolling_restore(r2, e, fill, 1000, 1000, 10));
    ASSERT_ERR(QW_INVAL, qw_rolling_restore(r2, e, 101, 1000, 1000, 10));
    uint8_t ones[3] = {2, 2, 2};
    ASSERT_ERR(QW_INVAL, qw_rolling_restore(r2, ones, 3, 3, 3, 2)); /* 3 positives > 2 */
    ASSERT_ERR(QW_INVAL, qw_rolling_restore(r2, ones, 3, 2, 3, 3)); /* fill > scored */
    qw_rolling_destroy(r);
    qw_rolling_destroy(r2);
}

/* ---- classifier ---- */

TEST(model_classifier_readiness)
{
    qw_classifier *c;
    ASSERT_OK(qw_classifier_create(&c, NULL));
    ASSERT_EQ(4, qw_classifier_n_features(c));
    double x[4] = {1, 0.2, 1e4, 1e-6}, p = 0;
    ASSERT_TRUE(!qw_classifier_ready(c));
    ASSERT_OK(qw_classifier_predict(c, x, &p));
    ASSERT_TRUE(isnan(p));
    for (int i = 0; i < 100; i++) {
        x[0] = i * 0.01;
        ASSERT_OK(qw_classifier_learn(c, x, 0, NAN));
    }
    for (int i = 0; i < 99; i++) {
        x[0] = 2.0 + i * 0.01;
        ASSERT_OK(qw_classifier_learn(c, x, 1, NAN));
        ASSERT_TRUE(!qw_classifier_ready(c));
    }
    ASSERT_OK(qw_classifier_predict(c, x, &p));
    ASSERT_TRUE(isnan(p)); /* 100 negatives, 99 positives: not yet */
    ASSERT_OK(qw_classifier_learn(c, x, 1, NAN));
    ASSERT_TRUE(qw_classifier_ready(c));
    ASSERT_OK(qw_classifier_predict(c, x, &p));
    ASSERT_TRUE(p > 0.5 && p <= 1.0);
    x[1] = NAN;
    ASSERT_ERR(QW_INVAL, qw_classifier_predict(c, x, &p));
    ASSERT_TRUE(isnan(p));

    qw_classifier_stats st;
    qw_classifier_stats_get(c, &st);
    ASSERT_EQ(200, st.labeled);
    ASSERT_EQ(100, st.positives);
    ASSERT_EQ(100, st.n_class[0]);
    ASSERT_EQ(0, st.scored);
    ASSERT_TRUE(st.ready);
    ASSERT_TRUE(isnan(st.rolling_accuracy) && isnan(st.base_rate_window));
    ASSERT_TRUE(st.base_rate_all == 0.5);
    qw_classifier_destroy(c);

    /* readiness needs EACH class: 500 of one class is not enough */
    qw_classifier_opts o = {.min_per_class = 3};
    ASSERT_OK(qw_classifier_create(&c, &o));
    x[1] = 0;
    for (int i = 0; i < 500; i++)
        ASSERT_OK(qw_classifier_learn(c, x, 1, NAN));
    ASSERT_TRUE(!qw_classifier_ready(c));
    for (int i = 0; i < 3; i++)
        ASSERT_OK(qw_classifier_learn(c, x, 0, NAN));
    ASSERT_TRUE(qw_classifier_ready(c));
    qw_classifier_destroy(c);
}

TEST(model_classifier_rolling_stats)
{
    /* the classifier scores each learned sample's prediction exactly as a
     * standalone qw_rolling (checked naively above) does */
    qw_classifier *c = trained(0, 1);
    qw_rolling *r;
    ASSERT_OK(qw_rolling_create(&r, 100));
    double x[4], p;
    for (int i = 0; i < 400; i++) {
        int y = gen_sample(x, 4);
        ASSERT_OK(qw_classifier_predict(c, x, &p));
        ASSERT_OK(qw_classifier_learn(c, x, y, p));
        ASSERT_OK(qw_rolling_add(r, y, p));
    }
    qw_classifier_stats st;
    qw_classifier_stats_get(c, &st);
    ASSERT_EQ(100, st.window_fill);
    ASSERT_TRUE(st.scored > 300 && st.scored == qw_rolling_scored(r));
    ASSERT_EQ(qw_rolling_positives(r), st.positives);
    ASSERT_TRUE(st.rolling_accuracy == qw_rolling_accuracy(r));
    ASSERT_TRUE(st.base_rate_window == qw_rolling_base_rate(r));
    ASSERT_TRUE(st.base_rate_all == qw_rolling_base_rate_all(r));
    ASSERT_TRUE(st.rolling_accuracy > 0.6); /* the label depends on x[0] */
    qw_rolling_destroy(r);
    qw_classifier_destroy(c);
}

TEST(model_classifier_learn_all_or_nothing)
{
    qw_classifier *c = trained(300, 100);
    qw_classifier_state before, after;
    qw_classifier_state_get(c, &before);
    double x[4] = {1, 2, 3, 4};
    ASSERT_ERR(QW_INVAL, qw_classifier_learn(c, x, 3, NAN));
    ASSERT_ERR(QW_INVAL, qw_classifier_learn(c, x, 1, 1.5));
    ASSERT_ERR(QW_INVAL, qw_classifier_learn(c, (double[4]){1, NAN, 3, 4}, 1, NAN));
    ASSERT_ERR(QW_BAD_NUMBER, qw_classifier_learn(c, (double[4]){1, 1e200, 3, 4}, 1, NAN));
    ASSERT_ERR(QW_BAD_NUMBER, qw_classifier_learn(c, (double[4]){1, 1.7e308, 3, 4}, 1, NAN));
    qw_classifier_state_get(c, &after);
    ASSERT_SAME_STATE(&before, &after);
    ASSERT_EQ(300, qw_classifier_labeled(c));
    qw_classifier_destroy(c);
}

TEST(model_classifier_opts_validation)
{
    qw_classifier *c = (qw_classifier *)&c;
    ASSERT_ERR(QW_INVAL, qw_classifier_create(&c, &(qw_classifier_opts){.n_features = 17}));
    ASSERT_TRUE(c == NULL);
    ASSERT_ERR(QW_INVAL, qw_classifier_create(&c, &(qw_classifier_opts){.alpha = -1}));
    ASSERT_ERR(QW_INVAL, qw_classifier_create(&c, &(qw_classifier_opts){.window = 5000}));
    ASSERT_OK(qw_classifier_create(&c, &(qw_classifier_opts){.n_features = 16, .window = 1024}));
    ASSERT_EQ(16, qw_classifier_n_features(c));
    qw_classifier_destroy(c);
    qw_classifier_destroy(NULL);
}

TEST(model_alloc_failure_every_point)
{
    int failures = 0;
    for (long n = 0;; n++) {
        qw_classifier *c = (qw_classifier *)&failures;
        qw_alloc_fail_after(n);
        qw_err e = qw_classifier_create(&c, NULL);
        qw_alloc_fail_after(-1);
        if (e == QW_OK) {
            ASSERT_TRUE(c != NULL);
            qw_classifier_destroy(c);
            break;
        }
        ASSERT_ERR(QW_NOMEM, e);
        ASSERT_TRUE(c == NULL);
        failures++;
        ASSERT_TRUE(n < 100);
    }
    ASSERT_TRUE(failures >= 5); /* classifier, 2 scalers, sgd, rolling (+ring) */

    /* save needs one allocation (temp name): fails cleanly, no temp file */
    qw_classifier *c = trained(50, 100);
    char *dir = tmpdir_make(), path[128], err[QW_CHECKPOINT_ERRLEN];
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    qw_alloc_fail_after(0);
    qw_err e = qw_checkpoint_save(c, path, err, sizeof err);
    qw_alloc_fail_after(-1);
    ASSERT_ERR(QW_NOMEM, e);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        entries += de->d_name[0] != '.';
    ASSERT_TRUE(d && closedir(d) == 0 && entries == 0);
    /* learn and predict never allocate */
    uint64_t before = qw_alloc_count();
    qw_alloc_fail_after(0);
    double x[4], p;
    for (int i = 0; i < 300; i++) {
        int y = gen_sample(x, 4);
        ASSERT_OK(qw_classifier_predict(c, x, &p));
        ASSERT_OK(qw_classifier_learn(c, x, y, p));
    }
    qw_alloc_fail_after(-1);
    ASSERT_EQ(before, qw_alloc_count());
    rmdir(dir);
    qw_classifier_destroy(c);
}

/* ---- checkpoints ---- */

TEST(model_checkpoint_roundtrip_bit_exact)
{
    qw_classifier *a = trained(1234, 100), *b;
    ASSERT_OK(qw_classifier_create(&b, NULL));
    char *dir = tmpdir_make(), path[128], err[QW_CHECKPOINT_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    ASSERT_OK(qw_checkpoint_save(a, path, err, sizeof err));
    ASSERT_OK(qw_checkpoint_save(a, path, err, sizeof err)); /* replaces atomically */
    struct stat sb;
    ASSERT_EQ(0, stat(path, &sb));
    ASSERT_EQ(qw_checkpoint_size(a), sb.st_size);
    ASSERT_OK(qw_checkpoint_load(b, path, err, sizeof err));
    qw_classifier_state sa, sb2;
    qw_classifier_state_get(a, &sa);
    qw_classifier_state_get(b, &sb2);
    ASSERT_SAME_STATE(&sa, &sb2); /* every double bit for bit, scale included */
    ASSERT_EQ(100, sa.ring_fill);
    /* both continue identically */
    double x[4], pa, pb;
    for (int i = 0; i < 500; i++) {
        int y = gen_sample(x, 4);
        ASSERT_OK(qw_classifier_predict(a, x, &pa));
        ASSERT_OK(qw_classifier_predict(b, x, &pb));
        ASSERT_TRUE(memcmp(&pa, &pb, sizeof pa) == 0);
        ASSERT_OK(qw_classifier_learn(a, x, y, pa));
        ASSERT_OK(qw_classifier_learn(b, x, y, pb));
    }
    qw_classifier_state_get(a, &sa);
    qw_classifier_state_get(b, &sb2);
    ASSERT_SAME_STATE(&sa, &sb2);
    /* an empty model round-trips too */
    qw_classifier *e0, *e1;
    ASSERT_OK(qw_classifier_create(&e0, NULL));
    ASSERT_OK(qw_checkpoint_save(e0, path, err, sizeof err));
    ASSERT_OK(qw_classifier_create(&e1, NULL));
    ASSERT_OK(qw_checkpoint_load(e1, path, err, sizeof err));
    qw_classifier_state_get(e0, &sa);
    qw_classifier_state_get(e1, &sb2);
    ASSERT_SAME_STATE(&sa, &sb2);
    unlink(path);
    rmdir(dir);
    qw_classifier_destroy(a);
    qw_classifier_destroy(b);
    qw_classifier_destroy(e0);
    qw_classifier_destroy(e1);
}

static void expect_corrupt(qw_classifier *b, const qw_classifier_state *want, const uint8_t *buf,
                           size_t len, const char *needle)
{
    char err[QW_CHECKPOINT_ERRLEN] = "";
    qw_classifier_state now;
    ASSERT_ERR(QW_CORRUPT, qw_checkpoint_decode(b, buf, len, err, sizeof err));
    ASSERT_TRUE(err[0] != '\0');
    if (needle && !strstr(err, needle))
        qwt_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err, needle);
    qw_classifier_state_get(b, &now);
    ASSERT_SAME_STATE(want, &now);
}

TEST(model_checkpoint_rejects_corrupt_and_incompatible)
{
    qw_classifier *a = trained(700, 100), *b = trained(321, 100);
    qw_classifier_state want;
    qw_classifier_state_get(b, &want);
    static uint8_t buf[4096], bad[4096];
    size_t len;
    ASSERT_ERR(QW_INVAL, qw_checkpoint_encode(a, buf, 10, &len));
    ASSERT_OK(qw_checkpoint_encode(a, buf, sizeof buf, &len));
    ASSERT_EQ(qw_checkpoint_size(a), len);

    /* every single-byte corruption is caught (CRC-32 catches all bursts
     * up to 32 bits) */
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    for (size_t i = 0; i < len; i++)
        for (size_t k = 0; k < sizeof masks; k++) {
            memcpy(bad, buf, len);
            bad[i] ^= masks[k];
            expect_corrupt(b, &want, bad, len, NULL);
        }
    /* every truncation, and trailing bytes */
    for (size_t n = 0; n < len; n++)
        expect_corrupt(b, &want, buf, n, NULL);
    memcpy(bad, buf, len);
    bad[len] = 0;
    expect_corrupt(b, &want, bad, len + 1, NULL);
    expect_corrupt(b, &want, buf, len - 1, "truncated");

    /* other version, with a valid checksum */
    memcpy(bad, buf, len);
    bad[8] = 2;
    reseal(bad, len);
    expect_corrupt(b, &want, bad, len, "version 2");
    memcpy(bad, buf, len);
    bad[0] = 'X';
    expect_corrupt(b, &want, bad, len, "magic");
    memcpy(bad, buf, len);
    bad[len - 1] ^= 1;
    expect_corrupt(b, &want, bad, len, "checksum");

    /* well-formed but inconsistent states (resealed) */
    const struct {
        size_t off, n;
        uint8_t val;
        const char *needle;
    } edits[] = {
        {32, 1, 0xFF, "labeled"},        /* n_class[0] no longer matches n_seen */
        {56, 1, 0x00, "labeled"},        /* scaler_n_seen */
        {64, 8, 0xFF, "mean"},           /* mean[0] = NaN */
        {64 + 4 * 8 + 7, 1, 0xBF, NULL}, /* var[0] negative */
        {16, 1, 9, "features"},          /* n_features 9: payload length no longer fits */
        {20, 1, 50, "window"},           /* window 50 < ring fill */
        {len - 5, 1, 7, "entry"},        /* last ring entry 7 */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(bad, buf, len);
        memset(bad + edits[i].off, edits[i].val, edits[i].n);
        reseal(bad, len);
        expect_corrupt(b, &want, bad, len, edits[i].needle);
    }

    /* incompatible models: 5 features, another alpha, another window */
    const struct {
        qw_classifier_opts o;
        const char *needle;
    } other[] = {
        {{.n_features = 5}, "5 features"}, {{.alpha = 1e-3}, "alpha"}, {{.window = 10}, "window"}};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        qw_classifier *o;
        size_t l2;
        ASSERT_OK(qw_classifier_create(&o, &other[i].o));
        ASSERT_OK(qw_checkpoint_encode(o, bad, sizeof bad, &l2));
        expect_corrupt(b, &want, bad, l2, other[i].needle);
        qw_classifier_destroy(o);
    }

    /* the same through files */
    char *dir = tmpdir_make(), path[128], err[QW_CHECKPOINT_ERRLEN];
    qw_classifier_state now;
    snprintf(path, sizeof path, "%s/missing.ckpt", dir);
    ASSERT_ERR(QW_IO, qw_checkpoint_load(b, path, err, sizeof err));
    ASSERT_TRUE(strstr(err, "missing.ckpt") != NULL);
    ASSERT_ERR(QW_IO, qw_checkpoint_load(b, dir, NULL, 0)); /* a directory */
    static uint8_t big[8192];
    memcpy(big, buf, len);
    const struct {
        const char *name;
        size_t n;
        const char *needle;
    } files[] = {{"trunc", len / 2, "truncated"},
                 {"empty", 0, "truncated"},
                 {"big", sizeof big, "too large"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.ckpt", dir, files[i].name);
        write_file(path, big, files[i].n);
        ASSERT_ERR(QW_CORRUPT, qw_checkpoint_load(b, path, err, sizeof err));
        ASSERT_TRUE(strstr(err, files[i].needle) != NULL);
        unlink(path);
    }
    qw_classifier_state_get(b, &now);
    ASSERT_SAME_STATE(&want, &now);

    /* saving where it cannot: QW_IO with the reason, nothing changes */
    snprintf(path, sizeof path, "%s/no/such/dir/m.ckpt", dir);
    ASSERT_ERR(QW_IO, qw_checkpoint_save(a, path, err, sizeof err));
    ASSERT_TRUE(strstr(err, "No such file") != NULL);
    rmdir(dir);
    qw_classifier_destroy(a);
    qw_classifier_destroy(b);
}

/* ---- scikit-learn equivalence ---- */

#define REL 1e-9

typedef struct fixture_row {
    int y, has_p;
    double x[QW_MODEL_MAX_FEATURES], p, coef[QW_MODEL_MAX_FEATURES], intercept;
    double mean[QW_MODEL_MAX_FEATURES], var[QW_MODEL_MAX_FEATURES], t;
    uint64_t n_seen;
} fixture_row;

typedef struct errstat {
    double max_rel;
    uint64_t n, exact;
} errstat;

/* Compare to 1e-9 relative (as ASSERT_DBL_NEAR) and record the error;
 * returns 0 (with a message) on a mismatch. */
static int cmp(errstat *es, const char *what, const char *stream, long step, int idx, double got,
               double want)
{
    double d = fabs(got - want), m = fmax(fabs(got), fabs(want));
    double r = d == 0.0 ? 0.0 : m > 0.0 ? d / m : d;
    es->n++;
    es->exact += memcmp(&got, &want, sizeof got) == 0 || (got == 0.0 && want == 0.0);
    es->max_rel = fmax(es->max_rel, r);
    if (d <= REL * m || d <= 1e-300)
        return 1;
    fprintf(stderr, "    %s step %ld: %s[%d] = %.17g, sklearn %.17g (rel %.3g)\n", stream, step,
            what, idx, got, want, r);
    return 0;
}

/* "step k y x[nf] has_p p coef[nf] intercept mean[nf] var[nf] n_seen t" */
static int parse_row(const char *line, size_t nf, fixture_row *r, long *step)
{
    double v[4 * QW_MODEL_MAX_FEATURES + 8];
    size_t n = 0, want = 4 * nf + 7;
    char *end;
    if (strncmp(line, "step ", 5) != 0)
        return 0;
    for (const char *p = line + 5; n < want; p = end) {
        v[n] = strtod(p, &end);
        if (end == p)
            return 0;
        n++;
    }
    const double *q = v;
    *step = (long)*q++;
    r->y = (int)*q++;
    memcpy(r->x, q, nf * sizeof *q), q += nf;
    r->has_p = (int)*q++;
    r->p = *q++;
    memcpy(r->coef, q, nf * sizeof *q), q += nf;
    r->intercept = *q++;
    memcpy(r->mean, q, nf * sizeof *q), q += nf;
    memcpy(r->var, q, nf * sizeof *q), q += nf;
    r->n_seen = (uint64_t)*q++;
    r->t = *q;
    return strspn(end, " \r\n") == strlen(end);
}

typedef struct sk_totals {
    errstat coef, intercept, mean, var, p, p_clf;
    long streams, steps, clip_steps, near_const_steps, reset_streams;
    int failed;
} sk_totals;

static void run_fixture(const char *dir, const char *name, sk_totals *tot)
{
    char path[1024], line[16384], sname[128] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        qwt_fail(__FILE__, __LINE__, "cannot open fixture %s", path);
    size_t nf = 0;
    long n_steps = -1;
    double alpha = 0;
    int version = 0;
    if (fscanf(f, "qw-sklearn-fixture %d name %127s n_features %zu alpha %lf n_steps %ld ",
               &version, sname, &nf, &alpha, &n_steps) != 5 ||
        version != 1 || nf < 1 || nf > QW_MODEL_MAX_FEATURES || !(alpha > 0))
        qwt_fail(__FILE__, __LINE__, "%s: bad fixture header", path);

    qw_scaler *s;
    qw_sgd *m;
    qw_classifier *c;
    ASSERT_OK(qw_scaler_create(&s, nf));
    ASSERT_OK(qw_sgd_create(&m, nf, alpha));
    /* the classifier path, ready from its first sample of each class */
    ASSERT_OK(qw_classifier_create(
        &c, &(qw_classifier_opts){.n_features = nf, .alpha = alpha, .min_per_class = 1}));
    long k = 0;
    fixture_row r;
    while (fgets(line, sizeof line, f)) {
        long step;
        if (!parse_row(line, nf, &r, &step) || step != k)
            qwt_fail(__FILE__, __LINE__, "%s: bad row %ld", path, k);
        int ok = 1;
        double xs[QW_MODEL_MAX_FEATURES];
        /* prediction before learning */
        ASSERT_EQ(k > 0, r.has_p);
        if (r.has_p) {
            ASSERT_OK(qw_scaler_transform(s, r.x, xs));
            ok &= cmp(&tot->p, "p", sname, k, 0, qw_sgd_predict_proba(m, xs), r.p);
        }
        double pc;
        ASSERT_OK(qw_classifier_predict(c, r.x, &pc));
        if (qw_classifier_ready(c))
            ok &= cmp(&tot->p_clf, "classifier p", sname, k, 0, pc, r.p);
        /* learn */
        ASSERT_OK(qw_scaler_partial_fit(s, r.x));
        ASSERT_OK(qw_scaler_transform(s, r.x, xs));
        double z = qw_sgd_decision(m, xs) * (r.y ? 1.0 : -1.0);
        tot->clip_steps += fabs(z) > 18.0;
        for (size_t j = 0; j < nf; j++)
            if (qw_scaler_var(s)[j] > 0.0 && qw_scaler_scale(s)[j] == 1.0) {
                tot->near_const_steps++;
                break;
            }
        ASSERT_OK(qw_sgd_partial_fit(m, xs, r.y));
        ASSERT_OK(qw_classifier_learn(c, r.x, r.y, pc));
        for (size_t j = 0; j < nf; j++) {
            ok &= cmp(&tot->coef, "coef", sname, k, (int)j, qw_sgd_coef(m)[j], r.coef[j]);
            ok &= cmp(&tot->mean, "mean", sname, k, (int)j, qw_scaler_mean(s)[j], r.mean[j]);
            ok &= cmp(&tot->var, "var", sname, k, (int)j, qw_scaler_var(s)[j], r.var[j]);
        }
        ok &= cmp(&tot->intercept, "intercept", sname, k, 0, qw_sgd_intercept(m), r.intercept);
        ASSERT_EQ(r.n_seen, qw_scaler_n_seen(s));
        ASSERT_TRUE(qw_sgd_t(m) == r.t);
        /* the classifier holds exactly the standalone state */
        qw_classifier_state st;
        qw_classifier_state_get(c, &st);
        size_t nb = nf * sizeof(double);
        ASSERT_TRUE(memcmp(st.coef, qw_sgd_coef(m), nb) == 0 &&
                    memcmp(st.mean, qw_scaler_mean(s), nb) == 0 &&
                    memcmp(st.var, qw_scaler_var(s), nb) == 0 &&
                    memcmp(&st.intercept, &(double){qw_sgd_intercept(m)}, sizeof(double)) == 0);
        if (!ok && ++tot->failed > 20)
            qwt_fail(__FILE__, __LINE__, "too many mismatches");
        k++;
    }
    fclose(f);
    ASSERT_EQ(n_steps, k);
    ASSERT_TRUE(qw_classifier_labeled(c) == (uint64_t)k);
    tot->streams++;
    tot->steps += k;
    tot->reset_streams += alpha >= 1.0;
    qw_scaler_destroy(s);
    qw_sgd_destroy(m);
    qw_classifier_destroy(c);
}

TEST(model_sklearn_equivalence)
{
    const char *dir = getenv("QW_SKLEARN_FIXTURE_DIR");
    if (!dir || !*dir)
        qwt_skip("QW_SKLEARN_FIXTURE_DIR is not set (the fixtures come from scikit-learn): "
                 "tests/e2e/test_model_sklearn.sh generates them and runs this test");
    char path[1024], name[256];
    snprintf(path, sizeof path, "%s/index.txt", dir);
    FILE *idx = fopen(path, "r");
    if (!idx)
        qwt_fail(__FILE__, __LINE__, "no fixture index %s", path);
    static sk_totals tot;
    while (fgets(name, sizeof name, idx)) {
        name[strcspn(name, "\r\n")] = '\0';
        if (name[0])
            run_fixture(dir, name, &tot);
    }
    fclose(idx);
    fprintf(stderr,
            "    %ld streams, %ld steps; |z| > 18 on %ld updates, near-constant "
            "scale on %ld steps, %ld large-alpha streams\n",
            tot.streams, tot.steps, tot.clip_steps, tot.near_const_steps, tot.reset_streams);
    const char *names[] = {"coef", "intercept", "scaler mean", "scaler var", "p", "classifier p"};
    const errstat *es[] = {&tot.coef, &tot.intercept, &tot.mean, &tot.var, &tot.p, &tot.p_clf};
    for (int i = 0; i < 6; i++)
        fprintf(stderr, "    %-13s max rel err %.3g over %llu values, %llu bit-exact\n", names[i],
                es[i]->max_rel, (unsigned long long)es[i]->n, (unsigned long long)es[i]->exact);
    ASSERT_EQ(0, tot.failed);
    /* the fixtures must cover what they claim to */
    ASSERT_TRUE(tot.streams >= 5);
    ASSERT_TRUE(tot.steps >= 10000);
    ASSERT_TRUE(tot.clip_steps > 0);
    ASSERT_TRUE(tot.near_const_steps > 0);
    ASSERT_TRUE(tot.reset_streams > 0);
    ASSERT_TRUE(tot.p.n > 0 && tot.p_clf.n > 0);
}
