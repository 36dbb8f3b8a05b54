// The CloudTrail fast path: one pass over a record as AWS writes it, over the bitmaps of cjsonindex.c.
// Its contract is in include/cjsonindex.h (ctrail_scan); the Swift general path
// (LogFormats/CloudTrailDecoder.swift) reads every record this one gives up on, and
// CloudTrailFastPathTests hold the two to the same fields.
#include "cjsonindex.h"

#include <string.h>

typedef struct {
    const uint8_t *base;
    long end;
    long p;
    long newlines;
    const cjson_bits *bits;
} cursor;

// The newlines in [from, to).
static inline __attribute__((always_inline)) long count_newlines(const cjson_bits *b, long from, long to) {
    return b->has_newlines ? cjson_count_bits(b->newlines, b->origin, from, to) : 0;
}

static inline __attribute__((always_inline)) void skip_whitespace(cursor *c) {
    c->p = cjson_whitespace_end(c->base, c->p, c->end, &c->newlines);
}

// At a '"': the string's content; the cursor moves past the closing quote. A string with a raw newline
// is left to the general path.
static inline __attribute__((always_inline)) int string(cursor *c, ctrail_span *span) {
    const cjson_bits *b = c->bits;
    long close = cjson_next_bit(b->quotes, b->origin, c->p + 1, c->end);
    if (close < 0) return 0;
    if (b->has_newlines && cjson_next_bit(b->newlines, b->origin, c->p + 1, close) >= 0) return 0;
    span->start = c->p + 1;
    span->end = close;
    c->p = close + 1;
    return 1;
}

// At a member's key: the key, with the cursor on its value.
static inline __attribute__((always_inline)) int key(cursor *c, ctrail_span *k) {
    if (c->p >= c->end || c->base[c->p] != '"' || !string(c, k)) return 0;
    if (c->p < c->end && c->base[c->p] == ':') {
        c->p++;
    } else {
        skip_whitespace(c);
        if (c->p >= c->end || c->base[c->p] != ':') return 0;
        c->p++;
    }
    if (c->p < c->end && c->base[c->p] > ' ') return 1;
    skip_whitespace(c);
    return c->p < c->end;
}

// After a value: 1 at the container's end, 0 after a ',', -1 otherwise.
static inline __attribute__((always_inline)) int next(cursor *c, uint8_t closing) {
    if (c->p < c->end && c->base[c->p] <= ' ') skip_whitespace(c);
    if (c->p >= c->end) return -1;
    uint8_t b = c->base[c->p++];
    if (b == ',') {
        if (c->p < c->end && c->base[c->p] <= ' ') skip_whitespace(c);
        return 0;
    }
    return b == closing ? 1 : -1;
}

// Skips an object or array by its bracket bits (strings are masked out of them).
static inline __attribute__((always_inline)) int skip_container(cursor *c) {
    const cjson_bits *b = c->bits;
    long close = cjson_matching_bracket(b->structure, b->origin, c->base, c->p, c->end);
    if (close < 0) return 0;
    c->newlines += count_newlines(b, c->p, close);
    c->p = close + 1;
    return 1;
}

// Skips a number, true, false or null (cjson_bare_value). Any other bare word is damage (a lost quote),
// and the quote bits after it pair up wrongly, so the fast path leaves the record to the general path,
// which rejects it by the same rule with a diagnostic naming its line.
static inline __attribute__((always_inline)) int skip_scalar(cursor *c) {
    long start = c->p;
    while (c->p < c->end) {
        uint8_t b = c->base[c->p];
        if (b == ',' || b == '}' || b == ']' || b == ' ' || b == '\n' || b == '\r' || b == '\t') break;
        c->p++;
    }
    return c->p < c->end && cjson_bare_value(c->base + start, c->p - start);
}

