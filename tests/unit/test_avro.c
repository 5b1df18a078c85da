/* test_avro.c: Avro encoders (spec vectors), container write -> read round
 * trips with both codecs, fixture manifests written by Java/Spark/pyiceberg,
 * and hostile inputs (every truncation, bad sync, huge counts). */
#include <dirent.h>
#include <string.h>

#include "avro/avro_json.h"
#include "core/alloc.h"
#include "harness.h"

static const char *SCHEMA =
    "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"field-id\":1},"
    "{\"name\":\"name\",\"type\":[\"null\",\"string\"],\"default\":null,\"field-id\":2},"
    "{\"name\":\"ok\",\"type\":\"boolean\",\"field-id\":3},"
    "{\"name\":\"x\",\"type\":\"double\",\"field-id\":4},"
    "{\"name\":\"f\",\"type\":\"float\",\"field-id\":5},"
    "{\"name\":\"b\",\"type\":\"bytes\",\"field-id\":6},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"f2\",\"size\":2},\"field-id\":7},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"
    "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":\"int\",\"element-id\":9}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}}]}";

static void encode_one(qw_avro_buf *b, int64_t i)
{
    qw_avro_put_long(b, i * 1000003);
    if (i % 3 == 0) {
        qw_avro_put_union(b, 0);
    } else {
        qw_avro_put_union(b, 1);
        qw_avro_put_string(b, "BTC-USD");
    }
    qw_avro_put_bool(b, (int)(i & 1));
    qw_avro_put_double(b, (double)i / 4.0);
    qw_avro_put_float(b, 1.5f);
    qw_avro_put_bytes(b, "\x00\xff", 2);
    qw_avro_put_fixed(b, "\x01\x02", 2);
    qw_avro_put_long(b, i & 1);
    qw_avro_put_block(b, 2);
    qw_avro_put_int(b, -1);
    qw_avro_put_int(b, (int32_t)i);
    qw_avro_put_block(b, 0);
    qw_avro_put_block(b, 1);
    qw_avro_put_string(b, "k");
    qw_avro_put_long(b, -i);
    qw_avro_put_block(b, 0);
}

static uint8_t *make_file(qw_avro_codec codec, int n, size_t *len)
{
    qw_avro_meta meta[] = {{"format-version", "2"}, {"content", "data"}};
    qw_avro_writer *w;
    ASSERT_OK(qw_avro_writer_create(&w, SCHEMA, meta, 2, codec, NULL, 1u << 26));
    for (int i = 0; i < n; i++) {
        encode_one(qw_avro_writer_record(w), i);
        ASSERT_OK(qw_avro_writer_end_record(w));
    }
    uint8_t *out;
    ASSERT_OK(qw_avro_writer_finish(w, &out, len));
    qw_avro_writer_destroy(w);
    return out;
}

