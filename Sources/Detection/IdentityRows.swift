import UsageModel

/// The identity graph's accounts, one block of ``stride`` bytes each: an account's open runs, call
/// totals, key and flags in its first two cache lines, its 40 counters' values and counts after them.
///
/// Every call reads and writes an account's runs and every settle its counters: kept together, they
/// are a few cache lines of one block, not a line in each of eight arrays, and written through one
/// pointer, not through eight arrays' uniqueness checks. ``IdentityGraph`` owns one and copies it before
/// a write when another graph shares it (``IdentityGraph`` stays a value).
final class IdentityRows: @unchecked Sendable {
    /// Bytes per account: ten cache lines.
    static let stride = 640
    /// Where each field starts in an account's block.
    static let runIDs = 0  // 4 × UInt64: the value of the open run of each kind
    static let runCounts = 32  // 4 × UInt32: its calls not counted yet
    static let runInputs = 48  // 4 × Int32: the input of its first call not counted yet
    static let totals = 64  // 4 × UInt32: calls counted per kind
    static let account = 80  // UInt64: the account's key
    static let indexed = 88  // UInt64: bit i set when counter i's value is in the index
    static let runAddress = 96  // UInt128: the address of the open address run
    static let hasRunAddress = 112  // UInt8
    static let dirty = 113  // UInt8: the account has runs not counted yet
    static let values = 128  // 40 × UInt64: the counters' value keys (0: free)
    static let counts = 448  // 40 × UInt32: the counters' counts

    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * Self.stride, alignment: 64)
    }

    deinit { base.deallocate() }

    /// The same rows in a block of their own.
    func copy() -> IdentityRows {
        let other = IdentityRows(capacity: max(count, 1))
        other.base.copyMemory(from: base, byteCount: count * Self.stride)
        other.count = count
        return other
    }

    /// Adds an account with no runs and free counters; returns its row.
    func append(account: UInt64) -> Int {
        if count == capacity {
            let grown = UnsafeMutableRawPointer.allocate(byteCount: 2 * capacity * Self.stride, alignment: 64)
            grown.copyMemory(from: base, byteCount: count * Self.stride)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        let row = count
        let p = base + row * Self.stride
        p.initializeMemory(as: UInt8.self, repeating: 0, count: Self.stride)
        p.storeBytes(of: account, toByteOffset: Self.account, as: UInt64.self)
        count += 1
        return row
    }

    /// The start of `row`'s block.
    @inline(__always)
    func row(_ row: Int) -> UnsafeMutableRawPointer { base + row * Self.stride }
}

extension UnsafeMutableRawPointer {
    /// Field access in an ``IdentityRows`` block: `n`th element of the field at `offset` (offsets within
    /// a block of ``IdentityRows/stride`` bytes: computed without overflow checks, which cost the scan of
    /// an account's counters a third of its instructions).
    @inline(__always)
    func u64(_ offset: Int, _ n: Int = 0) -> UInt64 { load(fromByteOffset: offset &+ 8 &* n, as: UInt64.self) }
    @inline(__always)
    func setU64(_ offset: Int, _ n: Int = 0, _ value: UInt64) {
        storeBytes(of: value, toByteOffset: offset &+ 8 &* n, as: UInt64.self)
    }
    @inline(__always)
    func u32(_ offset: Int, _ n: Int = 0) -> UInt32 { load(fromByteOffset: offset &+ 4 &* n, as: UInt32.self) }
    @inline(__always)
    func setU32(_ offset: Int, _ n: Int = 0, _ value: UInt32) {
        storeBytes(of: value, toByteOffset: offset &+ 4 &* n, as: UInt32.self)
    }
}
