public import UsageModel
import CPrefetch

/// Which accounts are operated by the same people, from the identifiers their calls carry: source
/// addresses, user-agent installations, access-key ids and principal names.
///
/// Each account keeps a fixed summary per kind of identifier — the values most of its calls carry
/// (Misra–Gries counters: 16 addresses, 8 installations, 8 access keys, 8 principal names, with
/// counts), so an address's weight can follow the share of the account's calls through it. An index
/// from value to the accounts whose summaries hold it finds partners, and counts the distinct accounts
/// that showed the value while it was indexed (held in their summaries or not: a stock agent or a
/// NAT address is common even where it is a small part of each account's calls). Whether two accounts share a value is evidence only as far
/// as the value is rare in this population: see ``partners(of:population:parameters:)``.
///
/// Memory is bounded by the accounts followed, never by the distinct values in the input: 40 counters
/// per account (480 bytes), at most 40 index entries per account (an entry lives while some summary
/// holds its value), each with at most `maxOwners` accounts that showed it: a value shown by more is
/// common, and only its holders are kept. Accounts that showed a value before it was indexed are not
/// counted (an undercount early in a stream).
public struct IdentityGraph: Sendable {
    /// The kinds of identifier, in the order of an account's summary.
    public enum Kind: Int, Sendable, CaseIterable, Codable {
        case address = 0, agent, accessKey, principal

        public var label: String {
            switch self {
            case .address: "address"
            case .agent: "user-agent installation"
            case .accessKey: "access key"
            case .principal: "principal"
            }
        }

        /// Mixed into a value's key so values of two kinds never collide.
        var seed: UInt64 {
            switch self {
            case .address: 0x9E37_79B9_7F4A_7C15
            case .agent: 0xC2B2_AE3D_27D4_EB4F
            case .accessKey: 0x1656_67B1_9E37_79F9
            case .principal: 0x85EB_CA77_C2B2_AE63
            }
        }
    }

    /// Counters per kind, and where each kind's counters start in an account's summary.
    static let slots = [16, 8, 8, 8]
    static let offsets = [0, 16, 24, 32]
    static let width = 40

    /// Accounts with more owners than this make a value common: it leaves the index.
    public var maxOwners = 64

    /// Account key → its summary's row.
    private var rows = KeyTable<Int32>(capacity: 1024)
    /// Each account's summary in a block of its own (``IdentityRows``): `width` counters (value keys
    /// and counts), calls per kind, and whether each counter's value is in the index: a value enters
    /// it once it carries two of the account's calls and 1% of those of its kind (one call through an
    /// address says nothing of who runs the account, and most distinct addresses of a busy trail pass
    /// once), and leaves it when the counter is freed. The block also holds the account's open runs.
    /// Shared with copies of the graph until one writes (``makeUnique()``).
    private var storage = IdentityRows()

    struct Owners: Sendable, Codable {
        /// Accounts whose summaries hold the value (kept while it is not crowded), and how many there are
        /// (an account holds a value in at most one counter, so the count needs no list).
        var accounts: [UInt64] = []
        var holders: Int32 = 0
        /// Accounts that showed it while indexed, up to `maxOwners`; then the value is crowded.
        var showers: [UInt64] = []
        var crowded = false
        var name: String? = nil
        /// The input being read when a second account came to hold the value: where to look.
        var sharedIn: String? = nil

        mutating func show(_ account: UInt64, maxOwners: Int) {
            guard !crowded, !showers.contains(account) else { return }
            if showers.count >= maxOwners {
                crowded = true
                showers = []
                accounts = []
            } else {
                showers.append(account)
            }
        }
    }

    /// Value key → its holders and showers.
    private var owners = ValueIndex<Owners>(placeholder: Owners())
    /// One bit per value ever indexed (hashed, 64 KiB): most values a call carries were never indexed,
    /// and a clear bit spares their look-up. Never cleared; a set bit only costs the look-up.
    private var mayBeIndexed = [UInt64](repeating: 0, count: filterWords)
    static let filterWords = 1 << 13

    /// Values that gained a second owner in the input being merged and still need their text, with the
    /// input whose call made it shared (it carried the value, so its names hold it).
    private var unnamed: [(id: UInt64, input: String?)] = []

    /// The last call's account and its row.
    private var last: (account: UInt64, row: Int) = (0, -1)
    /// Per account and kind (in its block), the value of its current run of calls and how many calls of
    /// the run are not counted yet; the address of the run (for its name); the input of the first call
    /// of the run's calls not counted yet (where a value that becomes shared when they are counted was
    /// seen). `dirtyRows`: the rows with uncounted runs.
    /// The inputs those runs came from, numbered (the runs hold numbers, not strings: no reference
    /// counting per call); emptied at each ``settle()``, when no run is left uncounted, but for the
    /// input being merged (number 0 then).
    private var inputs: [String?] = [nil]
    private var inputNumber: Int32 = 0
    /// The numbers in `inputs` of the inputs set by the caller's own key (``setInput(_:key:)``), and the
    /// key of the current one (nil when set by ``input``).
    private var inputsByKey: [UInt32: Int32] = [:]
    private var inputKey: UInt32? = nil
    /// Whether changed rows and index entries are remembered for ``takeChanges()`` (`tail`).
    public var tracking = false
    private var changedRows = Set<Int32>()
    private var changedOwners = Set<UInt64>()
    private var dirtyRows: [Int32] = []

    public init() {}

