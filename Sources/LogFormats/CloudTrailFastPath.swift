import CJSONIndex

/// The fast path of the CloudTrail decoder: one pass over a record as AWS writes it, in C
/// (`ctrail_scan` in CJSONIndex/cloudtrail.c, over the buffer's index bitmaps), filling the same
/// ``CloudTrailFields`` as the general path, `userIdentity` included.
///
/// It reads only what it is sure of: any byte it does not expect (a malformed value, a string that does
/// not close in the buffer, a record cut by the buffer's end) makes it give up, and the general path
/// reads the record from its start, with its exact diagnostics. So both paths give the same fields for
/// every record the fast path accepts (`CloudTrailFastPathTests`).
///
/// Why C: the same walk in Swift took three times the instructions per member (calls that stay calls,
/// overflow checks on every position step), a fifth of a CloudTrail ingest.
extension CloudTrailRecordHandler {
    /// Scans the record at `s.position` (its `{`).
    /// - Returns: the position after the record's `}` and the newlines crossed, or nil to use the
    ///   general path.
    @inline(__always)
    static func scanFast(_ s: JSONScanner, into f: inout CloudTrailFields) -> (end: Int, newlines: Int)? {
        var bits = cjson_bits(
            quotes: s.index.quotes, structure: s.index.structure, newlines: s.index.newlines, origin: s.index.origin,
            has_newlines: s.index.hasNewlines ? 1 : 0)
        var r = ctrail_record()
        let end = ctrail_scan(s.base, s.position, s.end, &bits, &r)
        guard end >= 0 else { return nil }
        f = CloudTrailFields(r)
        return (end, r.newlines)
    }
}

extension ByteSpan {
    @inline(__always)
    init(_ span: ctrail_span) {
        self.init(start: span.start, end: span.end)
    }
}

extension CloudTrailFields {
    /// The fields the fast path read.
    @inline(__always)
    init(_ r: ctrail_record) {
        eventTime = ByteSpan(r.event_time)
        eventName = ByteSpan(r.event_name)
        eventSource = ByteSpan(r.event_source)
        eventType = ByteSpan(r.event_type)
        awsRegion = ByteSpan(r.aws_region)
        recipientAccountId = ByteSpan(r.recipient_account_id)
        sourceIPAddress = ByteSpan(r.source_ip_address)
        userAgent = ByteSpan(r.user_agent)
        eventID = ByteSpan(r.event_id)
        errorCode = ByteSpan(r.error_code)
        identityType = ByteSpan(r.identity_type)
        identityArn = ByteSpan(r.identity_arn)
        identityPrincipalId = ByteSpan(r.identity_principal_id)
        identityAccessKeyId = ByteSpan(r.identity_access_key_id)
        identityAccountId = ByteSpan(r.identity_account_id)
        identityIssuerArn = ByteSpan(r.identity_issuer_arn)
        requestParameters = ByteSpan(r.request_parameters)
        responseElements = ByteSpan(r.response_elements)
        userIdentity = ByteSpan(r.user_identity)
        isDigest = r.is_digest != 0
        identityParsed = r.identity_parsed != 0
    }
}
