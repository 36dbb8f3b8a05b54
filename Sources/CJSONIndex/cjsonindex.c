#include "cjsonindex.h"
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>

static inline uint64_t eq_mask(const uint8_t *p, uint8_t c) {
    const __m128i needle = _mm_set1_epi8((char)c);
    uint64_t r0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), needle));
    uint64_t r1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), needle));
    uint64_t r2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), needle));
    uint64_t r3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), needle));
    return r0 | (r1 << 16) | (r2 << 32) | (r3 << 48);
}

/// Bits of '{' '[' (folded with 0x20 to '{') and '}' ']' (to '}').
static inline void bracket_masks(const uint8_t *p, uint64_t *open, uint64_t *close) {
    const __m128i fold = _mm_set1_epi8(0x20);
    const __m128i o = _mm_set1_epi8(0x7B);
    const __m128i c = _mm_set1_epi8(0x7D);
    uint64_t ro = 0, rc = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + 16 * k)), fold);
        ro |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, o)) << (16 * k);
        rc |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << (16 * k);
    }
    *open = ro;
    *close = rc;
}
#else
static inline uint64_t eq_mask(const uint8_t *p, uint8_t c) {
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) r |= (uint64_t)(p[i] == c) << i;
    return r;
}

static inline void bracket_masks(const uint8_t *p, uint64_t *open, uint64_t *close) {
    uint64_t ro = 0, rc = 0;
    for (int i = 0; i < 64; i++) {
        uint8_t f = p[i] | 0x20;
        ro |= (uint64_t)(f == 0x7B) << i;
        rc |= (uint64_t)(f == 0x7D) << i;
    }
    *open = ro;
    *close = rc;
}
#endif

/// Characters escaped by a backslash (simdjson's odd-sequence method), carrying across blocks.
static inline uint64_t find_escaped(uint64_t backslash, uint64_t *prev_escaped) {
    backslash &= ~*prev_escaped;
    uint64_t follows_escape = (backslash << 1) | *prev_escaped;
    const uint64_t even_bits = 0x5555555555555555ULL;
    uint64_t odd_sequence_starts = backslash & ~even_bits & ~follows_escape;
    uint64_t sequences_starting_on_even_bits;
    *prev_escaped = __builtin_add_overflow(odd_sequence_starts, backslash, &sequences_starting_on_even_bits);
    uint64_t invert_mask = sequences_starting_on_even_bits << 1;
    return (even_bits ^ invert_mask) & follows_escape;
}

static inline uint64_t prefix_xor(uint64_t x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

static inline void index_block(const uint8_t *p, uint64_t *prev_escaped, uint64_t *prev_in_string, uint64_t *quotes,
                               uint64_t *structure, uint64_t *newlines) {
    uint64_t backslash = eq_mask(p, '\\');
    uint64_t escaped = find_escaped(backslash, prev_escaped);
    uint64_t quote = eq_mask(p, '"') & ~escaped;
    uint64_t in_string = prefix_xor(quote) ^ *prev_in_string;
    *prev_in_string = (uint64_t)((int64_t)in_string >> 63);
    uint64_t open, close;
    bracket_masks(p, &open, &close);
    *quotes = quote;
    *structure = (open | close) & ~in_string;
    *newlines = eq_mask(p, '\n');
}

/* Two implementations of one block's bitmaps: SSE2 (every x86-64) and AVX2 with PCLMUL (two 32-byte loads
   per 64 bytes instead of four 16-byte ones, the prefix XOR in one carry-less multiplication), chosen once
   at run time; the results are identical. */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

__attribute__((target("avx2"))) static inline uint64_t eq_mask_avx2(__m256i lo, __m256i hi, uint8_t c) {
    const __m256i needle = _mm256_set1_epi8((char)c);
    uint64_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, needle));
    uint64_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, needle));
    return a | (b << 32);
}