    /// The input being merged (the pipeline sets it), recorded where a value becomes shared.
    public var input: String? {
        get { inputs[Int(inputNumber)] }
        set {
            inputKey = nil
            // Inputs alternate within a slice: the few numbered last are searched before a new one.
            var i = inputs.count - 1
            while i >= max(0, inputs.count - 8) {
                if inputs[i] == newValue {
                    inputNumber = Int32(i)
                    return
                }
                i -= 1
            }
            inputs.append(newValue)
            inputNumber = Int32(inputs.count - 1)
        }
    }

    /// Sets ``input`` to `path` (asked only for a key not seen since the last ``settle()``), which the
    /// caller numbers `key` (one key, one path). Inputs alternate at nearly every call where a slice
    /// merges many inputs' calls (the large customer's trail: dozens); the number is found by the key
    /// instead of comparing paths with the last few (~1.2% of its `ingest --jobs 1`, where a path not
    /// among the last eight was numbered again).
    public mutating func setInput(_ path: @autoclosure () -> String?, key: UInt32) {
        if let number = inputsByKey[key] {
            inputNumber = number
        } else {
            inputs.append(path())
            inputNumber = Int32(inputs.count - 1)
            inputsByKey[key] = inputNumber
        }
        inputKey = key
    }

    /// Accounts that came to share a value with another account since the last
    /// ``takeNewlyShared()``: when a value gains a holder while it has at most `newlySharedHolders`
    /// (0: none noted), its holders. The pipeline drains them at every tick, after ``settle()``, so the
    /// set is never part of a checkpoint. A value held by more says little of any one pair.
    public var newlySharedHolders = 0
    private var newlyShared: Set<UInt64> = []

    /// The accounts noted since the last call (``newlySharedHolders``), in key order.
    public mutating func takeNewlyShared() -> [UInt64] {
        defer { newlyShared.removeAll(keepingCapacity: true) }
        return newlyShared.sorted()
    }

    /// Accounts with at least one call.
    public var population: Int { storage.count }

    /// Copies the rows before a write when another graph shares them (one check per call observed,
    /// not one per array written).
    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    @inline(__always)
    static func keys(of call: CallObservation) -> (UInt64, UInt64, UInt64, UInt64) {
        @inline(__always) func k(_ x: UInt64, _ kind: Kind) -> UInt64 {
            x == 0 ? 0 : (x ^ kind.seed == 0 ? 1 : x ^ kind.seed)
        }
        return (
            addressKey(of: call), k(call.agentKey, .agent), k(call.accessKeyKey, .accessKey),
            k(call.principalKey, .principal)
        )
    }

    /// The key of the call's source address as a value of the graph, or 0 when it has none.
    @inline(__always)
    public static func addressKey(of call: CallObservation) -> UInt64 {
        // An instance's or CloudShell's address is the cloud's, reassigned from one customer to the next:
        // no identifier.
        guard !call.isMachine, !call.isCloudShell, let ip = call.sourceIP else { return 0 }
        return
            (((UInt64(truncatingIfNeeded: ip.value) ^ UInt64(truncatingIfNeeded: ip.value >> 64))
            &* 0xFF51_AFD7_ED55_8CCD) ^ Kind.address.seed) | 1
    }

    /// The key of a value of `kind` from its raw key (a call's `agentKey`, `accessKeyKey` or `principalKey`).
    public static func key(_ raw: UInt64, kind: Kind) -> UInt64 { raw ^ kind.seed == 0 ? 1 : raw ^ kind.seed }

    /// Accounts, the account table's slots, values indexed, the index's slots and places
    /// (`CHIPTRAIL_MEMORY_LOG`).
    public var memoryReport: String {
        let index = owners.sizes
        return "identities \(storage.count) rows (\((storage.count * IdentityRows.stride) >> 20)M) \(rows.slots) slots;"
            + " owners \(owners.count) in \(index.slots) slots, \(index.places) places"
    }

    /// Values held in the index (at most 40 per account).
    public var indexedValues: Int { owners.count }

    /// The raw key a value of `kind` came from (for its name in the input's name table).
    static func raw(_ key: UInt64, _ kind: Kind) -> UInt64 { key ^ kind.seed }

    /// Prepares `observe(call)` a few calls later (a hint: changes nothing).
    public mutating func prefetch(_ call: CallObservation) {
        rows.prefetch(call.accountKey)
    }

    public mutating func prefetch(accountKey: UInt64) {
        rows.prefetch(accountKey)
    }

    /// Brings the first two cache lines of row `row` closer (its runs and key: what ``observe(_:likelyRow:)``
    /// reads first), if there is such a row. A hint: changes nothing.
    @inline(__always)
    public mutating func prefetch(row: Int) {
        guard row >= 0 && row < storage.count else { return }
        let base = UnsafeRawPointer(storage.row(row))
        cprefetch_write(base)
        cprefetch_write(base + 64)
    }

    /// Notes one call's identifiers. Each account's calls come in runs with the same values (one
    /// installation, one principal, often one address): a run is counted once, when the account's
    /// value of that kind changes or at ``settle()``, not call by call.
    ///
    /// `likelyRow`: where the caller expects the account's row (rows are numbered in the order accounts
    /// first call; the pipeline's account activity numbers them alike), tried before the account table:
    /// it is taken only when that row's key is the call's account, so a wrong guess changes nothing.
    public mutating func observe(_ call: CallObservation, likelyRow: Int = -1) {
        makeUnique()
        let ids = Self.keys(of: call)
        let row: Int
        if last.row >= 0 && last.account == call.accountKey {
            row = last.row
        } else if likelyRow >= 0 && likelyRow < storage.count
            && storage.row(likelyRow).u64(IdentityRows.account) == call.accountKey
        {
            row = likelyRow
            last = (call.accountKey, row)
        } else {
            row = rowOf(call.accountKey)
            last = (call.accountKey, row)
        }
        if ids.0 != 0 { extend(row, .address, ids.0, ip: call.sourceIP) }
        if ids.1 != 0 { extend(row, .agent, ids.1, ip: nil) }
        if ids.2 != 0 { extend(row, .accessKey, ids.2, ip: nil) }
        if ids.3 != 0 { extend(row, .principal, ids.3, ip: nil) }
    }

