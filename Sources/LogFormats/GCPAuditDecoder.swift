import UsageModel

/// GCP Cloud Audit Logs: a `LogEntry` whose `protoPayload` is an `AuditLog`.
///
/// Compute Engine `instances.insert` (v1 and beta; machine type from the `machineTypes/…` URL tail,
/// `guestAccelerators` type and count for N1-style VMs), `start`/`resume`, `stop`/`suspend` and
/// `delete` become ``UsageEvent``s; a long-running operation counts once (its `first` entry, or its
/// only one). Every entry with a project and a time becomes a ``CallObservation`` (caller IP).
struct GCPAuditRecordHandler: JSONRecordHandler {
    let path: String

    func isWrapperKey(_ scanner: JSONScanner, _ key: ByteSpan) -> Bool {
        scanner.equals(key, "entries") || scanner.equals(key, "records")
    }

    struct Fields {
        var timestamp = ByteSpan.empty
        var insertId = ByteSpan.empty
        var logName = ByteSpan.empty
        var projectId = ByteSpan.empty
        var zone = ByteSpan.empty
        var methodName = ByteSpan.empty
        var serviceName = ByteSpan.empty
        var resourceName = ByteSpan.empty
        var principal = ByteSpan.empty
        var callerIp = ByteSpan.empty
        var userAgent = ByteSpan.empty
        var machineType = ByteSpan.empty
        var acceleratorType = ByteSpan.empty
        var acceleratorCount = 0
        var statusCode = ByteSpan.empty
        var operationId = ByteSpan.empty
        var operationFirst = false
        var operationLast = false
        var hasOperation = false
        var hasProtoPayload = false
    }

    mutating func handleRecord(_ s: inout JSONScanner, line: InputPosition, into out: inout DecodedBatch) -> Bool {
        var f = Fields()
        let start = s.position
        let ok = s.forEachMember { s, key in
            if s.equals(key, "timestamp") { return s.read(&f.timestamp) }
            if s.equals(key, "insertId") { return s.read(&f.insertId) }
            if s.equals(key, "logName") { return s.read(&f.logName) }
            if s.equals(key, "resource"), s.peek() == 0x7B { return Self.resource(&s, &f) }
            if s.equals(key, "protoPayload"), s.peek() == 0x7B {
                f.hasProtoPayload = true
                return Self.payload(&s, &f)
            }
            if s.equals(key, "operation"), s.peek() == 0x7B {
                f.hasOperation = true
                return s.forEachMember { s, key in
                    if s.equals(key, "id") { return s.read(&f.operationId) }
                    var v = ByteSpan.empty
                    guard s.read(&v) else { return false }
                    if s.equals(key, "first") { f.operationFirst = s.equals(v, "true") }
                    if s.equals(key, "last") { f.operationLast = s.equals(v, "true") }
                    return true
                }
            }
            return s.skip()
        }
        guard ok else { return false }
        out.recordsRead += 1
        emit(f, s, record: ByteSpan(start: start, end: s.position), line: line, into: &out)
        return true
    }

    static func resource(_ s: inout JSONScanner, _ f: inout Fields) -> Bool {
        s.forEachMember { s, key in
            if s.equals(key, "labels"), s.peek() == 0x7B {
                return s.forEachMember { s, key in
                    if s.equals(key, "project_id") { return s.read(&f.projectId) }
                    if s.equals(key, "zone") { return s.read(&f.zone) }
                    return s.skip()
                }
            }
            return s.skip()
        }
    }

    static func payload(_ s: inout JSONScanner, _ f: inout Fields) -> Bool {
        s.forEachMember { s, key in
            if s.equals(key, "methodName") { return s.read(&f.methodName) }
            if s.equals(key, "serviceName") { return s.read(&f.serviceName) }
            if s.equals(key, "resourceName") { return s.read(&f.resourceName) }
            if s.equals(key, "authenticationInfo"), s.peek() == 0x7B {
                return s.forEachMember { s, key in
                    if s.equals(key, "principalEmail") { return s.read(&f.principal) }
                    return s.skip()
                }
            }
            if s.equals(key, "requestMetadata"), s.peek() == 0x7B {
                return s.forEachMember { s, key in
                    if s.equals(key, "callerIp") { return s.read(&f.callerIp) }
                    if s.equals(key, "callerSuppliedUserAgent") { return s.read(&f.userAgent) }
                    return s.skip()
                }
            }
            if s.equals(key, "status"), s.peek() == 0x7B {
                return s.forEachMember { s, key in
                    if s.equals(key, "code") { return s.read(&f.statusCode) }
                    return s.skip()
                }
            }
            if s.equals(key, "request"), s.peek() == 0x7B {
                return s.forEachMember { s, key in
                    if s.equals(key, "machineType") { return s.read(&f.machineType) }
                    if s.equals(key, "guestAccelerators"), s.peek() == 0x5B {
                        return s.forEachElement { s in
                            guard s.peek() == 0x7B else { return s.skip() }
                            return s.forEachMember { s, key in
                                if s.equals(key, "acceleratorType") { return s.read(&f.acceleratorType) }
                                if s.equals(key, "acceleratorCount") {
                                    var v = ByteSpan.empty
                                    guard s.read(&v) else { return false }
                                    f.acceleratorCount += Int(s.string(v)) ?? 1
                                    return true
                                }
                                return s.skip()
                            }
                        }
                    }
                    return s.skip()
                }
            }
            return s.skip()
        }
    }

