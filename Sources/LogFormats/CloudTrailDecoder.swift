import CJSONIndex
import UsageModel

/// The fields of one CloudTrail record, as spans of the buffer (nothing copied).
struct CloudTrailFields {
    var eventTime = ByteSpan.empty
    var eventName = ByteSpan.empty
    var eventSource = ByteSpan.empty
    var eventType = ByteSpan.empty
    var awsRegion = ByteSpan.empty
    var recipientAccountId = ByteSpan.empty
    var sourceIPAddress = ByteSpan.empty
    var userAgent = ByteSpan.empty
    var eventID = ByteSpan.empty
    var errorCode = ByteSpan.empty
    var identityType = ByteSpan.empty
    var identityArn = ByteSpan.empty
    var identityPrincipalId = ByteSpan.empty
    var identityAccessKeyId = ByteSpan.empty
    var identityAccountId = ByteSpan.empty
    var identityIssuerArn = ByteSpan.empty
    var requestParameters = ByteSpan.empty
    var responseElements = ByteSpan.empty
    /// The whole `userIdentity` object: parsed only when a record needs it (compute calls, or no
    /// recipientAccountId), so the many other calls skip it as one container.
    var userIdentity = ByteSpan.empty
    var recordSpan = ByteSpan.empty
    var isDigest = false
    /// Whether the identity fields were read from `userIdentity` (by the fast path, or on demand).
    var identityParsed = false
}

extension CloudTrailFields {
    /// Stores the value of a scalar member (`@timestamp` fills `eventTime`); other members are ignored.
    /// Members are classified by `ctrail_member_of` (CJSONIndex), the one list both decoder paths use.
    @inline(__always)
    mutating func set(_ member: ctrail_member, _ span: ByteSpan) {
        switch member {
        case CTRAIL_MEMBER_EVENT_ID: eventID = span
        case CTRAIL_MEMBER_EVENT_TIME, CTRAIL_MEMBER_TIMESTAMP: eventTime = span
        case CTRAIL_MEMBER_EVENT_NAME: eventName = span
        case CTRAIL_MEMBER_AWS_REGION: awsRegion = span
        case CTRAIL_MEMBER_USER_AGENT: userAgent = span
        case CTRAIL_MEMBER_ERROR_CODE: errorCode = span
        case CTRAIL_MEMBER_EVENT_TYPE: eventType = span
        case CTRAIL_MEMBER_EVENT_SOURCE: eventSource = span
        case CTRAIL_MEMBER_SOURCE_IP_ADDRESS: sourceIPAddress = span
        case CTRAIL_MEMBER_RECIPIENT_ACCOUNT_ID: recipientAccountId = span
        default: break
        }
    }
}

/// Decodes AWS CloudTrail as delivered: `{"Records":[…]}` (S3), bare arrays, single events, one event
/// per line (also Logstash-shipped with `@timestamp`); digest documents are skipped silently.
///
/// Compute lifecycle calls (RunInstances, Start/Stop/TerminateInstances, fleet and spot launches,
/// SageMaker CreateTrainingJob/StopTrainingJob) become ``UsageEvent``s; every other call with an account
/// and a time becomes a ``CallObservation``.
public struct CloudTrailDecoder {
    var framer: JSONRecordFramer<CloudTrailRecordHandler>

    /// - Parameters:
    ///   - path: the input's path, for diagnostics and event origins.
    ///   - maxRecordBytes: records larger than this are skipped with a diagnostic.
    public init(path: String, maxRecordBytes: Int = 16 << 20) {
        self.init(path: path, maxRecordBytes: maxRecordBytes, fastPath: true)
    }

    /// `fastPath: false` reads every record by the general path (tests compare the two).
    init(path: String, maxRecordBytes: Int, fastPath: Bool) {
        framer = JSONRecordFramer(
            handler: CloudTrailRecordHandler(path: path, fastPath: fastPath), path: path, maxRecordBytes: maxRecordBytes
        )
    }

    /// Decodes every complete record in `buffer`; returns the bytes consumed.
    public mutating func decode(_ buffer: UnsafeRawBufferPointer, isFinal: Bool, into output: inout DecodedBatch) -> Int
    {
        framer.decode(buffer, isFinal: isFinal, into: &output)
    }

    /// Skips the record that does not fit the largest buffer.
    public mutating func skipOversizedRecord() { framer.skipOversizedRecord() }