    @inline(__always)
    private mutating func extend(_ row: Int, _ kind: Kind, _ id: UInt64, ip: IPAddress?) {
        let p = storage.row(row)
        let k = kind.rawValue
        if p.u64(IdentityRows.runIDs, k) == id {
            let n = p.u32(IdentityRows.runCounts, k)
            if n == 0 { p.setU32(IdentityRows.runInputs, k, UInt32(bitPattern: inputNumber)) }
            p.setU32(IdentityRows.runCounts, k, n &+ 1)
            // A run that goes on past a settle is counted again at the next one (not only when the
            // value changes): what the graph holds at a tick is then the calls up to it, and a graph
            // restored from a checkpoint (runs not saved) counts exactly as one that never stopped.
            markDirty(row, p)
            return
        }
        flush(row, kind)
        // The run is counted at the account's next value or at the settle, where a value its summary does
        // not hold (most new addresses) is looked up in the filter of indexed values first: its word is
        // asked for now (the filter is cold after each input's decoding).
        mayBeIndexed.withUnsafeBufferPointer {
            cprefetch_write($0.baseAddress! + (Int(truncatingIfNeeded: id >> 6) & (Self.filterWords - 1)))
        }
        p.setU64(IdentityRows.runIDs, k, id)
        p.setU32(IdentityRows.runCounts, k, 1)
        p.setU32(IdentityRows.runInputs, k, UInt32(bitPattern: inputNumber))
        if kind == .address {
            p.storeBytes(of: ip?.value ?? 0, toByteOffset: IdentityRows.runAddress, as: UInt128.self)
            p.storeBytes(of: ip == nil ? 0 : 1, toByteOffset: IdentityRows.hasRunAddress, as: UInt8.self)
        }
        markDirty(row, p)
    }

    @inline(__always)
    private mutating func markDirty(_ row: Int, _ p: UnsafeMutableRawPointer) {
        if p.load(fromByteOffset: IdentityRows.dirty, as: UInt8.self) == 0 {
            p.storeBytes(of: 1, toByteOffset: IdentityRows.dirty, as: UInt8.self)
            dirtyRows.append(Int32(row))
        }
    }

    /// Counts the runs still open (call before reading the graph; the pipeline does after each input).
    public mutating func settle() {
        makeUnique()
        if tracking { changedRows.formUnion(dirtyRows) }
        for (n, row) in dirtyRows.enumerated() {
            // The rows come in the order their calls came: a row four ahead is fetched while this one is
            // counted (each row's block is 640 bytes, rarely in cache when the accounts are many).
            if n + 4 < dirtyRows.count { prefetchRow(Int(dirtyRows[n + 4])) }
            let row = Int(row)
            for kind in Kind.allCases { flush(row, kind) }
            storage.row(row).storeBytes(of: 0, toByteOffset: IdentityRows.dirty, as: UInt8.self)
        }
        dirtyRows.removeAll(keepingCapacity: true)
        // Every run is counted: only the input being merged needs its number.
        if inputs.count > 1 {
            let current = inputs[Int(inputNumber)]
            inputs.removeAll(keepingCapacity: true)
            inputs.append(current)
            inputNumber = 0
            inputsByKey.removeAll(keepingCapacity: true)
            if let inputKey { inputsByKey[inputKey] = 0 }
        }
    }

    @inline(__always)
    private mutating func prefetchRow(_ row: Int) {
        let base = UnsafeRawPointer(storage.row(row))
        for line in stride(from: 0, to: IdentityRows.stride, by: 64) { cprefetch_write(base + line) }
    }

    /// Counts the open run of `kind` in the account's row.
    private mutating func flush(_ row: Int, _ kind: Kind) {
        let p = storage.row(row)
        let k = kind.rawValue
        let n = p.u32(IdentityRows.runCounts, k)
        guard n > 0 else { return }
        p.setU32(IdentityRows.runCounts, k, 0)
        var ip: IPAddress? = nil
        if kind == .address && p.load(fromByteOffset: IdentityRows.hasRunAddress, as: UInt8.self) != 0 {
            ip = IPAddress(value: p.load(fromByteOffset: IdentityRows.runAddress, as: UInt128.self))
        }
        note(
            row, kind, p.u64(IdentityRows.runIDs, k), weight: n, account: p.u64(IdentityRows.account), ip: ip,
            from: Int32(bitPattern: p.u32(IdentityRows.runInputs, k)))
    }

    private mutating func rowOf(_ account: UInt64) -> Int {
        if let r = rows[account] { return Int(r) }
        let r = storage.append(account: account)
        rows.insert(account, Int32(r))
        // A call may carry no identifier at all: the row counts in the population all the same.
        if tracking { changedRows.insert(Int32(r)) }
        return r
    }

