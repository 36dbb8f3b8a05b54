public import UsageModel
import CPrefetch

/// Which accounts share identifiers — source addresses, user agents, access-key ids, role and user
/// names — for the shared-identity evidence: an account that works from the same address or with the
/// same tooling or credentials as a linked account inherits part of that link.
///
/// An identifier seen with more than `maxOwners` accounts is common (a NAT, a cloud console, a stock
/// SDK) and says nothing: it is dropped. Memory is bounded: `maxIdentifiers` identifiers in all and
/// `maxPerAccount` per account; beyond them new identifiers are not tracked.
public struct IdentityGraph: Sendable {
    struct Owners: Sendable {
        var accounts: [UInt64] = []
        var crowded = false
    }

    public var maxOwners = 4
    public var maxPerAccount = 64
    public var maxIdentifiers = 2_000_000
    private var owners = KeyTable<Owners>(capacity: 4096)
    private var identifiers = KeyTable<[UInt64]>(capacity: 4096)
    /// Identifiers that are tooling or credentials — user agents, access keys, principal names (the
    /// others are addresses).
    private var kinds = KeyTable<Bool>(capacity: 1024)

    public init() {}

    /// Kinds, mixed into identifier keys so an address and an agent never collide.
    static let addressSeed: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let agentSeed: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let accessKeySeed: UInt64 = 0x1656_67B1_9E37_79F9
    static let principalSeed: UInt64 = 0x85EB_CA77_C2B2_AE63

    /// The identifiers of the last call noted (account, address, agent, access key, principal): an
    /// account's calls come in runs with the same tooling, and a repeat changes nothing.
    private var last: (account: UInt64, ids: (UInt64, UInt64, UInt64, UInt64)) = (0, (0, 0, 0, 0))

    /// Recently noted (account, identifier) pairs, direct-mapped: noting a pair again changes nothing
    /// (an owner stays an owner, a crowded identifier stays crowded, a full table stays full), so a hit
    /// skips the tables. A collision only evicts; memory is fixed (512 KiB).
    private var recentPairs = [UInt64](repeating: 0, count: 1 << 16)
    /// Identifiers found crowded, direct-mapped (32 KiB): crowded is final, so a hit skips everything —
    /// stock user agents and shared NAT addresses are most calls.
    private var recentCrowded = [UInt64](repeating: 0, count: 1 << 12)

    /// A call's identifier keys (address, agent, access key, principal), 0 where it has none.
    @inline(__always)
    private static func identifiers(of call: CallObservation) -> (UInt64, UInt64, UInt64, UInt64) {
        let address = call.sourceIP.map {
            (UInt64(truncatingIfNeeded: $0.value) ^ UInt64(truncatingIfNeeded: $0.value >> 64)) &* 0xFF51_AFD7_ED55_8CCD
                ^ Self.addressSeed
        } ?? 0
        return (
            address, call.agentKey == 0 ? 0 : call.agentKey ^ Self.agentSeed,
            call.accessKeyKey == 0 ? 0 : call.accessKeyKey ^ Self.accessKeySeed,
            call.principalKey == 0 ? 0 : call.principalKey ^ Self.principalSeed
        )
    }

    /// The (account, identifier) pair's key and its slot in `recentPairs`.
    @inline(__always)
    private static func pair(_ account: UInt64, _ id: UInt64) -> (key: UInt64, slot: Int) {
        var pair = (account ^ (id &* 0x9E37_79B9_7F4A_7C15)) &* 0xFF51_AFD7_ED55_8CCD
        if pair == 0 { pair = 1 }
        return (pair, Int(truncatingIfNeeded: pair >> 48))
    }

    /// Prepares `observe(call)` a few calls later: the recent-pair slots it will read are a cache miss
    /// each otherwise (a hint: changes nothing). `mutating` only so that a caller holding the graph in
    /// a class borrows it in place: a non-mutating call across modules copied it (retains and releases).
    public mutating func prefetch(_ call: CallObservation) {
        let (address, agent, key, principal) = Self.identifiers(of: call)
        recentPairs.withUnsafeBufferPointer { b in
            @inline(__always) func ask(_ id: UInt64) {
                if id != 0 { cprefetch_write(b.baseAddress! + Self.pair(call.accountKey, id).slot) }
            }
            ask(address)
            ask(agent)
            ask(key)
            ask(principal)
        }
    }

    /// Notes one call's identifiers.
    public mutating func observe(_ call: CallObservation) {
        let (address, agent, key, principal) = Self.identifiers(of: call)
        let same = last.account == call.accountKey
        if address != 0 && !(same && last.ids.0 == address) { add(call.accountKey, address) }
        if agent != 0 && !(same && last.ids.1 == agent) { addTooling(call.accountKey, agent) }
        if key != 0 && !(same && last.ids.2 == key) { addTooling(call.accountKey, key) }
        if principal != 0 && !(same && last.ids.3 == principal) { addTooling(call.accountKey, principal) }
        last = (call.accountKey, (address, agent, key, principal))
    }

