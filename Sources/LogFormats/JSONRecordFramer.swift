#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import UsageModel

/// Decodes one JSON record (an object) that the framer found.
protocol JSONRecordHandler {
    /// Called with the scanner at the record's `{`; must consume the whole object.
    /// - Returns: false when the scan failed (the framer reads `scanner.failure`).
    mutating func handleRecord(_ scanner: inout JSONScanner, line: InputPosition, into output: inout DecodedBatch)
        -> Bool
    /// Whether a top-level object whose first key is `key` wraps the records in an array (`{"Records":[…]}`).
    func isWrapperKey(_ scanner: JSONScanner, _ key: ByteSpan) -> Bool
}

/// Finds the records of a JSON input one at a time, without materialising documents:
/// `{"Records":[…]}` wrappers, bare arrays of records, single objects, and one object per line —
/// in any mix, across buffer boundaries. Bad records are named by line and skipped; the rest is read.
struct JSONRecordFramer<Handler: JSONRecordHandler> {
    enum Mode {
        case top
        case inArray(wrapper: Bool)
        case afterWrapper
        /// After a malformed line-level record: discard up to the next newline.
        case skipToNewline
        /// After a malformed array element: discard up to the next `,{`.
        case skipToElement(wrapper: Bool)
        /// A record larger than the largest buffer: discard it, tracking nesting.
        case skipOversized(resume: Box, depth: Int, inString: Bool, escape: Bool, line: Int)
    }

    final class Box {
        let mode: Mode
        init(_ mode: Mode) { self.mode = mode }
    }

    var handler: Handler
    let path: String
    let indexStorage = JSONIndexStorage()
    var mode: Mode = .top
    /// After a malformed record, lines of garbage are skipped silently until a record parses again.
    var recovering = false
    /// Lines completed before the start of the next buffer (0-based count of newlines).
    var linesBefore = 0
    /// Decompressed bytes consumed before the start of the next buffer.
    var bytesBefore: Int64 = 0
    let maxRecordBytes: Int

    init(handler: Handler, path: String, maxRecordBytes: Int) {
        self.handler = handler
        self.path = path
        self.maxRecordBytes = maxRecordBytes
    }

    /// Numbers what follows as the rest of a file read from byte `offset`, after `lines` line ends: a
    /// followed file resumed where the last read stopped, whose origins and diagnostics name the
    /// file's own lines (and, on its first line, byte columns); a byte order mark is looked for only
    /// at the start of a file.
    mutating func resume(afterLines lines: Int, offset: Int64) {
        linesBefore = lines
        bytesBefore = offset
    }

    private func error(_ line: Int, _ category: String, _ message: String) -> Diagnostic {
        Diagnostic(path: path, position: .line(line), severity: .error, category: category, message: message)
    }

