public import UsageModel

/// Merges sources, each already in delivery order, into one: by the delivery time in each name, then by
/// path (bytes), names without a time first — ``InputEnumerator/sortedByDeliveryTime(_:)``'s order — pulling
/// one name ahead from each source. `ingest`'s inputs (``InputSequence`` in IngestService) and `tail`'s wakes
/// (`WakeCandidates`) merge with it, so both read the paths they are given in the same order.
public struct DeliveryOrderMerge: Sendable {
    /// Each source's next name and its delivery time, pulled but not yet handed out (nil with `pulled`: done).
    private var heads: [(time: EpochSeconds, name: String)?]
    private var pulled: [Bool]

    /// A merge of `count` sources, none pulled yet.
    public init(count: Int) {
        heads = Array(repeating: nil, count: count)
        pulled = Array(repeating: false, count: count)
    }

    /// Whether source `i` holds a name pulled but not handed out.
    public func isHolding(_ i: Int) -> Bool { pulled[i] && heads[i] != nil }

    /// The earliest of the sources' next names, or nil when every source is done; `pull(i)` gives source
    /// `i`'s next name (nil after its last) and is asked once per name.
    public mutating func next(pull: (Int) -> String?) -> String? {
        var best = -1
        for i in heads.indices {
            if !pulled[i] {
                pulled[i] = true
                heads[i] = pull(i).map { (InputEnumerator.deliveryTime(inName: $0) ?? .min, $0) }
            }
            guard let head = heads[i] else { continue }
            if best < 0 {
                best = i
            } else if let b = heads[best], head.time != b.time ? head.time < b.time : head.name.utf8Precedes(b.name) {
                best = i
            }
        }
        guard best >= 0, let head = heads[best] else { return nil }
        heads[best] = nil
        pulled[best] = false
        return head.name
    }

    /// The merge of the sources `kept` (indexes of this one's, in their new order) followed by `added` new
    /// sources, none of them pulled: what each kept source holds stays held.
    public func keeping(_ kept: [Int], adding added: Int) -> DeliveryOrderMerge {
        var merge = DeliveryOrderMerge(count: 0)
        merge.heads = kept.map { heads[$0] } + Array(repeating: nil, count: added)
        merge.pulled = kept.map { pulled[$0] } + Array(repeating: false, count: added)
        return merge
    }
}
