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

void cjson_index(const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure, uint64_t *newlines) {
    uint64_t prev_escaped = 0, prev_in_string = 0;
    size_t blocks = len / 64;
    for (size_t b = 0; b < blocks; b++) {
        index_block(text + 64 * b, &prev_escaped, &prev_in_string, quotes + b, structure + b, newlines + b);
    }
    size_t rest = len - 64 * blocks;
    if (rest > 0) {
        uint8_t tail[64];
        memset(tail, ' ', sizeof tail);
        memcpy(tail, text + 64 * blocks, rest);
        index_block(tail, &prev_escaped, &prev_in_string, quotes + blocks, structure + blocks, newlines + blocks);
    }
}