    /// Counts `id` in the account's summary (Misra–Gries: a value not held finds a free counter, or
    /// every counter of the kind drops by one and those at zero free theirs).
    /// Counts `n` calls carrying `id` in the account's summary (Misra–Gries with weights: a value not
    /// held takes a free counter, or every counter of the kind drops by the smallest count or `n`,
    /// whichever is less, and what is left of `n` takes a counter that reached zero).
    private mutating func note(
        _ row: Int, _ kind: Kind, _ id: UInt64, weight n: UInt32, account: UInt64, ip: IPAddress?, from input: Int32
    ) {
        // Every call of every account comes here: the counters are read and written in the account's
        // block (the graph's rows are unique: ``observe(_:)`` and ``settle()`` made them so).
        let p = storage.row(row)
        let k = kind.rawValue
        let callsOfKind = p.u32(IdentityRows.totals, k) &+ n
        p.setU32(IdentityRows.totals, k, callsOfKind)
        // `offsets[k]` and `slots[k]`, computed (a static array's look-up asks for its lazy initialisation).
        let base = k == 0 ? 0 : 8 &+ 8 &* k
        let end = base &+ (k == 0 ? 16 : 8)
        let valueField = IdentityRows.values
        let countField = IdentityRows.counts
        var slot = -1
        var free = -1
        var smallest = UInt32.max
        for i in base..<end {
            let x = p.u64(valueField, i)
            if x == id {
                slot = i
                break
            }
            if x == 0 {
                if free < 0 { free = i }
            } else if p.u32(countField, i) < smallest {
                smallest = p.u32(countField, i)
            }
        }
        var indexed = p.u64(IdentityRows.indexed)
        if slot < 0 {
            noteShown(id, account)
            var left = n
            if free < 0 {
                let cut = min(smallest, left)
                left -= cut
                var freed: [UInt64] = []
                for i in base..<end {
                    p.setU32(countField, i, p.u32(countField, i) - cut)
                    if p.u32(countField, i) == 0 {
                        if indexed & (1 << UInt64(i)) != 0 { freed.append(p.u64(valueField, i)) }
                        p.setU64(valueField, i, 0)
                        indexed &= ~(1 << UInt64(i))
                        if free < 0 { free = i }
                    }
                }
                p.setU64(IdentityRows.indexed, 0, indexed)
                for value in freed { removeOwner(value, account) }
            }
            guard left > 0, free >= 0 else { return }
            slot = free
            p.setU64(valueField, slot, id)
            p.setU32(countField, slot, left)
            indexed &= ~(1 << UInt64(slot))
            p.setU64(IdentityRows.indexed, 0, indexed)
        } else {
            p.setU32(countField, slot, p.u32(countField, slot) &+ n)
        }
        // Indexed once it carries two calls and 1% of the account's calls of its kind: a busy trail's
        // passing addresses churn through the counters without touching the index.
        if indexed & (1 << UInt64(slot)) == 0 && p.u32(countField, slot) >= 2
            && p.u32(countField, slot) &* 100 >= callsOfKind
        {
            p.setU64(IdentityRows.indexed, 0, indexed | (1 << UInt64(slot)))
            addOwner(id, account, ip: ip, from: input)
        }
    }

    // MARK: Distinct owners

    /// Counts `account` among those that showed `id`, if the value is indexed (in place: a copy of the
    /// entry would copy its arrays).
    private mutating func noteShown(_ id: UInt64, _ account: UInt64) {
        guard mayBeIndexed[Int(truncatingIfNeeded: id >> 6) & (Self.filterWords - 1)] & (1 << (id & 63)) != 0,
            let place = owners.place(of: id)
        else { return }
        let maxOwners = self.maxOwners
        owners.update(at: place) { $0.show(account, maxOwners: maxOwners) }
        if tracking { changedOwners.insert(id) }
    }

    /// How many accounts showed `id` while it was indexed (`maxOwners` + 1 once crowded). Mutating, though it
    /// changes nothing, as ``prefetch(row:)`` is: asked of a graph held in a class (the pipeline's, at each
    /// address's first call of a slice with `shared_exit_accounts` on), a non-mutating call copied the graph,
    /// a retain and a release of each of its tables (2% of `ingest`'s CPU on the bench's standard corpus).
    public mutating func accountsShowing(_ id: UInt64) -> Int {
        let maxOwners = self.maxOwners
        return owners.read(id) { $0.crowded ? maxOwners + 1 : max($0.showers.count, $0.accounts.count) } ?? 0
    }

    /// `input` is the number in `inputs` of the input the call came from; its name is looked up only
    /// here, where a value is indexed (a name passed along every count was a retain and a release each).
    private mutating func addOwner(_ id: UInt64, _ account: UInt64, ip: IPAddress?, from inputNumber: Int32) {
        let input: String? = inputs[Int(inputNumber)]
        let maxOwners = self.maxOwners
        let sharedLimit = newlySharedHolders
        var needsName = false
        var nowShared: [UInt64] = []
        func add(_ o: inout Owners) {
            o.holders += 1
            o.show(account, maxOwners: maxOwners)
            guard !o.crowded else { return }
            o.accounts.append(account)
            if o.accounts.count == 2 && o.name == nil {
                if let ip { o.name = ip.description } else { needsName = true }
            }
            if o.accounts.count == 2 && o.sharedIn == nil { o.sharedIn = input }
            if o.accounts.count > 1 && o.accounts.count <= sharedLimit { nowShared = o.accounts }
        }
        owners.update(at: owners.place(of: id) { Owners() }, add)
        newlyShared.formUnion(nowShared)
        if tracking { changedOwners.insert(id) }
        mayBeIndexed[Int(truncatingIfNeeded: id >> 6) & (Self.filterWords - 1)] |= 1 << (id & 63)
        if needsName { unnamed.append((id, input)) }
    }

