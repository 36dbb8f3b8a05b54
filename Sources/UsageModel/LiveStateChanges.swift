public import Foundation

/// What changed in `tail`'s live state since its last checkpoint, as rows of the store's `live_state`
/// table: one row per account, open resource, de-duplication chunk, held slice… (a part number and a
/// key), written in the batch's transaction. A checkpoint costs what changed, not the whole state.
public struct LiveStateChanges: Sendable {
    public struct Row: Sendable {
        public var part: Int
        public var key: Data
        /// nil: the row is deleted.
        public var value: Data?

        public init(part: Int, key: Data, value: Data?) {
            self.part = part
            self.key = key
            self.value = value
        }
    }

    public var rows: [Row] = []
    /// Key ranges deleted whole (`from` included, `to` excluded): the chunks of a de-duplication day.
    public var droppedRanges: [(part: Int, from: Data, to: Data)] = []
    /// The state's few scalars (watermark, frontier, counters), one row.
    public var meta = Data()
    /// Whether these rows replace everything stored: the first checkpoint after restoring the single
    /// blob of an earlier version, which is then deleted.
    public var replacesAll = false

    public init() {}
}