    /// Numbers what follows as the rest of a file read from byte `offset`, after `lines` line ends (a
    /// followed file resumed where the last read stopped).
    public mutating func resume(afterLines lines: Int, offset: Int64) {
        framer.resume(afterLines: lines, offset: offset)
    }
}

struct CloudTrailRecordHandler: JSONRecordHandler {
    let path: String
    /// Whether records are tried by the fast path first (see `CloudTrailFastPath.swift`).
    var fastPath = true
    /// Whether a role session's name names a person (``PrincipalName``), by the hash of the session's
    /// principal name: one reader sees the same sessions over and over. Cleared when it holds
    /// `personalSessionsLimit` (the large customer's objects name ~4,900 sessions each: cleared at 4,096,
    /// it judged more names again: `PrincipalName.isPersonal` 103 samples in perf against 66).
    var personalSessions: [UInt64: Bool] = [:]
    static let personalSessionsLimit = 1 << 15
    /// User agents' installation keys by their bytes.
    var agentKeys = AgentKeyCache()
    /// The last session's key and its answer: consecutive records mostly share one.
    var lastSession: UInt64 = 0
    var lastSessionPersonal = false

    func isWrapperKey(_ scanner: JSONScanner, _ key: ByteSpan) -> Bool {
        scanner.equals(key, "Records")
    }

    mutating func handleRecord(_ s: inout JSONScanner, line: InputPosition, into out: inout DecodedBatch) -> Bool {
        var f = CloudTrailFields()
        let start = s.position
        if fastPath, let (end, newlines) = Self.scanFast(s, into: &f) {
            s.position = end
            s.newlines += newlines
        } else {
            guard scanGeneral(&s, into: &f) else { return false }
        }
        f.recordSpan = ByteSpan(start: start, end: s.position)
        out.recordsRead += 1
        emit(&f, scanner: s, line: line, into: &out)
        return true
    }

    /// The general path: any valid JSON, with the scanner's diagnostics for invalid.
    private func scanGeneral(_ s: inout JSONScanner, into f: inout CloudTrailFields) -> Bool {
        s.forEachMember { s, key in
            var span = ByteSpan.empty
            let member = ctrail_member_of(s.base + key.start, key.count)
            switch member {
            case CTRAIL_MEMBER_OTHER:
                break
            case CTRAIL_MEMBER_USER_IDENTITY:
                guard s.skipValue(&span) else { return false }
                if s[span.start] == 0x7B { f.userIdentity = span }
                return true
            case CTRAIL_MEMBER_REQUEST_PARAMETERS, CTRAIL_MEMBER_RESPONSE_ELEMENTS:
                guard s.skipValue(&span) else { return false }
                if member == CTRAIL_MEMBER_REQUEST_PARAMETERS {
                    f.requestParameters = span
                } else {
                    f.responseElements = span
                }
                return true
            case CTRAIL_MEMBER_DIGEST:
                f.isDigest = true
            case CTRAIL_MEMBER_TIMESTAMP where !f.eventTime.isEmpty:
                break
            default:
                guard Self.scalar(&s, &span) else { return false }
                f.set(member, span)
                return true
            }
            return s.skipValue(&span)
        }
    }

    /// Reads a scalar; strings give their content, `null` gives an empty span.
    @inline(__always)
    static func scalar(_ s: inout JSONScanner, _ target: inout ByteSpan) -> Bool {
        var span = ByteSpan.empty
        guard s.skipValue(&span) else { return false }
        let first = s[span.start == 0 ? 0 : span.start - 1]
        if span.count == 4 && s.equals(span, "null") && first != 0x22 {
            target = .empty
        } else {
            target = span
        }
        return true
    }

    /// The hash of an ARN's resource part without partition, service, region and account
    /// (`arn:aws:iam::123456789012:role/ops` → `role/ops`, `…:assumed-role/ops/alice` →
    /// `assumed-role/ops/alice`); 0 for an empty or malformed ARN.
    static func principalNameKey(_ arn: UnsafeRawBufferPointer) -> UInt64 {
        let rest = CloudTrailNames.principalName(arn)
        return rest.isEmpty || CloudTrailNames.isManagedByAWS(rest) ? 0 : StableHash.hash(rest)
    }

