/* fault.c: parse the simulator's --fault specs (fault.h, docs/SIM.md). */
#include "sim/fault.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_u64(const char *s, size_t n, uint64_t min, int suffix, uint64_t *out)
{
    if (n == 0 || n > 30)
        return 0;
    char tmp[32];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    uint64_t mul = 1;
    if (suffix && (tmp[n - 1] == 'k' || tmp[n - 1] == 'K'))
        mul = 1024, tmp[--n] = '\0';
    else if (suffix && (tmp[n - 1] == 'm' || tmp[n - 1] == 'M'))
        mul = 1024 * 1024, tmp[--n] = '\0';
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tmp[i] < '0' || tmp[i] > '9')
            return 0;
    errno = 0;
    unsigned long long v = strtoull(tmp, NULL, 10);
    if (errno || v > UINT64_MAX / mul || v * mul < min)
        return 0;
    *out = (uint64_t)v * mul;
    return 1;
}

static int parse_secs(const char *s, size_t n, double *out)
{
    if (n == 0 || n > 30)
        return 0;
    char tmp[32];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (tmp[0] == '-' || tmp[0] == '+' || tmp[0] == ' ')
        return 0;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (errno || *end || !(v > 0 && v <= 86400.0) || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* "A@B" -> A and B spans. */
static int split_at(const char *v, size_t n, size_t *an)
{
    const char *at = memchr(v, '@', n);
    if (!at)
        return 0;
    *an = (size_t)(at - v);
    return 1;
}

static qw_err bad(char *err, size_t cap, const char *item, size_t n, const char *why)
{
    if (err && cap)
        snprintf(err, cap, "--fault: bad spec '%.*s': %s", (int)n, item, why);
    return QW_INVAL;
}

qw_err qw_sim_faults_parse(const char *spec, qw_sim_faults *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (err && errcap)
        err[0] = '\0';
    if (!spec || !*spec)
        return QW_OK;
    unsigned seen = 0;
    const char *p = spec;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n == 0)
            return bad(err, errcap, p, n, "empty item");
        if (!eq)
            return bad(err, errcap, p, n, "expected KIND=VALUE");
        size_t kn = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vn = n - kn - 1, an;
        unsigned bit;
        int ok;
#define K(s) (kn == sizeof(s) - 1 && memcmp(p, s, kn) == 0)
        if (K("drop")) {
            bit = 1;
            const char *sl = memchr(v, '/', vn);
            size_t nn = sl ? (size_t)(sl - v) : vn;
            ok = parse_u64(v, nn, 1, 0, &out->drop_n);
            if (ok && sl) {
                ok = vn - nn - 1 == 4 && memcmp(sl + 1, "once", 4) == 0;
                out->drop_once = 1;
            }
        } else if (K("skip")) {
            bit = 2;
            ok = parse_u64(v, vn, 2, 0, &out->skip_n);
            if (!ok)
                return bad(err, errcap, p, n, "expected an integer N >= 2");
        } else if (K("malformed")) {
            bit = 4;
            ok = parse_u64(v, vn, 1, 0, &out->malformed_n);
        } else if (K("oversize")) {
            bit = 8;
            ok = split_at(v, vn, &an) && parse_u64(v, an, 1, 1, &out->oversize_bytes) &&
                 out->oversize_bytes <= (uint64_t)1 << 30 &&
                 parse_u64(v + an + 1, vn - an - 1, 0, 0, &out->oversize_at);
            if (!ok)
                return bad(err, errcap, p, n, "expected BYTES@N (BYTES 1..1G, k/m suffix allowed)");
        } else if (K("stall")) {
            bit = 16;
            ok = split_at(v, vn, &an) && parse_secs(v, an, &out->stall_s) &&
                 parse_u64(v + an + 1, vn - an - 1, 0, 0, &out->stall_at);
            if (!ok)
                return bad(err, errcap, p, n, "expected SECONDS@N");
        } else if (K("refuse")) {
            bit = 32;
            ok = parse_secs(v, vn, &out->refuse_s);
        } else if (K("slowread")) {
            bit = 64;
            ok = parse_secs(v, vn, &out->slowread_s);
        } else {
            return bad(err, errcap, p, n,
                       "unknown kind (drop, skip, malformed, oversize, stall, refuse, slowread)");
        }
#undef K
        if (!ok)
            return bad(err, errcap, p, n, "bad value");
        if (seen & bit)
            return bad(err, errcap, p, n, "kind given twice");
        seen |= bit;
        if (!e)
            break;
        p = e + 1;
    }
    return QW_OK;
}

int qw_sim_faults_any(const qw_sim_faults *f)
{
    return f->drop_n || f->skip_n || f->malformed_n || f->oversize_bytes || f->stall_s > 0 ||
           f->refuse_s > 0 || f->slowread_s > 0;
}
