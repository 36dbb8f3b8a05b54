public import UsageModel

#if canImport(Glibc)
    public import Glibc
#elseif canImport(Darwin)
    public import Darwin
#endif

/// Where alerts go.
public protocol AlertSink {
    /// Delivers one alert; called in emission order.
    mutating func deliver(_ alert: Alert)
}

/// A sink whose delivery in progress can be cut short from another thread (``ExecSink``: its command is
/// killed), for a queue that stops at a deadline (``QueuedAlertSink/finish(deadline:)``).
public protocol InterruptibleAlertSink: AnyObject, AlertSink {
    /// Ends the delivery in progress, if any, and every later one, at once; safe from any thread.
    func interrupt()
}

/// Writes alerts to a file descriptor, one per line, flushed per alert (`write(2)` has no buffer).
public struct LineAlertSink: AlertSink {
    public enum Style: String, Sendable, CaseIterable {
        case jsonl
        case ocsf
        case text

        /// One alert in this style, without the newline.
        public func encode(_ alert: Alert) -> String {
            switch self {
            case .jsonl: AlertEncoding.json(alert)
            case .text: AlertEncoding.text(alert)
            case .ocsf:
                OCSFEncoding.json(
                    alert, createdAt: alert.raisedAt ?? Timestamp.now(), version: ChiptrailVersion.current)
            }
        }
    }

    let descriptor: Int32
    let style: Style
    /// Called once when a write fails with EPIPE — its reader is gone (SIGPIPE ignored, as `ingest` and
    /// `tail` do): nothing more is written.
    public var onClosed: (() -> Void)?
    private var closed = false

    public init(descriptor: Int32 = STDOUT_FILENO, style: Style, onClosed: (() -> Void)? = nil) {
        self.descriptor = descriptor
        self.style = style
        self.onClosed = onClosed
    }

    public mutating func deliver(_ alert: Alert) {
        guard !closed else { return }
        let line = style.encode(alert) + "\n"
        if !FileDescriptorWriter.writeAll(descriptor, line) && errno == EPIPE {
            closed = true
            onClosed?()
        }
    }
}

/// Delivers every alert to each of its sinks in turn.
public struct AlertFanOut: AlertSink {
    public var sinks: [any AlertSink]

    public init(_ sinks: [any AlertSink]) { self.sinks = sinks }

    public mutating func deliver(_ alert: Alert) {
        for i in sinks.indices { sinks[i].deliver(alert) }
    }
}