    /// The key of a person's name (``PrincipalName/isPersonal(_:)``): the last part of `user/NAME`,
    /// `federated-user/NAME` or `assumed-role/ROLE/NAME`, whichever form carried it, so the same person
    /// is one identifier across accounts that give them an IAM user in one and a role or SSO session in
    /// another. Hashed with a seed of its own: never the key of a whole principal name.
    static func personNameKey(_ arn: UnsafeRawBufferPointer) -> UInt64 {
        let rest = CloudTrailNames.principalName(arn)
        var start = rest.count
        while start > 0 && rest[start - 1] != 0x2F { start -= 1 }
        guard start < rest.count else { return principalNameKey(arn) }
        return StableHash.hash(UnsafeRawBufferPointer(rebasing: rest[start...]), seed: CloudTrailNames.personSeed)
    }

    /// Fills the identity fields from the `userIdentity` span.
    static func parseUserIdentity(_ parent: JSONScanner, _ f: inout CloudTrailFields) {
        guard !f.identityParsed, !f.userIdentity.isEmpty else { return }
        f.identityParsed = true
        var s = parent.scanner(over: f.userIdentity)
        _ = s.forEachMember { s, key in
            switch ctrail_identity_member_of(s.base + key.start, key.count) {
            case CTRAIL_IDENTITY_ARN: return scalar(&s, &f.identityArn)
            case CTRAIL_IDENTITY_TYPE: return scalar(&s, &f.identityType)
            case CTRAIL_IDENTITY_ACCOUNT_ID: return scalar(&s, &f.identityAccountId)
            case CTRAIL_IDENTITY_PRINCIPAL_ID: return scalar(&s, &f.identityPrincipalId)
            case CTRAIL_IDENTITY_ACCESS_KEY_ID: return scalar(&s, &f.identityAccessKeyId)
            case CTRAIL_IDENTITY_SESSION_CONTEXT:
                if s.peek() == 0x7B {
                    return s.forEachMember { s, key in
                        if s.equals(key, "sessionIssuer") && s.peek() == 0x7B {
                            return s.forEachMember { s, key in
                                if s.equals(key, "arn") { return scalar(&s, &f.identityIssuerArn) }
                                var span = ByteSpan.empty
                                return s.skipValue(&span)
                            }
                        }
                        var span = ByteSpan.empty
                        return s.skipValue(&span)
                    }
                }
            default: break
            }
            var span = ByteSpan.empty
            return s.skipValue(&span)
        }
    }

    /// Whether an assumed-role ARN's session is named after a person (``PrincipalName``).
    private mutating func personalSession(_ arn: UnsafeRawBufferPointer) -> Bool {
        let name = CloudTrailNames.principalName(arn)
        guard !name.isEmpty else { return false }
        let key = StableHash.hash(name)
        if key == lastSession { return lastSessionPersonal }
        lastSession = key
        if let known = personalSessions[key] {
            lastSessionPersonal = known
            return known
        }
        let personal = PrincipalName.isPersonal(name)
        if personalSessions.count >= Self.personalSessionsLimit { personalSessions.removeAll(keepingCapacity: true) }
        personalSessions[key] = personal
        lastSessionPersonal = personal
        return personal
    }

