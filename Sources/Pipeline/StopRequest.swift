import Synchronization

/// A request that a run stop reading, made from any thread (the task that receives SIGINT or SIGTERM,
/// or the sink that finds stdout closed) and seen by ``IngestPipeline/run(expected:next:stop:)`` at the
/// next input boundary: inputs not yet merged are left unread, and nothing is decided as if the input
/// had ended.
///
/// ```swift
/// let stop = StopRequest()
/// // on SIGINT, from another thread:
/// stop.request()
/// let summary = pipeline.run(expected: n, next: next, stop: stop)   // summary.interrupted
/// ```
public final class StopRequest: Sendable {
    private struct State {
        var requested = false
        var wakers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether a stop was requested.
    public var isRequested: Bool { state.withLock { $0.requested } }

    /// Asks the run to stop; wakes a run waiting for a reader. The second and later calls change nothing.
    public func request() {
        let wakers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.requested else { return [] }
            state.requested = true
            return state.wakers
        }
        for wake in wakers { wake() }
    }

    /// Calls `wake` once a stop is requested (at once when it already was).
    func onRequest(_ wake: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            if !state.requested { state.wakers.append(wake) }
            return state.requested
        }
        if already { wake() }
    }
}
