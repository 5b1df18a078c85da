/* s3_xml.c: the minimal XML scanner for the S3 answers we read
 * (ListObjectsV2, CreateMultipartUpload, errors): find an element by name,
 * decode its text. Bounded by the caller's range and output capacity; no
 * DTD, no namespaces; see objstore.h for why not a general parser. */
#include <stdio.h>
#include <string.h>

#include "objstore/objstore.h"

/* The next "<name" followed by '>' or whitespace (attributes skipped) or
 * "/>" in [p, end); returns the position after '>' (self-closing: *empty). */
static const char *open_tag(const char *p, const char *end, const char *name, size_t nl,
                            const char **tag, int *empty)
{
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt || (size_t)(end - lt) < nl + 2)
            return NULL;
        const char *q = lt + 1;
        if (memcmp(q, name, nl) == 0 && (q[nl] == '>' || q[nl] == ' ' || q[nl] == '\t' ||
                                         q[nl] == '\n' || q[nl] == '\r' || q[nl] == '/')) {
            const char *gt = memchr(q + nl, '>', (size_t)(end - (q + nl)));
            if (!gt)
                return NULL;
            *tag = lt;
            *empty = gt[-1] == '/';
            return gt + 1;
        }
        p = lt + 1;
    }
    return NULL;
}

int qw_s3_xml_elem(const char **p, const char *end, const char *name, const char **b,
                   const char **e)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl > 64)
        return -1;
    const char *tag;
    int empty;
    const char *body = open_tag(*p, end, name, nl, &tag, &empty);
    if (!body)
        return -1;
    if (empty) {
        *b = *e = body;
        *p = body;
        return 0;
    }
    /* the matching "</name>": elements we read do not nest in themselves */
    const char *q = body;
    while (q < end) {
        const char *lt = memchr(q, '<', (size_t)(end - q));
        if (!lt || (size_t)(end - lt) < nl + 3)
            return -1;
        if (lt[1] == '/' && memcmp(lt + 2, name, nl) == 0 && lt[2 + nl] == '>') {
            *b = body;
            *e = lt;
            *p = lt + nl + 3;
            return 0;
        }
        q = lt + 1;
    }
    return -1;
}

/* One entity at s (after '&') into *out; returns its length including ';'
 * or 0 when unknown. */
static size_t entity(const char *s, const char *end, char *out, size_t *olen)
{
    static const struct {
        const char *n;
        char c;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t l = strlen(named[i].n);
        if ((size_t)(end - s) >= l && memcmp(s, named[i].n, l) == 0) {
            out[0] = named[i].c;
            *olen = 1;
            return l;
        }
    }
    if (s < end && *s == '#') {
        unsigned long v = 0;
        const char *q = s + 1;
        int hex = q < end && (*q == 'x' || *q == 'X');
        if (hex)
            q++;
        const char *d0 = q;
        for (; q < end && *q != ';' && q - d0 < 8; q++) {
            int c = (unsigned char)*q, dv;
            if (c >= '0' && c <= '9')
                dv = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                dv = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                dv = c - 'A' + 10;
            else
                return 0;
            v = v * (hex ? 16u : 10u) + (unsigned long)dv;
        }
        if (q >= end || *q != ';' || q == d0 || v == 0 || v > 0x10FFFF)
            return 0;
        /* UTF-8 */
        if (v < 0x80) {
            out[0] = (char)v;
            *olen = 1;
        } else if (v < 0x800) {
            out[0] = (char)(0xC0 | (v >> 6));
            out[1] = (char)(0x80 | (v & 0x3F));
            *olen = 2;
        } else if (v < 0x10000) {
            out[0] = (char)(0xE0 | (v >> 12));
            out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
            out[2] = (char)(0x80 | (v & 0x3F));
            *olen = 3;
        } else {
            out[0] = (char)(0xF0 | (v >> 18));
            out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
            out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
            out[3] = (char)(0x80 | (v & 0x3F));
            *olen = 4;
        }
        return (size_t)(q - s) + 1;
    }
    return 0;
}

int qw_s3_xml_text(const char **p, const char *end, const char *name, char *out, size_t cap)
{
    const char *b, *e, *q = *p;
    if (cap == 0 || qw_s3_xml_elem(&q, end, name, &b, &e) != 0)
        return -1;
    size_t n = 0;
    for (const char *s = b; s < e;) {
        char tmp[4];
        size_t tl = 1, used = 1;
        if (*s == '<')
            return -1; /* markup inside: not a text element */
        if (*s == '&') {
            used = entity(s + 1, e, tmp, &tl);
            if (!used)
                return -1;
            used++;
        } else {
            tmp[0] = *s;
        }
        if (n + tl >= cap)
            return -1;
        memcpy(out + n, tmp, tl);
        n += tl;
        s += used;
    }
    out[n] = 0;
    *p = q;
    return 0;
}