    /// Turns the fields into an observation and, for compute calls, into events.
    private mutating func emit(
        _ f: inout CloudTrailFields, scanner s: JSONScanner, line: InputPosition, into out: inout DecodedBatch
    ) {
        if f.isDigest {
            out.recordsRead -= 1
            out.documentsSkipped += 1
            return
        }
        guard !f.eventTime.isEmpty else {
            if f.eventName.isEmpty && f.eventSource.isEmpty {
                out.reject(
                    Diagnostic(
                        path: path, position: line, severity: .error, category: "cloudtrail",
                        message: "record of unknown shape: no eventTime, eventName or eventSource; skipped"))
            } else {
                out.reject(
                    Diagnostic(
                        path: path, position: line, severity: .error, category: "cloudtrail",
                        message: "record has no eventTime; skipped"))
            }
            return
        }
        guard let time = Timestamp.parse(s.buffer(f.eventTime)) else {
            out.reject(
                Diagnostic(
                    path: path, position: line, severity: .error, category: "cloudtrail",
                    message: "eventTime '\(s.string(f.eventTime).prefix(64))' is not an RFC 3339 time; skipped"))
            return
        }
        // Insight events describe the account's traffic, not a call of it.
        if s.equals(f.eventType, "AwsCloudTrailInsight") { return }
        if f.recipientAccountId.isEmpty { Self.parseUserIdentity(s, &f) }
        let accountSpan = f.recipientAccountId.isEmpty ? f.identityAccountId : f.recipientAccountId
        guard !accountSpan.isEmpty else { return }
        // Identifiers for the shared-identity evidence: the access key and the role or user name.
        if f.identityArn.isEmpty && f.identityPrincipalId.isEmpty { Self.parseUserIdentity(s, &f) }
        // A role session is the role, unless its session is named after a person (`…/erin.walker`,
        // an SSO user's e-mail): then the session's own name, which says who operated.
        var principal = f.identityIssuerArn.isEmpty ? f.identityArn : f.identityIssuerArn
        // A person is one identifier whatever credentials carried the name: an IAM user in one account,
        // a role or SSO session in another (`user/erin.walker`, `assumed-role/ops/erin.walker`).
        var person = false
        if !f.identityArn.isEmpty && personalSession(s.buffer(f.identityArn)) {
            principal = f.identityArn
            person = true
        }
        // The record's keys, hashed two at a time (see StableHash); an absent agent or access key is 0.
        let eventKey = StableHash.hash(s.buffer(f.eventID.isEmpty ? f.recordSpan : f.eventID))
        // One installation of a tool is one identifier, whatever command it ran (UserAgent).
        // AWS CloudShell's calls come from the region's AWS addresses (CallObservation.isCloudShell).
        let (agentKey, isCloudShell) = f.userAgent.isEmpty ? (0, false) : agentKeys.read(s.buffer(f.userAgent))
        let (accountKey, accessKeyHash) = StableHash.hash(s.buffer(accountSpan), s.buffer(f.identityAccessKeyId))
        let principalKey =
            person ? Self.personNameKey(s.buffer(principal)) : Self.principalNameKey(s.buffer(principal))
        let accessKeyKey = f.identityAccessKeyId.isEmpty ? 0 : accessKeyHash
        // The names' slots are fetched while the account, the address and the call are read.
        out.prefetchIdentifiers(agent: agentKey, accessKey: accessKeyKey, principal: principalKey)
        out.noteAccount(accountKey, s.buffer(accountSpan))
        let ip = IPAddress.parse(s.buffer(f.sourceIPAddress))
        let isSignIn = s.equals(f.eventName, "ConsoleLogin")
        out.calls.append(
            CallObservation(
                accountKey: accountKey, eventKey: eventKey, time: time, sourceIP: ip, isSignIn: isSignIn,
                agentKey: agentKey, accessKeyKey: accessKeyKey, principalKey: principalKey,
                isMachine: CloudTrailNames.isInstanceSession(
                    s.buffer(f.identityArn.isEmpty ? f.identityPrincipalId : f.identityArn)),
                isCloudShell: isCloudShell))
        out.noteIdentifiers(
            agent: agentKey, s.buffer(f.userAgent), accessKey: accessKeyKey, s.buffer(f.identityAccessKeyId),
            principal: principalKey, s.buffer(principal), personal: person)

        guard f.errorCode.isEmpty else { return }  // failed calls start nothing
        let source = f.eventSource

        if s.equals(source, "ec2.amazonaws.com") {
            let name = f.eventName
            if s.equals(name, "RunInstances") || s.equals(name, "CreateFleet") || s.equals(name, "RequestSpotInstances")
                || s.equals(name, "RequestSpotFleet")
            {
                compute(.launch, f, s, line: line, time: time, ip: ip, eventKey: eventKey, into: &out)
            } else if s.equals(name, "StartInstances") {
                compute(.start, f, s, line: line, time: time, ip: ip, eventKey: eventKey, into: &out)
            } else if s.equals(name, "StopInstances") {
                compute(.stop, f, s, line: line, time: time, ip: ip, eventKey: eventKey, into: &out)
            } else if s.equals(name, "TerminateInstances") {
                compute(.terminate, f, s, line: line, time: time, ip: ip, eventKey: eventKey, into: &out)
            }
        } else if s.equals(source, "sagemaker.amazonaws.com") {
            if s.equals(f.eventName, "CreateTrainingJob") {
                trainingJob(.launch, f, s, line: line, time: time, ip: ip, eventKey: eventKey, into: &out)
            } else if s.equals(f.eventName, "StopTrainingJob") {
                trainingJob(.stop, f, s, line: line, time: time, ip: ip, eventKey: eventKey, into: &out)
            }
        }
    }