    private mutating func removeOwner(_ id: UInt64, _ account: UInt64) {
        guard let place = owners.place(of: id) else { return }
        if tracking { changedOwners.insert(id) }
        let gone = owners.update(at: place) {
            $0.holders -= 1
            if $0.holders <= 0 { return true }
            if !$0.crowded { $0.accounts.removeAll { $0 == account } }
            return false
        }
        if gone { owners.remove(id) }
    }

    /// Gives the values that gained a second owner their text, from the merged input's name table
    /// (keyed by ``DecodedBatch``'s `nameKey(raw, kind:)`: 0 agent, 1 access key, 2 principal).
    public mutating func nameNew(_ lookup: (UInt64, Kind) -> String?) {
        nameNew { raw, kind, _ in lookup(raw, kind) }
    }

    /// The same, with the input whose call made the value shared (where its text is sure to be): a
    /// look-up may start there.
    public mutating func nameNew(_ lookup: (UInt64, Kind, String?) -> String?) {
        for (id, input) in unnamed {
            guard var o = owners[id], o.name == nil else { continue }
            for kind in [Kind.agent, .accessKey, .principal] {
                if let name = lookup(Self.raw(id, kind), kind, input) {
                    o.name = name
                    break
                }
            }
            owners.set(id, o)
            if tracking { changedOwners.insert(id) }
        }
        unnamed.removeAll(keepingCapacity: true)
    }

    // MARK: Partners

    /// How strongly two accounts sharing a value of each kind suggests one operator, against chance.
    public struct Parameters: Sendable, Equatable {
        /// The probability that two accounts of one operator share a value of the kind (address,
        /// installation, access key, principal name).
        public var sameOperator: [Double] = [0.5, 0.5, 0.3, 0.5]
        /// The least probability that two unrelated accounts share a given value of the kind, however rare
        /// the value looks in this population (names and tool releases recur by chance).
        public var chanceFloor: [Double] = [0.002, 0.05, 0.000_1, 0.03]
        /// The chance floor of a principal name that names a person (``PrincipalName/isPersonal(_:)``):
        /// a person's user or session name recurs by chance far less than a service's.
        public var personalPrincipalFloor = 0.003
        /// The population the floors of addresses, access keys and people's names hold for
        /// (`identity_chance_floor_accounts`): in one N times larger each is N times lower (such a floor
        /// is the chance a population of this size cannot tell from rarer; a larger one counts finer).
        /// The floors of installations and of services' names stand at every size: a tool's release or
        /// a role named by a convention recurs by design, and is undercounted (an account whose
        /// summary does not hold it is not counted). Until 2026-12-05 the floors stood at every size, and with
        /// the pair prior, 0.2 / (N − 1), a pair sharing a name four of 20,000 accounts show was ten
        /// times less likely one operator than a pair sharing one four of 2,000 show. Scaled, a pair
        /// sharing one value rarer than the floor is as likely one operator at any size above this
        /// (each further such value counts for more, as the count shows it rarer); at or below it
        /// nothing changes. 0: no floor beyond it.
        public var floorAccounts = 2_000.0
        /// An address counts in full only when at least this share of both accounts' calls use it.
        public var addressShareFull = 0.2
        /// That share is taken of at least this many calls (`identity_address_min_calls`): two calls
        /// through an address, all an account has made so far, do not show it is where its people work.
        public var addressMinimumCalls = 20.0
        /// Expected accounts of the same operator per account (the prior of a pair).
        public var expectedPartners = 0.2
        /// What a second person's name shared weighs of its ratio (`identity_second_person_factor`): half,
        /// as any kind's second value. 1, in full, took two people's names for two coincidences (until
        /// 2026-12-08); but given names recur together within a language community: on the fleet generator's
        /// tuning seeds 1–4 (2,000 accounts) unrelated firms with Mandarin- or Russian-speaking staff shared a
        /// rare name and a common one (`*/yzhou`, 2 accounts, with `*/jiahui`, 9), read as one operator at
        /// probability 0.68. Half: false positives 44 → 36 without a feed, 62 → 54 with it (after
        /// `reseller_placed_factor`), no diverted account missed; the world generator's tuning seeds 3–6 alert
        /// the same accounts (0.25: 34; 0: 33, but the world's shared-identity diverters went unseen, F1 0.963 →
        /// 0.957). On the world's report seeds half lost 2 of 42 shared-identity accounts (README).
        public var secondPersonFactor = 0.5
        public init() {}
    }

    /// One value two accounts share, with how many accounts show it, what it added, and the input
    /// being read when a second account came to hold it.
    public struct SharedValue: Sendable {
        public var kind: Kind
        public var name: String?
        public var sharedIn: String?
        public var accountsShowing: Int
        /// The shares of the two accounts' calls of its kind that carry it; the other account's is
        /// found for an address only (0 for the other kinds: nothing reads it).
        public var shares: (Double, Double)
        public var logRatio: Double
        /// A principal name that names a person (``PrincipalName/isPersonal(_:)``).
        public var personal = false
        /// The value's key: the same value shared with two accounts counts once.
        public var key: UInt64 = 0
    }

    /// An account that may be operated by the same people: the log-likelihood ratio of the shared set
    /// (one operator against chance), the posterior probability, and the values behind it.
    public struct Partner: Sendable {
        public var account: UInt64
        public var logRatio: Double
        public var probability: Double
        public var shared: [SharedValue]
    }

