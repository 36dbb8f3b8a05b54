public import CPrefetch

/// Where the linear probe for `key` starts in a table of `mask + 1` slots (``KeyTable``, ``KeySet``).
@inlinable @inline(__always)
func probeStart(_ key: UInt64, mask: Int) -> Int {
    Int(truncatingIfNeeded: (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15 >> 32) & mask
}

/// Zero marks an empty slot in ``KeyTable`` and ``KeySet``, so a zero key is stored as one.
@inlinable @inline(__always)
func storedKey(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

/// An open-addressing hash table keyed by 64-bit hashes that are already well mixed (``StableHash``
/// values): no re-hashing, linear probing, power-of-two capacity. For the per-record look-ups of the
/// merge stage, where `Dictionary`'s SipHash costs more than the work it guards.
public struct KeyTable<Value> {
    // Stored properties are usableFromInline so the table specialises across modules.
    @usableFromInline var keys: [UInt64]
    @usableFromInline var values: [Value?]
    @usableFromInline var mask: Int
    @usableFromInline var storedCount = 0
    public var count: Int { storedCount }
    /// Slots in the table (a power of two).
    public var slots: Int { keys.count }

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: nil, count: size)
        mask = size - 1
    }

    @inlinable @inline(__always)
    func slot(_ key: UInt64) -> Int {
        var i = probeStart(key, mask: mask)
        while true {
            let k = keys[i]
            if k == key || k == 0 { return i }
            i = (i + 1) & mask
        }
    }

    /// The value of `key`, or nil.
    @inlinable
    public subscript(key: UInt64) -> Value? {
        let k = storedKey(key)
        return values[slot(k)]
    }

    /// Whether `key` is in the table (no copy of its value).
    @inlinable
    public func contains(_ key: UInt64) -> Bool {
        keys[slot(storedKey(key))] != 0
    }

    /// Brings the cache lines where `key`'s probe will start closer (a hint: see ``KeySet/prefetch(_:)``).
    /// `mutating` only so that a caller holding the table in a class borrows it in place: a non-mutating
    /// call copied it (a retain and a release of both arrays per call).
    @inlinable @inline(__always)
    public mutating func prefetch(_ key: UInt64) {
        let i = probeStart(storedKey(key), mask: mask)
        keys.withUnsafeBufferPointer { cprefetch_write($0.baseAddress! + i) }
        // Every cache line of the value: an account's activity is three, and the first access to a line
        // not asked for was a miss of its own.
        values.withUnsafeBufferPointer {
            let start = UnsafeRawPointer($0.baseAddress! + i)
            for offset in stride(from: 0, to: MemoryLayout<Value?>.stride, by: 64) { cprefetch_write(start + offset) }
        }
    }

    /// Calls `update` on the value of `key`, inserting `makeDefault()` first when absent.
    @inlinable
    public mutating func update(_ key: UInt64, default makeDefault: () -> Value, _ update: (inout Value) -> Void) {
        let k = storedKey(key)
        var i = slot(k)
        if keys[i] == 0 {
            if (storedCount + 1) * 2 > keys.count {
                grow()
                i = slot(k)
            }
            keys[i] = k
            values[i] = makeDefault()
            storedCount += 1
        }
        update(&values[i]!)
    }

    /// Calls `body` on the value of `key` where it lies, if present (nothing inserted, nothing copied).
    @inlinable
    public mutating func modify<Result>(_ key: UInt64, _ body: (inout Value) -> Result) -> Result? {
        let i = slot(storedKey(key))
        guard keys[i] != 0 else { return nil }
        return body(&values[i]!)
    }

    /// Inserts `key` with `value` if absent; returns whether it was inserted.
    @inlinable
    @discardableResult
    public mutating func insert(_ key: UInt64, _ value: Value) -> Bool {
        let k = storedKey(key)
        var i = slot(k)
        if keys[i] != 0 { return false }
        if (storedCount + 1) * 2 > keys.count {
            grow()
            i = slot(k)
        }
        keys[i] = k
        values[i] = value
        storedCount += 1
        return true
    }

    /// Doubles the table. Values are moved, not copied: copying retained every value's storage and
    /// releasing the old array released it again (the identity graph's tables reach millions of slots).
    @usableFromInline
    mutating func grow() {
        let oldKeys = keys
        var oldValues: [Value?] = []
        swap(&oldValues, &values)
        let size = oldKeys.count * 2
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: nil, count: size)
        mask = size - 1
        oldKeys.withUnsafeBufferPointer { oldKeys in
            oldValues.withUnsafeMutableBufferPointer { oldValues in
                keys.withUnsafeMutableBufferPointer { keys in
                    values.withUnsafeMutableBufferPointer { values in
                        for i in oldKeys.indices where oldKeys[i] != 0 {
                            let k = oldKeys[i]
                            var j = probeStart(k, mask: mask)
                            while keys[j] != 0 { j = (j + 1) & mask }
                            keys[j] = k
                            values[j] = oldValues[i].take()
                        }
                    }
                }
            }
        }
    }

    /// Empties the table, keeping its storage (for reuse without re-allocation).
    public mutating func removeAll() {
        for i in keys.indices { keys[i] = 0 }
        for i in values.indices { values[i] = nil }
        storedCount = 0
    }

    /// Calls `body` with every key and value, in no particular order (no array built).
    @inlinable
    public func forEach(_ body: (UInt64, Value) -> Void) {
        keys.withUnsafeBufferPointer { keys in
            values.withUnsafeBufferPointer { values in
                for i in keys.indices where keys[i] != 0 { body(keys[i], values[i]!) }
            }
        }
    }

    /// Calls `body` with every key, in no particular order: the values are not read (a value that holds
    /// references is not retained for a key that needs none).
    @inlinable
    public func forEachKey(_ body: (UInt64) -> Void) {
        keys.withUnsafeBufferPointer { keys in
            for k in keys where k != 0 { body(k) }
        }
    }

    /// Every key and value, in no particular order.
    public var elements: [(key: UInt64, value: Value)] {
        var out: [(UInt64, Value)] = []
        out.reserveCapacity(storedCount)
        for (i, k) in keys.enumerated() where k != 0 { out.append((k, values[i]!)) }
        return out
    }
}

