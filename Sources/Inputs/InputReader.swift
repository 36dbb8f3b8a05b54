import CISAL
import CZlib
import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads one input's bytes, inflating gzip (also multi-member) when the first bytes are the gzip magic,
/// in fixed-size buffers: memory does not depend on the input's size. Gzip is inflated by ISA-L or zlib
/// (``InputLimits/inflater``); both give the same bytes and the same faults at the same offsets.
///
/// ```swift
/// let reader = try InputReader(path: "a.json.gz")
/// while case let n = try reader.read(into: buffer), n > 0 { … }
/// ```
public final class InputReader {
    public let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let limits: InputLimits

    private var raw: UnsafeMutableRawBufferPointer
    private var rawStart = 0
    private var rawEnd = 0
    private var rawEOF = false
    /// File offset of `raw[0]`.
    private var rawBase: Int64 = 0

    private var stream = z_stream()
    /// ISA-L's state (about 90 KB), allocated for the first gzip member when ISA-L inflates.
    private var isal: UnsafeMutablePointer<inflate_state>?
    private var isalHeader = isal_gzip_header()
    private enum MemberPhase { case header, body, trailer }
    /// Where ISA-L is in the current member: it reads the header and the deflate data, this class the trailer.
    private var phase = MemberPhase.header
    /// Bytes the current member has produced (the trailer's length field is this modulo 2^32).
    private var memberProduced: UInt32 = 0
    public private(set) var isGzip = false
    private var streamLive = false
    /// File offset where the current gzip member began.
    private var memberStart: Int64 = 0
    private var finished = false

    /// Compressed (stored) bytes consumed so far.
    public var storedBytesRead: Int64 { rawBase + Int64(rawStart) }
    /// Decompressed bytes handed out so far.
    public private(set) var bytesProduced: Int64 = 0

