public import UsageModel
import Inputs

/// The objects under one `s3://bucket/prefix`, one at a time, in the order a local tree is read: by the
/// delivery time in each key's last component (`…_20260301T0405Z_…`), then by name; keys without a time
/// first. The order of a whole listing sorted at once, with memory for one day's keys, not the prefix's.
///
/// A first listing of the prefix keeps only which days each folder before the date has (for keys laid
/// out by day, ``DatedKeys``) and how many objects there are. Then each day, oldest first, is listed
/// folder by folder (one ListObjectsV2 more per folder and day) and its keys are handed out in delivery
/// order. A day's keys whose delivery time falls on their folder's day (as CloudTrail writes them) all
/// sort between the days before and after it; any other key — of another layout, without a delivery
/// time, or with one off its folder's day — is kept from the first listing and merged in at its place,
/// so the order is exactly a whole listing's, whatever the keys.
///
/// Not thread-safe: one caller at a time.
public struct DeliveryOrderWalk {
    /// One object to read.
    public struct Entry: Sendable {
        /// The input name, `s3://bucket/key`.
        public var name: String
        public var object: S3Object
        /// The sort key: the delivery time (`.min` when the name has none), then the name.
        var time: EpochSeconds

        init(name: String, object: S3Object) {
            self.name = name
            self.object = object
            time = InputEnumerator.deliveryTime(inName: object.key) ?? .min
        }

        func precedes(_ other: Entry) -> Bool {
            time != other.time ? time < other.time : name.utf8.lexicographicallyPrecedes(other.name.utf8)
        }
    }

    public let location: S3Location
    private let client: S3Client
    private let pageSize: Int?
    /// Objects the first listing found (those listed with a day's folder later may differ a little:
    /// objects that landed or went in between).
    public private(set) var count = 0
    /// ListObjectsV2 requests made (pages).
    public private(set) var listings = 0
    /// The days with keys laid out by day, oldest first, each with its folders (stems) in order.
    private var days: [(day: String, stems: [String])] = []
    private var nextDay = 0
    /// Keys not read a day at a time (see the type's summary), in order; their names, to know them again
    /// in a day's listing.
    private var others: [Entry] = []
    private var otherNames: Set<String> = []
    private var nextOther = 0
    /// The day being handed out, in order.
    private var current: [Entry] = []
    private var nextCurrent = 0

    /// Lists `location` once (page after page, by continuation token), keeping the days each folder has
    /// and the keys not laid out by day. Keys ending in `/` (folder markers) are left out.
    /// - Throws: ``ObjectStoreError`` when the prefix cannot be listed.
    /// - Complexity: O(objects) in time and requests/1000; memory O(folders × days) plus the keys not laid
    ///   out by day.
    public init(location: S3Location, client: S3Client, pageSize: Int? = nil) throws(ObjectStoreError) {
        self.location = location
        self.client = client
        self.pageSize = pageSize
        var stemsByDay: [String: Set<String>] = [:]
        var token: String? = nil
        repeat {
            let page = try client.listObjects(
                bucket: location.bucket, prefix: location.prefix, continuationToken: token, maxKeys: pageSize)
            listings += 1
            for object in page.objects where !object.key.hasSuffix("/") {
                count += 1
                if let split = Self.dayFolder(of: object.key) {
                    stemsByDay[split.day, default: []].insert(split.stem)
                } else {
                    let entry = Entry(name: S3Location.inputName(bucket: location.bucket, key: object.key), object: object)
                    others.append(entry)
                    otherNames.insert(entry.name)
                }
            }
            token = page.continuationToken
        } while token != nil
        others.sort { $0.precedes($1) }
        days = stemsByDay.keys.sorted().map { ($0, stemsByDay[$0]!.sorted()) }
    }

    /// The stem and day of a key read a day at a time: laid out by day, with a delivery time in its last
    /// component on its folder's day (UTC).
    static func dayFolder(of key: String) -> (stem: String, day: String)? {
        guard let split = DatedKeys.split(key), let time = InputEnumerator.deliveryTime(inName: key) else { return nil }
        let digits = split.day.split(separator: "/").map { Int($0) ?? 0 }
        let folder = Timestamp.daysFromCivil(year: digits[0], month: digits[1], day: digits[2])
        let delivered = time >= 0 ? time / 86_400 : (time - 86_399) / 86_400
        return Int64(folder) == delivered ? split : nil
    }

    /// The next object in delivery order, or nil after the last. A day's folder that cannot be listed is
    /// given to `problem` (named with its prefix and AWS's error code) and its keys are skipped.
    public mutating func next(problem: (Diagnostic) -> Void) -> Entry? {
        while nextCurrent == current.count && nextDay < days.count {
            loadDay(problem: problem)
        }
        let other = nextOther < others.count ? others[nextOther] : nil
        if nextCurrent < current.count, other.map({ !$0.precedes(current[nextCurrent]) }) ?? true {
            nextCurrent += 1
            return current[nextCurrent - 1]
        }
        guard let other else { return nil }
        nextOther += 1
        return other
    }

    /// Lists the next day's folders, keeping their keys read a day at a time (and any key that landed
    /// since the first listing and is not among the others: read in this day's order, not lost).
    private mutating func loadDay(problem: (Diagnostic) -> Void) {
        let (day, stems) = days[nextDay]
        nextDay += 1
        current = []
        nextCurrent = 0
        for stem in stems {
            let folder = S3Location(bucket: location.bucket, prefix: stem + day + "/")
            var token: String? = nil
            do {
                repeat {
                    let page = try client.listObjects(
                        bucket: folder.bucket, prefix: folder.prefix, continuationToken: token, maxKeys: pageSize)
                    listings += 1
                    for object in page.objects where !object.key.hasSuffix("/") {
                        let name = S3Location.inputName(bucket: location.bucket, key: object.key)
                        if let split = Self.dayFolder(of: object.key) {
                            // Deeper keys belong to another folder's day.
                            guard split.stem == stem, split.day == day else { continue }
                        } else if otherNames.contains(name) {
                            continue
                        } else if let split = DatedKeys.split(object.key), split.stem != stem || split.day != day {
                            continue
                        }
                        current.append(Entry(name: name, object: object))
                    }
                    token = page.continuationToken
                } while token != nil
            } catch {
                var diagnostic = error.diagnostic
                diagnostic.path = folder.description
                problem(diagnostic)
            }
        }
        current.sort { $0.precedes($1) }
    }
}