extension KeyTable: Sendable where Value: Sendable {}

/// A set of well-mixed 64-bit keys (``StableHash`` values): open addressing, linear probing, keys only.
/// For de-duplication windows, emptied and reused without re-allocation.
///
/// Filled to three quarters before it doubles (a ``KeyTable`` stops at half): a day's event ids of a
/// dense trail are millions of keys, and the table is most of the window's memory — 8 bytes a slot, so
/// 10.7 to 21.3 bytes a key instead of 16 to 32 (issue 17). Keys only, eight to a cache line, so the
/// longer probes of a fuller table (8.5 slots on average for a new key at three quarters) stay within a
/// line or two.
public struct KeySet: Sendable {
    @usableFromInline var keys: [UInt64]
    @usableFromInline var mask: Int
    @usableFromInline var storedCount = 0
    public var count: Int { storedCount }
    /// Slots in the table (a power of two).
    public var slots: Int { keys.count }

    /// Whether `count` keys exceed three quarters of `slots`.
    @inlinable @inline(__always)
    static func overfull(_ count: Int, slots: Int) -> Bool { count * 4 > slots * 3 }

    /// A set that holds `capacity` keys without growing.
    public init(capacity: Int = 1024) {
        var size = 16
        while Self.overfull(capacity, slots: size) { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// Inserts `key`; returns whether it was absent.
    @inlinable
    public mutating func insert(_ key: UInt64) -> Bool {
        let k = storedKey(key)
        if Self.overfull(storedCount + 1, slots: keys.count) { grow() }
        return keys.withUnsafeMutableBufferPointer { b in
            var i = probeStart(k, mask: mask)
            while true {
                let e = b[i]
                if e == k { return false }
                if e == 0 {
                    b[i] = k
                    storedCount += 1
                    return true
                }
                i = (i + 1) & mask
            }
        }
    }

    /// Brings the cache line where `key`'s probe will start closer, for an `insert` a few keys later:
    /// tables of a day's event ids are megabytes, and a probe is otherwise a cache miss. A hint only;
    /// `mutating` only so the set is borrowed in place (a non-mutating call retained and released it).
    @inlinable @inline(__always)
    public mutating func prefetch(_ key: UInt64) {
        let i = probeStart(storedKey(key), mask: mask)
        keys.withUnsafeBufferPointer { cprefetch_write($0.baseAddress! + i) }
    }

    @usableFromInline
    mutating func grow() {
        let old = keys
        keys = Array(repeating: 0, count: old.count * 2)
        mask = keys.count - 1
        storedCount = 0
        for k in old where k != 0 { _ = insert(k) }
    }

    /// Every key, in no particular order (a stored zero key reads as one).
    public var elements: [UInt64] { keys.filter { $0 != 0 } }

    /// Empties the set, keeping its storage.
    public mutating func removeAll() {
        guard storedCount > 0 else { return }
        keys.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        storedCount = 0
    }
}
