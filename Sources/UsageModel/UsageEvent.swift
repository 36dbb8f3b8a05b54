/// What a compute event did to its resource.
public enum ComputeAction: String, Sendable, Hashable, Codable {
    /// A new resource came up (RunInstances per instance, CreateTrainingJob, a VM insert).
    case launch
    /// A stopped resource started again.
    case start
    /// The resource stopped (it can start again).
    case stop
    /// The resource ended for good.
    case terminate
    /// A billing record of use over `[time, time + usageSeconds)`.
    case usage
    /// The launch that opened the session failed after all (a GCP operation whose last entry is an
    /// error): the session is dropped.
    case failed
}

/// Where a record was read: the input's path and the line (or byte offset) of the record.
public struct EventOrigin: Sendable, Hashable, Codable, CustomStringConvertible {
    public var path: String
    public var position: InputPosition

    public init(path: String, position: InputPosition) {
        self.path = path
        self.position = position
    }

    public var description: String {
        switch position {
        case .file: path
        case .line(let line): "\(path):\(line)"
        case .lineColumn(let line, let column): "\(path):\(line):\(column)"
        case .offset(let offset): "\(path):offset \(offset)"
        }
    }
}

extension InputPosition: Hashable {
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .file: hasher.combine(0)
        case .line(let l): hasher.combine(1); hasher.combine(l)
        case .offset(let o): hasher.combine(2); hasher.combine(o)
        case .lineColumn(let l, let c): hasher.combine(3); hasher.combine(l); hasher.combine(c)
        }
    }
}

/// One normalized compute lifecycle or usage event: the records that start, stop or measure sessions.
///
/// Only these are materialised with strings; the many other calls of an account are reduced to
/// ``CallObservation``s on the hot path.
public struct UsageEvent: Sendable, Hashable, Codable {
    public var provider: CloudProvider
    public var action: ComputeAction
    public var time: EpochSeconds
    public var accountID: String
    /// Instance id, VM resource id or training-job name.
    public var resourceID: String
    /// The instance / VM / machine type when the event names it.
    public var instanceType: String?
    /// How many instances of `instanceType` the resource is (SageMaker `InstanceCount`); 1 otherwise.
    public var instanceCount: Int
    public var region: String
    public var sourceIP: IPAddress?
    public var principal: String?
    public var userAgent: String?
    /// The provider's event id; a stable hash of the record when the record has none.
    public var eventID: String
    public var eventName: String
    /// For `.usage` records: the seconds of use the record covers.
    public var usageSeconds: Int64
    /// For `.usage` records: the instance-hours billed (the usage amount; more than the period when
    /// one line sums several instances).
    public var usageHours: Double
    /// For `.usage`: how many billing records this event sums (consecutive periods of one resource are
    /// merged as they arrive, so a session holds its run, not every hourly line).
    public var usageRecords: Int = 1
    public var origin: EventOrigin

    public init(
        provider: CloudProvider, action: ComputeAction, time: EpochSeconds, accountID: String, resourceID: String,
        instanceType: String? = nil, instanceCount: Int = 1, region: String = "", sourceIP: IPAddress? = nil,
        principal: String? = nil, userAgent: String? = nil, eventID: String, eventName: String,
        usageSeconds: Int64 = 0, usageHours: Double = 0, origin: EventOrigin
    ) {
        self.provider = provider
        self.action = action
        self.time = time
        self.accountID = accountID
        self.resourceID = resourceID
        self.instanceType = instanceType
        self.instanceCount = instanceCount
        self.region = region
        self.sourceIP = sourceIP
        self.principal = principal
        self.userAgent = userAgent
        self.eventID = eventID
        self.eventName = eventName
        self.usageSeconds = usageSeconds
        self.usageHours = usageHours
        self.origin = origin
    }
}

/// An ISO 3166-1 alpha-2 code packed in two bytes; `unknown` is zero.
public struct CountryCode: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var raw: UInt16

    public static let unknown = CountryCode(raw: 0)

    public init(raw: UInt16) { self.raw = raw }

    /// Two ASCII letters, case-insensitive; nil otherwise.
    public init?(_ text: some StringProtocol) {
        let scalars = Array(text.utf8)
        guard scalars.count == 2 else { return nil }
        var raw: UInt16 = 0
        for b in scalars {
            let upper = (b >= 0x61 && b <= 0x7A) ? b - 0x20 : b
            guard upper >= 0x41 && upper <= 0x5A else { return nil }
            raw = raw << 8 | UInt16(upper)
        }
        self.raw = raw
    }

    public var isKnown: Bool { raw != 0 }

    public var description: String {
        guard raw != 0 else { return "??" }
        return String(decoding: [UInt8(raw >> 8), UInt8(raw & 0xFF)], as: UTF8.self)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
}

