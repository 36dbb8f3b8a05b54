public import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where syslog messages go: `unix:/dev/log` (datagrams to a local socket), `udp://host:port`
/// (one datagram per message), `tcp://host:port` (octet-counted framing, RFC 6587 3.4.1).
public enum SyslogTarget: Sendable, Equatable, CustomStringConvertible {
    case unix(String)
    case udp(host: String, port: UInt16)
    case tcp(host: String, port: UInt16)

    /// Parses the `--syslog` value; nil when it is none of the three forms.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path)
            return
        }
        for (scheme, isTCP) in [("udp://", false), ("tcp://", true)] where text.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0
            else { return nil }
            var host = String(rest[..<colon])
            if host.hasPrefix("[") {
                // An IPv6 address, bracketed whole: [::1]:514.
                guard host.hasSuffix("]"), host.count > 2 else { return nil }
                host = String(host.dropFirst().dropLast())
                guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                    return nil
                }
            } else {
                // A name or an IPv4 address: no brackets, no colons (an IPv6 address must be bracketed).
                guard !host.isEmpty,
                    host.allSatisfy({
                        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_")
                    })
                else { return nil }
            }
            self = isTCP ? .tcp(host: host, port: port) : .udp(host: host, port: port)
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .udp(let host, let port): "udp://\(host):\(port)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}

/// RFC 5424 messages of alerts: `<PRI>1 TIMESTAMP HOSTNAME chiptrail PROCID alert [SD] MSG`.
///
/// Facility: 13 (log audit). Severity: high → 2 (critical), medium → 4 (warning), low → 5 (notice).
/// Structured data `[alert@32473 …]` (32473 is the enterprise number RFC 5612 reserves for
/// documentation; replace it with your own in a fork) carries id, score, severity, provider, account,
/// reseller, jurisdictions, session, accelerator and accelerator-hours; the message is the alert's
/// JSON line. Parameter values are escaped (`"`, `\`, `]`) and log text never carries a raw newline or
/// control character (the JSON escapes them), so a crafted user agent cannot forge a record.
public enum SyslogFormat {
    public static let enterpriseID = 32473
    public static let facility = 13

    public static func severity(_ alertSeverity: AlertSeverity) -> Int {
        switch alertSeverity {
        case .high: 2
        case .medium: 4
        case .low: 5
        }
    }

    /// SD-PARAM value escaping (RFC 5424 6.3.3), and no control characters.
    public static func escapeParam(_ value: String) -> String {
        var out = ""
        for scalar in TextEscaping.escapeForTerminal(value).unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar == "]" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// One message, without transport framing.
    public static func message(_ alert: Alert, time: EpochSeconds, hostname: String, pid: Int32, body: String) -> String
    {
        let pri = facility * 8 + severity(alert.severity)
        let s = alert.session
        var sd = "[alert@\(enterpriseID)"
        func param(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            sd += " \(name)=\"\(escapeParam(value))\""
        }
        param("id", alert.id)
        param("score", JSONWriter.formatNumber(alert.score, decimals: 4))
        param("severity", alert.severity.rawValue)
        param("provider", alert.provider.rawValue)
        param("account", alert.accountID)
        param("reseller", alert.resellerID)
        param("customer", alert.endCustomerID)
        param("jurisdictions", alert.jurisdictions.joined(separator: ","))
        param("session", s.id)
        param("accelerator", s.accelerator)
        param("acceleratorHours", JSONWriter.formatNumber(s.acceleratorHours, decimals: 2))
        sd += "]"
        let host = hostname.isEmpty ? "-" : String(hostname.filter { $0.isASCII && !$0.isWhitespace }.prefix(255))
        // The body is one line (JSON escapes newlines); escape anyway, in case a caller passes text.
        return
            "<\(pri)>1 \(Timestamp.format(time)) \(host) chiptrail \(pid) alert \(sd) \(TextEscaping.escapeForTerminal(body))"
    }
}

/// Sends alerts to a syslog daemon. Connection failures are reported and retried on the next alert
/// (TCP reconnects); a message that cannot be sent is counted in `failures`.
public final class SyslogSink: AlertSink {
    public let target: SyslogTarget
    private var socketFD: Int32 = -1
    private var address: [UInt8] = []
    private let hostname: String
    public private(set) var failures = 0
    public var onError: (String) -> Void = { _ in }
    /// The message body: the alert's JSON line by default.
    public var body: (Alert) -> String = { AlertEncoding.json($0) }

    public init(target: SyslogTarget) {
        self.target = target
        var name = [UInt8](repeating: 0, count: 256)
        gethostname(&name, 255)
        hostname = String(decoding: name.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    deinit { if socketFD >= 0 { close(socketFD) } }

    public func deliver(_ alert: Alert) {
        let text = SyslogFormat.message(
            alert, time: Timestamp.now(), hostname: hostname, pid: getpid(), body: body(alert))
        for attempt in 0..<2 {
            if socketFD < 0, let problem = connect() {
                if attempt == 1 {
                    failures += 1
                    onError("syslog \(target): \(problem); alert \(alert.id) not sent to syslog")
                }
                continue
            }
            if send(text) { return }
            close(socketFD)
            socketFD = -1
            if attempt == 1 {
                failures += 1
                onError("syslog \(target): \(String(cString: strerror(errno))); alert \(alert.id) not sent to syslog")
            }
        }
    }

    private func send(_ message: String) -> Bool {
        var payload = message
        if case .tcp = target { payload = "\(message.utf8.count) \(message)" }
        return payload.withUTF8 { bytes -> Bool in
            let raw = UnsafeRawBufferPointer(bytes)
            switch target {
            case .tcp: return FileDescriptorWriter.sendAll(socketFD, raw, flags: Int32(MSG_NOSIGNAL))
            case .udp, .unix: return FileDescriptorWriter.sendDatagram(socketFD, raw, flags: Int32(MSG_NOSIGNAL))
            }
        }
    }

    /// Opens the socket; returns a problem, or nil when connected.
    private func connect() -> String? {
        switch target {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { return String(cString: strerror(errno)) }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
                close(fd)
                return "socket path too long"
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard ok == 0 else {
                let problem = String(cString: strerror(errno))
                close(fd)
                return "\(problem) (is a syslog daemon listening on \(path)?)"
            }
            socketFD = fd
            return nil
        case .udp(let host, let port), .tcp(let host, let port):
            let isTCP: Bool
            if case .tcp = target { isTCP = true } else { isTCP = false }
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(isTCP ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>? = nil
            let rc = getaddrinfo(host, String(port), &hints, &result)
            guard rc == 0, let first = result else {
                return "cannot resolve \(host): \(String(cString: gai_strerror(rc)))"
            }
            defer { freeaddrinfo(result) }
            var problem = "no address"
            var info: UnsafeMutablePointer<addrinfo>? = first
            while let a = info {
                let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
                if fd >= 0 {
                    if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                        socketFD = fd
                        return nil
                    }
                    problem = String(cString: strerror(errno))
                    close(fd)
                }
                info = a.pointee.ai_next
            }
            return problem
        }
    }
}
