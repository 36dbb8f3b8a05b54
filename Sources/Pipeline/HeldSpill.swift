#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where `ingest` keeps held records past its memory budget: a temporary file, unlinked as soon as it is
/// opened (nothing is left behind, even after `kill -9`), appended to and read back at given offsets.
///
/// The records held for the allowed lateness are live state, but a trail with hours of event time in a
/// few gigabytes holds all of its calls until the end; past the budget they wait here, in their order,
/// and are read back slice by slice when the frontier releases them (``EventTimeOrder``).
final class HeldSpill {
    private let descriptor: Int32
    /// Bytes written so far: the offset of the next append.
    private(set) var size: Int64 = 0

    /// Opens a new unlinked file in `directory`.
    init(directory: String) throws(HeldSpillError) {
        var template = Array((directory + "/chiptrail-held.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw HeldSpillError(.open, errno: errno) }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        descriptor = fd
    }

    /// The directory for the file: `$TMPDIR`, else `/tmp`.
    static var defaultDirectory: String {
        if let dir = getenv("TMPDIR"), dir.pointee != 0 { return String(cString: dir) }
        return "/tmp"
    }

    deinit { close(descriptor) }

    /// Appends `bytes`; returns the offset they start at.
    func append(_ bytes: UnsafeRawBufferPointer) throws(HeldSpillError) -> Int64 {
        let start = size
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(start) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw HeldSpillError(.write, errno: n < 0 ? errno : ENOSPC) }
            done += n
        }
        size += Int64(bytes.count)
        return start
    }

    /// Fills `buffer` with the bytes at `offset`.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(HeldSpillError) {
        let failure = fill(buffer, at: offset)
        if failure != 0 { throw HeldSpillError(.read, errno: failure) }
    }

    /// `count` bytes at `offset`.
    func bytes(at offset: Int64, count: Int) throws(HeldSpillError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let failure = out.withUnsafeMutableBytes { fill($0, at: offset) }
        if failure != 0 { throw HeldSpillError(.read, errno: failure) }
        return out
    }

    /// Reads `buffer.count` bytes at `offset`; 0, or the error number.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int32 {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return n < 0 ? errno : EIO }
            done += n
        }
        return 0
    }
}

/// The temporary file of held records could not be opened, written or read back.
struct HeldSpillError: Error, CustomStringConvertible {
    enum Step: Sendable { case open, write, read }
    var step: Step
    var errno: Int32

    init(_ step: Step, errno: Int32) {
        self.step = step
        self.errno = errno
    }

    var description: String {
        let what: String
        switch step {
        case .open: what = "cannot create the temporary file for held records"
        case .write: what = "cannot write held records to the temporary file"
        case .read: what = "cannot read held records back from the temporary file"
        }
        return "\(what): \(String(cString: strerror(errno)))"
    }
}
