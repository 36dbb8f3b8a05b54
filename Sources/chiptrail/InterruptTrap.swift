import Alerting
import Foundation
import Pipeline
import Synchronization
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM during `ingest`, through the same `UnixSignalsSequence` that `tail`'s service
/// group shuts down on: the first asks the run to stop reading (``stop``) and decides the exit status;
/// a second ends the process at once, without waiting for the `--exec` command.
final class InterruptTrap: Sendable {
    /// Requested by the first signal.
    let stop: StopRequest
    private let received = Mutex<[Int32]>([])
    /// The `--exec` command's queue, to say what a second signal leaves undelivered.
    private let hook: QueuedAlertSink?

    private init(stop: StopRequest, hook: QueuedAlertSink?) {
        self.stop = stop
        self.hook = hook
    }

    /// Traps the signals; returns once they are trapped (a signal sent before that ends the process, as
    /// it always did).
    static func install(stop: StopRequest, hook: QueuedAlertSink?) -> InterruptTrap {
        let trap = InterruptTrap(stop: stop, hook: hook)
        let trapped = DispatchSemaphore(value: 0)
        Task.detached {
            let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
            trapped.signal()
            for await signal in signals { trap.receive(signal.rawValue) }
        }
        trapped.wait()
        return trap
    }

    /// The first signal received, if any.
    var signal: Int32? { received.withLock { $0.first } }

    /// The shell's status for a process ended by `signal`: 128 + its number (130 for SIGINT, 143 for
    /// SIGTERM).
    static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }

    /// `SIGINT`, `SIGTERM`.
    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    private func receive(_ signal: Int32) {
        let count = received.withLock {
            $0.append(signal)
            return $0.count
        }
        if count == 1 {
            stop.request()
            return
        }
        // Nothing is buffered: stdout and stderr are written with write(2).
        let waiting = hook?.waitingCount ?? 0
        Diagnostics.printRaw(
            "chiptrail: \(Self.name(of: signal)) again: exiting at once"
                + (waiting > 0 ? "; \(waiting) alert(s) printed on stdout were not handed to --exec" : ""))
        _exit(Self.exitStatus(for: signal))
    }
}
