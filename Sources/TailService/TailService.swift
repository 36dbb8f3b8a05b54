import Foundation
public import ServiceLifecycle
public import UnixSignals

/// `chiptrail tail` as a swift-service-lifecycle ``Service``: watch -> batch -> commit -> deliver, until
/// graceful shutdown.
///
/// Run it in a `ServiceGroup` whose graceful-shutdown signals are SIGTERM and SIGINT: graceful shutdown
/// (or cancellation) lets the loop finish the batch in hand, commit it, print what the outbox holds, wait
/// for the `--exec` command up to a deadline (``OutboxDelivery``), and return. Each signal of `reloadSignals` (SIGHUP) asks for a reload at the next batch boundary.
/// Either request wakes the loop's blocking wait at once (``TailControl``).
///
/// The loop is synchronous and blocks in `poll`: it runs on a thread of its own, off the cooperative
/// pool. It is made on that thread by `makeFollower`, so its state never crosses threads.
public struct TailService: Service {
    private let reloadSignals: UnixSignalsSequence
    private let makeFollower: @Sendable (TailControl) throws -> TailFollower

    /// - Parameters:
    ///   - reloadSignals: signals that ask for a reload (SIGHUP); trap them before anything a test or
    ///     an operator may send them after (the store being opened, the start line).
    ///   - makeFollower: builds the loop (configuration, store, pipeline) on the loop's thread; what it
    ///     throws ends `run()`.
    public init(
        reloadSignals: UnixSignalsSequence,
        makeFollower: @escaping @Sendable (TailControl) throws -> TailFollower
    ) {
        self.reloadSignals = reloadSignals
        self.makeFollower = makeFollower
    }

    /// Runs the loop until graceful shutdown, cancellation, an error, or (`--once`) the end of the
    /// backlog.
    /// - Throws: ``TailError`` from the loop, or what `makeFollower` throws.
    public func run() async throws {
        let control = try TailControl()
        let reloadSignals = self.reloadSignals
        let makeFollower = self.makeFollower
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in reloadSignals { control.requestReload() }
            }
            defer { group.cancelAll() }
            try await withTaskCancellationOrGracefulShutdownHandler {
                try await Self.onOwnThread {
                    let follower = try makeFollower(control)
                    try follower.run(control: control)
                }
            } onCancelOrGracefulShutdown: {
                control.requestStop()
            }
        }
    }

    /// Runs `body` on a new thread with the main thread's stack size, and waits for it without holding a
    /// thread of the cooperative pool.
    private static func onOwnThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                // Threads of the pool block most signals; the loop's children (hooks) inherit its mask.
                var none = sigset_t()
                sigemptyset(&none)
                pthread_sigmask(SIG_SETMASK, &none, nil)
                do {
                    try body()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "chiptrail-tail"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