static inline __attribute__((always_inline)) int skip_value(cursor *c) {
    if (c->p >= c->end) return 0;
    ctrail_span ignored;
    switch (c->base[c->p]) {
    case '"': return string(c, &ignored);
    case '{':
    case '[': return skip_container(c);
    default: return skip_scalar(c);
    }
}

// A scalar field: a string's content, a bare null as empty, other scalars and containers whole.
static inline __attribute__((always_inline)) int scalar(cursor *c, ctrail_span *target) {
    long start = c->p;
    if (!skip_value(c)) return 0;
    if (c->base[start] == '"') {
        target->start = start + 1;
        target->end = c->p - 1;
    } else if (c->p - start == 4 && memcmp(c->base + start, "null", 4) == 0) {
        target->start = 0;
        target->end = 0;
    } else {
        target->start = start;
        target->end = c->p;
    }
    return 1;
}

#define IS(k, literal) CTRAIL_NAMED(c->base + (k).start, (k).end - (k).start, literal)

// At an object's '{': moves inside; 1 if it holds members, 0 if it was {} (and is passed), -1 at the
// buffer's end.
static inline __attribute__((always_inline)) int enter_object(cursor *c) {
    c->p++;
    skip_whitespace(c);
    if (c->p >= c->end) return -1;
    if (c->base[c->p] == '}') {
        c->p++;
        return 0;
    }
    return 1;
}

// sessionContext at its '{': only sessionIssuer.arn is read.
static int session_context(cursor *c, ctrail_record *r) {
    int members = enter_object(c);
    if (members <= 0) return members == 0;
    for (;;) {
        ctrail_span name;
        if (!key(c, &name)) return 0;
        if (IS(name, "sessionIssuer") && c->base[c->p] == '{') {
            int issuer = enter_object(c);
            if (issuer < 0) return 0;
            while (issuer) {
                ctrail_span inner;
                if (!key(c, &inner)) return 0;
                if (!(IS(inner, "arn") ? scalar(c, &r->identity_issuer_arn) : skip_value(c))) return 0;
                int closed = next(c, '}');
                if (closed < 0) return 0;
                if (closed) break;
            }
        } else if (!skip_value(c)) {
            return 0;
        }
        int closed = next(c, '}');
        if (closed < 0) return 0;
        if (closed) return 1;
    }
}

// userIdentity at its '{': type, arn, principalId, accessKeyId, accountId and the issuer's arn.
static int user_identity(cursor *c, ctrail_record *r) {
    int members = enter_object(c);
    if (members <= 0) return members == 0;
    for (;;) {
        ctrail_span name;
        if (!key(c, &name)) return 0;
        ctrail_span *target = NULL;
        switch (ctrail_identity_member_of(c->base + name.start, name.end - name.start)) {
        case CTRAIL_IDENTITY_TYPE: target = &r->identity_type; break;
        case CTRAIL_IDENTITY_ARN: target = &r->identity_arn; break;
        case CTRAIL_IDENTITY_PRINCIPAL_ID: target = &r->identity_principal_id; break;
        case CTRAIL_IDENTITY_ACCESS_KEY_ID: target = &r->identity_access_key_id; break;
        case CTRAIL_IDENTITY_ACCOUNT_ID: target = &r->identity_account_id; break;
        case CTRAIL_IDENTITY_SESSION_CONTEXT:
            if (c->base[c->p] == '{') {
                if (!session_context(c, r)) return 0;
                goto next_member;
            }
            break;
        case CTRAIL_IDENTITY_OTHER: break;
        }
        if (!(target ? scalar(c, target) : skip_value(c))) return 0;
    next_member:;
        int closed = next(c, '}');
        if (closed < 0) return 0;
        if (closed) return 1;
    }
}

enum member { OTHER, SCALAR, TIMESTAMP, USER_IDENTITY, BODY, DIGEST };

