import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// User agents' installation keys (``UserAgent/installationKey(_:)``) remembered by their bytes, for
/// one reader: a trail's records mostly carry a few agents over and over (the standard corpus: five an
/// object, a fifth of records the previous one's), and the key's FNV-1a walks every byte of the agent
/// one multiplication after another (issue 17: 1.8% of `ingest --jobs 1`). Direct-mapped by the agent's
/// length and its first and last eight bytes; a slot is taken only when the bytes are equal, so a key is
/// always the one the agent's bytes give.
struct AgentKeyCache {
    static let slots = 64
    /// Longer agents are hashed every time.
    static let maxLength = 128

    /// `slots` runs of `maxLength` bytes, allocated at the first agent (most inputs of a population are
    /// small objects).
    private var bytes: [UInt8] = []
    /// Each slot's agent length (0: empty) and key.
    private var lengths: [Int] = []
    private var keys: [UInt64] = []
    /// Each slot's ``UserAgent/isCloudShell(_:)``.
    private var cloudShell: [Bool] = []

    /// The installation key of `agent` (its bytes, not empty).
    mutating func key(_ agent: UnsafeRawBufferPointer) -> UInt64 { read(agent).key }

    /// The installation key of `agent` (its bytes, not empty) and whether it is CloudShell's
    /// (``UserAgent/isCloudShell(_:)``), both computed once per agent held.
    mutating func read(_ agent: UnsafeRawBufferPointer) -> (key: UInt64, isCloudShell: Bool) {
        let n = agent.count
        guard n >= 8, n <= Self.maxLength else {
            return UserAgent.installationKeyAndCloudShell(agent)
        }
        if bytes.isEmpty {
            bytes = [UInt8](unsafeUninitializedCapacity: Self.slots * Self.maxLength) { _, count in
                count = Self.slots * Self.maxLength
            }
            lengths = [Int](repeating: 0, count: Self.slots)
            keys = [UInt64](repeating: 0, count: Self.slots)
            cloudShell = [Bool](repeating: false, count: Self.slots)
        }
        let first = agent.loadUnaligned(as: UInt64.self)
        let last = agent.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        let mixed = (first &* 0x9E37_79B9_7F4A_7C15 ^ last ^ UInt64(n)) &* 0xBF58_476D_1CE4_E5B9
        let slot = Int(truncatingIfNeeded: mixed >> 58)
        let offset = slot * Self.maxLength
        let held = bytes.withUnsafeBufferPointer { stored in
            lengths[slot] == n && memcmp(stored.baseAddress! + offset, agent.baseAddress!, n) == 0
        }
        if held { return (keys[slot], cloudShell[slot]) }
        let (key, isCloudShell) = UserAgent.installationKeyAndCloudShell(agent)
        bytes.withUnsafeMutableBufferPointer { stored in
            UnsafeMutableRawPointer(stored.baseAddress! + offset).copyMemory(from: agent.baseAddress!, byteCount: n)
        }
        lengths[slot] = n
        keys[slot] = key
        cloudShell[slot] = isCloudShell
        return (key, isCloudShell)
    }
}
