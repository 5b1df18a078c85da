/* gen_feed.c: write a synthetic Coinbase feed (src/sim/synth.h) as NDJSON.
 *
 *   gen_feed --feed exchange|advanced --products BTC-USD,ETH-USD
 *            --levels 50000 --messages N --seed S [--out FILE]
 *            [--gap-us MICROS] [--vol-bps BPS] [--start RFC3339] [--stats]
 *
 * One server message per line, byte-for-byte what the synthetic market
 * "sends"; the same flags always give the same bytes. --stats prints one
 * JSON line on stderr (messages, bytes, seconds, msg/s, kinds).
 * Exit 0 on success, 1 on an I/O or memory error, 2 on a usage error (the
 * message names the flag). Thin by design: parsing and wiring only.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/dec.h"
#include "core/time.h"
#include "sim/synth.h"

static const char usage[] =
    "usage: gen_feed [--feed exchange|advanced] [--products ID,ID...] [--levels N]\n"
    "                [--messages N] [--seed S] [--out FILE] [--gap-us MICROS]\n"
    "                [--vol-bps BPS] [--start RFC3339] [--stats]\n"
    "defaults: --feed exchange --products BTC-USD --levels 1000 --messages 100000\n"
    "          --seed 1 --gap-us 5000 --vol-bps 2 --start 2026-01-02T00:00:00Z\n";

static const char *const flags[] = {"--feed", "--products", "--levels",  "--messages", "--seed",
                                    "--out",  "--gap-us",   "--vol-bps", "--start"};

static int bad(const char *flag, const char *val, const char *why)
{
    fprintf(stderr, "gen_feed: bad value for %s: '%s' (%s)\n%s", flag, val ? val : "", why, usage);
    return 2;
}

/* Unsigned decimal integer, all of s, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    const char *ids[QW_SYNTH_MAX_PRODUCTS];
    char prodbuf[QW_SYNTH_MAX_PRODUCTS * 32 + 1] = "BTC-USD";
    const char *out = NULL, *prod_arg = prodbuf;
    uint64_t nmsg = 100000, u;
    int stats = 0;
    qw_synth_opts o = {.feed = QW_SYNTH_EXCHANGE, .levels = 1000, .seed = 1};

    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(f, "--stats") == 0) {
            stats = 1;
            continue;
        }
        int known = 0;
        for (size_t j = 0; j < sizeof flags / sizeof flags[0]; j++)
            known |= strcmp(f, flags[j]) == 0;
        if (!known) {
            fprintf(stderr, "gen_feed: unknown flag %s\n%s", f, usage);
            return 2;
        }
        if (!v)
            return bad(f, NULL, "missing value");
        i++;
        if (strcmp(f, "--feed") == 0) {
            if (strcmp(v, "exchange") == 0)
                o.feed = QW_SYNTH_EXCHANGE;
            else if (strcmp(v, "advanced") == 0)
                o.feed = QW_SYNTH_ADVANCED;
            else
                return bad(f, v, "exchange or advanced");
        } else if (strcmp(f, "--products") == 0) {
            if (strlen(v) >= sizeof prodbuf)
                return bad(f, v, "too long");
            memcpy(prodbuf, v, strlen(v) + 1);
            prod_arg = v;
        } else if (strcmp(f, "--levels") == 0) {
            if (!parse_u64(v, QW_SYNTH_MAX_LEVELS, &u) || u == 0)
                return bad(f, v, "1..1000000");
            o.levels = (size_t)u;
        } else if (strcmp(f, "--messages") == 0) {
            if (!parse_u64(v, UINT64_MAX, &nmsg))
                return bad(f, v, "a count");
        } else if (strcmp(f, "--seed") == 0) {
            if (!parse_u64(v, UINT64_MAX, &o.seed))
                return bad(f, v, "an unsigned 64-bit integer");
        } else if (strcmp(f, "--out") == 0) {
            out = v;
        } else if (strcmp(f, "--gap-us") == 0) {
            int64_t e8;
            if (qw_dec_parse(v, strlen(v), &e8) != QW_OK || e8 < 1000000 ||
                e8 > 60000000 * QW_DEC_SCALE)
                return bad(f, v, "0.01..60000000 microseconds");
            o.mean_gap_ns = e8 / 100000; /* e8 us -> ns */
        } else if (strcmp(f, "--vol-bps") == 0) {
            int64_t e8;
            if (qw_dec_parse(v, strlen(v), &e8) != QW_OK || e8 <= 0 || e8 > 1000 * QW_DEC_SCALE)
                return bad(f, v, "0 < BPS <= 1000");
            o.vol_bps = qw_dec_to_double(e8);
        } else if (strcmp(f, "--start") == 0) {
            if (qw_time_parse(v, strlen(v), &o.start_ns) != QW_OK || !qw_time_plausible(o.start_ns))
                return bad(f, v, "an RFC 3339 time in 2010..2200");
        }
    }
    /* split the product list in place */
    size_t n = 0;
    for (char *p = prodbuf, *c; p; p = c ? c + 1 : NULL) {
        c = strchr(p, ',');
        if (c)
            *c = '\0';
        if (n == QW_SYNTH_MAX_PRODUCTS)
            return bad("--products", p, "at most 256 products");
        ids[n++] = p;
    }
    o.products = ids;
    o.nproducts = n;
    const char *why = qw_synth_opts_check(&o);
    if (why)
        return bad("--products", prod_arg, why);

    FILE *fp = out ? fopen(out, "wb") : stdout;
    if (!fp) {
        fprintf(stderr, "gen_feed: cannot open %s\n", out);
        return 1;
    }
    static char iobuf[1 << 20];
    setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);
    qw_synth *s;
    qw_err e = qw_synth_create(&s, &o);
    if (e != QW_OK) {
        fprintf(stderr, "gen_feed: %s\n", qw_strerror(e));
        return 1;
    }
    size_t cap = 1 << 16, len;
    char *line = qw_malloc(cap);
    int64_t t0 = qw_now_mono_ns();
    for (uint64_t k = 0; k < nmsg && line && e == QW_OK; k++) {
        while ((e = qw_synth_next(s, line, cap, &len)) == QW_TOO_LARGE) { /* a snapshot */
            char *bigger = qw_realloc(line, len);
            if (!bigger) {
                e = QW_NOMEM;
                break;
            }
            line = bigger;
            cap = len;
        }
        if (e == QW_OK && (fwrite(line, 1, len, fp) != len || putc('\n', fp) == EOF))
            e = QW_IO;
    }
    if (!line)
        e = QW_NOMEM;
    qw_free(line);
    if (fflush(fp) != 0 || (out && fclose(fp) != 0))
        e = e == QW_OK ? QW_IO : e;
    double secs = (double)(qw_now_mono_ns() - t0) / 1e9;
    const qw_synth_stats *st = qw_synth_get_stats(s);
    if (stats)
        fprintf(stderr,
                "{\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"msg_per_s\":%.0f,"
                "\"snapshots\":%llu,\"book_msgs\":%llu,\"changes\":%llu,\"trade_msgs\":%llu,"
                "\"trades\":%llu,\"heartbeats\":%llu,\"subscriptions\":%llu}\n",
                (unsigned long long)st->messages, (unsigned long long)st->bytes, secs,
                secs > 0 ? (double)st->messages / secs : 0.0, (unsigned long long)st->snapshots,
                (unsigned long long)st->book_msgs, (unsigned long long)st->changes,
                (unsigned long long)st->trade_msgs, (unsigned long long)st->trades,
                (unsigned long long)st->heartbeats, (unsigned long long)st->subscriptions);
    qw_synth_destroy(s);
    if (e != QW_OK) {
        fprintf(stderr, "gen_feed: %s\n", qw_strerror(e));
        return 1;
    }
    return 0;
}
