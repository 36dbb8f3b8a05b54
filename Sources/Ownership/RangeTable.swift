/// Sorted, disjoint, inclusive ranges of addresses (IPv4 as IPv4-mapped IPv6) with a value each,
/// looked up by binary search: the storage of ``GeoIPTable`` (countries) and ``AnonymousNetworkTable``
/// (anonymising networks), so a call's two look-ups cost the same.
struct RangeTable<Value: Sendable>: Sendable {
    private var starts: [UInt128] = []
    private var ends: [UInt128] = []
    private var values: [Value] = []

    var count: Int { starts.count }

    /// Adds a range after those added so far (ranges come in ascending, disjoint order).
    mutating func append(_ start: UInt128, _ end: UInt128, _ value: Value) {
        starts.append(start)
        ends.append(end)
        values.append(value)
    }

    /// The value of the range holding `address`, or nil.
    /// - Complexity: O(log n).
    func value(at address: UInt128) -> Value? {
        var low = 0
        var high = starts.count
        while low < high {
            let mid = (low + high) >> 1
            if starts[mid] <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0, address <= ends[low - 1] else { return nil }
        return values[low - 1]
    }
}