    /// Whether `account` shares any uncommon identifier with another account (cheap: no counting).
    public func hasPartners(_ account: UInt64) -> Bool {
        guard let ids = identifiers[account] else { return false }
        for id in ids {
            if let o = owners[id], !o.crowded, o.accounts.count > 1 { return true }
        }
        return false
    }

    private mutating func addTooling(_ account: UInt64, _ id: UInt64) {
        guard add(account, id) else { return }
        if kinds.count < maxIdentifiers { kinds.insert(id, true) }
    }

    /// - Returns: false when the pair was noted just before (nothing to do).
    @discardableResult
    private mutating func add(_ account: UInt64, _ id: UInt64) -> Bool {
        let crowdedSlot = Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 52)
        if recentCrowded[crowdedSlot] == id { return false }
        let (pair, slot) = Self.pair(account, id)
        if recentPairs[slot] == pair { return false }
        recentPairs[slot] = pair
        if !owners.contains(id) && owners.count >= maxIdentifiers { return true }
        var isNew = false
        var crowded = false
        owners.update(id, default: { Owners() }) { o in
            guard !o.crowded else {
                crowded = true
                return
            }
            guard !o.accounts.contains(account) else { return }
            if o.accounts.count >= maxOwners {
                o.crowded = true
                o.accounts = []
                crowded = true
                return
            }
            o.accounts.append(account)
            isNew = true
        }
        if crowded { recentCrowded[crowdedSlot] = id }
        guard isNew else { return true }
        identifiers.update(account, default: { [] }) { list in
            if list.count < maxPerAccount { list.append(id) }
        }
        return true
    }

    /// The graph as plain arrays, for checkpoints.
    public struct Snapshot: Codable, Sendable {
        var ids: [UInt64]
        var owners: [[UInt64]]
        var crowded: [Bool]
        var accounts: [UInt64]
        var identifiers: [[UInt64]]
        var agents: [UInt64]
    }

    public var snapshot: Snapshot {
        let o = owners.elements.sorted { $0.key < $1.key }
        let i = identifiers.elements.sorted { $0.key < $1.key }
        return Snapshot(
            ids: o.map(\.key), owners: o.map(\.value.accounts), crowded: o.map(\.value.crowded), accounts: i.map(\.key),
            identifiers: i.map(\.value), agents: kinds.elements.map(\.key).sorted())
    }

    public mutating func restore(_ s: Snapshot) {
        recentPairs = [UInt64](repeating: 0, count: recentPairs.count)
        recentCrowded = [UInt64](repeating: 0, count: recentCrowded.count)
        last = (0, (0, 0, 0, 0))
        owners = KeyTable<Owners>(capacity: max(4096, s.ids.count))
        for (k, (a, c)) in zip(s.ids, zip(s.owners, s.crowded)) {
            owners.update(k, default: { Owners(accounts: a, crowded: c) }) { _ in }
        }
        identifiers = KeyTable<[UInt64]>(capacity: max(4096, s.accounts.count))
        for (k, list) in zip(s.accounts, s.identifiers) { identifiers.update(k, default: { list }) { _ in } }
        kinds = KeyTable<Bool>(capacity: max(1024, s.agents.count))
        for k in s.agents { kinds.insert(k, true) }
    }

    /// Accounts that share uncommon identifiers with `account`: how many, and whether tooling (a user
    /// agent, an access key, a principal name) is among them — a shared address alone is often a NAT, a
    /// VPN exit or chance.
    public func partners(of account: UInt64) -> [(account: UInt64, shared: Int, tooling: Bool)] {
        guard let ids = identifiers[account] else { return [] }
        // One (partner, through an agent) pair per shared identifier, sorted and counted in runs: an
        // account holds at most `maxPerAccount` identifiers of at most `maxOwners` owners each, and
        // sorting that many keys costs less than hashing each into a dictionary.
        var pairs: [(other: UInt64, agent: Bool)] = []
        pairs.reserveCapacity(ids.count)
        for id in ids {
            guard let o = owners[id], !o.crowded else { continue }
            let isAgent = kinds[id] == true
            for other in o.accounts where other != account { pairs.append((other, isAgent)) }
        }
        guard !pairs.isEmpty else { return [] }
        pairs.sort { $0.other < $1.other }
        var out: [(account: UInt64, shared: Int, tooling: Bool)] = []
        for p in pairs {
            if let last = out.last, last.account == p.other {
                out[out.count - 1] = (last.account, last.shared + 1, last.tooling || p.agent)
            } else {
                out.append((p.other, 1, p.agent))
            }
        }
        return out.sorted { $0.shared != $1.shared ? $0.shared > $1.shared : $0.account < $1.account }
    }
}