/// One API call or sign-in of an account, reduced to what the network evidence needs.
public struct CallObservation: Sendable, Hashable {
    // The address (17 bytes, 16-aligned) and the small fields first, then the 8-byte ones: 80 bytes a
    // call. In the order the fields were first written, padding made it 96 (issue 17: every call of an
    // input waits in its batch until merged).
    /// The source address when the record's value parses as one.
    public var sourceIP: IPAddress?
    /// The country of the source address, filled in after GeoIP look-up; `unknown` otherwise.
    public var country: CountryCode
    /// The anonymising network of the source address, filled in after the IP-intelligence look-up
    /// (`--ip-intel`); empty otherwise.
    public var network: AnonymousNetwork
    public var isSignIn: Bool
    /// Made by a machine of the cloud itself — an EC2 instance's role credentials (the session is named
    /// after the instance): its source address locates the region, not the people behind the account.
    public var isMachine: Bool
    /// Made in AWS CloudShell (user agent `exec-env/CloudShell`): a person typed it, so its time is the
    /// person's, but it ran in the region and came from AWS's addresses there, reassigned between
    /// customers: its address locates the region, not the person, and identifies no one.
    public var isCloudShell: Bool
    /// ``StableHash`` of the account id.
    public var accountKey: UInt64
    /// ``StableHash`` of the event id, for counting a call delivered twice once.
    public var eventKey: UInt64
    public var time: EpochSeconds
    /// ``StableHash`` of the user agent; 0 when the record has none.
    public var agentKey: UInt64
    /// ``StableHash`` of the caller's access-key id; 0 when none.
    public var accessKeyKey: UInt64
    /// ``StableHash`` of the caller's role or user name without its account (`role/ops`); 0 when none.
    public var principalKey: UInt64

    public init(
        accountKey: UInt64, eventKey: UInt64, time: EpochSeconds, sourceIP: IPAddress?, country: CountryCode = .unknown,
        isSignIn: Bool, agentKey: UInt64 = 0, accessKeyKey: UInt64 = 0, principalKey: UInt64 = 0,
        isMachine: Bool = false, network: AnonymousNetwork = [], isCloudShell: Bool = false
    ) {
        self.isMachine = isMachine
        self.isCloudShell = isCloudShell
        self.network = network
        self.agentKey = agentKey
        self.accessKeyKey = accessKeyKey
        self.principalKey = principalKey
        self.accountKey = accountKey
        self.eventKey = eventKey
        self.time = time
        self.sourceIP = sourceIP
        self.country = country
        self.isSignIn = isSignIn
    }
}

/// A 64-bit FNV-1a hash: stable across runs and processes (unlike `Hasher`), used for ids.
public enum StableHash {
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var h = seed
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// The hashes of two texts, each the same as `hash(_:)`'s: FNV-1a is a chain of one multiply per byte,
    /// and two chains side by side take about the time of the longer one.
    @inlinable
    public static func hash(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var ha: UInt64 = 0xCBF2_9CE4_8422_2325
        var hb = ha
        let common = Swift.min(a.count, b.count)
        var i = 0
        while i < common {
            ha = (ha ^ UInt64(a[i])) &* prime
            hb = (hb ^ UInt64(b[i])) &* prime
            i &+= 1
        }
        var j = i
        while i < a.count {
            ha = (ha ^ UInt64(a[i])) &* prime
            i &+= 1
        }
        while j < b.count {
            hb = (hb ^ UInt64(b[j])) &* prime
            j &+= 1
        }
        return (ha, hb)
    }

    public static func hash(_ text: String, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var copy = text
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Sixteen lowercase hex digits.
    public static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

extension UsageEvent {
    /// The start of the resource id a billing line gets when its export names no resource
    /// (`billing:p5.48xlarge@us-east-1a`): a fleet's lines per instance type (else usage type) and zone,
    /// several to an hour.
    public static let fleetResourcePrefix = "billing:"

    /// Whether this is a billing line of a fleet, not of a resource its export names.
    public var isFleetUsage: Bool { resourceID.utf8.starts(with: Self.fleetResourcePrefix.utf8) }
}
