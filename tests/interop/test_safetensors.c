/* safetensors: writer/reader round trip and every rule of the format, one bad file per rule. */
#include "test.h"
#include "interop/safetensors.h"
#include "base/io.h"

static uint8_t buf[1 << 16];

/* u64 length + header text + data_len bytes of data */
static size_t make(const char *hdr, size_t data_len) {
    size_t n = strlen(hdr);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, hdr, n);
    memset(buf + 8 + n, 0, data_len);
    return 8 + n + data_len;
}

static void expect_bad(const char *hdr, size_t data_len, const char *needle) {
    st_file f;
    lmc_err err = {0};
    size_t len = make(hdr, data_len);
    int rc = st_parse(&f, buf, len, "t.safetensors", &err);
    CHECK_MSG(rc != 0, "accepted: %s", hdr);
    if (rc) {
        CHECK_STR_CONTAINS(err.msg, "t.safetensors");
        CHECK_STR_CONTAINS(err.msg, needle);
    } else {
        st_close(&f);
    }
}

static void expect_ok(const char *hdr, size_t data_len) {
    st_file f;
    lmc_err err = {0};
    size_t len = make(hdr, data_len);
    int rc = st_parse(&f, buf, len, "t.safetensors", &err);
    CHECK_MSG(rc == 0, "%s: %s", hdr, err.msg);
    if (!rc) st_close(&f);
}

int main(void) {
    lmc_err err = {0};
    /* round trip through the writer */
    char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    float a[6] = {1, -2, 3.5f, 1e-30f, -0.0f, 65504};
    uint16_t h[3] = {st_f32_to_bf16(1.5f), st_f32_to_bf16(-2.0f), st_f32_to_bf16(3.14159f)};
    int32_t iv[2] = {7, -9};
    st_out outs[] = {
        {"b.weight", ST_F32, 2, {2, 3}, a},
        {"a.bf16", ST_BF16, 1, {3}, h},
        {"c.int", ST_I32, 1, {2}, iv},
        {"empty", ST_F32, 2, {0, 4}, a},
        {"scalar", ST_F32, 0, {0}, a},
    };
    static const char *const meta[] = {"format", "pt", "note", "x\"y", NULL};
    CHECK_MSG(st_write(path, outs, 5, meta, &err) == 0, "%s", err.msg);
    st_file f;
    CHECK_MSG(st_open(&f, path, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(f.n_tensors, 5);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | f.buf[i];
    CHECK(hl % 8 == 0 && f.buf[8] == '{');   /* padded with spaces to 8; data 8-aligned */
    CHECK(strcmp(st_meta(&f, "format"), "pt") == 0 && strcmp(st_meta(&f, "note"), "x\"y") == 0);
    const st_tensor *t = st_find(&f, "b.weight");
    CHECK(t && t->dtype == ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
    CHECK(t && t->begin == 0);  /* largest alignment first: the F32 tensors lead */
    float back[6];
    CHECK(t && st_read_f32(&f, t, back, 6, &err) == 0 && memcmp(back, a, sizeof a) == 0);
    t = st_find(&f, "a.bf16");
    CHECK(t && st_read_f32(&f, t, back, 3, &err) == 0 && back[0] == 1.5f && back[1] == -2.0f &&
          fabsf(back[2] - 3.14159f) < 0.01f);
    t = st_find(&f, "c.int");
    CHECK(t && st_read_f32(&f, t, back, 2, &err) != 0);  /* integer tensors are not floats */
    t = st_find(&f, "empty");
    CHECK(t && t->numel == 0 && t->begin == t->end);
    t = st_find(&f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1);
    CHECK(st_read_f32(&f, st_find(&f, "b.weight"), back, 5, &err) != 0);  /* wrong count */
    st_close(&f);

    /* fp16 / bf16 conversions */
    CHECK(st_f16_to_f32(0x3c00) == 1.0f && st_f16_to_f32(0xc000) == -2.0f && st_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(st_f16_to_f32(0x0001) == ldexpf(1.0f, -24) && isinf(st_f16_to_f32(0x7c00)) && isnan(st_f16_to_f32(0x7e00)));
    int rt = 1;
    for (uint32_t u = 0; u < 65536; u++) {
        uint16_t v = (uint16_t)u;
        float x = st_f16_to_f32(v);
        if (isnan(x)) continue;
        if (st_f32_to_f16(x) != v) rt = 0;
        if (!isnan(st_bf16_to_f32(v)) && st_f32_to_bf16(st_bf16_to_f32(v)) != v) rt = 0;
    }
    CHECK(rt);
    CHECK(st_f32_to_f16(1e6f) == 0x7c00 && st_f32_to_bf16(1.00390625f) == 0x3f80); /* ties to even */

    /* valid edge cases */
    expect_ok("{}", 0);
    expect_ok("  {\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}   ", 4);
    expect_ok("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);

    /* the file-level rules */
    st_file g;
    CHECK(st_parse(&g, buf, 7, "t.safetensors", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "too small");
    memset(buf, 0xff, 8);
    CHECK(st_parse(&g, buf, 64, "t.safetensors", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "100,000,000");
    size_t n = make("{}", 0);
    buf[0] = 200; /* header length past the end */
    CHECK(st_parse(&g, buf, n, "t.safetensors", &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "past the end");

    expect_bad("[1,2]", 0, "'{'");
    expect_bad("{\"a\":", 0, "JSON");
    expect_bad("{\"a\xff\":{}}", 0, "JSON");                     /* invalid UTF-8 */
    expect_bad("{\"a\":1,\"a\":2}", 0, "JSON");                  /* duplicate key */
    expect_bad("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "needs 8 bytes");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,4]}}", 4, "overflow");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "end");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets");
    expect_bad("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unknown field");
    expect_bad("{\"a\":[]}", 0, "not a JSON object");
    /* gaps, overlaps, not starting at 0, trailing bytes (polyglot), short buffer */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "gap");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "overlap");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 5, "after the header");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "after the header");
    expect_bad("{\"__metadata__\":{\"format\":1}}", 0, "not a string");
    expect_bad("{\"__metadata__\":[]}", 0, "not an object");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "dimensions");

    /* open: missing file, truncated file */
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    CHECK(st_open(&g, path, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "missing.safetensors");
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    char *data;
    size_t len;
    CHECK(lmc_read_file(path, &data, &len, &err) == 0);
    snprintf(path, sizeof path, "%s/trunc.safetensors", dir);
    CHECK(lmc_write_file_atomic(path, data, len - 3, &err) == 0);
    CHECK(st_open(&g, path, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "trunc.safetensors");
    free(data);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("safetensors");
}