/// prefix_xor by one carry-less multiplication by all ones (simdjson's way): bit i is the XOR of bits 0...i.
__attribute__((target("pclmul"))) static inline uint64_t prefix_xor_clmul(uint64_t x) {
    const __m128i all_ones = _mm_set1_epi8((char)0xFF);
    return (uint64_t)_mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), all_ones, 0));
}

__attribute__((target("avx2,pclmul"))) static inline void index_block_avx2(const uint8_t *p, uint64_t *prev_escaped,
                                                                            uint64_t *prev_in_string, uint64_t *quotes,
                                                                            uint64_t *structure, uint64_t *newlines) {
    const __m256i lo = _mm256_loadu_si256((const __m256i *)p);
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(p + 32));
    // Most blocks of a trail hold no backslash and follow none: then nothing is escaped (find_escaped's
    // result and carry are both 0 for no backslashes and no carry).
    uint64_t backslash = eq_mask_avx2(lo, hi, '\\');
    uint64_t escaped = (backslash | *prev_escaped) == 0 ? 0 : find_escaped(backslash, prev_escaped);
    uint64_t quote = eq_mask_avx2(lo, hi, '"') & ~escaped;
    uint64_t in_string = prefix_xor_clmul(quote) ^ *prev_in_string;
    *prev_in_string = (uint64_t)((int64_t)in_string >> 63);
    const __m256i fold = _mm256_set1_epi8(0x20);
    const __m256i flo = _mm256_or_si256(lo, fold), fhi = _mm256_or_si256(hi, fold);
    uint64_t open = eq_mask_avx2(flo, fhi, 0x7B), close = eq_mask_avx2(flo, fhi, 0x7D);
    *quotes = quote;
    *structure = (open | close) & ~in_string;
    *newlines = eq_mask_avx2(lo, hi, '\n');
}

__attribute__((target("avx2,pclmul"))) static int index_avx2(const uint8_t *text, size_t blocks, uint64_t *prev_escaped,
                                                      uint64_t *prev_in_string, uint64_t *quotes,
                                                      uint64_t *structure, uint64_t *newlines) {
    uint64_t any_newline = 0;
    for (size_t b = 0; b < blocks; b++) {
        index_block_avx2(text + 64 * b, prev_escaped, prev_in_string, quotes + b, structure + b, newlines + b);
        any_newline |= newlines[b];
    }
    return any_newline != 0;
}

static int use_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") ? 1 : 0;
    }
    return cached;
}
#endif

static int index_sse2(const uint8_t *text, size_t blocks, uint64_t *prev_escaped, uint64_t *prev_in_string,
                      uint64_t *quotes, uint64_t *structure, uint64_t *newlines) {
    uint64_t any_newline = 0;
    for (size_t b = 0; b < blocks; b++) {
        index_block(text + 64 * b, prev_escaped, prev_in_string, quotes + b, structure + b, newlines + b);
        any_newline |= newlines[b];
    }
    return any_newline != 0;
}

static int index_with(int avx2, const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure,
                      uint64_t *newlines) {
    uint64_t prev_escaped = 0, prev_in_string = 0;
    size_t blocks = len / 64;
    int any_newline;
#if defined(__x86_64__) || defined(_M_X64)
    if (avx2)
        any_newline = index_avx2(text, blocks, &prev_escaped, &prev_in_string, quotes, structure, newlines);
    else
#endif
        any_newline = index_sse2(text, blocks, &prev_escaped, &prev_in_string, quotes, structure, newlines);
    size_t rest = len - 64 * blocks;
    if (rest > 0) {
        uint8_t tail[64];
        memset(tail, ' ', sizeof tail);
        memcpy(tail, text + 64 * blocks, rest);
        index_block(tail, &prev_escaped, &prev_in_string, quotes + blocks, structure + blocks, newlines + blocks);
        any_newline |= newlines[blocks] != 0;
    }
    return any_newline;
}

int cjson_index(const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure, uint64_t *newlines) {
#if defined(__x86_64__) || defined(_M_X64)
    return index_with(use_avx2(), text, len, quotes, structure, newlines);
#else
    return index_with(0, text, len, quotes, structure, newlines);
#endif
}