    /// Decodes every complete record in `buffer`: the dispatch over the framing states, one step at a
    /// time, until a step needs bytes the buffer does not hold yet.
    /// - Returns: the number of bytes consumed; the caller keeps the rest and calls again with more.
    /// - Complexity: O(n) in the buffer's bytes.
    mutating func decode(_ buffer: UnsafeRawBufferPointer, isFinal: Bool, into out: inout DecodedBatch) -> Int {
        guard let raw = buffer.baseAddress, buffer.count > 0 else {
            if isFinal { finishAtBufferBoundary(into: &out) }
            return 0
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        if !isFinal && awaitsRestOfByteOrderMark(base, count: buffer.count) { return 0 }
        let index = indexStorage.build(base: base, from: 0, end: buffer.count)
        var cursor = Cursor(
            scanner: JSONScanner(base: base, start: 0, end: buffer.count, index: index), isFinal: isFinal)
        skipByteOrderMark(&cursor)
        while true {
            reindexIfNeeded(&cursor)
            let step: Step
            switch mode {
            case .top:
                step = frameAtTop(&cursor, into: &out)
            case .inArray(let wrapper):
                step = frameInArray(&cursor, wrapper: wrapper, into: &out)
            case .afterWrapper:
                step = frameAfterWrapper(&cursor, into: &out)
            case .skipToNewline:
                step = skipToNewline(&cursor)
            case .skipToElement(let wrapper):
                step = skipToElement(&cursor, wrapper: wrapper)
            case .skipOversized(let resume, let depth, let inString, let escape, let line):
                let skip = OversizedSkip(resume: resume, depth: depth, inString: inString, escape: escape, line: line)
                step = skipOversized(&cursor, skip, into: &out)
            }
            if case .needMore = step { break }
        }
        return isFinal ? finishInput(cursor, into: &out) : cursor.consumed
    }

    /// Where one `decode` call stands in its buffer. Lives on the stack for the call; the framing state
    /// that outlives the buffer is the framer's (`mode`, `recovering`, `linesBefore`, `bytesBefore`).
    private struct Cursor {
        var scanner: JSONScanner
        /// Bytes of the buffer already counted into `bytesBefore` and `linesBefore`: what the call
        /// returns as consumed, unless the input ends with it.
        var consumed = 0
        /// After a skip, the bytes skipped may have left the index's string parity wrong: index anew.
        var reindexAfterSkip = false
        let isFinal: Bool

        init(scanner: JSONScanner, isFinal: Bool) {
            self.scanner = scanner
            self.isFinal = isFinal
        }
    }

    /// What a framing step left: more to frame in this buffer, or nothing until the next buffer (or,
    /// with the final one, the end of the input).
    private enum Step { case next, needMore }

    /// The payload of `Mode.skipOversized`, as one value for its step.
    private struct OversizedSkip {
        var resume: Box
        var depth: Int
        var inString: Bool
        var escape: Bool
        var line: Int
    }

    /// Counts what the cursor's scanner has passed since the last commit into `bytesBefore` and
    /// `linesBefore`, and marks it consumed.
    @inline(__always)
    private mutating func commit(_ cursor: inout Cursor) {
        bytesBefore += Int64(cursor.scanner.position - cursor.consumed)
        cursor.consumed = cursor.scanner.position
        linesBefore += cursor.scanner.newlines
        cursor.scanner.newlines = 0
    }

    /// After a skip, once framing is back in a state that reads tokens (top level, array, after a
    /// wrapper's array), indexes the rest of the buffer anew; the skip states read raw bytes and wait.
    /// Keeps the scanner's position and its uncommitted newlines.
    @inline(__always)
    private func reindexIfNeeded(_ cursor: inout Cursor) {
        guard cursor.reindexAfterSkip else { return }
        switch mode {
        case .top, .inArray, .afterWrapper:
            let old = cursor.scanner
            let rebuilt = indexStorage.build(base: old.base, from: old.position, end: old.end)
            cursor.scanner = JSONScanner(base: old.base, start: old.position, end: old.end, index: rebuilt)
            cursor.scanner.newlines = old.newlines
            cursor.reindexAfterSkip = false
        case .skipToNewline, .skipToElement, .skipOversized:
            break
        }
    }

    /// Whether the buffer, at the very start of the input and shorter than three bytes, may be the start
    /// of a split UTF-8 byte order mark: then nothing is consumed until the rest of it arrives.
    private func awaitsRestOfByteOrderMark(_ base: UnsafePointer<UInt8>, count: Int) -> Bool {
        guard bytesBefore == 0 && count < 3, case .top = mode else { return false }
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        return (0..<count).allSatisfy { base[$0] == bom[$0] }
    }

    /// Consumes a UTF-8 byte order mark at the start of the input (as some exporters write); it is
    /// not content.
    private mutating func skipByteOrderMark(_ cursor: inout Cursor) {
        let s = cursor.scanner
        guard bytesBefore == 0 && cursor.consumed == 0 && s.end >= 3 else { return }
        guard s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF else { return }
        cursor.scanner.position = 3
        commit(&cursor)
    }

    /// Top level, between documents and lines: consumes whitespace, then opens a `{"Records":[` wrapper
    /// or a bare array, or frames an object as one record (an NDJSON line, a single-object document).
    /// Anything else is reported once per stretch of garbage and skipped to the next line.
    /// Guarantees: `.needMore` only when the next token or record is not whole in the buffer; nothing of
    /// it is consumed then.
    @inline(__always)
    private mutating func frameAtTop(_ cursor: inout Cursor, into out: inout DecodedBatch) -> Step {
        cursor.scanner.skipWhitespace()
        commit(&cursor)
        guard !cursor.scanner.atEnd else { return .needMore }
        let b = cursor.scanner[cursor.scanner.position]
        if b == 0x7B {
            if let step = openWrapper(&cursor, into: &out) { return step }
            return frameRecord(&cursor, recovery: .skipToNewline, into: &out)
        } else if b == 0x5B {
            cursor.scanner.position += 1
            commit(&cursor)
            mode = .inArray(wrapper: false)
        } else {
            if !recovering {
                out.reject(
                    error(
                        linesBefore + 1, "json",
                        "expected a JSON object or array, found \(Self.describe(b)); skipped to the next line"))
                recovering = true
            }
            mode = .skipToNewline
            cursor.reindexAfterSkip = true
        }
        return .next
    }

    /// With the cursor at a top-level `{`, looks at its first key. A wrapper key (`"Records"`) followed
    /// by `:` and `[` opens the records array: the cursor moves past the `[` and the mode is
    /// `.inArray(wrapper: true)`. A wrapper key without its `:` is reported and skipped to the next line.
    /// - Returns: the step taken, or nil when the object is a record (the cursor stays at its `{`).
    @inline(__always)
    private mutating func openWrapper(_ cursor: inout Cursor, into out: inout DecodedBatch) -> Step? {
        var probe = cursor.scanner
        probe.position += 1
        probe.skipWhitespace()
        guard !probe.atEnd else { return .needMore }
        guard probe[probe.position] == 0x22 else { return nil }
        var key = ByteSpan.empty
        guard probe.scanString(&key) else { return .needMore }
        guard handler.isWrapperKey(probe, key) else { return nil }
        guard probe.expect(0x3A, "':'") else {
            if probe.failure == .incomplete { return .needMore }
            mode = .skipToNewline
            cursor.reindexAfterSkip = true
            out.reject(error(linesBefore + 1, "json", "malformed wrapper object; skipped to the next line"))
            return .next
        }
        guard let next = probe.peek() else { return .needMore }
        guard next == 0x5B else { return nil }
        probe.position += 1
        cursor.scanner = probe
        commit(&cursor)
        mode = .inArray(wrapper: true)
        return .next
    }

    /// Frames the record whose `{` is at the cursor and consumes it. A malformed record is reported (by
    /// `record`) and consumed up to its fault, and framing goes on in `recovery`.
    /// Guarantees: `.needMore` only when the record is not whole in the buffer; nothing of it is consumed.
    @inline(__always)
    private mutating func frameRecord(_ cursor: inout Cursor, recovery: Mode, into out: inout DecodedBatch) -> Step {
        let consumed = cursor.consumed
        switch record(&cursor.scanner, consumed: consumed, out: &out) {
        case .done:
            commit(&cursor)
        case .doneParityLost:
            commit(&cursor)
            cursor.reindexAfterSkip = true
        case .needMore:
            return .needMore
        case .malformed:
            mode = recovery
            cursor.reindexAfterSkip = true
            commit(&cursor)
        }
        return .next
    }

    /// Inside a records array, a wrapper's or a bare one: consumes whitespace and separating commas,
    /// closes the array at `]` (then `.afterWrapper` for a wrapper, `.top` for a bare array), and frames
    /// each `{` as a record. Anything else is reported, consumed, and skipped to the next element.
    /// Guarantees: `.needMore` only when the next token or record is not whole in the buffer.
    @inline(__always)
    private mutating func frameInArray(_ cursor: inout Cursor, wrapper: Bool, into out: inout DecodedBatch) -> Step {
        cursor.scanner.skipWhitespace()
        commit(&cursor)
        guard !cursor.scanner.atEnd else { return .needMore }
        let b = cursor.scanner[cursor.scanner.position]
        if b == 0x2C {
            cursor.scanner.position += 1
            commit(&cursor)
        } else if b == 0x5D {
            cursor.scanner.position += 1
            commit(&cursor)
            mode = wrapper ? .afterWrapper : .top
        } else if b == 0x7B {
            return frameRecord(&cursor, recovery: .skipToElement(wrapper: wrapper), into: &out)
        } else {
            out.reject(
                error(
                    linesBefore + 1, "json",
                    "expected a record object in the array, found \(Self.describe(b)); skipped to the next record"
                ))
            cursor.scanner.position += 1
            commit(&cursor)
            mode = .skipToElement(wrapper: wrapper)
            cursor.reindexAfterSkip = true
        }
        return .next
    }

    /// After a wrapper's records array: consumes whitespace and any further members (`, "key": value`),
    /// and at the wrapper's `}` returns to the top level. A malformed member, or any other byte, is
    /// reported and skipped to the next line.
    /// Guarantees: `.needMore` only when the next token or member is not whole in the buffer (a member is
    /// consumed whole or not at all).
    private mutating func frameAfterWrapper(_ cursor: inout Cursor, into out: inout DecodedBatch) -> Step {
        cursor.scanner.skipWhitespace()
        commit(&cursor)
        guard !cursor.scanner.atEnd else { return .needMore }
        let b = cursor.scanner[cursor.scanner.position]
        if b == 0x7D {
            cursor.scanner.position += 1
            commit(&cursor)
            mode = .top
        } else if b == 0x2C {
            var probe = cursor.scanner
            probe.position += 1
            probe.skipWhitespace()
            guard !probe.atEnd else { return .needMore }
            var span = ByteSpan.empty
            guard probe[probe.position] == 0x22, probe.scanString(&span),
                probe.expect(0x3A, "':'"), probe.skipValue(&span)
            else {
                if probe.failure == .incomplete { return .needMore }
                out.reject(error(linesBefore + 1, "json", "malformed member after the records array"))
                mode = .skipToNewline
                cursor.reindexAfterSkip = true
                return .next
            }
            cursor.scanner = probe
            commit(&cursor)
        } else {
            out.reject(error(linesBefore + 1, "json", "expected ',' or '}' after the records array"))
            mode = .skipToNewline
            cursor.reindexAfterSkip = true
        }
        return .next
    }

    /// After a malformed line-level record: consumes up to and including the next newline, then returns
    /// to the top level. Without a newline in the buffer it consumes the whole buffer and needs more.
    private mutating func skipToNewline(_ cursor: inout Cursor) -> Step {
        let s = cursor.scanner
        guard let hit = memchr(s.base + s.position, 0x0A, s.end - s.position) else {
            cursor.scanner.position = s.end
            commit(&cursor)
            return .needMore
        }
        cursor.scanner.position = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - s.base + 1
        cursor.scanner.newlines += 1
        commit(&cursor)
        mode = .top
        cursor.reindexAfterSkip = true
        return .next
    }

    /// After a malformed array element: consumes up to just past the next `,` that is followed by a `{`
    /// (whitespace between allowed), or up to a `]` that may close the array (followed by the wrapper's
    /// `}`, or by the end of the input), then frames in the array again. Otherwise it consumes the buffer,
    /// except a `,` whose follower is not in the buffer yet, and needs more.
    private mutating func skipToElement(_ cursor: inout Cursor, wrapper: Bool) -> Step {
        let base = cursor.scanner.base
        let end = cursor.scanner.end
        var p = cursor.scanner.position
        var found = false
        while p < end {
            let c = base[p]
            if c == 0x0A { cursor.scanner.newlines += 1 }
            if c == 0x2C {
                let q = Self.skippingWhitespace(base, from: p + 1, end: end)
                if q < end && base[q] == 0x7B {
                    p += 1
                    found = true
                    break
                }
                if q >= end && !cursor.isFinal { break }
            } else if c == 0x5D {
                // Could be the array's end; peek for the end of the document.
                let q = Self.skippingWhitespace(base, from: p + 1, end: end)
                if (q < end && base[q] == 0x7D && wrapper) || (q >= end && cursor.isFinal) {
                    found = true
                    break
                }
            }
            p += 1
        }
        cursor.scanner.position = p
        commit(&cursor)
        guard found else { return .needMore }
        mode = .inArray(wrapper: wrapper)
        cursor.reindexAfterSkip = true
        return .next
    }

    /// The first index from `start` that is not a space, LF, CR or tab (`end` if there is none). Counts
    /// no newlines.
    @inline(__always)
    private static func skippingWhitespace(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
        var q = start
        while q < end && (base[q] == 0x20 || base[q] == 0x0A || base[q] == 0x0D || base[q] == 0x09) {
            q += 1
        }
        return q
    }

    /// Inside a record larger than the largest buffer: consumes bytes, tracking strings, escapes and
    /// nesting, up to and including the bracket that closes the record; then reports it and resumes
    /// the mode it interrupted. Without that bracket it consumes the whole buffer, keeps its progress
    /// in `mode`, and needs more.
    private mutating func skipOversized(_ cursor: inout Cursor, _ skip: OversizedSkip, into out: inout DecodedBatch)
        -> Step
    {
        var skip = skip
        let base = cursor.scanner.base
        let end = cursor.scanner.end
        var p = cursor.scanner.position
        var closed = false
        while p < end {
            let c = base[p]
            p += 1
            if skip.inString {
                if skip.escape {
                    skip.escape = false
                } else if c == 0x5C {
                    skip.escape = true
                } else if c == 0x22 {
                    skip.inString = false
                }
                continue
            }
            switch c {
            case 0x22: skip.inString = true
            case 0x7B, 0x5B: skip.depth += 1
            case 0x7D, 0x5D:
                skip.depth -= 1
                if skip.depth == 0 { closed = true }
            case 0x0A: cursor.scanner.newlines += 1
            default: break
            }
            if closed { break }
        }
        cursor.scanner.position = p
        commit(&cursor)
        guard closed else {
            mode = .skipOversized(
                resume: skip.resume, depth: skip.depth, inString: skip.inString, escape: skip.escape, line: skip.line)
            return .needMore
        }
        out.reject(
            error(
                skip.line, "json",
                "record is larger than \(maxRecordBytes >> 20) MiB; skipped (raise --max-record-size if such records are genuine)"
            ))
        mode = skip.resume.mode
        cursor.reindexAfterSkip = true
        return .next
    }

    /// The end of the input, at the end of a buffer whose rest (from the cursor's last commit) cannot
    /// complete: reports what is still open — a record begun, an unclosed records array, an oversized
    /// record — counts the rest's lines, and returns to the top level.
    /// - Returns: the whole buffer's length, as consumed.
    private mutating func finishInput(_ cursor: Cursor, into out: inout DecodedBatch) -> Int {
        let s = cursor.scanner
        var rest = JSONScanner(base: s.base, start: cursor.consumed, end: s.end, index: s.index)
        rest.skipWhitespace()
        switch mode {
        case .top, .skipToNewline, .skipToElement:
            if !rest.atEnd {
                out.reject(
                    error(
                        linesBefore + rest.newlines + 1, "json",
                        "input ends inside a record; the file is truncated or the record malformed"))
            }
        case .inArray, .afterWrapper:
            out.reject(
                error(
                    linesBefore + rest.newlines + 1, "json",
                    "input ends before the records array is closed; the file is truncated"))
        case .skipOversized(_, _, _, _, let line):
            out.reject(error(line, "json", "input ends inside an oversized record; the file is truncated"))
        }
        linesBefore += rest.newlines
        mode = .top
        return s.end
    }

    /// The end of the input, at a buffer boundary (an empty final buffer): what is still open is
    /// reported all the same (an oversized last record whose string never closes was dropped without a
    /// word), and framing returns to the top level.
    private mutating func finishAtBufferBoundary(into out: inout DecodedBatch) {
        switch mode {
        case .top, .skipToNewline, .skipToElement: break
        case .inArray, .afterWrapper:
            out.reject(
                error(
                    linesBefore + 1, "json",
                    "input ends before the records array is closed; the file is truncated"))
        case .skipOversized(_, _, _, _, let line):
            out.reject(
                error(
                    line, "json",
                    "input ends inside a record larger than \(maxRecordBytes >> 20) MiB; skipped (the file is truncated, or raise --max-record-size)"
                ))
        }
        mode = .top
    }

    /// Called by the driver when the buffer is at its largest and holds one incomplete record:
    /// the record is skipped from the start of the next `decode` call.
    mutating func skipOversizedRecord() {
        let resume: Mode
        switch mode {
        case .inArray, .skipToElement: resume = mode
        case .afterWrapper: resume = .afterWrapper
        default: resume = .top
        }
        mode = .skipOversized(resume: Box(resume), depth: 0, inString: false, escape: false, line: linesBefore + 1)
    }

    /// `doneParityLost`: the record was read, but it holds an odd number of quotes — damage its reading
    /// absorbed (a lost quote inside a skipped value, a bare word ending in a quote) — so the index's
    /// string parity is wrong after it, and the rest of the buffer must be indexed anew. Without that,
    /// the records after it would be read from wrong bracket bits (and differently by the two
    /// CloudTrail paths).
    enum RecordOutcome { case done, doneParityLost, needMore, malformed }

    private mutating func record(_ s: inout JSONScanner, consumed consumedInCall: Int, out: inout DecodedBatch)
        -> RecordOutcome
    {
        let line = linesBefore + s.newlines + 1
        // On the first line (one-line S3 documents) the byte column says which record.
        let position: InputPosition =
            line == 1 ? .lineColumn(1, bytesBefore + Int64(s.position - consumedInCall) + 1) : .line(line)
        var probe = s
        if handler.handleRecord(&probe, line: position, into: &out) {
            // The record's closing brace is a bracket bit only if the index is outside a string there,
            // that is if the record holds an even number of quotes (one bit read, not a count).
            let parityKept = probe.position > s.position && s.index.isSet(s.index.structure, at: probe.position - 1)
            s = probe
            recovering = false
            return parityKept ? .done : .doneParityLost
        }
        switch probe.failure {
        case .incomplete:
            return .needMore
        case .malformed(let at, let reason):
            // The line of the fault itself, for the message.
            var faultLine = line
            if at > s.position {
                let skipped = UnsafeRawBufferPointer(start: s.base + s.position, count: at - s.position)
                faultLine += skipped.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            }
            out.reject(
                Diagnostic(
                    path: path, position: position, severity: .error, category: "json",
                    message:
                        "malformed JSON in record: \(reason) at line \(faultLine), found \(at < s.end ? Self.describe(s[at]) : "end"); record skipped"
                ))
            s.position = min(at + 1, s.end)
            s.newlines += faultLine - line
            recovering = true
            return .malformed
        }
    }

    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
