public import Inputs
import CCurl
import Foundation
import Synchronization
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// Opens `s3://bucket/key` inputs for the pipeline's readers: a thread streams the object's body
/// into a pipe whose other end an ``InputReader`` reads as it reads a file (gzip sniffed, inflated,
/// limits kept). Memory stays at the pipe's and the reader's buffers, whatever the object's size: the
/// transfer waits while the pipe is full. A body that cannot be read to its end is a read failure of
/// that input, named with its bucket, key and AWS error code — never a clean, shortened end.
public final class ObjectReaderSource: Sendable {
    public let client: S3Client
    /// The objects listed or notified, by input name (`s3://bucket/key`): their ETag guards every read.
    private let known: Mutex<[String: S3Object]>
    /// The last read failure of each input, until taken.
    private let failures = Mutex<[String: ObjectStoreError]>([:])

    public init(client: S3Client, objects: [String: S3Object] = [:]) {
        self.client = client
        known = Mutex(objects)
    }

    /// The object behind an input name, as registered.
    public func object(named name: String) -> S3Object? { known.withLock { $0[name] } }

    /// Registers (or replaces) the object behind `name`: later reads of it carry its ETag.
    public func register(_ object: S3Object, as name: String) { known.withLock { $0[name] = object } }

    /// Forgets the object behind `name` (read and committed: `tail` keeps only what is pending).
    public func forget(_ name: String) { _ = known.withLock { $0.removeValue(forKey: name) } }

    /// Why the last read of `name` failed (its error is taken), or nil.
    public func takeFailure(_ name: String) -> ObjectStoreError? { failures.withLock { $0.removeValue(forKey: name) } }

    /// The reader for `name`, or nil when `name` is not an object input (a local path).
    /// - Throws: ``InputError`` `.cannotOpen` when no pipe can be made.
    public func open(_ name: String, limits: InputLimits) throws(InputError) -> InputReader? {
        guard let (bucket, key) = S3Location.object(fromInputName: name) else { return nil }
        var ends: [Int32] = [0, 0]
        guard ccurl_pipe_cloexec(&ends) == 0 else {
            throw InputError(
                code: .cannotOpen, path: name, offset: nil,
                message:
                    "cannot make a pipe: \(String(cString: strerror(errno)).lowercased()); raise the open-file limit")
        }
        // A larger pipe lets the transfer run ahead of the decoder by up to 1 MiB (F_SETPIPE_SZ; the
        // default 64 KiB if refused).
        _ = fcntl(ends[1], 1031, 1 << 20)
        let outcome = TransferOutcome()
        let writeEnd = ends[1]
        let client = self.client
        let etag = object(named: name)?.etag
        _ = failures.withLock { $0.removeValue(forKey: name) }
        let thread = Thread {
            // A write to a pipe whose reader is gone raises SIGPIPE in the writing thread: blocked here,
            // so it ends the transfer (EPIPE) instead of the process.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &set, nil)
            do {
                let read = try client.getObject(bucket: bucket, key: key, etag: etag) { bytes in
                    FileDescriptorWriter.writeAll(writeEnd, bytes)
                }
                // An object read by name alone (`normalize --inputs-from`): what was read becomes its
                // identity, registered before the reader sees the end.
                if etag == nil, let readETag = read.etag {
                    self.register(S3Object(key: key, size: read.bytes, etag: readETag, lastModified: ""), as: name)
                }
            } catch let error as ObjectStoreError {
                if error.code != .cancelled {
                    outcome.set(error)
                    self.failures.withLock { $0[name] = error }
                }
            } catch {
            }
            close(writeEnd)
        }
        thread.stackSize = 1 << 20
        thread.start()
        let reader = InputReader(descriptor: ends[0], path: name, limits: limits, closesDescriptor: true)
        reader.endOfInputCheck = { offset in
            outcome.error.map {
                InputError(code: .readFailed, path: name, offset: offset, message: $0.detail)
            }
        }
        return reader
    }
}

private final class TransferOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: ObjectStoreError?

    func set(_ error: ObjectStoreError) {
        lock.lock()
        stored = error
        lock.unlock()
    }

    var error: ObjectStoreError? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
