/* fault.h: fault-injection specs for `quotewatch sim --fault SPEC`
 * (docs/SIM.md has the exact semantics of each kind).
 *
 * SPEC is a comma-separated list of items, each kind at most once:
 *   drop=N | drop=N/once   skip=N   malformed=N   oversize=BYTES@N
 *   stall=S@N   refuse=S   slowread=S
 * N: integer >= 1; BYTES: integer >= 1 with optional k/m suffix (KiB/MiB);
 * S: seconds (decimal) > 0. oversize takes N >= 0 (0 = right after the
 * first streamed message is due).
 */
#ifndef QW_SIM_FAULT_H
#define QW_SIM_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct qw_sim_faults {
    uint64_t drop_n;                      /* 0 = off */
    int drop_once;                        /* only the first connection */
    uint64_t skip_n;                      /* 0 = off */
    uint64_t malformed_n;                 /* 0 = off */
    uint64_t oversize_bytes, oversize_at; /* bytes 0 = off */
    double stall_s;                       /* 0 = off */
    uint64_t stall_at;
    double refuse_s;   /* 0 = off */
    double slowread_s; /* 0 = off */
} qw_sim_faults;

/* Parse spec ("" or NULL = no faults) into *out (zeroed first). On error
 * QW_INVAL and err gets a sentence naming the bad item. */
qw_err qw_sim_faults_parse(const char *spec, qw_sim_faults *out, char *err, size_t errcap);

/* 1 when any fault is configured. */
int qw_sim_faults_any(const qw_sim_faults *f);

#endif
