import UsageModel

/// Azure Activity Log in its three delivered shapes: `{"records":[…]}` (Event Hub, older storage
/// blobs), one record per line (storage since Nov 2018), and the REST API / portal event
/// (`eventTimestamp`, `operationName.value`, `status.value`, `httpRequest.clientIpAddress`).
///
/// `MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE` (a create, counted on `Success`), `START/ACTION`,
/// `DEALLOCATE/ACTION` and `POWEROFF/ACTION`, and `DELETE` become ``UsageEvent``s of the VM's
/// resource id; the VM size comes from the request or response body when present (a VM whose size is
/// unknown is a session with an unknown accelerator, not a dropped event). Every record with a
/// subscription and a time becomes a ``CallObservation`` (caller IP).
struct AzureActivityRecordHandler: JSONRecordHandler {
    let path: String

    func isWrapperKey(_ scanner: JSONScanner, _ key: ByteSpan) -> Bool {
        scanner.equals(key, "records") || scanner.equals(key, "value")
    }

    struct Fields {
        var time = ByteSpan.empty
        var resourceId = ByteSpan.empty
        var operationName = ByteSpan.empty
        var resultType = ByteSpan.empty
        var callerIp = ByteSpan.empty
        var caller = ByteSpan.empty
        var identity = ByteSpan.empty
        var properties = ByteSpan.empty
        var subscriptionId = ByteSpan.empty
        var eventDataId = ByteSpan.empty
    }

    mutating func handleRecord(_ s: inout JSONScanner, line: InputPosition, into out: inout DecodedBatch) -> Bool {
        var f = Fields()
        let start = s.position
        let ok = s.forEachMember { s, key in
            if s.equals(key, "time") || (s.equals(key, "eventTimestamp") && f.time.isEmpty) { return s.read(&f.time) }
            if s.equals(key, "resourceId") { return s.read(&f.resourceId) }
            if s.equals(key, "operationName") { return Self.valueOrString(&s, &f.operationName) }
            if s.equals(key, "resultType") || (s.equals(key, "status") && f.resultType.isEmpty) {
                return Self.valueOrString(&s, &f.resultType)
            }
            if s.equals(key, "callerIpAddress") { return s.read(&f.callerIp) }
            if s.equals(key, "httpRequest"), s.peek() == 0x7B {
                return s.forEachMember { s, key in
                    if s.equals(key, "clientIpAddress") { return s.read(&f.callerIp) }
                    return s.skip()
                }
            }
            if s.equals(key, "caller") { return s.read(&f.caller) }
            if s.equals(key, "identity") || s.equals(key, "claims") { return s.read(&f.identity) }
            if s.equals(key, "properties") { return s.read(&f.properties) }
            if s.equals(key, "subscriptionId") { return s.read(&f.subscriptionId) }
            if s.equals(key, "eventDataId") { return s.read(&f.eventDataId) }
            return s.skip()
        }
        guard ok else { return false }
        out.recordsRead += 1
        emit(f, s, record: ByteSpan(start: start, end: s.position), line: line, into: &out)
        return true
    }

    /// `"X"` or `{"value": "X", "localizedValue": …}`.
    static func valueOrString(_ s: inout JSONScanner, _ target: inout ByteSpan) -> Bool {
        if s.peek() == 0x7B {
            return s.forEachMember { s, key in
                if s.equals(key, "value") { return s.read(&target) }
                return s.skip()
            }
        }
        return s.read(&target)
    }

    private func problem(_ line: InputPosition, _ message: String) -> Diagnostic {
        Diagnostic(path: path, position: line, severity: .error, category: "azure-activity", message: message)
    }

    private func emit(
        _ f: Fields, _ s: JSONScanner, record: ByteSpan, line: InputPosition, into out: inout DecodedBatch
    ) {
        guard !f.operationName.isEmpty || !f.resourceId.isEmpty else {
            out.reject(problem(line, "record of unknown shape: no operationName or resourceId; skipped"))
            return
        }
        guard let time = Timestamp.parse(s.buffer(f.time)) else {
            out.reject(problem(line, "time '\(s.string(f.time).prefix(64))' is not an RFC 3339 time; skipped"))
            return
        }
        let resource = s.string(f.resourceId).lowercased()
        var subscription = f.subscriptionId.isEmpty ? "" : s.string(f.subscriptionId).lowercased()
        if subscription.isEmpty, resource.hasPrefix("/subscriptions/") {
            subscription = String(resource.dropFirst("/subscriptions/".count).prefix { $0 != "/" })
        }
        guard !subscription.isEmpty else { return }
        let accountKey = StableHash.hash(subscription)
        if out.accountNames[accountKey] == nil { out.accountNames.insert(accountKey, subscription) }
        let eventKey =
            f.eventDataId.isEmpty ? StableHash.hash(s.buffer(record)) : StableHash.hash(s.buffer(f.eventDataId))
        let ip = IPAddress.parse(s.buffer(f.callerIp))
        out.calls.append(
            CallObservation(accountKey: accountKey, eventKey: eventKey, time: time, sourceIP: ip, isSignIn: false))

        // Virtual machine lifecycle, on success only (an operation also logs Start and Accept records).
        let op = f.operationName
        guard InstanceTypeHint.contains(s.buffer(op), "microsoft.compute/virtualmachines/") else { return }
        guard s.equalsIgnoringCase(f.resultType, "Success") || s.equalsIgnoringCase(f.resultType, "Succeeded") else {
            return
        }
        let action: ComputeAction
        if s.hasSuffixIgnoringCase(op, "virtualmachines/write") {
            action = .launch
        } else if s.hasSuffixIgnoringCase(op, "virtualmachines/start/action")
            || s.hasSuffixIgnoringCase(op, "virtualmachines/restart/action")
        {
            action = .start
        } else if s.hasSuffixIgnoringCase(op, "virtualmachines/deallocate/action")
            || s.hasSuffixIgnoringCase(op, "virtualmachines/poweroff/action")
        {
            action = .stop
        } else if s.hasSuffixIgnoringCase(op, "virtualmachines/delete") {
            action = .terminate
        } else {
            return
        }
        guard !resource.isEmpty else { return }
        var size: String? = nil
        if !f.properties.isEmpty {
            size = InstanceTypeHint.value(after: "vmSize", in: s.buffer(f.properties))
        }
        var principal: String? = nil
        if !f.caller.isEmpty {
            principal = s.string(f.caller)
        } else if !f.identity.isEmpty {
            let id = s.buffer(f.identity)
            principal =
                InstanceTypeHint.value(after: "claims/upn", in: id) ?? InstanceTypeHint.value(
                    after: "claims/name", in: id)
                ?? InstanceTypeHint.value(after: "\"appid", in: id)
        }
        out.events.append(
            UsageEvent(
                provider: .azure, action: action, time: time, accountID: subscription, resourceID: resource,
                instanceType: size, region: "", sourceIP: ip, principal: principal,
                eventID: "az-" + StableHash.hex(eventKey), eventName: s.string(op),
                origin: EventOrigin(path: path, position: line)))
    }
}
