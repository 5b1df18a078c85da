/* cmd_backtest.c: `quotewatch backtest FILE...` -- prequential evaluation
 * of the online model over a grid of configurations (docs/BACKTEST.md).
 * Wiring only: the grid comes from the config, the run and the reports
 * from src/research/. Exit 0 when every input was read and every report
 * written, 1 otherwise, 2 for usage errors. */
#define QW_MODULE "backtest"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "core/log.h"
#include "research/backtest.h"
#include "storage/lake_read.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static qw_err lake_next(void *lr, qw_msg *m, int64_t *recv_ns, int *conn)
{
    return qw_lake_next(lr, m, recv_ns, conn);
}

/* Horizons x thresholds x alphas x feature sets, horizon outermost; the
 * first one is the seed configuration when the defaults are kept. 0 (and a
 * message) for a feature set that does not parse. */
static size_t make_grid(const qw_config *cfg, qw_bt_config *out)
{
    qw_featset fs[QW_CONFIG_MAX_GRID];
    for (size_t f = 0; f < cfg->bt_nfeatures; f++)
        if (qw_featset_parse(cfg->bt_features[f], &fs[f]) != QW_OK) {
            fprintf(stderr,
                    "quotewatch: backtest: --features: unknown feature set '%s' (seed, book, "
                    "rich, or names joined by +: docs/FEATURES.md)\n",
                    cfg->bt_features[f]);
            return 0;
        }
    size_t n = 0;
    for (size_t h = 0; h < cfg->bt_nhorizons; h++)
        for (size_t t = 0; t < cfg->bt_ntaus; t++)
            for (size_t a = 0; a < cfg->bt_nalphas; a++)
                for (size_t f = 0; f < cfg->bt_nfeatures; f++)
                    if (n < QW_BT_MAX_CONFIGS)
                        out[n++] = (qw_bt_config){.horizon_ns = cfg->bt_horizon_ns[h],
                                                  .tau = cfg->bt_tau[t],
                                                  .alpha = cfg->bt_alpha[a],
                                                  .features = fs[f]};
    return n;
}

int qw_cmd_backtest(const qw_config *cfg)
{
    qw_bt_config grid[QW_BT_MAX_CONFIGS];
    const char *prods[QW_CONFIG_MAX_PRODUCTS];
    char eb[512];
    if (cfg->bt_nhorizons * cfg->bt_ntaus * cfg->bt_nalphas * cfg->bt_nfeatures >
        QW_BT_MAX_CONFIGS) {
        fprintf(stderr, "quotewatch: backtest: the grid has more than %d configurations\n",
                QW_BT_MAX_CONFIGS);
        return 2;
    }
    for (size_t i = 0; i < cfg->nproducts; i++)
        prods[i] = cfg->products[i];
    size_t ngrid = make_grid(cfg, grid);
    if (!ngrid)
        return 2;
    qw_bt_opts o = {.files = cfg->files,
                    .nfiles = cfg->nfiles,
                    .max_line = cfg->max_line,
                    .products = cfg->products_set ? prods : NULL,
                    .nproducts = cfg->products_set ? cfg->nproducts : 0,
                    .configs = grid,
                    .nconfigs = ngrid,
                    .window_ns = cfg->bt_window_ns,
                    .progress = cfg->progress == 1 || (cfg->progress == -1 && isatty(2)),
                    .stop = &stop_requested};
    if (cfg->save_model[0] && (size_t)cfg->bt_save_config >= o.nconfigs) {
        fprintf(stderr, "quotewatch: backtest: --save-config %d: the grid has %zu configurations\n",
                cfg->bt_save_config, o.nconfigs);
        return 2;
    }
    qw_lake_reader *lr = NULL;
    if (cfg->lake) { /* --lake: the stored raw tables instead of files */
        const char *ids[QW_CONFIG_MAX_PRODUCTS];
        qw_lake_opts lo;
        qw_lake_opts_from_config(&lo, ids, cfg);
        if (qw_lake_open(&lr, &lo, eb, sizeof eb) != QW_OK) {
            fprintf(stderr, "quotewatch: backtest: --lake: %s\n", eb);
            return 1;
        }
        o.next = lake_next;
        o.next_src = lr;
    }
    qw_backtest *bt;
    qw_err e = qw_backtest_create(&bt, &o, eb, sizeof eb);
    if (e != QW_OK) {
        fprintf(stderr, "quotewatch: backtest: %s\n", eb);
        qw_lake_close(lr);
        return e == QW_NOMEM ? 1 : 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    QW_LOG(INFO, "backtest: %zu configuration(s) over %zu input(s)", o.nconfigs, o.nfiles);
    int rc = 0;
    if (qw_backtest_run(bt) != QW_OK) {
        QW_LOG(ERROR, "out of memory");
        rc = 1;
    }
    if (stop_requested)
        QW_LOG(WARN, "interrupted: the reports cover the input read so far");
    rc |= qw_backtest_input(bt)->failed;
    if (lr) {
        rc |= qw_lake_log_stats(lr); /* 1: a file failed midway */
        qw_lake_close(lr);
        lr = NULL;
    }
    if (cfg->predictions_csv[0] &&
        qw_backtest_write_predictions(bt, cfg->predictions_csv, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--predictions-csv: %s", eb);
        rc = 1;
    }
    if (cfg->save_model[0] && qw_backtest_save_model(bt, (size_t)cfg->bt_save_config,
                                                     cfg->save_model, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--save-model: %s", eb);
        rc = 1;
    }
    if (qw_backtest_results(bt) != QW_OK) {
        QW_LOG(ERROR, "out of memory computing the metrics");
        qw_backtest_destroy(bt);
        return 1;
    }
    if (qw_backtest_write_json(bt, cfg->report_json, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--report-json: %s", eb);
        rc = 1;
    }
    if (cfg->report_html[0] &&
        qw_backtest_write_html(bt, cfg->report_html, eb, sizeof eb) != QW_OK) {
        QW_LOG(ERROR, "--report-html: %s", eb);
        rc = 1;
    }
    for (size_t i = 0; i < qw_backtest_nconfigs(bt); i++) {
        const qw_bt_result *r = qw_backtest_result(bt, i);
        char id[320];
        qw_bt_config_id(&r->cfg, id, sizeof id);
        QW_LOG(INFO, "%s: %llu scored, accuracy %.4f (baseline %.4f), AUC %.4f, log-loss %.4f", id,
               (unsigned long long)r->pooled.n, r->pooled.accuracy, r->pooled.baseline_accuracy,
               r->pooled.roc_auc, r->pooled.log_loss);
    }
    qw_backtest_destroy(bt);
    return rc;
}
