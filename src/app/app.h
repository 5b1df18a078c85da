/* app.h: subcommands. app/ parses and wires only. */
#ifndef QW_APP_APP_H
#define QW_APP_APP_H

#include "core/config.h"
#include "core/version.h"

int qw_cmd_replay(const qw_config *cfg);
int qw_cmd_live(const qw_config *cfg);
int qw_cmd_sim(const qw_config *cfg);
int qw_cmd_lake(const qw_config *cfg);
int qw_cmd_backtest(const qw_config *cfg);
void qw_usage(void);

#endif
