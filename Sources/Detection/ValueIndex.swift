/// A table from well-mixed 64-bit keys to values that come and go: open addressing with linear
/// probing and backward-shift removal (no tombstones), the values in an array of their own, reused
/// through a free list. The identity graph's index of shared values (``IdentityGraph``): a look-up at
/// every count of a value not in an account's summary, where `Dictionary`'s SipHash cost more than the
/// probe.
///
/// Keys are never 0 (0 marks a free slot). Values are reached by their place in ``values`` (stable
/// while the key stays), so an entry is changed in place, not copied out and back.
struct ValueIndex<Value>: Sendable where Value: Sendable {
    /// Slot → key (0: free) and the place of its value.
    private var keys: [UInt64]
    private var places: [Int32]
    /// Values by place; `placeKeys[i]` is the key of `values[i]`, 0 when the place is free (its value
    /// then `placeholder`). Not optionals: a value is read where it lies (``read(_:_:)``), not copied out
    /// of an optional first.
    private var values: [Value] = []
    private let placeholder: Value
    private var placeKeys: [UInt64] = []
    private var freePlaces: [Int32] = []
    private(set) var count = 0
    /// Slots and places (their values' array's capacity) (`CHIPTRAIL_MEMORY_LOG`).
    var sizes: (slots: Int, places: Int) { (keys.count, values.capacity) }
    private var shift: UInt64

    init(capacity: Int = 1024, placeholder: Value) {
        self.placeholder = placeholder
        var slots = 16
        while slots < capacity * 2 { slots *= 2 }
        keys = Array(repeating: 0, count: slots)
        places = Array(repeating: -1, count: slots)
        shift = UInt64(64 - slots.trailingZeroBitCount)
    }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The slot holding `key`, or the free slot where it would go.
    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key || k == 0 { return i }
            i = (i + 1) & mask
        }
    }

    /// The place of `key`'s value in ``values``, or nil.
    @inline(__always)
    func place(of key: UInt64) -> Int? {
        let i = slot(key)
        return keys[i] == 0 ? nil : Int(places[i])
    }

    subscript(key: UInt64) -> Value? {
        guard let p = place(of: key) else { return nil }
        return values[p]
    }

    /// `body` of `key`'s value where it lies (no copy of it: its arrays are not retained), or nil.
    @inline(__always)
    func read<R>(_ key: UInt64, _ body: (borrowing Value) -> R) -> R? {
        guard let p = place(of: key) else { return nil }
        return values.withUnsafeBufferPointer { body($0[p]) }
    }

    /// Changes the value at `place` in place.
    @inline(__always)
    mutating func update<R>(at place: Int, _ body: (inout Value) -> R) -> R {
        body(&values[place])
    }

    /// The place of `key`'s value, inserting `make()` first when absent.
    mutating func place(of key: UInt64, inserting make: () -> Value) -> Int {
        precondition(key != 0, "ValueIndex keys are never 0")
        var i = slot(key)
        if keys[i] != 0 { return Int(places[i]) }
        if (count + 1) * 2 > keys.count {
            grow()
            i = slot(key)
        }
        let p: Int
        if let free = freePlaces.popLast() {
            p = Int(free)
            values[p] = make()
            placeKeys[p] = key
        } else {
            p = values.count
            values.append(make())
            placeKeys.append(key)
        }
        keys[i] = key
        places[i] = Int32(p)
        count += 1
        return p
    }

    /// Sets `key`'s value (inserting it when absent).
    mutating func set(_ key: UInt64, _ value: Value) {
        let p = place(of: key) { value }
        values[p] = value
    }

    /// Removes `key` and its value, if present.
    mutating func remove(_ key: UInt64) {
        let mask = keys.count - 1
        var i = slot(key)
        guard keys[i] != 0 else { return }
        let p = Int(places[i])
        values[p] = placeholder
        placeKeys[p] = 0
        freePlaces.append(Int32(p))
        count -= 1
        // Backward shift: later keys of the probe run move into the hole when their home allows.
        var j = i
        while true {
            j = (j + 1) & mask
            let k = keys[j]
            if k == 0 { break }
            let h = home(k)
            // Moves when its home is not cyclically within (i, j].
            let inRange = i <= j ? (h > i && h <= j) : (h > i || h <= j)
            if !inRange {
                keys[i] = k
                places[i] = places[j]
                i = j
            }
        }
        keys[i] = 0
        places[i] = -1
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldPlaces = places
        let slots = keys.count * 2
        keys = Array(repeating: 0, count: slots)
        places = Array(repeating: -1, count: slots)
        shift -= 1
        for (k, p) in zip(oldKeys, oldPlaces) where k != 0 {
            let i = slot(k)
            keys[i] = k
            places[i] = p
        }
    }

    /// Every key, in no particular order.
    var allKeys: [UInt64] { placeKeys.filter { $0 != 0 } }

    /// Every key and value, in key order.
    var sortedByKey: [(key: UInt64, value: Value)] {
        var out: [(key: UInt64, value: Value)] = []
        out.reserveCapacity(count)
        for (p, k) in placeKeys.enumerated() where k != 0 { out.append((k, values[p])) }
        return out.sorted { $0.key < $1.key }
    }
}
