public import CPrefetch

/// A ``KeyTable`` whose values lie in one array of their own, in the order their keys came: the table's
/// slots hold a key and a 4-byte place, not the value. For large values whose keys only come (the
/// accounts' activity, 176 bytes each): a ``KeyTable`` kept at most half full holds two to four slots a
/// value, each the value's size, so 20,000 accounts took 65,536 of them (12 MB) for 3.5 MB of values.
/// Here a slot costs 16 bytes and a value its own size (issue 17).
///
/// Keys are never removed. ``forEach(_:)`` and ``elements`` go in the table's slot order, as
/// ``KeyTable``'s do.
///
/// ```swift
/// var table = DenseKeyTable<AccountActivity>(capacity: 4096)
/// table.update(key, default: { AccountActivity() }) { $0.record(call) }
/// ```
public struct DenseKeyTable<Value> {
    /// Key → the place of its value in `values`.
    @usableFromInline var places: KeyTable<Int32>
    @usableFromInline var values: [Value] = []

    public init(capacity: Int = 1024) {
        places = KeyTable<Int32>(capacity: capacity)
    }

    public var count: Int { values.count }
    /// Slots of the key table (a power of two).
    public var slots: Int { places.slots }
    /// Bytes of the key table's slots and of the values' array (its capacity; `CHIPTRAIL_MEMORY_LOG`).
    public var byteCount: Int {
        places.slots * (MemoryLayout<UInt64>.stride + MemoryLayout<Int32?>.stride)
            + values.capacity * MemoryLayout<Value>.stride
    }

    /// The value of `key`, or nil.
    @inlinable
    public subscript(key: UInt64) -> Value? {
        guard let place = places[key] else { return nil }
        return values[Int(place)]
    }

    /// Whether `key` is in the table (no copy of its value).
    @inlinable
    public func contains(_ key: UInt64) -> Bool { places.contains(key) }

    /// Brings the cache lines of `key`'s slot closer (a hint, as ``KeyTable/prefetch(_:)``); its value's
    /// place is in the slot, so ``prefetchValue(_:)`` a few keys later brings the value.
    @inlinable @inline(__always)
    public mutating func prefetch(_ key: UInt64) {
        places.prefetch(key)
    }

    /// Brings the cache lines of `key`'s value closer, once its slot is (``prefetch(_:)`` a few keys
    /// before): a look-up of the slot, then a hint. Changes nothing.
    /// - Returns: the value's place (its index in the order the keys came), nil for a key not in the table.
    @inlinable @inline(__always)
    @discardableResult
    public mutating func prefetchValue(_ key: UInt64) -> Int? {
        guard let place = places[key] else { return nil }
        values.withUnsafeBufferPointer {
            let start = UnsafeRawPointer($0.baseAddress! + Int(place))
            for offset in stride(from: 0, to: MemoryLayout<Value>.stride, by: 64) { cprefetch_write(start + offset) }
        }
        return Int(place)
    }

    /// Calls `update` on the value of `key`, appending `makeDefault()` first when absent.
    /// - Returns: the value's place (its index in the order the keys came: a new key's is the count before).
    @inlinable
    @discardableResult
    public mutating func update(_ key: UInt64, default makeDefault: () -> Value, _ update: (inout Value) -> Void)
        -> Int
    {
        let next = Int32(truncatingIfNeeded: values.count)
        var place: Int32 = 0
        places.update(key, default: { next }) { place = $0 }
        if place == next { values.append(makeDefault()) }
        update(&values[Int(place)])
        return Int(place)
    }

    /// Calls `body` on the value of `key` where it lies, if present (nothing inserted, nothing copied).
    @inlinable
    public mutating func modify<Result>(_ key: UInt64, _ body: (inout Value) -> Result) -> Result? {
        guard let place = places[key] else { return nil }
        return body(&values[Int(place)])
    }

    /// Calls `body` with every key and value, in the key table's slot order (no array built).
    @inlinable
    public func forEach(_ body: (UInt64, Value) -> Void) {
        places.forEach { key, place in body(key, values[Int(place)]) }
    }

    /// Every key and value, in the key table's slot order.
    public var elements: [(key: UInt64, value: Value)] {
        var out: [(UInt64, Value)] = []
        out.reserveCapacity(values.count)
        places.forEach { key, place in out.append((key, values[Int(place)])) }
        return out
    }
}

extension DenseKeyTable: Sendable where Value: Sendable {}
