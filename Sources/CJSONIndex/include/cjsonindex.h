#ifndef CJSONINDEX_H
#define CJSONINDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/// Builds bitmaps of a JSON text, one bit per byte, 64 bytes per word (the first stage of simdjson's
/// design: AVX2 where the processor has it, else SSE2, which every x86-64 has; a portable loop elsewhere):
///   quotes:    unescaped '"'
///   structure: '{' '}' '[' ']' outside strings
///   newlines:  '\n' (any)
/// The text is taken to start outside a string. Each output needs (len + 63) / 64 words.
/// Returns nonzero when the text holds a newline.
int cjson_index(const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure, uint64_t *newlines);

/// The same with SSE2 (or the portable loop) even where AVX2 is available: tests compare the two.
int cjson_index_baseline(const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure, uint64_t *newlines);

/// Splits one RFC 4180 record of a CSV text starting at `pos` (quotes, doubled quotes, embedded commas
/// and newlines, LF or CRLF endings). Field i spans [starts[i], ends[i]) without its enclosing quotes;
/// flags[i] bit 0: the field was quoted, bit 1: it holds doubled quotes to undo, bit 2: text followed
/// the closing quote (malformed). At most `cap` fields are stored; `*count` counts them all.
/// `*lines` gets the newlines the record spans (its terminator included).
/// Returns the offset just past the record, or -1 when the record is not complete in [pos, len) and
/// `final` is 0 (with `final` set, the end of the text ends the record; an unclosed quote sets bit 3
/// of flags[0]).
long ccsv_record(const uint8_t *text, long len, long pos, int final, int32_t *starts, int32_t *ends,
                 uint8_t *flags, int cap, int *count, int *lines);

/// The bitmaps of cjson_index over a buffer, for the scanners below: bit 0 of word 0 is the buffer's
/// position `origin`; one zero word past the end. `has_newlines` is cjson_index's result.
typedef struct {
    const uint64_t *quotes;
    const uint64_t *structure;
    const uint64_t *newlines;
    long origin;
    int has_newlines;
} cjson_bits;

/// Look-ups in those bitmaps, shared by the C fast path and the Swift scanner (`JSONIndex`); bit 0 of
/// word 0 is position `origin`.

/// The first set bit at a position in [from, limit), or -1.
static inline __attribute__((always_inline)) long cjson_next_bit(const uint64_t *bits, long origin, long from,
                                                                 long limit) {
    if (from >= limit) return -1;
    long rel = from - origin;
    long w = rel >> 6;
    uint64_t word = bits[w] & (~0ULL << (rel & 63));
    long last = (limit - 1 - origin) >> 6;
    while (word == 0) {
        if (++w > last) return -1;
        word = bits[w];
    }
    long i = origin + (w << 6) + __builtin_ctzll(word);
    return i < limit ? i : -1;
}

/// The set bits in [from, to).
static inline __attribute__((always_inline)) long cjson_count_bits(const uint64_t *bits, long origin, long from,
                                                                   long to) {
    if (from >= to) return 0;
    long first = (from - origin) >> 6, last = (to - 1 - origin) >> 6;
    long total = 0;
    for (long w = first; w <= last; w++) {
        uint64_t word = bits[w];
        if (w == first) word &= ~0ULL << ((from - origin) & 63);
        if (w == last && ((to - origin) & 63) != 0) word &= (1ULL << ((to - origin) & 63)) - 1;
        total += __builtin_popcountll(word);
    }
    return total;
}

/// The bracket closing the object or array that opens at `from`, or -1 if it does not close before
/// `end`: walks the bracket bits (strings are masked out of them), counting depth.
static inline __attribute__((always_inline)) long cjson_matching_bracket(const uint64_t *structure, long origin,
                                                                         const uint8_t *base, long from, long end) {
    long depth = 0;
    long rel = from - origin;
    long w = rel >> 6;
    uint64_t word = structure[w] & (~0ULL << (rel & 63));
    long last = (end - 1 - origin) >> 6;
    for (;;) {
        while (word == 0) {
            if (++w > last) return -1;
            word = structure[w];
        }
        long i = origin + (w << 6) + __builtin_ctzll(word);
        if (i >= end) return -1;
        word &= word - 1;
        if ((base[i] | 0x20) == '{') {
            depth++;
        } else if (--depth == 0) {
            return i;
        }
    }
}

