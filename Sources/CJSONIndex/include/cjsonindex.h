#ifndef CJSONINDEX_H
#define CJSONINDEX_H

#include <stddef.h>
#include <stdint.h>

/// Builds bitmaps of a JSON text, one bit per byte, 64 bytes per word (the first stage of simdjson's
/// design, in SSE2, which every x86-64 has; a portable loop elsewhere):
///   quotes:    unescaped '"'
///   structure: '{' '}' '[' ']' outside strings
///   newlines:  '\n' (any)
/// The text is taken to start outside a string. Each output needs (len + 63) / 64 words.
void cjson_index(const uint8_t *text, size_t len, uint64_t *quotes, uint64_t *structure, uint64_t *newlines);

#endif
