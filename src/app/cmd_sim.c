/* cmd_sim.c: `quotewatch sim` — the local Coinbase-protocol simulator
 * (src/sim/, docs/SIM.md); wiring only. */
#define QW_MODULE "app"
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/log.h"
#include "sim/server.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

int qw_cmd_sim(const qw_config *cfg)
{
    qw_sim_opts o;
    memset(&o, 0, sizeof o);
    char err[256];
    if (qw_sim_faults_parse(cfg->fault, &o.faults, err, sizeof err) != QW_OK) {
        fprintf(stderr, "quotewatch: %s\n", err);
        return 2;
    }
    const char *prods[QW_CONFIG_MAX_PRODUCTS];
    for (size_t i = 0; i < cfg->nproducts; i++)
        prods[i] = cfg->products[i];
    o.bind = cfg->bind;
    o.port = cfg->port;
    o.speed = cfg->speed;
    o.loop = cfg->loop;
    o.no_deflate = cfg->no_deflate;
    o.tls_cert = cfg->tls_cert;
    o.tls_key = cfg->tls_key;
    o.duration_s = cfg->duration_s;
    o.src.max_line = cfg->max_line;
    if (cfg->synthetic) {
        o.src.synthetic = 1;
        o.src.synth.feed = cfg->feed_exchange ? QW_SYNTH_EXCHANGE : QW_SYNTH_ADVANCED;
        o.src.synth.products = prods;
        o.src.synth.nproducts = cfg->nproducts;
        o.src.synth.seed = cfg->seed;
        o.src.synth.levels = cfg->levels;
        const char *why = qw_synth_opts_check(&o.src.synth);
        if (why) {
            fprintf(stderr, "quotewatch: sim --synthetic: %s\n", why);
            return 2;
        }
    } else {
        o.src.files = cfg->files;
        o.src.nfiles = cfg->nfiles;
        if (cfg->products_set) {
            o.products = prods;
            o.nproducts = cfg->nproducts;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns on a signal */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    qw_sim *sim;
    qw_err e = qw_sim_create(&sim, &o);
    if (e != QW_OK) {
        QW_LOG(ERROR, "sim: cannot start: %s", qw_strerror(e));
        return e == QW_INVAL ? 2 : 1;
    }
    printf("{\"listening\":%d}\n", qw_sim_port(sim));
    fflush(stdout);
    qw_sim_run(sim, &g_stop);
    char sum[1024];
    qw_sim_summary(sim, sum, sizeof sum);
    qw_sim_destroy(sim);
    fprintf(stderr, "%s\n", sum);
    return 0;
}
