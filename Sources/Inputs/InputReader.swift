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
/// in fixed-size buffers: memory does not depend on the input's size.
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
                    code: .cannotOpen, path: path, offset: nil, message: "is a directory, not a file; name the directory as an input")
            }
            _ = fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK)
            fd = opened
            ownsDescriptor = true
        }
        raw = .allocate(byteCount: bufferSize, alignment: 16)
    }

    /// Reads from an already open descriptor (not closed on deinit).
    public init(descriptor: Int32, path: String, limits: InputLimits = InputLimits(), bufferSize: Int = 256 << 10) {
        self.path = path
        self.limits = limits
        fd = descriptor
        ownsDescriptor = false
        raw = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        if streamLive { inflateEnd(&stream) }
        raw.deallocate()
        if ownsDescriptor { close(fd) }
    }

    private var sniffed = false

    /// Starts reading at `offset` of a plain file (`tail` following appended lines). Call before the
    /// first read; a gzip stream cannot be entered in the middle, so this is for plain files only.
    public func skip(to offset: Int64) {
        guard offset > 0, !sniffed, rawEnd == 0 else { return }
        if lseek(fd, off_t(offset), SEEK_SET) >= 0 { rawBase = offset }
    }

    /// Refills the raw buffer; returns false at end of file.
    private func fillRaw() throws(InputError) -> Bool {
        if rawEOF { return false }
        if rawStart > 0 {
            let pending = rawEnd - rawStart
            if pending > 0 {
                memmove(raw.baseAddress!, raw.baseAddress! + rawStart, pending)
            }
            rawBase += Int64(rawStart)
            rawStart = 0
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
                rawEOF = true
                return rawEnd > rawStart
            }
            rawEnd += n
            return true
        }
    }

    private func startMember() throws(InputError) {
        memberStart = rawBase + Int64(rawStart)
        if streamLive {
            inflateReset(&stream)
        } else {
            stream = z_stream()
            let status = czlib_inflateInit2(&stream, 15 + 32)
            guard status == Z_OK else {
                throw InputError(code: .corruptDeflate, path: path, offset: 0, message: "zlib could not start (\(status))")
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
            return InputError(
                code: .notGzip, path: path, offset: memberStart,
                message: "not a gzip stream (\(detail)); the file starts with the gzip magic but its header is invalid")
        default:
            return InputError(
                code: .corruptDeflate, path: path, offset: offset,
                message: "corrupt deflate data (\(detail)); the file is damaged")
        }
    }
}
