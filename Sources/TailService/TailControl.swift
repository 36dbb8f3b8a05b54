import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Requests to the tail loop from other threads — stop (graceful shutdown) and reload (SIGHUP) — and a
/// pipe that wakes the loop's blocking wait when one arrives.
///
/// The loop looks at the requests between batches: a stop finishes the batch in hand; a reload is
/// applied before the next batch. Requests are flags, not a queue: two reloads before the loop looks
/// make one.
public final class TailControl: Sendable {
    private let stop = Atomic<Bool>(false)
    private let reload = Atomic<Bool>(false)
    /// The pipe's ends: the loop's wait polls the read end; a request writes a byte to the other.
    private let readEnd: Int32
    private let writeEnd: Int32

    /// - Throws: ``TailError`` when no pipe can be made (out of descriptors).
    public init() throws(TailError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw TailError(.cannotWait(errno: errno)) }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Asks the loop to finish the batch in hand, commit, deliver and return.
    public func requestStop() {
        stop.store(true, ordering: .releasing)
        wake()
    }

    /// Asks the loop to reload its configuration before the next batch.
    public func requestReload() {
        reload.store(true, ordering: .releasing)
        wake()
    }

    /// Whether a stop was asked for.
    public var stopRequested: Bool { stop.load(ordering: .acquiring) }

    /// Whether a reload was asked for since the last call (the request is taken).
    public func takeReloadRequest() -> Bool { reload.exchange(false, ordering: .acquiringAndReleasing) }

    /// Readable while a request is unseen by a wait.
    var wakeDescriptor: Int32 { readEnd }

    /// Empties the pipe once a wait has seen it (the requests stay set until taken).
    func drainWakes() {
        var bytes = (UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &bytes, { read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
    }

    private func wake() {
        var byte: UInt8 = 1
        // A full pipe already wakes the wait: EAGAIN is fine.
        _ = write(writeEnd, &byte, 1)
    }
}
