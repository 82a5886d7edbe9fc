/* Fuzz target: the input readers every command shares (plain, .gz and .zst, chosen by the magic
 * bytes, and the line splitter on top). Any bytes must give bytes or an error naming the file; never a
 * crash or a hang. Output is capped so a small decompression bomb costs time, not the fuzzer's memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/reader.h"
#include "fuzz_util.h"

#define CAP (8u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("input", data, size);
    lmc_err err = {0};
    lmc_reader *r;
    if (lmc_reader_open(&r, path, &err) == 0) {
        char buf[4096];
        long n;
        size_t total = 0;
        while ((n = lmc_reader_read(r, buf, sizeof buf, &err)) > 0 && total < CAP) total += (size_t)n;
        if (n < 0 && !strstr(err.msg, "input")) abort();
        /* plain input comes back unchanged */
        if (n == 0 && lmc_reader_compression(r) == LMC_COMP_NONE && total != size) abort();
        lmc_reader_close(r);
    } else if (!err.msg[0]) {
        abort();
    }
    lmc_lines *lr;
    if (lmc_lines_open(&lr, path, &err) == 0) {
        const char *line;
        size_t len, total = 0;
        int rc;
        while ((rc = lmc_lines_next(lr, &line, &len, &err)) > 0 && total < CAP) total += len + 1;
        if (rc < 0 && !err.msg[0]) abort();
        lmc_lines_close(lr);
    }
    return 0;
}
