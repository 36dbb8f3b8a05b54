#ifndef CJSONINDEX_H
#define CJSONINDEX_H

#include <stddef.h>
#include <stdint.h>

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

#endif
