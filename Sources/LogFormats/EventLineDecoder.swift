import UsageModel

/// chiptrail NDJSON: the normalized event, one JSON object per line, so that any provider (OCI,
/// neoclouds, an in-house platform) can be fed after a `jq` transform. Documented in the README:
///
/// ```json
/// {"provider":"oci","account_id":"tenancy-1","action":"launch","time":"2026-03-01T02:00:00Z",
///  "resource_id":"instance-7","instance_type":"BM.GPU.H100.8","instance_count":1,"region":"us-ashburn-1",
///  "source_ip":"203.0.113.9","principal":"alice","user_agent":"cli/1.0","event_id":"e-1","event_name":"LaunchInstance"}
/// ```
///
/// `action` is `launch`, `start`, `stop`, `terminate`, `usage` (with `end` or `usage_hours`), `call`
/// or `sign_in` (the last two feed only the network evidence). Required: `account_id`, `action`,
/// `time`, and `resource_id` for the compute actions.
struct EventLineRecordHandler: JSONRecordHandler {
    let path: String

    func isWrapperKey(_ scanner: JSONScanner, _ key: ByteSpan) -> Bool { scanner.equals(key, "events") }

    struct Fields {
        var provider = ByteSpan.empty
        var account = ByteSpan.empty
        var action = ByteSpan.empty
        var time = ByteSpan.empty
        var end = ByteSpan.empty
        var resource = ByteSpan.empty
        var instanceType = ByteSpan.empty
        var instanceCount = ByteSpan.empty
        var region = ByteSpan.empty
        var sourceIP = ByteSpan.empty
        var principal = ByteSpan.empty
        var userAgent = ByteSpan.empty
        var eventID = ByteSpan.empty
        var eventName = ByteSpan.empty
        var usageHours = ByteSpan.empty
    }

    mutating func handleRecord(_ s: inout JSONScanner, line: InputPosition, into out: inout DecodedBatch) -> Bool {
        var f = Fields()
        let start = s.position
        let ok = s.forEachMember { s, key in
            switch key.count {
            case 3: if s.equals(key, "end") { return s.read(&f.end) }
            case 4: if s.equals(key, "time") { return s.read(&f.time) }
            case 6:
                if s.equals(key, "action") { return s.read(&f.action) }
                if s.equals(key, "region") { return s.read(&f.region) }
            case 8:
                if s.equals(key, "provider") { return s.read(&f.provider) }
                if s.equals(key, "event_id") { return s.read(&f.eventID) }
            case 9:
                if s.equals(key, "principal") { return s.read(&f.principal) }
                if s.equals(key, "source_ip") { return s.read(&f.sourceIP) }
            case 10:
                if s.equals(key, "account_id") { return s.read(&f.account) }
                if s.equals(key, "user_agent") { return s.read(&f.userAgent) }
                if s.equals(key, "event_name") { return s.read(&f.eventName) }
            case 11:
                if s.equals(key, "resource_id") { return s.read(&f.resource) }
                if s.equals(key, "usage_hours") { return s.read(&f.usageHours) }
            case 13: if s.equals(key, "instance_type") { return s.read(&f.instanceType) }
            case 14: if s.equals(key, "instance_count") { return s.read(&f.instanceCount) }
            default: break
            }
            return s.skip()
        }
        guard ok else { return false }
        out.recordsRead += 1
        emit(f, s, record: ByteSpan(start: start, end: s.position), line: line, into: &out)
        return true
    }

    private func problem(_ line: InputPosition, _ message: String) -> Diagnostic {
        Diagnostic(path: path, position: line, severity: .error, category: "ndjson", message: message)
    }

    private func emit(
        _ f: Fields, _ s: JSONScanner, record: ByteSpan, line: InputPosition, into out: inout DecodedBatch
    ) {
        guard !f.account.isEmpty, !f.action.isEmpty else {
            out.reject(problem(line, "event without account_id or action; skipped (README: chiptrail NDJSON)"))
            return
        }
        guard let time = Timestamp.parse(s.buffer(f.time)) else {
            out.reject(problem(line, "time '\(s.string(f.time).prefix(64))' is not an RFC 3339 time; skipped"))
            return
        }
        let action: ComputeAction?
        var isSignIn = false
        if s.equals(f.action, "launch") {
            action = .launch
        } else if s.equals(f.action, "start") {
            action = .start
        } else if s.equals(f.action, "stop") {
            action = .stop
        } else if s.equals(f.action, "terminate") {
            action = .terminate
        } else if s.equals(f.action, "usage") {
            action = .usage
        } else if s.equals(f.action, "call") {
            action = nil
        } else if s.equals(f.action, "sign_in") {
            action = nil
            isSignIn = true
        } else {
            out.reject(
                problem(
                    line,
                    "action '\(s.string(f.action).prefix(32))' is none of launch, start, stop, terminate, usage, call, sign_in; skipped"
                ))
            return
        }
        let account = s.string(f.account)
        let accountKey = StableHash.hash(account)
        if out.accountNames[accountKey] == nil { out.accountNames.insert(accountKey, account) }
        let eventKey = f.eventID.isEmpty ? StableHash.hash(s.buffer(record)) : StableHash.hash(s.buffer(f.eventID))
        let ip = IPAddress.parse(s.buffer(f.sourceIP))
        out.calls.append(
            CallObservation(accountKey: accountKey, eventKey: eventKey, time: time, sourceIP: ip, isSignIn: isSignIn))
        guard let action else { return }
        guard !f.resource.isEmpty else {
            out.reject(problem(line, "\(action.rawValue) event without resource_id; skipped"))
            return
        }
        var provider = CloudProvider.other
        if !f.provider.isEmpty { provider = CloudProvider(rawValue: s.string(f.provider).lowercased()) ?? .other }
        var usageSeconds: Int64 = 0
        var usageHours = 0.0
        if action == .usage {
            if let end = Timestamp.parse(s.buffer(f.end)), end > time { usageSeconds = end - time }
            usageHours = f.usageHours.isEmpty ? Double(usageSeconds) / 3600 : (Double(s.string(f.usageHours)) ?? 0)
            guard usageHours.isFinite, (0...UsageLimits.maxUsageHours).contains(usageHours) else {
                out.reject(
                    problem(
                        line,
                        "usage_hours '\(s.string(f.usageHours).prefix(32))' is not a number of hours in [0, \(Int(UsageLimits.maxUsageHours))]; skipped"
                    ))
                return
            }
            if usageSeconds == 0 { usageSeconds = Int64(usageHours * 3600) }
        }
        let count = f.instanceCount.isEmpty ? 1 : Int(s.string(f.instanceCount)) ?? 1
        guard count <= UsageLimits.maxInstanceCount else {
            out.reject(problem(line, "instance_count \(count) is above \(UsageLimits.maxInstanceCount); skipped"))
            return
        }
        out.events.append(
            UsageEvent(
                provider: provider, action: action, time: time, accountID: account, resourceID: s.string(f.resource),
                instanceType: f.instanceType.isEmpty ? nil : s.string(f.instanceType),
                instanceCount: max(1, count),
                region: s.string(f.region), sourceIP: ip, principal: f.principal.isEmpty ? nil : s.string(f.principal),
                userAgent: f.userAgent.isEmpty ? nil : s.string(f.userAgent),
                eventID: f.eventID.isEmpty ? "ev-" + StableHash.hex(eventKey) : s.string(f.eventID),
                eventName: f.eventName.isEmpty ? action.rawValue : s.string(f.eventName), usageSeconds: usageSeconds,
                usageHours: usageHours, origin: EventOrigin(path: path, position: line)))
    }
}