    /// Opens `path` (`-` is standard input).
    /// - Throws: ``InputError`` with code `cannotOpen`.
    public init(path: String, limits: InputLimits = InputLimits(), bufferSize: Int = 256 << 10) throws(InputError) {
        self.path = path
        self.limits = limits
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            // Never blocks in open(2): a FIFO without a writer would hold the reader forever. Reads
            // block again once it is open (a pipe named on the command line, `<(zcat …)`, is read whole).
            let opened = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard opened >= 0 else {
                let reason = String(cString: strerror(errno))
                throw InputError(
                    code: .cannotOpen, path: path, offset: nil,
                    message: "cannot open: \(reason.lowercased()); check the path and its permissions")
            }
            var info = stat()
            if fstat(opened, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR {
                close(opened)
                throw InputError(
                    code: .cannotOpen, path: path, offset: nil,
                    message: "is a directory, not a file; name the directory as an input")
            }
            _ = fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK)
            fd = opened
            ownsDescriptor = true
        }
        raw = .allocate(byteCount: bufferSize, alignment: 16)
    }

    /// Reads from an already open descriptor, closed on deinit only when `closesDescriptor`.
    public init(
        descriptor: Int32, path: String, limits: InputLimits = InputLimits(), bufferSize: Int = 256 << 10,
        closesDescriptor: Bool = false
    ) {
        self.path = path
        self.limits = limits
        fd = descriptor
        ownsDescriptor = closesDescriptor
        raw = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        if streamLive { inflateEnd(&stream) }
        if let isal { isal.deallocate() }
        raw.deallocate()
        if ownsDescriptor { close(fd) }
    }

    private var sniffed = false

    /// For a descriptor another party feeds (an object's body through a pipe): asked at end of input,
    /// with the stored offset reached; an error it gives ends the read as that error, not as a clean end
    /// of a shorter input.
    public var endOfInputCheck: ((Int64) -> InputError?)?

    /// Starts reading at `offset` of a plain file (`tail` following appended lines). Call before the
    /// first read; a gzip stream cannot be entered in the middle, so this is for plain files only.
    public func skip(to offset: Int64) {
        guard offset > 0, !sniffed, rawEnd == 0 else { return }
        if lseek(fd, off_t(offset), SEEK_SET) >= 0 { rawBase = offset }
    }

    /// The line ends (`\n`) in the first `offset` bytes of a plain file, counted through a fixed 64 KiB
    /// buffer without moving the read position: the line at which a followed file resumes when only its
    /// byte offset was kept (a store written before the line was). nil when the file cannot be read
    /// that far (shortened since, or a read error).
    /// - Complexity: O(offset).
    public func newlines(before offset: Int64) -> Int? {
        guard offset > 0 else { return 0 }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { chunk.deallocate() }
        var position: Int64 = 0
        var count = 0
        while position < offset {
            let n = pread(fd, chunk.baseAddress!, Int(min(Int64(chunk.count), offset - position)), off_t(position))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            var p = chunk.baseAddress!
            var left = n
            while left > 0, let hit = memchr(p, 0x0A, left) {
                count += 1
                left -= hit - p + 1
                p = hit + 1
            }
            position += Int64(n)
        }
        return count
    }

    /// Bytes kept before `rawStart` when the buffer is compacted: ISA-L ends a member with up to 8 bytes
    /// read ahead into its bit buffer, which the reader steps back over to find the trailer.
    private static let keptBehind = 8

    /// Refills the raw buffer; returns false at end of file. The `keptBehind` bytes before `rawStart`
    /// (all of them while fewer were consumed) stay in the buffer.
    private func fillRaw() throws(InputError) -> Bool {
        if rawEOF { return false }
        if rawStart > Self.keptBehind {
            let keep = Self.keptBehind
            let pending = rawEnd - rawStart + keep
            memmove(raw.baseAddress!, raw.baseAddress! + rawStart - keep, pending)
            rawBase += Int64(rawStart - keep)
            rawStart = keep
            rawEnd = pending
        }
        guard rawEnd < raw.count else { return true }
        while true {
            let n = Glibc.read(fd, raw.baseAddress! + rawEnd, raw.count - rawEnd)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw InputError(
                    code: .readFailed, path: path, offset: rawBase + Int64(rawEnd),
                    message: "read failed: \(reason.lowercased())")
            }
            if n == 0 {
                if let failure = endOfInputCheck?(rawBase + Int64(rawEnd)) { throw failure }
                rawEOF = true
                return rawEnd > rawStart
            }
            rawEnd += n
            return true
        }
    }

    private func startMember() throws(InputError) {
        memberStart = rawBase + Int64(rawStart)
        if limits.inflater == .isal {
            if let isal {
                isal_inflate_reset(isal)
            } else {
                let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
                isal_inflate_init(state)
                isal = state
            }
            isal_gzip_header_init(&isalHeader)
            phase = .header
            memberProduced = 0
            return
        }
        if streamLive {
            inflateReset(&stream)
        } else {
            stream = z_stream()
            let status = czlib_inflateInit2(&stream, 15 + 32)
            guard status == Z_OK else {
                throw InputError(
                    code: .corruptDeflate, path: path, offset: 0, message: "zlib could not start (\(status))")
            }
            streamLive = true
        }
    }

    /// Fills `buffer` with the next decompressed bytes.
    /// - Returns: the number of bytes written; 0 at the end of the input.
    /// - Throws: ``InputError`` for gzip faults and caps; the bytes before the fault were already returned.
    /// - Complexity: O(n) in the bytes produced.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if finished || buffer.count == 0 { return 0 }
        if !sniffed {
            sniffed = true
            while rawEnd - rawStart < 2, try fillRaw() {}
            if rawEnd - rawStart >= 2 && raw[rawStart] == 0x1F && raw[rawStart + 1] == 0x8B {
                isGzip = true
                try startMember()
            }
        }
        if !isGzip { return try readPlain(into: buffer) }
        if limits.inflater == .isal { return try inflateWithISAL(into: buffer) }
        return try inflateInto(buffer)
    }

    private func readPlain(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if rawEnd == rawStart {
            guard try fillRaw() else {
                finished = true
                return 0
            }
        }
        let n = min(buffer.count, rawEnd - rawStart)
        buffer.baseAddress!.copyMemory(from: raw.baseAddress! + rawStart, byteCount: n)
        rawStart += n
        bytesProduced += Int64(n)
        return n
    }

    private func inflateInto(_ buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        var produced = 0
        while produced < buffer.count {
            if rawEnd == rawStart {
                if !(try fillRaw()) {
                    throw InputError(
                        code: .truncated, path: path, offset: storedBytesRead,
                        message:
                            "stream ends before its trailer; the file is truncated (\(bytesProduced + Int64(produced)) bytes were read before the end)"
                    )
                }
            }
            stream.next_in = raw.baseAddress!.assumingMemoryBound(to: Bytef.self) + rawStart
            stream.avail_in = uInt(rawEnd - rawStart)
            stream.next_out = (buffer.baseAddress! + produced).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(buffer.count - produced)
            let before = Int(stream.avail_in)
            let outBefore = Int(stream.avail_out)
            let status = inflate(&stream, Z_NO_FLUSH)
            rawStart += before - Int(stream.avail_in)
            produced += outBefore - Int(stream.avail_out)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_STREAM_END:
                // Another member may follow; padding zeros after the last member are tolerated.
                if try nextMemberFollows() {
                    try startMember()
                } else {
                    finished = true
                    try checkLimits(produced)
                    bytesProduced += Int64(produced)
                    return produced
                }
            case Z_NEED_DICT:
                throw faultError(status)
            default:
                throw faultError(status)
            }
            try checkLimits(produced)
        }
        bytesProduced += Int64(produced)
        return produced
    }

    /// ISA-L's loop over one or more members: `isal_read_gzip_header` reads the header, `isal_inflate`
    /// the deflate data (with the CRC-32 of the output), and the trailer is checked here, so that each
    /// fault gets the same kind, offset and message as zlib gives it.
    private func inflateWithISAL(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        let state = isal!
        let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var produced = 0
        while produced < buffer.count {
            switch phase {
            case .header:
                if state.pointee.block_state == ISAL_BLOCK_NEW_HDR && state.pointee.tmp_in_size == 0 {
                    // zlib's two checks ISA-L does not make the same way: method, then reserved flags.
                    while rawEnd - rawStart < 4, try fillRaw() {}
                    if rawEnd - rawStart >= 4 {
                        if raw[rawStart + 2] != 8 { throw headerFault("unknown compression method") }
                        if raw[rawStart + 3] & 0xE0 != 0 { throw headerFault("unknown header flags set") }
                    }
                }
                if rawEnd == rawStart, !(try fillRaw()) { throw isalTruncated(produced) }
                state.pointee.next_in = base + rawStart
                state.pointee.avail_in = UInt32(rawEnd - rawStart)
                let status = isal_read_gzip_header(state, &isalHeader)
                rawStart = state.pointee.next_in - base
                switch status {
                case ISAL_DECOMP_OK:
                    state.pointee.crc_flag = UInt32(ISAL_GZIP_NO_HDR)
                    phase = .body
                case ISAL_END_INPUT:
                    if !(try fillRaw()) { throw isalTruncated(produced) }
                case ISAL_UNSUPPORTED_METHOD:
                    throw headerFault("unknown compression method")
                case ISAL_INCORRECT_CHECKSUM:
                    throw headerFault("header crc mismatch")
                default:
                    throw headerFault("incorrect header check")
                }
            case .body:
                if rawEnd == rawStart, !(try fillRaw()) { throw isalTruncated(produced) }
                let available = rawEnd - rawStart
                let room = min(buffer.count - produced, Int(UInt32.max))
                state.pointee.next_in = base + rawStart
                state.pointee.avail_in = UInt32(available)
                state.pointee.next_out = (buffer.baseAddress! + produced).assumingMemoryBound(to: UInt8.self)
                state.pointee.avail_out = UInt32(room)
                let status = isal_inflate(state)
                let consumed = available - Int(state.pointee.avail_in)
                let written = room - Int(state.pointee.avail_out)
                rawStart += consumed
                produced += written
                memberProduced &+= UInt32(truncatingIfNeeded: written)
                guard status == ISAL_DECOMP_OK else { throw isalDeflateFault(status) }
                if state.pointee.block_state == ISAL_BLOCK_FINISH {
                    // The bit buffer holds whole bytes read past the deflate end (the trailer's first bytes):
                    // step back over them; fillRaw keeps them in the buffer.
                    rawStart -= Int(max(state.pointee.read_in_length, 0)) / 8
                    state.pointee.read_in = 0
                    state.pointee.read_in_length = 0
                    phase = .trailer
                } else if consumed == 0 && written == 0 {
                    // ISA-L wants more input than the buffer holds past rawStart.
                    let before = rawEnd - rawStart
                    if !(try fillRaw()) || rawEnd - rawStart == before { throw isalTruncated(produced) }
                }
                try checkLimits(produced)
            case .trailer:
                while rawEnd - rawStart < 8, try fillRaw() {}
                guard rawEnd - rawStart >= 8 else { throw isalTruncated(produced) }
                let crc = UInt32(littleEndianBytesAt: base + rawStart)
                let length = UInt32(littleEndianBytesAt: base + rawStart + 4)
                if crc != state.pointee.crc {
                    rawStart += 4
                    throw InputError(
                        code: .checksumMismatch, path: path, offset: storedBytesRead,
                        message: "CRC-32 in the gzip trailer does not match the data; the file is corrupt")
                }
                rawStart += 8
                if length != memberProduced {
                    throw InputError(
                        code: .checksumMismatch, path: path, offset: storedBytesRead,
                        message: "length in the gzip trailer does not match the data; the file is corrupt")
                }
                if try nextMemberFollows() {
                    try startMember()
                } else {
                    finished = true
                    bytesProduced += Int64(produced)
                    return produced
                }
            }
        }
        bytesProduced += Int64(produced)
        return produced
    }

    /// The input ended inside a member: reported at the end of what was read, as zlib's path does.
    private func isalTruncated(_ produced: Int) -> InputError {
        InputError(
            code: .truncated, path: path, offset: rawBase + Int64(rawEnd),
            message:
                "stream ends before its trailer; the file is truncated (\(bytesProduced + Int64(produced)) bytes were read before the end)"
        )
    }

    private func isalDeflateFault(_ status: Int32) -> InputError {
        let detail =
            switch status {
            case ISAL_INVALID_BLOCK: "invalid block"
            case ISAL_INVALID_SYMBOL: "invalid code"
            case ISAL_INVALID_LOOKBACK: "invalid distance too far back"
            default: "isa-l status \(status)"
            }
        return InputError(
            code: .corruptDeflate, path: path, offset: storedBytesRead,
            message: "corrupt deflate data (\(detail)); the file is damaged")
    }

    private func headerFault(_ detail: String) -> InputError {
        InputError(
            code: .notGzip, path: path, offset: memberStart,
            message: "not a gzip stream (\(detail)); the file starts with the gzip magic but its header is invalid")
    }

    private func nextMemberFollows() throws(InputError) -> Bool {
        while true {
            while rawEnd - rawStart < 2, try fillRaw() {}
            if rawEnd == rawStart { return false }
            if rawEnd - rawStart >= 2 && raw[rawStart] == 0x1F && raw[rawStart + 1] == 0x8B { return true }
            // Zero padding (some writers pad to a block) is skipped.
            if raw[rawStart] == 0 {
                while rawStart < rawEnd && raw[rawStart] == 0 { rawStart += 1 }
                continue
            }
            throw InputError(
                code: .notGzip, path: path, offset: storedBytesRead,
                message: "bytes after the last gzip member are not a gzip stream; the file holds trailing garbage")
        }
    }

    private func checkLimits(_ pending: Int) throws(InputError) {
        let total = bytesProduced + Int64(pending)
        if total > limits.maxDecompressedBytes {
            throw InputError(
                code: .tooLarge, path: path, offset: storedBytesRead,
                message:
                    "decompressed size passes the cap of \(limits.maxDecompressedBytes) bytes; a decompression bomb? raise --max-decompressed if the file is genuine"
            )
        }
        let stored = max(storedBytesRead, 1)
        if total > limits.ratioCheckAfter && total / stored > limits.maxRatio {
            throw InputError(
                code: .tooLarge, path: path, offset: storedBytesRead,
                message:
                    "compression ratio passes \(limits.maxRatio):1 after \(total) bytes; a decompression bomb? raise max_ratio in the config if the file is genuine"
            )
        }
    }

    private func faultError(_ status: Int32) -> InputError {
        let detail = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
        let offset = storedBytesRead
        switch detail {
        case "incorrect data check":
            return InputError(
                code: .checksumMismatch, path: path, offset: offset,
                message: "CRC-32 in the gzip trailer does not match the data; the file is corrupt")
        case "incorrect length check":
            return InputError(
                code: .checksumMismatch, path: path, offset: offset,
                message: "length in the gzip trailer does not match the data; the file is corrupt")
        case "incorrect header check", "unknown compression method", "unknown header flags set",
            "header crc mismatch":
            return headerFault(detail)
        default:
            return InputError(
                code: .corruptDeflate, path: path, offset: offset,
                message: "corrupt deflate data (\(detail)); the file is damaged")
        }
    }
}

extension UInt32 {
    /// The four bytes at `pointer`, least significant first (gzip's byte order).
    fileprivate init(littleEndianBytesAt pointer: UnsafePointer<UInt8>) {
        self = UInt32(pointer[0]) | UInt32(pointer[1]) << 8 | UInt32(pointer[2]) << 16 | UInt32(pointer[3]) << 24
    }
}
