/* ice_types.c: Iceberg type strings, partition transforms, single-value
 * binary serialization of bounds (spec appendix D), data-file statistics
 * helpers and pruning, random snapshot ids and UUIDs.
 *
 * Bounds: int/date 4-byte LE; long/time/timestamp(tz) 8-byte LE; float and
 * double IEEE LE; boolean one byte; string = UTF-8 bytes (truncated to 16
 * bytes on a code-point boundary; the upper bound increments the last byte
 * of the prefix, carrying, as Iceberg's truncate metrics do for bytes);
 * decimal = unscaled value as minimal big-endian two's complement.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "iceberg/iceberg.h"

static const struct {
    qw_ice_type t;
    const char *s;
} PRIMS[] = {
    {QW_ICE_BOOLEAN, "boolean"},
    {QW_ICE_INT, "int"},
    {QW_ICE_LONG, "long"},
    {QW_ICE_FLOAT, "float"},
    {QW_ICE_DOUBLE, "double"},
    {QW_ICE_DATE, "date"},
    {QW_ICE_TIME, "time"},
    {QW_ICE_TIMESTAMP, "timestamp"},
    {QW_ICE_TIMESTAMPTZ, "timestamptz"},
    {QW_ICE_STRING, "string"},
    {QW_ICE_UUID, "uuid"},
    {QW_ICE_BINARY, "binary"},
};

const char *qw_ice_type_str(const qw_ice_field *f, char *buf, size_t cap)
{
    if (f->type == QW_ICE_DECIMAL)
        snprintf(buf, cap, "decimal(%d, %d)", f->precision, f->scale);
    else if (f->type == QW_ICE_FIXED)
        snprintf(buf, cap, "fixed[%d]", f->precision);
    else {
        snprintf(buf, cap, "unknown");
        for (size_t i = 0; i < sizeof(PRIMS) / sizeof(PRIMS[0]); i++)
            if (PRIMS[i].t == f->type)
                snprintf(buf, cap, "%s", PRIMS[i].s);
    }
    return buf;
}

qw_err qw_ice_type_parse(const char *s, qw_ice_field *f)
{
    f->precision = f->scale = 0;
    for (size_t i = 0; i < sizeof(PRIMS) / sizeof(PRIMS[0]); i++)
        if (strcmp(s, PRIMS[i].s) == 0) {
            f->type = PRIMS[i].t;
            return QW_OK;
        }
    int p, sc, used = 0;
    if (sscanf(s, "decimal(%d ,%d)%n", &p, &sc, &used) == 2 && s[used] == 0 && p > 0 && p <= 38 &&
        sc >= 0 && sc <= p) {
        f->type = QW_ICE_DECIMAL;
        f->precision = p;
        f->scale = sc;
        return QW_OK;
    }
    if (sscanf(s, "fixed[%d]%n", &p, &used) == 1 && s[used] == 0 && p > 0) {
        f->type = QW_ICE_FIXED;
        f->precision = p;
        return QW_OK;
    }
    if (strncmp(s, "timestamp_ns", 12) == 0 || strcmp(s, "variant") == 0 ||
        strcmp(s, "unknown") == 0) {
        f->type = QW_ICE_UNKNOWN;
        return QW_OK;
    }
    return QW_UNSUPPORTED;
}

qw_ice_type qw_ice_transform_result(qw_ice_transform t, qw_ice_type source)
{
    switch (t) {
    case QW_ICE_T_IDENTITY:
    case QW_ICE_T_TRUNCATE:
    case QW_ICE_T_VOID: return source;
    case QW_ICE_T_DAY: return QW_ICE_DATE;
    case QW_ICE_T_MONTH:
    case QW_ICE_T_YEAR:
    case QW_ICE_T_HOUR:
    case QW_ICE_T_BUCKET: return QW_ICE_INT;
    case QW_ICE_T_OTHER: break;
    }
    return QW_ICE_UNKNOWN;
}

const char *qw_ice_transform_str(const qw_ice_part_field *pf, char *buf, size_t cap)
{
    static const char *const names[] = {"identity", "day",      "month", "year",   "hour",
                                        "bucket",   "truncate", "void",  "unknown"};
    if (pf->transform == QW_ICE_T_BUCKET || pf->transform == QW_ICE_T_TRUNCATE)
        snprintf(buf, cap, "%s[%d]", names[pf->transform], pf->param);
    else
        snprintf(buf, cap, "%s", names[pf->transform]);
    return buf;
}

int32_t qw_ice_day_from_us(int64_t us)
{
    const int64_t day = 86400LL * 1000000LL;
    int64_t q = us / day;
    if (us % day != 0 && us < 0)
        q--;
    return (int32_t)q;
}

/* ---- bounds ---- */