    /// The chance that an unrelated account shows a value `showing` of `population` accounts show: the
    /// count's share, at least the floor, which holds for populations of up to `floorAccounts` and is
    /// scaled down by their ratio in larger ones (``Parameters/floorAccounts``).
    public static func chance(showing: Int, population n: Double, floor: Double, floorAccounts m: Double) -> Double {
        let counted = Double(max(showing - 1, 0)) / n
        return max(counted, floor * min(1, m / n))
    }

    /// Whether `account` shares any indexed value with another account (cheap: no scoring).
    public func hasPartners(_ account: UInt64) -> Bool {
        guard let r = rows[account] else { return false }
        let p = storage.row(Int(r))
        for i in 0..<Self.width {
            let value = p.u64(IdentityRows.values, i)
            guard value != 0 else { continue }
            if owners.read(value, { !$0.crowded && $0.accounts.count > 1 }) == true { return true }
        }
        return false
    }

    /// The value key of counter `index` (0..<`width`) of `row`.
    private func value(_ row: Int, _ index: Int) -> UInt64 { storage.row(row).u64(IdentityRows.values, index) }

    private func share(_ row: Int, _ index: Int, _ kind: Kind, atLeast minimum: Double = 0) -> Double {
        let p = storage.row(row)
        let t = max(Double(p.u32(IdentityRows.totals, kind.rawValue)), minimum)
        return t == 0 ? 0 : Double(p.u32(IdentityRows.counts, index)) / t
    }

    /// The accounts sharing values with `account`, each scored as one likelihood ratio of the shared
    /// set: a value of kind k shown by n of the `population` accounts N adds log(sameOperator[k] /
    /// max(chanceFloor[k] · min(1, m / N), (n − 1) / N)) (m: ``Parameters/floorAccounts`` for addresses,
    /// access keys and people's names; infinite for installations and services' names), an address
    /// scaled by the
    /// smaller share of the two accounts' calls through it; within a kind the best value counts in
    /// full and the next at half (values of one kind go together; a second person's name at
    /// ``Parameters/secondPersonFactor``). The posterior that the two are one
    /// operator weighs that against the prior of a pair, expectedPartners / (population − 1).
    /// Sorted by probability, then account; those below `minimum` are left out, unless their ratio
    /// reaches `minimumLogRatio`.
    public func partners(
        of account: UInt64, population: Int, parameters p: Parameters, minimum: Double = 0.05,
        minimumLogRatio: Double = .infinity
    ) -> [Partner] {
        guard let r = rows[account] else { return [] }
        let row = Int(r)
        let n = Double(max(population, 2))
        var byPartner: [UInt64: [SharedValue]] = [:]
        for kind in Kind.allCases {
            let base = Self.offsets[kind.rawValue]
            for i in base..<(base + Self.slots[kind.rawValue]) where value(row, i) != 0 {
                let id = value(row, i)
                // The value's entry read where it lies (a copy of it was four retains and releases).
                _ = owners.read(id) { o in
                    guard !o.crowded, o.accounts.count > 1 else { return }
                    // ``accountsShowing(_:)`` of a value not crowded.
                    let showing = max(o.showers.count, o.accounts.count)
                    guard showing <= maxOwners else { return }
                    let personal = kind == .principal && o.name.map(PrincipalName.isPersonal) == true
                    let floor = personal ? p.personalPrincipalFloor : p.chanceFloor[kind.rawValue]
                    // A tool's release and a service's name recur by design, not by chance: their floors
                    // stand at every size. Addresses, access keys and people's names recur by chance, which
                    // a larger population counts finer.
                    let byChance = kind != .agent && (kind != .principal || personal)
                    let chance = Self.chance(
                        showing: showing, population: n, floor: floor,
                        floorAccounts: byChance ? p.floorAccounts : .infinity
                    )
                    let full = log(p.sameOperator[kind.rawValue] / chance)
                    guard full > 0 else { return }
                    let mine = share(row, i, kind)
                    let mineWeighed = share(row, i, kind, atLeast: p.addressMinimumCalls)
                    for other in o.accounts where other != account {
                        guard let or = rows[other] else { continue }
                        var theirs = 0.0
                        var theirsWeighed = 0.0
                        // The other account's share of its calls weighs an address and is told for one; the
                        // other kinds' is not read, nor its counters (a block rarely in cache: the scan of them
                        // was half of this search's own time in a 2,000-account world).
                        if kind == .address {
                            let orow = Int(or)
                            for j in 0..<Self.slots[0] where value(orow, j) == id {
                                theirs = share(orow, j, kind)
                                theirsWeighed = share(orow, j, kind, atLeast: p.addressMinimumCalls)
                            }
                        }
                        var lr = full
                        if kind == .address { lr *= min(1, min(mineWeighed, theirsWeighed) / p.addressShareFull) }
                        guard lr > 0 else { continue }
                        byPartner[other, default: []].append(
                            SharedValue(
                                kind: kind, name: o.name, sharedIn: o.sharedIn, accountsShowing: showing,
                                shares: (mine, theirs),
                                logRatio: lr, personal: personal, key: id))
                    }
                }
            }
        }
        let prior = Self.pairPrior(population: population, parameters: p)
        var out: [Partner] = []
        for (other, shared) in byPartner {
            let total = Self.logRatio(of: shared, secondPerson: p.secondPersonFactor)
            let probability = 1 / (1 + exp(-(total + prior)))
            guard probability >= minimum || total >= minimumLogRatio else { continue }
            out.append(
                Partner(
                    account: other, logRatio: total, probability: probability,
                    shared: shared.sorted { $0.logRatio > $1.logRatio }))
        }
        return out.sorted {
            $0.probability != $1.probability ? $0.probability > $1.probability : $0.account < $1.account
        }
    }

