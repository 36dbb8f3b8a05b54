#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The formats `--format` names (SPEC); `auto` sniffs each input's content.
public enum InputFormat: String, Sendable, CaseIterable {
    case auto
    case cloudtrail
    case cur
    case focus
    case gcpAudit = "gcp-audit"
    case azureActivity = "azure-activity"
    case azureCost = "azure-cost"
    case ndjson
}

/// A JSON input's format, told by the keys of its first records.
public enum JSONFlavour: Equatable, Sendable {
    case cloudtrail
    case gcpAudit
    case azureActivity
    case ndjson
}

/// What the first bytes of an input say it is.
public enum SniffedContent: Equatable, Sendable {
    case json
    case csv
    case zip
    case empty
    case binary
    case unknown
}

public enum ContentSniffer {
    /// The format whose distinctive key appears first in the head of a JSON input; nil when none does.
    static let flavourMarkers: [([UInt8], JSONFlavour)] = [
        ("\"protoPayload\"", JSONFlavour.gcpAudit),
        ("\"Records\"", .cloudtrail), ("\"eventSource\"", .cloudtrail), ("\"eventVersion\"", .cloudtrail),
        ("\"digestStartTime\"", .cloudtrail), ("\"digestS3Object\"", .cloudtrail), ("\"awsRegion\"", .cloudtrail),
        ("\"operationName\"", .azureActivity),
        ("\"account_id\"", .ndjson),
    ].map { (Array($0.0.utf8), $0.1) }

    /// The flavour of the first marker key in `bytes`: one pass over the quotes, stopping at the first
    /// marker (usually within the first record).
    public static func jsonFlavour(_ bytes: UnsafeRawBufferPointer) -> JSONFlavour? {
        guard let base = bytes.baseAddress else { return nil }
        var i = 0
        while i < bytes.count, let hit = memchr(base + i, 0x22, bytes.count - i) {
            let at = UnsafeRawPointer(hit) - base
            if at + 1 < bytes.count {
                let next = bytes[at + 1]
                for (marker, flavour) in flavourMarkers
                where marker[1] == next && at + marker.count <= bytes.count
                    && memcmp(base + at, marker, marker.count) == 0
                {
                    return flavour
                }
            }
            i = at + 1
        }
        return nil
    }

    /// Looks at the first decompressed bytes (a BOM and whitespace skipped).
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> SniffedContent {
        var i = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && (bytes[2] == 0x03 || bytes[2] == 0x05) {
            return .zip
        }
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        guard i < bytes.count else { return .empty }
        if bytes[i] == 0x7B || bytes[i] == 0x5B { return .json }
        // Binary: NUL or many control bytes in the first KiB.
        var control = 0
        let end = min(bytes.count, i + 1024)
        for k in i..<end {
            let b = bytes[k]
            if b == 0 { return .binary }
            if b < 0x09 || (b > 0x0D && b < 0x20) { control += 1 }
        }
        if control * 20 > (end - i) { return .binary }
        // A header line with commas.
        var commas = 0
        var k = i
        while k < bytes.count && bytes[k] != 0x0A {
            if bytes[k] == 0x2C { commas += 1 }
            k += 1
        }
        return commas >= 2 ? .csv : .unknown
    }
}