static void le(qw_ice_bytes *o, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        o->b[i] = (uint8_t)(v >> (8 * i));
    o->len = (uint16_t)n;
    o->has = 1;
}

void qw_ice_bound_bool(qw_ice_bytes *o, int v)
{
    le(o, v ? 1 : 0, 1);
}
void qw_ice_bound_int(qw_ice_bytes *o, int32_t v)
{
    le(o, (uint32_t)v, 4);
}
void qw_ice_bound_long(qw_ice_bytes *o, int64_t v)
{
    le(o, (uint64_t)v, 8);
}

void qw_ice_bound_double(qw_ice_bytes *o, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    le(o, u, 8);
}

void qw_ice_bound_float(qw_ice_bytes *o, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    le(o, u, 4);
}

void qw_ice_bound_decimal(qw_ice_bytes *o, int64_t unscaled)
{
    qw_ice_bound_decimal128(o, unscaled);
}

void qw_ice_bound_decimal128(qw_ice_bytes *o, qw_sz unscaled)
{
    unsigned __int128 u = (unsigned __int128)unscaled;
    int n = 16;
    /* drop leading bytes that are pure sign extension of the next one */
    while (n > 1) {
        uint8_t top = (uint8_t)(u >> (8 * (n - 1)));
        uint8_t next = (uint8_t)(u >> (8 * (n - 2)));
        if ((top == 0x00 && !(next & 0x80)) || (top == 0xff && (next & 0x80)))
            n--;
        else
            break;
    }
    for (int i = 0; i < n; i++)
        o->b[i] = (uint8_t)(u >> (8 * (n - 1 - i)));
    o->len = (uint16_t)n;
    o->has = 1;
}

static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((uint8_t)s[k] & 0xc0) == 0x80) /* s[k] continues a code point */
        k--;
    return k;
}

void qw_ice_bound_string_lower(qw_ice_bytes *o, const char *s, size_t n)
{
    size_t k = utf8_prefix(s, n, QW_ICE_STR_TRUNC);
    memcpy(o->b, s, k);
    o->len = (uint16_t)k;
    o->has = 1;
}

void qw_ice_bound_string_upper(qw_ice_bytes *o, const char *s, size_t n)
{
    size_t k = utf8_prefix(s, n, QW_ICE_STR_TRUNC);
    memcpy(o->b, s, k);
    o->len = (uint16_t)k;
    o->has = 1;
    if (k == n)
        return; /* not truncated: the value itself is the bound */
    while (o->len > 0) {
        if (o->b[o->len - 1] != 0xff) {
            o->b[o->len - 1]++;
            return;
        }
        o->len--;
    }
    o->has = 0;
}

qw_err qw_ice_bound_datum(qw_ice_bytes *o, const qw_ice_datum *d)
{
    memset(o, 0, sizeof(*o));
    if (d->is_null)
        return QW_OK;
    switch (d->type) {
    case QW_ICE_BOOLEAN: qw_ice_bound_bool(o, (int)d->i); break;
    case QW_ICE_INT:
    case QW_ICE_DATE: qw_ice_bound_int(o, (int32_t)d->i); break;
    case QW_ICE_LONG:
    case QW_ICE_TIME:
    case QW_ICE_TIMESTAMP:
    case QW_ICE_TIMESTAMPTZ: qw_ice_bound_long(o, d->i); break;
    case QW_ICE_FLOAT: qw_ice_bound_float(o, (float)d->d); break;
    case QW_ICE_DOUBLE: qw_ice_bound_double(o, d->d); break;
    case QW_ICE_DECIMAL: qw_ice_bound_decimal(o, d->i); break;
    case QW_ICE_STRING: {
        size_t n = strlen(d->s);
        memcpy(o->b, d->s, n);
        o->len = (uint16_t)n;
        o->has = 1;
        break;
    }
    default: return QW_UNSUPPORTED;
    }
    return QW_OK;
}