    private func emit(
        _ f: Fields, _ s: JSONScanner, record: ByteSpan, line: InputPosition, into out: inout DecodedBatch
    ) {
        guard f.hasProtoPayload else {
            out.reject(
                Diagnostic(
                    path: path, position: line, severity: .error, category: "gcp-audit",
                    message: "log entry without protoPayload (not an audit log entry); skipped"))
            return
        }
        guard let time = Timestamp.parse(s.buffer(f.timestamp)) else {
            out.reject(
                Diagnostic(
                    path: path, position: line, severity: .error, category: "gcp-audit",
                    message: "timestamp '\(s.string(f.timestamp).prefix(64))' is not an RFC 3339 time; skipped"))
            return
        }
        // The project: resource.labels.project_id, or the `projects/<id>/logs/…` prefix of logName.
        var project = f.projectId.isEmpty ? nil : s.string(f.projectId)
        if project == nil, !f.logName.isEmpty {
            let name = s.string(f.logName)
            if name.hasPrefix("projects/") {
                project = String(name.dropFirst("projects/".count).prefix { $0 != "/" })
            }
        }
        guard let project, !project.isEmpty else { return }
        let accountKey = StableHash.hash(project)
        if out.accountNames[accountKey] == nil { out.accountNames.insert(accountKey, project) }
        let eventKey =
            f.insertId.isEmpty ? StableHash.hash(s.buffer(record)) : StableHash.hash(s.buffer(f.insertId))
        let ip = IPAddress.parse(s.buffer(f.callerIp))
        out.calls.append(
            CallObservation(accountKey: accountKey, eventKey: eventKey, time: time, sourceIP: ip, isSignIn: false))

        // Compute Engine instance lifecycle.
        guard s.hasSuffixIgnoringCase(f.serviceName, "compute.googleapis.com") || f.serviceName.isEmpty else { return }
        let action: ComputeAction
        if s.hasSuffixIgnoringCase(f.methodName, "compute.instances.insert") {
            action = .launch
        } else if s.hasSuffixIgnoringCase(f.methodName, "compute.instances.start")
            || s.hasSuffixIgnoringCase(f.methodName, "compute.instances.resume")
        {
            action = .start
        } else if s.hasSuffixIgnoringCase(f.methodName, "compute.instances.stop")
            || s.hasSuffixIgnoringCase(f.methodName, "compute.instances.suspend")
        {
            action = .stop
        } else if s.hasSuffixIgnoringCase(f.methodName, "compute.instances.delete") {
            action = .terminate
        } else {
            return
        }
        let failed = !f.statusCode.isEmpty && !s.equals(f.statusCode, "0")
        // One event per operation: its first entry (with the request); a failure reported in the last
        // entry of an insert ends the session the first one started.
        var effective = action
        if f.hasOperation && !f.operationFirst {
            guard failed && f.operationLast && action == .launch else { return }
            effective = .failed
        } else if failed {
            return
        }
        guard !f.resourceName.isEmpty else { return }
        var resource = s.string(f.resourceName)
        if resource.hasPrefix("//compute.googleapis.com/") { resource.removeFirst("//compute.googleapis.com/".count) }
        var type: String? = nil
        var count = 1
        if effective == .launch {
            if !f.acceleratorType.isEmpty {
                type = s.lastPathComponent(f.acceleratorType)
                count = max(1, f.acceleratorCount)
            } else if !f.machineType.isEmpty {
                type = s.lastPathComponent(f.machineType)
            }
        }
        let opID = f.operationId.isEmpty ? StableHash.hex(eventKey) : s.string(f.operationId)
        out.events.append(
            UsageEvent(
                provider: .gcp, action: effective, time: time, accountID: project, resourceID: resource,
                instanceType: type, instanceCount: count, region: s.string(f.zone), sourceIP: ip,
                principal: f.principal.isEmpty ? nil : s.string(f.principal),
                userAgent: f.userAgent.isEmpty ? nil : s.string(f.userAgent),
                eventID: "gcp-" + opID + (effective == action ? "" : "/failed"), eventName: s.string(f.methodName),
                origin: EventOrigin(path: path, position: line)))
    }
}
