/* featset.c: named feature sets and '+'-joined lists (features.h). */
#include <stdio.h>
#include <string.h>

#include "features/features.h"

typedef struct named {
    const char *name;
    qw_featset set;
} named;

static const named sets[] = {
    {"seed", {4, {QW_F_SPREAD_BPS, QW_F_IMBALANCE, QW_F_DEPTH, QW_F_VOLATILITY}}},
    {"book",
     {9,
      {QW_F_SPREAD_BPS, QW_F_IMBALANCE, QW_F_DEPTH, QW_F_VOLATILITY, QW_F_MICROPRICE_BPS, QW_F_OFI,
       QW_F_DEPTH_IMB_1, QW_F_DEPTH_IMB_5, QW_F_SPREAD_TICKS}}},
    {"rich",
     {12,
      {QW_F_SPREAD_BPS, QW_F_IMBALANCE, QW_F_DEPTH, QW_F_VOLATILITY, QW_F_MICROPRICE_BPS, QW_F_OFI,
       QW_F_DEPTH_IMB_1, QW_F_DEPTH_IMB_5, QW_F_TRADE_IMB, QW_F_RET_1S_BPS, QW_F_SINCE_TRADE_S,
       QW_F_SPREAD_TICKS}}},
};

static const qw_featset *eff(const qw_featset *s)
{
    return s->n ? s : &sets[0].set;
}

qw_err qw_featset_parse(const char *s, qw_featset *out)
{
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (strcmp(s, sets[i].name) == 0) {
            *out = sets[i].set;
            return QW_OK;
        }
    qw_featset f = {0};
    while (*s) {
        const char *plus = strchr(s, '+');
        size_t n = plus ? (size_t)(plus - s) : strlen(s);
        size_t k = 0;
        while (k < QW_NFEATURES_ALL &&
               !(strlen(qw_feature_names[k]) == n && memcmp(qw_feature_names[k], s, n) == 0))
            k++;
        if (k == QW_NFEATURES_ALL || f.n == QW_NFEATURES_ALL)
            return QW_INVAL;
        for (size_t j = 0; j < f.n; j++)
            if (f.idx[j] == k)
                return QW_INVAL; /* a feature twice */
        f.idx[f.n++] = (uint8_t)k;
        s += n + (plus ? 1 : 0);
        if (plus && !*s)
            return QW_INVAL;
    }
    if (!f.n)
        return QW_INVAL;
    *out = f;
    return QW_OK;
}

size_t qw_featset_format(const qw_featset *s, char *buf, size_t cap)
{
    const qw_featset *e = eff(s);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (sets[i].set.n == e->n && memcmp(sets[i].set.idx, e->idx, e->n) == 0)
            return (size_t)snprintf(buf, cap, "%s", sets[i].name);
    size_t n = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t i = 0; i < e->n; i++) {
        int k = snprintf(n < cap ? buf + n : NULL, n < cap ? cap - n : 0, "%s%s", i ? "+" : "",
                         qw_feature_names[e->idx[i]]);
        n += k > 0 ? (size_t)k : 0;
    }
    return n;
}

qw_featset qw_featset_of(const char *spec)
{
    qw_featset f = {0};
    if (spec && qw_featset_parse(spec, &f) != QW_OK)
        f = (qw_featset){0};
    return f;
}

size_t qw_featset_size(const qw_featset *s)
{
    return eff(s)->n;
}

size_t qw_featset_gather(const qw_featset *s, const double *x, double *out)
{
    const qw_featset *e = eff(s);
    for (size_t i = 0; i < e->n; i++)
        out[i] = x[e->idx[i]];
    return e->n;
}

const char *qw_featset_name(const qw_featset *s, size_t i)
{
    return qw_feature_names[eff(s)->idx[i]];
}

int qw_featset_extended(const qw_featset *s)
{
    const qw_featset *e = eff(s);
    for (size_t i = 0; i < e->n; i++)
        if (e->idx[i] >= QW_NFEATURES)
            return 1;
    return 0;
}