    /// The log-likelihood ratio of a shared set, one operator against chance: within a kind the best
    /// value counts in full and the next at half (values of one kind go together: one team's tools, one
    /// office's addresses), a second person's name at `secondPerson` (``Parameters/secondPersonFactor``:
    /// given names recur together within a language community).
    public static func logRatio(of shared: [SharedValue], secondPerson: Double) -> Double {
        // Each kind's best two in one pass, without arrays: the first of the highest ratio, then the next
        // of it or the first of the next highest, as a stable sort by ratio puts them (ratios are never
        // NaN: ``partners(of:population:parameters:minimum:minimumLogRatio:)`` keeps positive ones). A
        // filter and a sort per kind, four arrays each, were a third of a search's time.
        var best = SIMD4<Double>(repeating: 0)
        var second = SIMD4<Double>(repeating: 0)
        var held = SIMD4<Int32>(repeating: 0)  // 0, 1 or 2 of the kind's values kept
        var bestPersonal: UInt8 = 0
        var secondPersonal: UInt8 = 0
        for v in shared {
            let k = v.kind.rawValue
            let bit: UInt8 = 1 << UInt8(k)
            if held[k] == 0 || v.logRatio > best[k] {
                if held[k] > 0 {
                    second[k] = best[k]
                    secondPersonal = (secondPersonal & ~bit) | (bestPersonal & bit)
                }
                best[k] = v.logRatio
                bestPersonal = v.personal ? bestPersonal | bit : bestPersonal & ~bit
                held[k] = min(held[k] + 1, 2)
            } else if held[k] == 1 || v.logRatio > second[k] {
                second[k] = v.logRatio
                secondPersonal = v.personal ? secondPersonal | bit : secondPersonal & ~bit
                held[k] = 2
            }
        }
        var total = 0.0
        for k in 0..<4 {
            if held[k] > 0 { total += best[k] }
            if held[k] > 1 {
                total += secondPersonal & (1 << UInt8(k)) != 0 ? second[k] * secondPerson : second[k] / 2
            }
        }
        return total
    }

    /// The log-odds of one operator before any shared value: the prior of a pair,
    /// `expectedPartners` / (population − 1).
    public static func pairPrior(population: Int, parameters p: Parameters) -> Double {
        log(p.expectedPartners / (Double(max(population, 2)) - 1))
    }

    // MARK: Checkpoints

    /// One account's summary as arrays (for checkpoints and tests).
    private func summary(of row: Int) -> (
        account: UInt64, values: [UInt64], counts: [UInt32], indexed: [Bool], totals: [UInt32]
    ) {
        let p = storage.row(row)
        let mask = p.u64(IdentityRows.indexed)
        return (
            p.u64(IdentityRows.account), (0..<Self.width).map { p.u64(IdentityRows.values, $0) },
            (0..<Self.width).map { p.u32(IdentityRows.counts, $0) },
            (0..<Self.width).map { mask & (1 << UInt64($0)) != 0 },
            (0..<4).map { p.u32(IdentityRows.totals, $0) }
        )
    }

    /// The graph as plain arrays, for checkpoints.
    public struct Snapshot: Codable, Sendable {
        // Optional: a checkpoint of an earlier graph (another shape) restores as an empty graph.
        var accounts: [UInt64]?
        var values: [UInt64]?
        var counts: [UInt32]?
        var indexed: [Bool]?
        var totals: [UInt32]?
        var ownerIDs: [UInt64]?
        var owners: [[UInt64]]?
        var showers: [[UInt64]]?
        var holders: [Int32]?
        var crowded: [Bool]?
        var names: [String?]?
        var sharedIn: [String?]?
    }

    /// The graph as saved; call ``settle()`` first (the pipeline settles after each input).
    public var snapshot: Snapshot {
        let o = owners.sortedByKey
        let n = storage.count
        var accounts: [UInt64] = []
        var values: [UInt64] = []
        var counts: [UInt32] = []
        var indexed: [Bool] = []
        var totals: [UInt32] = []
        accounts.reserveCapacity(n)
        values.reserveCapacity(n * Self.width)
        counts.reserveCapacity(n * Self.width)
        indexed.reserveCapacity(n * Self.width)
        totals.reserveCapacity(n * 4)
        for i in 0..<n {
            let row = summary(of: i)
            accounts.append(row.account)
            values += row.values
            counts += row.counts
            indexed += row.indexed
            totals += row.totals
        }
        return Snapshot(
            accounts: accounts, values: values, counts: counts, indexed: indexed, totals: totals,
            ownerIDs: o.map(\.key), owners: o.map(\.value.accounts), showers: o.map(\.value.showers),
            holders: o.map(\.value.holders), crowded: o.map(\.value.crowded), names: o.map(\.value.name),
            sharedIn: o.map(\.value.sharedIn))
    }

    /// One account's summary, as a checkpoint row: its place among the rows, counters and totals.
    public struct Row: Codable, Sendable {
        var index: Int32
        var values: [UInt64]
        var counts: [UInt32]
        var indexed: [Bool]
        var totals: [UInt32]
    }

