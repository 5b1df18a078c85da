/* main.c: quotewatch entry point: load the config, dispatch. */
#include <stdio.h>

#include "app/app.h"
#include "core/log.h"

extern char **environ;

void qw_usage(void)
{
    fputs("usage: quotewatch [live] [--feed advanced|exchange] [--products A,B] [--url URL]\n"
          "                  [--port N] [--bind ADDR] [--record DIR] [--summary FILE|-]\n"
          "       quotewatch replay [--summary FILE|-] [--speed max|1x|Nx] [--samples FILE]\n"
          "                  [--save-model F] [--load-model F] [--max-line BYTES]\n"
          "                  [--progress|--no-progress] FILE...   (FILE: .ndjson, .zst, or - for "
          "stdin)\n"
          "       quotewatch sim [--port N] [--speed max|1x|Nx] FILE | --synthetic\n"
          "       quotewatch --help | --version\n"
          "common: --log-level debug|info|warn|error|off\n"
          "environment: PORT, ENABLE_PERSISTENCE, ICEBERG_WAREHOUSE, ICEBERG_CATALOG_URI, "
          "QW_LOG_LEVEL\n"
          "docs: README.md, docs/CLI.md\n",
          stdout);
}

int main(int argc, char **argv)
{
    static qw_config cfg;
    qw_config_defaults(&cfg);
    if (qw_config_load(&cfg, environ, argc, argv) != QW_OK) {
        fprintf(stderr, "quotewatch: %s\n", cfg.errbuf);
        return 2;
    }
    qw_log_set_level(cfg.log_level);
    switch (cfg.cmd) {
    case QW_CMD_HELP: qw_usage(); return 0;
    case QW_CMD_VERSION: puts("quotewatch " QW_VERSION); return 0;
    case QW_CMD_REPLAY: return qw_cmd_replay(&cfg);
    case QW_CMD_SIM: return qw_cmd_sim(&cfg);
    case QW_CMD_LAKE: return qw_cmd_lake(&cfg);
    case QW_CMD_LIVE:
    default: return qw_cmd_live(&cfg);
    }
}
