/* lmc tokenizer count: token frequencies of shards (FR-Spec's draft vocabulary). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "data/shard.h"

static const lmc_opt count_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT.txt", "write the counts here (default: stdout)"},
    {"data-format", 0, OPT_STR, "llmc", "llmc|nanogpt", "shard layout"},
    {"top", 0, OPT_INT, "0", "K", "only the K most frequent ids (0 = every id that occurs)"},
    LMC_OPTS_END};

typedef struct { uint32_t id; uint64_t n; } idc;
static int cmp_idc(const void *a, const void *b) {
    const idc *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int run_count(lmc_args *a) {
    lmc_err err = {0};
    lmc_shard_kind kind;
    if (lmc_shard_kind_parse(lmc_arg_str(a, "data-format"), &kind)) return lmc_usage_error(a, "--data-format must be llmc or nanogpt");
    int64_t top = lmc_arg_int(a, "top");
    if (top < 0) return lmc_usage_error(a, "--top must be >= 0");
    uint64_t *cnt = NULL;
    uint32_t ncnt = 0;
    uint64_t total = 0;
    int32_t buf[4096];
    for (int i = 0; i < lmc_arg_npos(a); i++) {
        lmc_shard sh;
        if (lmc_shard_open_kind(&sh, lmc_arg_pos(a, i), kind, &err)) { free(cnt); return lmc_fail(a, "%s", err.msg); }
        uint32_t mx = lmc_shard_max_token(&sh);
        if (sh.ntok && mx + 1 > ncnt) {
            uint64_t *c = realloc(cnt, ((size_t)mx + 1) * sizeof *c);
            if (!c) { lmc_shard_close(&sh); free(cnt); return lmc_fail(a, "out of memory"); }
            memset(c + ncnt, 0, ((size_t)mx + 1 - ncnt) * sizeof *c);
            cnt = c;
            ncnt = mx + 1;
        }
        for (uint64_t s = 0; s < sh.ntok; s += 4096) {
            uint64_t n = sh.ntok - s < 4096 ? sh.ntok - s : 4096;
            lmc_shard_read(&sh, s, n, buf);
            for (uint64_t k = 0; k < n; k++) cnt[buf[k]]++;
        }
        total += sh.ntok;
        lmc_shard_close(&sh);
    }
    idc *v = malloc(((size_t)ncnt + 1) * sizeof *v);
    size_t nv = 0;
    for (uint32_t i = 0; v && i < ncnt; i++)
        if (cnt[i]) { v[nv].id = i; v[nv].n = cnt[i]; nv++; }
    free(cnt);
    if (!v) return lmc_fail(a, "out of memory");
    qsort(v, nv, sizeof *v, cmp_idc);
    if (top > 0 && (size_t)top < nv) nv = (size_t)top;
    lmc_buf b = {0};
    int rc = 0;
    for (size_t i = 0; i < nv && !rc; i++) rc = lmc_buf_printf(&b, &err, "%u %llu\n", v[i].id, (unsigned long long)v[i].n);
    free(v);
    const char *o = lmc_arg_str(a, "output");
    if (!rc && o) rc = lmc_write_file_atomic(o, b.data, b.len, &err);
    else if (!rc && b.len) fwrite(b.data, 1, b.len, stdout);
    lmc_buf_free(&b);
    if (rc) return lmc_fail(a, "%s", err.msg);
    fprintf(stderr, "%llu tokens, %zu distinct ids%s%s\n", (unsigned long long)total, nv, o ? " -> " : "", o ? o : "");
    return 0;
}

const lmc_command tokenizer_count_cmd = {"count", "count token ids in shards, most frequent first (FR-Spec)",
    "[options] SHARD...",
    "Writes one line \"id count\" per id that occurs, sorted by count (descending; ties by id). The first K\n"
    "lines are FR-Spec's draft vocabulary: lmc sample --speculative --frspec-vocab K --frspec-counts FILE.",
    count_opts, 1, -1, run_count, NULL, 0};