int cjson_index_baseline(const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure,
                         uint64_t *newlines) {
    return index_with(0, text, len, quotes, structure, newlines);
}

/* ---- CSV (RFC 4180) ---------------------------------------------------------------------------- */

/* Bits of the bytes that end an unquoted field or start a quoted one: ',' '\n' '\r' '"'. */
static inline uint64_t csv_specials(const uint8_t *p) {
#if defined(__x86_64__) || defined(_M_X64)
    const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  quote = _mm_set1_epi8('"');
    uint64_t r = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)));
        r |= (uint64_t)(uint32_t)_mm_movemask_epi8(m) << (16 * k);
    }
    return r;
#else
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) {
        uint8_t c = p[i];
        r |= (uint64_t)(c == ',' || c == '\n' || c == '\r' || c == '"') << i;
    }
    return r;
#endif
}

/* The first of ',' '\n' '\r' '"' at or after i, or len; 64-byte blocks of bits, cached across calls. */
static inline long csv_next(const uint8_t *text, long len, long i, long *block, uint64_t *bits) {
    for (;;) {
        long b = i & ~63L;
        if (b + 64 > len) {
            while (i < len) {
                uint8_t c = text[i];
                if (c == ',' || c == '\n' || c == '\r' || c == '"') return i;
                i++;
            }
            return len;
        }
        if (b != *block) {
            *bits = csv_specials(text + b);
            *block = b;
        }
        uint64_t m = *bits & (~0ULL << (i - b));
        if (m) return b + __builtin_ctzll(m);
        i = b + 64;
    }
}

long ccsv_record(const uint8_t *text, long len, long pos, int final, int32_t *starts, int32_t *ends,
                 uint8_t *flags, int cap, int *count, int *lines) {
    long i = pos;
    int n = 0;
    int nl = 0;
    long block = -1;
    uint64_t bits = 0;
    for (;;) {
        /* One field starting at i. */
        uint8_t fl = 0;
        long fs, fe;
        if (i < len && text[i] == '"') {
            fl = 1;
            fs = ++i;
            for (;;) {
                const uint8_t *q = i < len ? memchr(text + i, '"', (size_t)(len - i)) : NULL;
                if (!q) {
                    if (!final) return -1;
                    /* Unclosed quote at the end of the text: the rest is the field. */
                    for (long k = i; k < len; k++) nl += text[k] == '\n';
                    fe = len;
                    i = len;
                    fl |= 8;
                    goto field_done;
                }
                long k = q - text;
                for (long m = i; m < k; m++) nl += text[m] == '\n';
                if (k + 1 < len && text[k + 1] == '"') {
                    fl |= 2;
                    i = k + 2;
                    continue;
                }
                if (k + 1 >= len && !final) return -1;
                fe = k;
                i = k + 1;
                break;
            }
            /* Text between the closing quote and the delimiter is malformed; keep it out. */
            while (i < len && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                fl |= 4;
                i++;
            }
        } else {
            fs = i;
            /* A quote inside an unquoted field is taken as text (lenient, like most exporters). */
            for (;;) {
                i = csv_next(text, len, i, &block, &bits);
                if (i < len && text[i] == '"') {
                    i++;
                    continue;
                }
                break;
            }
            fe = i;
        }
    field_done:
        if (n < cap) {
            starts[n] = (int32_t)fs;
            ends[n] = (int32_t)fe;
            flags[n] = fl;
        }
        n++;
        if (i >= len) {
            if (!final) return -1;
            *count = n;
            *lines = nl;
            return len;
        }
        uint8_t c = text[i];
        if (c == ',') {
            i++;
            if (i >= len && !final) return -1;
            continue;
        }
        if (c == '\r') {
            if (i + 1 >= len && !final) return -1;
            if (i + 1 < len && text[i + 1] == '\n') i++;
        }
        nl++;
        *count = n;
        *lines = nl;
        return i + 1;
    }
}