    private func baseEvent(
        _ action: ComputeAction, _ f: CloudTrailFields, _ s: JSONScanner, line: InputPosition, time: EpochSeconds,
        ip: IPAddress?, eventKey: UInt64
    ) -> UsageEvent {
        var f = f
        if f.identityArn.isEmpty && f.identityPrincipalId.isEmpty { Self.parseUserIdentity(s, &f) }
        let account = s.string(f.recipientAccountId.isEmpty ? f.identityAccountId : f.recipientAccountId)
        let principal: String? =
            !f.identityIssuerArn.isEmpty
            ? s.string(f.identityIssuerArn)
            : !f.identityArn.isEmpty
                ? s.string(f.identityArn)
                : !f.identityPrincipalId.isEmpty ? s.string(f.identityPrincipalId) : nil
        return UsageEvent(
            provider: .aws, action: action, time: time, accountID: account, resourceID: "",
            region: s.string(f.awsRegion), sourceIP: ip, principal: principal,
            userAgent: f.userAgent.isEmpty ? nil : s.string(f.userAgent),
            eventID: f.eventID.isEmpty ? StableHash.hex(eventKey) : s.string(f.eventID),
            eventName: s.string(f.eventName), origin: EventOrigin(path: path, position: line))
    }

    /// EC2 lifecycle calls: one event per instance named in the request or the response.
    private func compute(
        _ action: ComputeAction, _ f: CloudTrailFields, _ s: JSONScanner, line: InputPosition, time: EpochSeconds,
        ip: IPAddress?, eventKey: UInt64, into out: inout DecodedBatch
    ) {
        var requestType: String? = nil
        var requestTypeDepth = Int.max
        var found: [(id: String, type: String?)] = []
        var tooDeep = false
        if !f.requestParameters.isEmpty {
            var r = s.scanner(over: f.requestParameters)
            InstanceWalker.walk(&r, depth: 0, tooDeep: &tooDeep) { id, type, depth in
                if let id {
                    found.append((id, type))
                } else if let type, depth < requestTypeDepth {
                    requestType = type
                    requestTypeDepth = depth
                }
            }
        }
        if !f.responseElements.isEmpty {
            var r = s.scanner(over: f.responseElements)
            InstanceWalker.walk(&r, depth: 0, tooDeep: &tooDeep) { id, type, _ in
                if let id { found.append((id, type)) }
            }
        }
        if tooDeep {
            out.reject(
                Diagnostic(
                    path: path, position: line, severity: .error, category: "cloudtrail",
                    message:
                        "requestParameters or responseElements nest deeper than \(InstanceWalker.maxDepth) levels; no AWS call does, record skipped"
                ))
            return
        }
        var seen = Set<String>()
        var template = baseEvent(action, f, s, line: line, time: time, ip: ip, eventKey: eventKey)
        for item in found where seen.insert(item.id).inserted {
            template.resourceID = item.id
            template.instanceType = item.type ?? (action == .launch ? requestType : nil)
            // One event id per instance, so one call that launches eight instances is eight events.
            template.eventID = (f.eventID.isEmpty ? StableHash.hex(eventKey) : s.string(f.eventID)) + "/" + item.id
            out.appendEventOfLastCall(template)
        }
    }

    /// SageMaker training jobs: the job name is the resource; `resourceConfig` gives type and count.
    private func trainingJob(
        _ action: ComputeAction, _ f: CloudTrailFields, _ s: JSONScanner, line: InputPosition, time: EpochSeconds,
        ip: IPAddress?, eventKey: UInt64, into out: inout DecodedBatch
    ) {
        guard !f.requestParameters.isEmpty, s[f.requestParameters.start] == 0x7B else { return }
        var name: String? = nil
        var type: String? = nil
        var count = 1
        var r = s.scanner(over: f.requestParameters)
        _ = r.forEachMember { r, key in
            var span = ByteSpan.empty
            if r.equalsIgnoringCase(key, "trainingJobName") {
                guard r.skipValue(&span) else { return false }
                name = r.string(span)
                return true
            }
            if r.equalsIgnoringCase(key, "resourceConfig"), r.peek() == 0x7B {
                return r.forEachMember { r, key in
                    var span = ByteSpan.empty
                    guard r.skipValue(&span) else { return false }
                    if r.equalsIgnoringCase(key, "instanceType") { type = r.string(span) }
                    if r.equalsIgnoringCase(key, "instanceCount") {
                        count = Int(r.string(span)) ?? 1
                    }
                    return true
                }
            }
            return r.skipValue(&span)
        }
        guard let name, !name.isEmpty else { return }
        var event = baseEvent(action, f, s, line: line, time: time, ip: ip, eventKey: eventKey)
        // Lower case, as the job's ARN spells it in billing lines (`BillingDecoder.normalizeResource`).
        event.resourceID = "training-job/" + name.lowercased()
        event.instanceType = type
        event.instanceCount = max(1, count)
        out.appendEventOfLastCall(event)
    }
}

