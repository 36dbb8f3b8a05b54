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

    /// Decodes every complete record in `buffer`.
    /// - Returns: the number of bytes consumed; the caller keeps the rest and calls again with more.
    /// - Complexity: O(n) in the buffer's bytes.
    mutating func decode(_ buffer: UnsafeRawBufferPointer, isFinal: Bool, into out: inout DecodedBatch) -> Int {
        guard let raw = buffer.baseAddress, buffer.count > 0 else {
            // The input ended at a buffer boundary: what is still open is reported all the same (an
            // oversized last record whose string never closes was dropped without a word).
            if isFinal {
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
            return 0
        }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        // A byte order mark split across the first buffers: wait for all of it.
        if bytesBefore == 0 && buffer.count < 3 && !isFinal, case .top = mode {
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            if (0..<buffer.count).allSatisfy({ base[$0] == bom[$0] }) { return 0 }
        }
        var s = JSONScanner(
            base: base, start: 0, end: buffer.count, index: indexStorage.build(base: base, from: 0, end: buffer.count))
        var consumed = 0
        /// After a skip, the bytes skipped may have left the index's string parity wrong: index anew.
        var reindexAfterSkip = false
        @inline(__always) func reindex(_ scanner: inout JSONScanner) {
            let rebuilt = indexStorage.build(base: base, from: scanner.position, end: buffer.count)
            var fresh = JSONScanner(base: base, start: scanner.position, end: buffer.count, index: rebuilt)
            fresh.newlines = scanner.newlines
            scanner = fresh
        }

        @inline(__always) func commit(_ scanner: inout JSONScanner) {
            bytesBefore += Int64(scanner.position - consumed)
            consumed = scanner.position
            linesBefore += scanner.newlines
            scanner.newlines = 0
        }

        // A UTF-8 byte order mark before the first record (as some exporters write) is not content.
        if bytesBefore == 0 && consumed == 0 && buffer.count >= 3 && base[0] == 0xEF && base[1] == 0xBB
            && base[2] == 0xBF
        {
            s.position = 3
            commit(&s)
        }

        scanning: while true {
            if reindexAfterSkip {
                switch mode {
                case .top, .inArray, .afterWrapper:
                    reindex(&s)
                    reindexAfterSkip = false
                default: break
                }
            }
            switch mode {
            case .top:
                s.skipWhitespace()
                commit(&s)
                guard !s.atEnd else { break scanning }
                let b = s[s.position]
                if b == 0x7B {
                    var probe = s
                    probe.position += 1
                    probe.skipWhitespace()
                    guard !probe.atEnd else { break scanning }
                    if probe[probe.position] == 0x22 {
                        var key = ByteSpan.empty
                        guard probe.scanString(&key) else { break scanning }
                        if handler.isWrapperKey(probe, key) {
                            guard probe.expect(0x3A, "':'") else {
                                if probe.failure == .incomplete { break scanning }
                                mode = .skipToNewline
                                reindexAfterSkip = true
                                out.reject(
                                    error(linesBefore + 1, "json", "malformed wrapper object; skipped to the next line")
                                )
                                continue
                            }
                            guard let next = probe.peek() else { break scanning }
                            if next == 0x5B {
                                probe.position += 1
                                s = probe
                                commit(&s)
                                mode = .inArray(wrapper: true)
                                continue
                            }
                        }
                    }
                    switch record(&s, consumed: consumed, out: &out) {
                    case .done: commit(&s)
                    case .doneParityLost:
                        commit(&s)
                        reindexAfterSkip = true
                    case .needMore: break scanning
                    case .malformed:
                        mode = .skipToNewline
                        reindexAfterSkip = true
                        commit(&s)
                    }
                } else if b == 0x5B {
                    s.position += 1
                    commit(&s)
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
                    reindexAfterSkip = true
                }
            case .inArray(let wrapper):
                s.skipWhitespace()
                commit(&s)
                guard !s.atEnd else { break scanning }
                let b = s[s.position]
                if b == 0x2C {
                    s.position += 1
                    commit(&s)
                } else if b == 0x5D {
                    s.position += 1
                    commit(&s)
                    mode = wrapper ? .afterWrapper : .top
                } else if b == 0x7B {
                    switch record(&s, consumed: consumed, out: &out) {
                    case .done: commit(&s)
                    case .doneParityLost:
                        commit(&s)
                        reindexAfterSkip = true
                    case .needMore: break scanning
                    case .malformed:
                        mode = .skipToElement(wrapper: wrapper)
                        reindexAfterSkip = true
                        commit(&s)
                    }
                } else {
                    out.reject(
                        error(
                            linesBefore + 1, "json",
                            "expected a record object in the array, found \(Self.describe(b)); skipped to the next record"
                        ))
                    s.position += 1
                    commit(&s)
                    mode = .skipToElement(wrapper: wrapper)
                    reindexAfterSkip = true
                }
            case .afterWrapper:
                s.skipWhitespace()
                commit(&s)
                guard !s.atEnd else { break scanning }
                let b = s[s.position]
                if b == 0x7D {
                    s.position += 1
                    commit(&s)
                    mode = .top
                } else if b == 0x2C {
                    var probe = s
                    probe.position += 1
                    probe.skipWhitespace()
                    guard !probe.atEnd else { break scanning }
                    var span = ByteSpan.empty
                    guard probe[probe.position] == 0x22, probe.scanString(&span),
                        probe.expect(0x3A, "':'"), probe.skipValue(&span)
                    else {
                        if probe.failure == .incomplete { break scanning }
                        out.reject(error(linesBefore + 1, "json", "malformed member after the records array"))
                        mode = .skipToNewline
                        reindexAfterSkip = true
                        continue
                    }
                    s = probe
                    commit(&s)
                } else {
                    out.reject(error(linesBefore + 1, "json", "expected ',' or '}' after the records array"))
                    mode = .skipToNewline
                    reindexAfterSkip = true
                }
            case .skipToNewline:
                guard
                    let hit = memchr(base + s.position, 0x0A, buffer.count - s.position)
                else {
                    s.position = buffer.count
                    commit(&s)
                    break scanning
                }
                s.position = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base + 1
                s.newlines += 1
                commit(&s)
                mode = .top
                reindexAfterSkip = true
            case .skipToElement(let wrapper):
                // The next element starts at a '{' that follows a ',' (whitespace between allowed).
                var p = s.position
                var found = false
                while p < buffer.count {
                    let c = base[p]
                    if c == 0x0A { s.newlines += 1 }
                    if c == 0x2C {
                        var q = p + 1
                        while q < buffer.count
                            && (base[q] == 0x20 || base[q] == 0x0A || base[q] == 0x0D || base[q] == 0x09)
                        {
                            q += 1
                        }
                        if q < buffer.count && base[q] == 0x7B {
                            p += 1
                            found = true
                            break
                        }
                        if q >= buffer.count && !isFinal { break }
                    } else if c == 0x5D {
                        // Could be the array's end; peek for the end of the document.
                        var q = p + 1
                        while q < buffer.count
                            && (base[q] == 0x20 || base[q] == 0x0A || base[q] == 0x0D || base[q] == 0x09)
                        {
                            q += 1
                        }
                        if (q < buffer.count && base[q] == 0x7D && wrapper) || (q >= buffer.count && isFinal) {
                            found = true
                            break
                        }
                    }
                    p += 1
                }
                s.position = p
                commit(&s)
                if found {
                    mode = .inArray(wrapper: wrapper)
                    reindexAfterSkip = true
                } else {
                    break scanning
                }
            case .skipOversized(let resume, var depth, var inString, var escape, let line):
                var p = s.position
                var closed = false
                while p < buffer.count {
                    let c = base[p]
                    p += 1
                    if inString {
                        if escape {
                            escape = false
                        } else if c == 0x5C {
                            escape = true
                        } else if c == 0x22 {
                            inString = false
                        }
                        continue
                    }
                    switch c {
                    case 0x22: inString = true
                    case 0x7B, 0x5B: depth += 1
                    case 0x7D, 0x5D:
                        depth -= 1
                        if depth == 0 { closed = true }
                    case 0x0A: s.newlines += 1
                    default: break
                    }
                    if closed { break }
                }
                s.position = p
                commit(&s)
                if closed {
                    out.reject(
                        error(
                            line, "json",
                            "record is larger than \(maxRecordBytes >> 20) MiB; skipped (raise --max-record-size if such records are genuine)"
                        ))
                    mode = resume.mode
                    reindexAfterSkip = true
                } else {
                    mode = .skipOversized(resume: resume, depth: depth, inString: inString, escape: escape, line: line)
                    break scanning
                }
            }
        }

        if isFinal {
            // Whatever is left cannot complete.
            var rest = JSONScanner(base: base, start: consumed, end: buffer.count, index: s.index)
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
            return buffer.count
        }
        return consumed
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
