public import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where alerts go.
public protocol AlertSink {
    /// Delivers one alert; called in emission order.
    mutating func deliver(_ alert: Alert)
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
                OCSFEncoding.json(alert, createdAt: alert.raisedAt ?? EpochSeconds(time(nil)), version: ChiptrailVersion.current)
            }
        }
    }

    let descriptor: Int32
    let style: Style

    public init(descriptor: Int32 = STDOUT_FILENO, style: Style) {
        self.descriptor = descriptor
        self.style = style
    }

    public mutating func deliver(_ alert: Alert) {
        let line = style.encode(alert) + "\n"
        FileDescriptorWriter.writeAll(descriptor, line)
    }
}