/// Walks a request or response body for instances: objects with `instanceId` (or `instanceIds`, or
/// `spotInstanceRequestId` when they name no instance) and `instanceType` (a string or `{"value": …}`), at
/// any depth.
enum InstanceWalker {
    /// Deeper bodies are not walked (a hostile record nesting 30,000 arrays would overflow the stack):
    /// `tooDeep` is set and the caller rejects the record. AWS bodies nest a dozen levels at most.
    static let maxDepth = 128

    /// Calls `found(id, type, depth)` for every object that names an instance or a type.
    static func walk(_ s: inout JSONScanner, depth: Int, tooDeep: inout Bool, _ found: (String?, String?, Int) -> Void)
    {
        guard let b = s.peek() else { return }
        if depth >= maxDepth && (b == 0x5B || b == 0x7B) {
            tooDeep = true
            var span = ByteSpan.empty
            _ = s.skipValue(&span)
            return
        }
        if b == 0x5B {
            _ = s.forEachElement { s in
                walk(&s, depth: depth + 1, tooDeep: &tooDeep, found)
                return true
            }
            return
        }
        guard b == 0x7B else {
            var span = ByteSpan.empty
            _ = s.skipValue(&span)
            return
        }
        var ids: [String] = []
        var spotRequests: [String] = []
        var type: String? = nil
        _ = s.forEachMember { s, key in
            var span = ByteSpan.empty
            if s.equalsIgnoringCase(key, "instanceId") {
                guard s.skipValue(&span) else { return false }
                if s.base[span.start] != 0x7B { ids.append(s.string(span)) }
                return true
            }
            if s.equalsIgnoringCase(key, "spotInstanceRequestId") {
                guard s.skipValue(&span) else { return false }
                if s.base[span.start] != 0x7B { spotRequests.append(s.string(span)) }
                return true
            }
            if s.equalsIgnoringCase(key, "instanceIds") {
                collectStrings(&s, depth: depth + 1, tooDeep: &tooDeep, into: &ids)
                return true
            }
            if s.equalsIgnoringCase(key, "instanceType") {
                if s.peek() == 0x7B {
                    // {"value": "p5.48xlarge"} (Panther-normalised records)
                    return s.forEachMember { s, key in
                        guard s.skipValue(&span) else { return false }
                        if s.equals(key, "value") { type = s.string(span) }
                        return true
                    }
                }
                guard s.skipValue(&span) else { return false }
                if span.count > 0 && !(span.count == 4 && s.equals(span, "null")) { type = s.string(span) }
                return true
            }
            if let next = s.peek(), next == 0x7B || next == 0x5B {
                walk(&s, depth: depth + 1, tooDeep: &tooDeep, found)
                return true
            }
            return s.skipValue(&span)
        }
        // A spot instance's item in a `RunInstances` response names its instance and the spot request that
        // launched it: one instance, named by its instance id (the id its stop, termination and billing lines
        // carry). A spot request is the resource only where no instance is named yet (`RequestSpotInstances`).
        if ids.isEmpty { ids = spotRequests }
        if ids.isEmpty {
            if type != nil { found(nil, type, depth) }
        } else {
            for id in ids { found(id, type, depth) }
        }
    }

    private static func collectStrings(
        _ s: inout JSONScanner, depth: Int, tooDeep: inout Bool, into ids: inout [String]
    ) {
        guard let b = s.peek() else { return }
        var span = ByteSpan.empty
        if depth >= maxDepth && (b == 0x5B || b == 0x7B) {
            tooDeep = true
            _ = s.skipValue(&span)
            return
        }
        if b == 0x22 {
            if s.skipValue(&span) { ids.append(s.string(span)) }
        } else if b == 0x5B {
            _ = s.forEachElement { s in
                collectStrings(&s, depth: depth + 1, tooDeep: &tooDeep, into: &ids)
                return true
            }
        } else if b == 0x7B {
            _ = s.forEachMember { s, _ in
                collectStrings(&s, depth: depth + 1, tooDeep: &tooDeep, into: &ids)
                return true
            }
        } else {
            _ = s.skipValue(&span)
        }
    }
}