// What a top-level member is to the walk; for SCALAR and BODY, where its value goes.
static inline __attribute__((always_inline)) enum member classify(const cursor *c, ctrail_span k, ctrail_record *r, ctrail_span **target) {
    switch (ctrail_member_of(c->base + k.start, k.end - k.start)) {
    case CTRAIL_MEMBER_EVENT_ID: *target = &r->event_id; return SCALAR;
    case CTRAIL_MEMBER_EVENT_TIME: *target = &r->event_time; return SCALAR;
    case CTRAIL_MEMBER_EVENT_NAME: *target = &r->event_name; return SCALAR;
    case CTRAIL_MEMBER_AWS_REGION: *target = &r->aws_region; return SCALAR;
    case CTRAIL_MEMBER_USER_AGENT: *target = &r->user_agent; return SCALAR;
    case CTRAIL_MEMBER_ERROR_CODE: *target = &r->error_code; return SCALAR;
    case CTRAIL_MEMBER_EVENT_TYPE: *target = &r->event_type; return SCALAR;
    case CTRAIL_MEMBER_EVENT_SOURCE: *target = &r->event_source; return SCALAR;
    case CTRAIL_MEMBER_SOURCE_IP_ADDRESS: *target = &r->source_ip_address; return SCALAR;
    case CTRAIL_MEMBER_RECIPIENT_ACCOUNT_ID: *target = &r->recipient_account_id; return SCALAR;
    case CTRAIL_MEMBER_TIMESTAMP: return TIMESTAMP;
    case CTRAIL_MEMBER_USER_IDENTITY: return USER_IDENTITY;
    case CTRAIL_MEMBER_DIGEST: return DIGEST;
    case CTRAIL_MEMBER_RESPONSE_ELEMENTS: *target = &r->response_elements; return BODY;
    case CTRAIL_MEMBER_REQUEST_PARAMETERS: *target = &r->request_parameters; return BODY;
    case CTRAIL_MEMBER_OTHER: return OTHER;
    }
    return OTHER;
}

long ctrail_scan(const uint8_t *base, long position, long end, const cjson_bits *bits, ctrail_record *r) {
    memset(r, 0, sizeof *r);
    cursor cur = {base, end, position, 0, bits};
    cursor *c = &cur;
    if (c->p >= c->end || base[c->p] != '{') return -1;
    c->p++;
    skip_whitespace(c);
    if (c->p >= c->end || base[c->p] == '}') return -1;  // {} is the general path's to judge
    for (;;) {
        ctrail_span k;
        if (!key(c, &k)) return -1;
        ctrail_span *target = NULL;
        switch (classify(c, k, r, &target)) {
        case OTHER:
            if (!skip_value(c)) return -1;
            break;
        case SCALAR:
            if (!scalar(c, target)) return -1;
            break;
        case TIMESTAMP:
            // @timestamp (Logstash) stands in for eventTime, unless eventTime came first.
            if (!(r->event_time.end > r->event_time.start ? skip_value(c) : scalar(c, &r->event_time))) return -1;
            break;
        case USER_IDENTITY:
            if (base[c->p] == '{') {
                // A second userIdentity replaces the first in the general path: leave that to it.
                if (r->identity_parsed) return -1;
                long start = c->p;
                if (!user_identity(c, r)) return -1;
                r->user_identity.start = start;
                r->user_identity.end = c->p;
                r->identity_parsed = 1;
            } else if (!skip_value(c)) {
                return -1;
            }
            break;
        case BODY: {
            long start = c->p;
            if (!skip_value(c)) return -1;
            if (base[start] == '"') {
                target->start = start + 1;
                target->end = c->p - 1;
            } else {
                target->start = start;
                target->end = c->p;
            }
            break;
        }
        case DIGEST:
            r->is_digest = 1;
            if (!skip_value(c)) return -1;
            break;
        }
        int closed = next(c, '}');
        if (closed < 0) return -1;
        if (closed) {
            r->newlines = c->newlines;
            return c->p;
        }
    }
}
