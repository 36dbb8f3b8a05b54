/* The decode floor of `chiptrail ingest` on CloudTrail: what zlib plus the fast path's structural index
 * and record walk cost with nothing else done per record (no fields to calls, no hashing, no
 * de-duplication, sessions or scoring). Scripts/bench-decode-floor runs it beside `chiptrail inflate`
 * and `chiptrail ingest --no-store --jobs 1` to show how much of the core pipeline's time budget the
 * decoder alone takes.
 *
 *   floor inflate FILE...   zlib inflate (gzip, multi-member) into 1 MiB buffers, bytes discarded
 *   floor walk FILE...      the same, plus cjson_index and ctrail_scan over every record
 *
 * Prints the decompressed bytes and records walked. Built against Sources/CJSONIndex and the system
 * zlib, as the package builds them (-O2; AVX2 chosen at run time by cjsonindex.c).
 */
#include "cjsonindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { CHUNK = 1 << 20, CARRY = 16 << 20, INPUT = 256 << 10 };

static uint8_t input[INPUT];

/* Walks the complete records in buf[0, n): returns where the first incomplete one starts. */
static long walk(const uint8_t *buf, long n, uint64_t *quotes, uint64_t *structure, uint64_t *newlines,
                 long *records) {
    int has_newlines = cjson_index(buf, (size_t)n, quotes, structure, newlines);
    cjson_bits bits = {quotes, structure, newlines, 0, has_newlines};
    long p = 0;
    for (;;) {
        while (p < n && buf[p] != '{') p++;
        if (p >= n) return n;
        if (n - p > 11 && memcmp(buf + p, "{\"Records\":", 11) == 0) {
            p += 11;
            continue;
        }
        ctrail_record record;
        long end = ctrail_scan(buf, p, n, &bits, &record);
        if (end < 0) return p;
        ++*records;
        p = end;
    }
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "inflate") != 0 && strcmp(argv[1], "walk") != 0)) {
        fprintf(stderr, "usage: floor inflate|walk FILE...\n");
        return 2;
    }
    int walking = strcmp(argv[1], "walk") == 0;
    uint8_t *buf = aligned_alloc(64, CARRY + CHUNK + 64);
    size_t words = (CARRY + CHUNK) / 64 + 2;
    uint64_t *quotes = calloc(words, 8), *structure = calloc(words, 8), *newlines = calloc(words, 8);
    if (!buf || !quotes || !structure || !newlines) return 1;
    long long total = 0;
    long records = 0;
    for (int a = 2; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f) {
            perror(argv[a]);
            return 1;
        }
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 15 + 16) != Z_OK) return 1;
        long carried = 0;
        for (;;) {
            if (z.avail_in == 0) {
                z.avail_in = (uInt)fread(input, 1, sizeof input, f);
                z.next_in = input;
                if (z.avail_in == 0) break;
            }
            z.next_out = buf + carried;
            z.avail_out = CHUNK;
            int status = inflate(&z, Z_NO_FLUSH);
            if (status == Z_STREAM_END) {
                inflateReset(&z); /* another member may follow */
            } else if (status != Z_OK && status != Z_BUF_ERROR) {
                fprintf(stderr, "%s: zlib error %d\n", argv[a], status);
                return 1;
            }
            long produced = (long)(z.next_out - (buf + carried));
            total += produced;
            if (!walking) continue;
            long n = carried + produced;
            long done = walk(buf, n, quotes, structure, newlines, &records);
            carried = n - done;
            if (carried > CARRY) {
                /* The generated corpus has none: every record is one the fast path takes. */
                fprintf(stderr, "%s: a record the fast path leaves to the general path, or one over %d bytes\n",
                        argv[a], CARRY);
                return 1;
            }
            memmove(buf, buf + done, (size_t)carried);
        }
        inflateEnd(&z);
        fclose(f);
    }
    printf("%lld bytes, %ld records\n", total, records);
    return 0;
}