qw_err qw_ice_bound_get_long(const qw_ice_bytes *b, qw_ice_type t, int64_t *out)
{
    if (!b->has)
        return QW_NOT_FOUND;
    int want = (t == QW_ICE_INT || t == QW_ICE_DATE) ? 4 : 8;
    if (t == QW_ICE_DECIMAL) {
        if (b->len < 1 || b->len > 8)
            return QW_CORRUPT;
        uint64_t v = (b->b[0] & 0x80) ? ~(uint64_t)0 : 0;
        for (int i = 0; i < b->len; i++)
            v = (v << 8) | b->b[i];
        *out = (int64_t)v;
        return QW_OK;
    }
    if (b->len != want)
        return QW_CORRUPT;
    uint64_t v = 0;
    for (int i = 0; i < want; i++)
        v |= (uint64_t)b->b[i] << (8 * i);
    *out = want == 4 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
    return QW_OK;
}

qw_err qw_ice_bound_get_double(const qw_ice_bytes *b, qw_ice_type t, double *out)
{
    if (!b->has)
        return QW_NOT_FOUND;
    uint64_t v = 0;
    int want = t == QW_ICE_FLOAT ? 4 : 8;
    if (b->len != want)
        return QW_CORRUPT;
    for (int i = 0; i < want; i++)
        v |= (uint64_t)b->b[i] << (8 * i);
    if (want == 4) {
        float f;
        uint32_t u = (uint32_t)v;
        memcpy(&f, &u, 4);
        *out = f;
    } else {
        memcpy(out, &v, 8);
    }
    return QW_OK;
}

/* ---- data-file statistics ---- */

const qw_ice_col_stats *qw_ice_data_file_find(const qw_ice_data_file *f, int field_id)
{
    for (int i = 0; i < f->ncols; i++)
        if (f->cols[i].field_id == field_id)
            return &f->cols[i];
    return NULL;
}

qw_ice_col_stats *qw_ice_data_file_col(qw_ice_data_file *f, int field_id)
{
    for (int i = 0; i < f->ncols; i++)
        if (f->cols[i].field_id == field_id)
            return &f->cols[i];
    if (f->ncols >= QW_ICE_MAX_STATS)
        return NULL;
    qw_ice_col_stats *c = &f->cols[f->ncols++];
    memset(c, 0, sizeof(*c));
    c->field_id = field_id;
    c->column_size = c->value_count = c->null_count = c->nan_count = -1;
    return c;
}

int qw_ice_file_may_overlap_long(const qw_ice_data_file *f, int field_id, qw_ice_type t, int64_t lo,
                                 int64_t hi)
{
    const qw_ice_col_stats *c = qw_ice_data_file_find(f, field_id);
    if (!c)
        return 1;
    if (c->value_count >= 0 && c->null_count >= 0 && c->value_count == c->null_count &&
        c->value_count > 0)
        return 0; /* only nulls: no value can be in range */
    int64_t v;
    if (qw_ice_bound_get_long(&c->lower, t, &v) == QW_OK && v > hi)
        return 0;
    if (qw_ice_bound_get_long(&c->upper, t, &v) == QW_OK && v < lo)
        return 0;
    return 1;
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

int qw_ice_file_may_contain_string(const qw_ice_data_file *f, int field_id, const char *s)
{
    const qw_ice_col_stats *c = qw_ice_data_file_find(f, field_id);
    if (!c)
        return 1;
    size_t n = strlen(s);
    /* lower is a prefix-or-smaller bound: s < lower means absent */
    if (c->lower.has && bytes_cmp((const uint8_t *)s, n, c->lower.b, c->lower.len) < 0)
        return 0;
    /* upper is the maximum or a truncated prefix incremented past it */
    if (c->upper.has && bytes_cmp((const uint8_t *)s, n, c->upper.b, c->upper.len) > 0)
        return 0;
    return 1;
}

/* ---- ids ---- */

int64_t qw_ice_random_id(void)
{
    uint64_t v = 0;
    while (v == 0) {
        if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
            v = (uint64_t)(uintptr_t)&v ^ 0x9e3779b97f4a7c15ULL;
        v &= 0x7fffffffffffffffULL;
    }
    return (int64_t)v;
}

void qw_ice_uuid(char out[37])
{
    uint8_t b[16] = {0};
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        int64_t a = qw_ice_random_id(), c = qw_ice_random_id();
        memcpy(b, &a, 8);
        memcpy(b + 8, &c, 8);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}