TEST(avro_zigzag_vectors)
{
    /* Avro spec, "Binary Encoding": 0->00 -1->01 1->02 -2->03 2->04 -64->7f 64->80 01 */
    static const struct {
        int64_t v;
        uint8_t b[10];
        size_t n;
    } vec[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {-2, {0x03}, 1},
        {2, {0x04}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {INT64_MAX, {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
        {INT64_MIN, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        qw_avro_buf b;
        qw_avro_buf_init(&b, 64);
        qw_avro_put_long(&b, vec[i].v);
        ASSERT_EQ(b.len, vec[i].n);
        ASSERT_TRUE(memcmp(b.p, vec[i].b, vec[i].n) == 0);
        qw_avro_cur c = {b.p, b.p + b.len};
        int64_t back;
        ASSERT_OK(qw_avro_get_long(&c, &back));
        ASSERT_EQ(back, vec[i].v);
        qw_avro_buf_fini(&b);
    }
    /* an 11-byte varint and a 10th byte carrying more than 1 bit are corrupt */
    uint8_t bad[11];
    memset(bad, 0xff, sizeof(bad));
    qw_avro_cur c = {bad, bad + 11};
    int64_t v;
    ASSERT_ERR(QW_CORRUPT, qw_avro_get_long(&c, &v));
    /* int outside 32 bits */
    qw_avro_buf b;
    qw_avro_buf_init(&b, 64);
    qw_avro_put_long(&b, (int64_t)1 << 40);
    qw_avro_cur c2 = {b.p, b.p + b.len};
    int32_t i32;
    ASSERT_ERR(QW_CORRUPT, qw_avro_get_int(&c2, &i32));
    qw_avro_buf_fini(&b);
    /* the bounded buffer refuses to grow past max */
    qw_avro_buf_init(&b, 4);
    qw_avro_put_string(&b, "hello");
    ASSERT_ERR(QW_TOO_LARGE, b.err);
    qw_avro_buf_fini(&b);
}

static void check_file(const uint8_t *f, size_t len, int n)
{
    qw_avro_reader *r;
    char err[256];
    ASSERT_OK(qw_avro_reader_open(&r, f, len, NULL, err, sizeof(err)));
    char v[32];
    ASSERT_OK(qw_avro_reader_meta_str(r, "format-version", v, sizeof(v)));
    ASSERT_STREQ(v, "2");
    ASSERT_OK(qw_avro_reader_meta_str(r, "content", v, sizeof(v)));
    ASSERT_STREQ(v, "data");
    /* the schema is written verbatim: field-id attributes survive */
    const json_t *s = qw_avro_reader_schema(r);
    json_t *f0 = json_array_get(json_object_get(s, "fields"), 0);
    ASSERT_EQ(json_integer_value(json_object_get(f0, "field-id")), 1);
    for (int i = 0; i < n; i++) {
        json_t *rec;
        ASSERT_OK(qw_avro_reader_next(r, &rec));
        ASSERT_TRUE(rec != NULL);
        ASSERT_EQ(json_integer_value(json_object_get(rec, "id")), (int64_t)i * 1000003);
        json_t *name = json_object_get(rec, "name");
        if (i % 3 == 0)
            ASSERT_TRUE(json_is_null(name));
        else
            ASSERT_STREQ(json_string_value(name), "BTC-USD");
        ASSERT_TRUE(json_is_true(json_object_get(rec, "ok")) == (i & 1));
        ASSERT_DBL_NEAR(json_real_value(json_object_get(rec, "x")), i / 4.0, 0);
        ASSERT_DBL_NEAR(json_real_value(json_object_get(rec, "f")), 1.5, 0);
        ASSERT_STREQ(json_string_value(json_object_get(rec, "b")), "00ff");
        ASSERT_STREQ(json_string_value(json_object_get(rec, "fx")), "0102");
        ASSERT_STREQ(json_string_value(json_object_get(rec, "e")), (i & 1) ? "B" : "A");
        json_t *arr = json_object_get(rec, "arr");
        ASSERT_EQ(json_array_size(arr), 2);
        ASSERT_EQ(json_integer_value(json_array_get(arr, 1)), i);
        ASSERT_EQ(json_integer_value(json_object_get(json_object_get(rec, "m"), "k")), -i);
        json_decref(rec);
    }
    json_t *end;
    ASSERT_OK(qw_avro_reader_next(r, &end));
    ASSERT_TRUE(end == NULL);
    qw_avro_reader_close(r);
}

TEST(avro_container_roundtrip_null_and_deflate)
{
    for (int codec = 0; codec < 2; codec++) {
        size_t len;
        /* 5000 records span several 64 KiB blocks */
        uint8_t *f = make_file((qw_avro_codec)codec, 5000, &len);
        check_file(f, len, 5000);
        qw_free(f);
        f = make_file((qw_avro_codec)codec, 0, &len);
        check_file(f, len, 0);
        qw_free(f);
    }
}

static qw_err read_all(const uint8_t *f, size_t len, int *count)
{
    qw_avro_reader *r;
    qw_err e = qw_avro_reader_open(&r, f, len, NULL, NULL, 0);
    *count = 0;
    if (e != QW_OK)
        return e;
    for (;;) {
        json_t *rec;
        e = qw_avro_reader_next(r, &rec);
        if (e != QW_OK || !rec)
            break;
        (*count)++;
        json_decref(rec);
    }
    qw_avro_reader_close(r);
    return e;
}

TEST(avro_truncated_at_every_length)
{
    for (int codec = 0; codec < 2; codec++) {
        size_t len;
        uint8_t *f = make_file((qw_avro_codec)codec, 40, &len);
        int n;
        ASSERT_OK(read_all(f, len, &n));
        ASSERT_EQ(n, 40);
        int errors = 0, empty = 0;
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *t = qw_malloc(cut + 1); /* exact-size copy: ASan sees overreads */
            memcpy(t, f, cut);
            qw_err e = read_all(t, cut, &n);
            if (e != QW_OK)
                errors++;
            else if (n == 0)
                empty++; /* cut right after the header: a valid empty file */
            qw_free(t);
        }
        ASSERT_EQ(empty, 1);
        ASSERT_EQ(errors, (int64_t)len - 1);
        qw_free(f);
    }
}

TEST(avro_bad_sync_huge_counts_garbage)
{
    size_t len;
    uint8_t *f = make_file(QW_AVRO_CODEC_NULL, 3, &len);
    int n;
    /* corrupt the trailing sync marker */
    f[len - 1] ^= 0xff;
    ASSERT_ERR(QW_CORRUPT, read_all(f, len, &n));
    f[len - 1] ^= 0xff;
    /* bad magic */
    f[0] = 'X';
    ASSERT_ERR(QW_CORRUPT, read_all(f, len, &n));
    qw_free(f);

    /* a block claiming 2^62 records of an empty record type: bounded by max_items */
    qw_avro_meta none[1];
    qw_avro_writer *w;
    ASSERT_OK(qw_avro_writer_create(&w, "{\"type\":\"record\",\"name\":\"e\",\"fields\":[]}", none,
                                    0, QW_AVRO_CODEC_NULL, (const uint8_t *)"0123456789abcdef",
                                    1 << 20));
    uint8_t *g;
    ASSERT_OK(qw_avro_writer_finish(w, &g, &len));
    qw_avro_writer_destroy(w);
    qw_avro_buf b;
    qw_avro_buf_init(&b, 1 << 20);
    qw_avro_put_raw(&b, g, len);
    qw_avro_put_long(&b, (int64_t)1 << 62);
    qw_avro_put_long(&b, 0);
    qw_avro_put_raw(&b, "0123456789abcdef", 16);
    ASSERT_ERR(QW_CORRUPT, read_all(b.p, b.len, &n));
    /* negative block count / size beyond the file */
    b.len = len;
    qw_avro_put_long(&b, -5);
    qw_avro_put_long(&b, 0);
    ASSERT_ERR(QW_CORRUPT, read_all(b.p, b.len, &n));
    b.len = len;
    qw_avro_put_long(&b, 1);
    qw_avro_put_long(&b, (int64_t)1 << 40);
    ASSERT_ERR(QW_CORRUPT, read_all(b.p, b.len, &n));
    qw_avro_buf_fini(&b);
    qw_free(g);

    /* array item count far beyond the bytes present */
    ASSERT_OK(qw_avro_writer_create(&w, "{\"type\":\"array\",\"items\":\"null\"}", none, 0,
                                    QW_AVRO_CODEC_NULL, NULL, 1 << 20));
    qw_avro_buf *rb = qw_avro_writer_record(w);
    qw_avro_put_block(rb, (int64_t)1 << 60);
    qw_avro_put_block(rb, 0);
    ASSERT_OK(qw_avro_writer_end_record(w));
    ASSERT_OK(qw_avro_writer_finish(w, &g, &len));
    qw_avro_writer_destroy(w);
    ASSERT_ERR(QW_CORRUPT, read_all(g, len, &n));
    qw_free(g);

    /* schema errors: unknown named type, unknown codec */
    ASSERT_ERR(QW_BAD_JSON,
               qw_avro_writer_create(&w, "{nope", none, 0, QW_AVRO_CODEC_NULL, NULL, 1024));
    ASSERT_OK(qw_avro_writer_create(&w, "\"Unknown\"", none, 0, QW_AVRO_CODEC_NULL, NULL, 1024));
    ASSERT_OK(qw_avro_writer_finish(w, &g, &len));
    qw_avro_writer_destroy(w);
    ASSERT_ERR(QW_CORRUPT, read_all(g, len, &n));
    qw_free(g);
}

static int read_fixture_dir(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int records = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[1024];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            records += read_fixture_dir(path, files);
            continue;
        }
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 5, ".avro") != 0)
            continue;
        FILE *fp = fopen(path, "rb");
        ASSERT_TRUE(fp != NULL);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        int n;
        qw_err e = read_all(buf, len, &n);
        if (e != QW_OK)
            qwt_fail(__FILE__, __LINE__, "%s: %s", path, qw_err_name(e));
        ASSERT_TRUE(n > 0);
        records += n;
        (*files)++;
    }
    closedir(d);
    return records;
}

TEST(avro_reads_every_fixture_file)
{
    const char *sh = getenv("QW_SHARED");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/data/iceberg_fixtures", sh ? sh : "/work/shared");
    int files = 0;
    int records = read_fixture_dir(dir, &files);
    ASSERT_TRUE(files >= 30);
    ASSERT_TRUE(records >= files);
}