    /// One indexed value's owners, as a checkpoint row.
    public struct OwnerRow: Codable, Sendable {
        var accounts: [UInt64]
        var holders: Int32
        var showers: [UInt64]
        var crowded: Bool
        var name: String?
        var sharedIn: String?
    }

    /// The rows and index entries that changed since the last call (call ``settle()`` first): each
    /// changed account's row, and each changed value's owners (nil: no longer indexed).
    public mutating func takeChanges() -> (rows: [(account: UInt64, row: Row)], owners: [(id: UInt64, row: OwnerRow?)])
    {
        var rows: [(account: UInt64, row: Row)] = []
        for r in changedRows.sorted() {
            let row = summary(of: Int(r))
            rows.append(
                (
                    row.account,
                    Row(index: r, values: row.values, counts: row.counts, indexed: row.indexed, totals: row.totals)
                ))
        }
        let changed = changedOwners.sorted().map { id in
            (
                id,
                owners[id].map {
                    OwnerRow(
                        accounts: $0.accounts, holders: $0.holders, showers: $0.showers, crowded: $0.crowded,
                        name: $0.name, sharedIn: $0.sharedIn)
                }
            )
        }
        changedRows = []
        changedOwners = []
        return (rows, changed)
    }

    /// Every row and index entry marked changed (after a restore from a whole-state checkpoint, so the
    /// next ``takeChanges()`` writes all of it).
    public mutating func markAllChanged() {
        changedRows = Set((0..<Int32(storage.count)))
        changedOwners = Set(owners.allKeys)
    }

    /// Restores the rows and index entries ``takeChanges()`` saved. Returns false, leaving the graph
    /// empty, when they are of another shape (a row missing, twice, or of another width): the caller
    /// names the error.
    public mutating func restore(rows saved: [(account: UInt64, row: Row)], owners: [(id: UInt64, row: OwnerRow)])
        -> Bool
    {
        self = IdentityGraph()
        let n = saved.count
        var keys = [UInt64](repeating: 0, count: n)
        var v = [UInt64](repeating: 0, count: n * Self.width)
        var c = [UInt32](repeating: 0, count: n * Self.width)
        var x = [Bool](repeating: false, count: n * Self.width)
        var t = [UInt32](repeating: 0, count: n * 4)
        var seen = [Bool](repeating: false, count: n)
        for (account, row) in saved {
            let i = Int(row.index)
            guard i >= 0, i < n, !seen[i], row.values.count == Self.width, row.counts.count == Self.width,
                row.indexed.count == Self.width, row.totals.count == 4
            else { return false }
            seen[i] = true
            keys[i] = account
            v.replaceSubrange((i * Self.width)..<((i + 1) * Self.width), with: row.values)
            c.replaceSubrange((i * Self.width)..<((i + 1) * Self.width), with: row.counts)
            x.replaceSubrange((i * Self.width)..<((i + 1) * Self.width), with: row.indexed)
            t.replaceSubrange((i * 4)..<(i * 4 + 4), with: row.totals)
        }
        let entries = owners
        restore(
            Snapshot(
                accounts: keys, values: v, counts: c, indexed: x, totals: t, ownerIDs: entries.map(\.id),
                owners: entries.map(\.row.accounts), showers: entries.map(\.row.showers),
                holders: entries.map(\.row.holders), crowded: entries.map(\.row.crowded),
                names: entries.map(\.row.name), sharedIn: entries.map(\.row.sharedIn)))
        return true
    }

    /// Restores what ``snapshot`` saved; a snapshot of another shape leaves the graph empty.
    public mutating func restore(_ s: Snapshot) {
        self = IdentityGraph()
        guard let accounts = s.accounts, let values = s.values, let counts = s.counts, let indexed = s.indexed,
            let totals = s.totals, let ids = s.ownerIDs, let owners = s.owners, let showers = s.showers,
            let holders = s.holders, let crowded = s.crowded, let names = s.names, holders.count == ids.count,
            values.count == accounts.count * Self.width, counts.count == values.count, indexed.count == values.count,
            totals.count == accounts.count * 4, owners.count == ids.count, showers.count == ids.count,
            crowded.count == ids.count, names.count == ids.count
        else { return }
        storage = IdentityRows(capacity: max(64, accounts.count))
        rows = KeyTable<Int32>(capacity: max(1024, accounts.count))
        for (i, account) in accounts.enumerated() {
            let row = storage.append(account: account)
            rows.insert(account, Int32(row))
            let p = storage.row(row)
            var mask: UInt64 = 0
            for j in 0..<Self.width {
                p.setU64(IdentityRows.values, j, values[i * Self.width + j])
                p.setU32(IdentityRows.counts, j, counts[i * Self.width + j])
                if indexed[i * Self.width + j] { mask |= 1 << UInt64(j) }
            }
            p.setU64(IdentityRows.indexed, 0, mask)
            for kind in 0..<4 { p.setU32(IdentityRows.totals, kind, totals[i * 4 + kind]) }
        }
        for (i, id) in ids.enumerated() {
            // A value key is never 0 (``keys(of:)``): such an entry is of no graph this build saved.
            guard id != 0 else { continue }
            self.owners.set(
                id,
                Owners(
                    accounts: owners[i], holders: holders[i], showers: showers[i], crowded: crowded[i],
                    name: names[i], sharedIn: s.sharedIn.flatMap { $0.count == ids.count ? $0[i] : nil }))
            mayBeIndexed[Int(truncatingIfNeeded: id >> 6) & (Self.filterWords - 1)] |= 1 << (id & 63)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