/// Whether the `n` bytes at `s` are a JSON bare value as both decoder paths take it: `true`, `false`,
/// `null`, or a number's characters (a sign or digit first, then digits, `.`, `e`, `E`, `+`, `-`).
static inline __attribute__((always_inline)) int cjson_bare_value(const uint8_t *s, long n) {
    if (n <= 0) return 0;
    switch (s[0]) {
    case 't': return n == 4 && memcmp(s, "true", 4) == 0;
    case 'f': return n == 5 && memcmp(s, "false", 5) == 0;
    case 'n': return n == 4 && memcmp(s, "null", 4) == 0;
    default:
        if (s[0] != '-' && (s[0] < '0' || s[0] > '9')) return 0;
        for (long i = 1; i < n; i++) {
            uint8_t b = s[i];
            if (!((b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-')) return 0;
        }
        return 1;
    }
}

/// The first position at or after `p` that is not a space, tab, CR or LF; the LFs passed are added
/// to `*newlines`.
static inline __attribute__((always_inline)) long cjson_whitespace_end(const uint8_t *base, long p, long end,
                                                                       long *newlines) {
    while (p < end) {
        uint8_t b = base[p];
        if (b == ' ' || b == '\t' || b == '\r') {
            p++;
        } else if (b == '\n') {
            ++*newlines;
            p++;
        } else {
            break;
        }
    }
    return p;
}

/// A span of the buffer, [start, end).
typedef struct {
    long start;
    long end;
} ctrail_span;

/// The fields of one CloudTrail record, as spans of the buffer: a string's content, other scalars and
/// containers whole, {0, 0} where the member is absent or null.
typedef struct {
    ctrail_span event_time, event_name, event_source, event_type, aws_region, recipient_account_id;
    ctrail_span source_ip_address, user_agent, event_id, error_code;
    ctrail_span identity_type, identity_arn, identity_principal_id, identity_access_key_id, identity_account_id;
    ctrail_span identity_issuer_arn;
    ctrail_span request_parameters, response_elements;
    /// The whole userIdentity object (its fields above are read from it).
    ctrail_span user_identity;
    /// Newlines crossed outside strings.
    long newlines;
    int is_digest;
    int identity_parsed;
} ctrail_record;

/// Reads the CloudTrail record whose '{' is at `position` in one pass (the fast path of the Swift
/// decoder): the members it needs, userIdentity and sessionContext.sessionIssuer.arn included.
/// Returns the position after the record's '}', or -1 when the record is anything but plain: malformed,
/// cut by `end`, a string holding a raw newline, a second userIdentity, `{}`. The caller then reads
/// the record by its general path, which gives the same fields for every record this one accepts.
long ctrail_scan(const uint8_t *base, long position, long end, const cjson_bits *bits, ctrail_record *record);

/// The top-level members of a CloudTrail record the decoder reads (@timestamp: Logstash's eventTime;
/// digest: the keys that mark a digest file). Both decoder paths classify keys by this one function.
typedef enum {
    CTRAIL_MEMBER_OTHER,
    CTRAIL_MEMBER_EVENT_ID,
    CTRAIL_MEMBER_EVENT_TIME,
    CTRAIL_MEMBER_EVENT_NAME,
    CTRAIL_MEMBER_AWS_REGION,
    CTRAIL_MEMBER_USER_AGENT,
    CTRAIL_MEMBER_ERROR_CODE,
    CTRAIL_MEMBER_EVENT_TYPE,
    CTRAIL_MEMBER_TIMESTAMP,
    CTRAIL_MEMBER_EVENT_SOURCE,
    CTRAIL_MEMBER_USER_IDENTITY,
    CTRAIL_MEMBER_DIGEST,
    CTRAIL_MEMBER_SOURCE_IP_ADDRESS,
    CTRAIL_MEMBER_RESPONSE_ELEMENTS,
    CTRAIL_MEMBER_REQUEST_PARAMETERS,
    CTRAIL_MEMBER_RECIPIENT_ACCOUNT_ID
} ctrail_member;

/// The members of userIdentity the decoder reads.
typedef enum {
    CTRAIL_IDENTITY_OTHER,
    CTRAIL_IDENTITY_TYPE,
    CTRAIL_IDENTITY_ARN,
    CTRAIL_IDENTITY_PRINCIPAL_ID,
    CTRAIL_IDENTITY_ACCESS_KEY_ID,
    CTRAIL_IDENTITY_ACCOUNT_ID,
    CTRAIL_IDENTITY_SESSION_CONTEXT
} ctrail_identity_member;

#define CTRAIL_NAMED(key, n, literal) ((n) == (long)sizeof(literal) - 1 && memcmp((key), (literal), sizeof(literal) - 1) == 0)

/// What a top-level key (its `n` bytes of content) names: by length, then a compare.
static inline __attribute__((always_inline)) ctrail_member ctrail_member_of(const uint8_t *key, long n) {
    switch (n) {
    case 7: return CTRAIL_NAMED(key, n, "eventID") ? CTRAIL_MEMBER_EVENT_ID : CTRAIL_MEMBER_OTHER;
    case 9:
        if (CTRAIL_NAMED(key, n, "eventTime")) return CTRAIL_MEMBER_EVENT_TIME;
        if (CTRAIL_NAMED(key, n, "eventName")) return CTRAIL_MEMBER_EVENT_NAME;
        if (CTRAIL_NAMED(key, n, "awsRegion")) return CTRAIL_MEMBER_AWS_REGION;
        if (CTRAIL_NAMED(key, n, "userAgent")) return CTRAIL_MEMBER_USER_AGENT;
        if (CTRAIL_NAMED(key, n, "errorCode")) return CTRAIL_MEMBER_ERROR_CODE;
        return CTRAIL_NAMED(key, n, "eventType") ? CTRAIL_MEMBER_EVENT_TYPE : CTRAIL_MEMBER_OTHER;
    case 10: return CTRAIL_NAMED(key, n, "@timestamp") ? CTRAIL_MEMBER_TIMESTAMP : CTRAIL_MEMBER_OTHER;
    case 11: return CTRAIL_NAMED(key, n, "eventSource") ? CTRAIL_MEMBER_EVENT_SOURCE : CTRAIL_MEMBER_OTHER;
    case 12: return CTRAIL_NAMED(key, n, "userIdentity") ? CTRAIL_MEMBER_USER_IDENTITY : CTRAIL_MEMBER_OTHER;
    case 14: return CTRAIL_NAMED(key, n, "digestS3Object") ? CTRAIL_MEMBER_DIGEST : CTRAIL_MEMBER_OTHER;
    case 15:
        if (CTRAIL_NAMED(key, n, "sourceIPAddress")) return CTRAIL_MEMBER_SOURCE_IP_ADDRESS;
        return CTRAIL_NAMED(key, n, "digestStartTime") ? CTRAIL_MEMBER_DIGEST : CTRAIL_MEMBER_OTHER;
    case 16: return CTRAIL_NAMED(key, n, "responseElements") ? CTRAIL_MEMBER_RESPONSE_ELEMENTS : CTRAIL_MEMBER_OTHER;
    case 17: return CTRAIL_NAMED(key, n, "requestParameters") ? CTRAIL_MEMBER_REQUEST_PARAMETERS : CTRAIL_MEMBER_OTHER;
    case 18: return CTRAIL_NAMED(key, n, "recipientAccountId") ? CTRAIL_MEMBER_RECIPIENT_ACCOUNT_ID : CTRAIL_MEMBER_OTHER;
    default: return CTRAIL_MEMBER_OTHER;
    }
}

/// What a key of userIdentity names.
static inline __attribute__((always_inline)) ctrail_identity_member ctrail_identity_member_of(const uint8_t *key, long n) {
    switch (n) {
    case 3: return CTRAIL_NAMED(key, n, "arn") ? CTRAIL_IDENTITY_ARN : CTRAIL_IDENTITY_OTHER;
    case 4: return CTRAIL_NAMED(key, n, "type") ? CTRAIL_IDENTITY_TYPE : CTRAIL_IDENTITY_OTHER;
    case 9: return CTRAIL_NAMED(key, n, "accountId") ? CTRAIL_IDENTITY_ACCOUNT_ID : CTRAIL_IDENTITY_OTHER;
    case 11:
        if (CTRAIL_NAMED(key, n, "principalId")) return CTRAIL_IDENTITY_PRINCIPAL_ID;
        return CTRAIL_NAMED(key, n, "accessKeyId") ? CTRAIL_IDENTITY_ACCESS_KEY_ID : CTRAIL_IDENTITY_OTHER;
    case 14: return CTRAIL_NAMED(key, n, "sessionContext") ? CTRAIL_IDENTITY_SESSION_CONTEXT : CTRAIL_IDENTITY_OTHER;
    default: return CTRAIL_IDENTITY_OTHER;
    }
}

#endif
