public import UsageModel
import Foundation
import Inputs

/// The objects under one `s3://bucket/prefix`, one at a time, in the order a local tree is read: by the
/// delivery time in each key's last component (`…_20260301T0405Z_…`), then by name; keys without a time
/// first. The order of a whole listing sorted at once, with memory for one day's keys, not the prefix's.
///
/// A first listing of the prefix keeps only which days each folder before the date has (for keys laid
/// out by day, ``DatedKeys``) and how many objects there are. Then each day, oldest first, is listed
/// folder by folder (one ListObjectsV2 more per folder and day, up to 8 folders at once) and its keys
/// are handed out in delivery order. The days with fewest objects, up to `keep` objects in all (256 by
/// default, a few hundred kilobytes), are kept from the first listing instead: a small prefix costs no
/// second listing. A day's keys whose delivery time falls on their folder's day (as CloudTrail writes them) all
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
            time != other.time ? time < other.time : name.utf8Precedes(other.name)
        }
    }

    public let location: S3Location
    private let client: S3Client
    private let pageSize: Int?
    /// Objects the first listing found (those listed with a day's folder later may differ a little:
    /// objects that landed or went in between).
    public private(set) var count = 0
    /// The days with keys laid out by day, oldest first, each with its folders (stems) in order, and its
    /// keys when kept from the first listing.
    private var days: [(day: String, stems: [String], kept: [Entry]?)] = []
    private var nextDay = 0
    /// Keys not read a day at a time (see the type's summary), in order; their names, to know them again
    /// in a day's listing.
    private var others: [Entry] = []
    private var otherNames: Set<String> = []
    private var nextOther = 0
    /// The day being handed out, in order.
    private var current: [Entry] = []
    private var nextCurrent = 0
    /// The listing of the first day, under way on other threads while the readers start.
    private var ahead: DayListing?

    /// Lists `location` once (page after page, by continuation token), keeping the days each folder has
    /// and the keys not laid out by day. Keys ending in `/` (folder markers) are left out.
    /// - Throws: ``ObjectStoreError`` when the prefix cannot be listed.
    /// - Complexity: O(objects) in time and requests/1000; memory O(folders × days) plus the keys not laid
    ///   out by day.
    /// - Parameter keep: how many objects of the first listing may be kept for the days with fewest
    ///   objects (the other days are listed again, folder by folder).
    public init(location: S3Location, client: S3Client, pageSize: Int? = nil, keep: Int = 256)
        throws(ObjectStoreError)
    {
        self.location = location
        self.client = client
        self.pageSize = pageSize
        var stemsByDay: [String: Set<String>] = [:]
        var keptByDay: [String: [Entry]] = [:]
        var kept = 0
        var listedAgain: Set<String> = []
        var token: String? = nil
        repeat {
            let page = try client.listObjects(
                bucket: location.bucket, prefix: location.prefix, continuationToken: token, maxKeys: pageSize)
            for object in page.objects where !object.key.hasSuffix("/") {
                count += 1
                if let split = Self.dayFolder(of: object.key) {
                    stemsByDay[split.day, default: []].insert(split.stem)
                    guard !listedAgain.contains(split.day) else { continue }
                    keptByDay[split.day, default: []].append(
                        Entry(name: S3Location.inputName(bucket: location.bucket, key: object.key), object: object))
                    kept += 1
                    // Over the allowance: the day keeping most goes (it is listed again).
                    while kept > keep, let largest = keptByDay.max(by: { $0.value.count < $1.value.count }) {
                        kept -= largest.value.count
                        keptByDay[largest.key] = nil
                        listedAgain.insert(largest.key)
                    }
                } else {
                    let entry = Entry(
                        name: S3Location.inputName(bucket: location.bucket, key: object.key), object: object)
                    others.append(entry)
                    otherNames.insert(entry.name)
                }
            }
            token = page.continuationToken
        } while token != nil
        others.sort { $0.precedes($1) }
        days = stemsByDay.keys.sorted().map { ($0, stemsByDay[$0]!.sorted(), keptByDay[$0]) }
        // The first day's folders (if more than one) are listed from now on, while the readers start.
        if let first = days.first, first.kept == nil, first.stems.count > 1 { ahead = listDay(0) }
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

    /// Takes the next day: its keys kept from the first listing, or its folders' listings (those of the
    /// first day were started by `init`), keeping the keys read a day at a time (and any key that landed
    /// since the first listing and is not among the others: read in this day's order, not lost).
    private mutating func loadDay(problem: (Diagnostic) -> Void) {
        let (day, stems, kept) = days[nextDay]
        let listing = kept == nil ? ahead ?? listDay(nextDay) : nil
        days[nextDay].kept = nil
        ahead = nil
        nextDay += 1
        current = kept ?? []
        nextCurrent = 0
        for (stem, result) in zip(stems, listing?.wait() ?? []) {
            switch result {
            case .success(let entries):
                current += entries
            case .failure(let error):
                var diagnostic = error.diagnostic
                diagnostic.path = S3Location(bucket: location.bucket, prefix: stem + day + "/").description
                problem(diagnostic)
            }
        }
        current.sort { $0.precedes($1) }
    }

    /// Starts listing the folders of `days[index]`, each listed object taken as an entry on the listing's
    /// threads, page by page: a key of the folder's day, or one that landed since the first listing and
    /// is not among the others (read in this day's order, not lost); deeper keys belong to other folders.
    private func listDay(_ index: Int) -> DayListing {
        let (day, stems, _) = days[index]
        let bucket = location.bucket
        let otherNames = otherNames
        return DayListing(
            folders: stems.map { S3Location(bucket: bucket, prefix: $0 + day + "/") }, client: client,
            pageSize: pageSize
        ) { object, folder in
            guard !object.key.hasSuffix("/") else { return nil }
            let name = S3Location.inputName(bucket: bucket, key: object.key)
            if let split = Self.dayFolder(of: object.key) {
                guard split.stem == stems[folder], split.day == day else { return nil }
            } else if otherNames.contains(name) {
                return nil
            } else if let split = DatedKeys.split(object.key), split.stem != stems[folder] || split.day != day {
                return nil
            }
            return Entry(name: name, object: object)
        }
    }
}

/// One day's folders, listed on up to `parallel` threads at once (each folder page after page): a day
/// of many accounts and regions costs a few round trips, not one per folder. A single folder is listed
/// at once, on the caller's thread.
private final class DayListing: @unchecked Sendable {
    private let folders: [S3Location]
    private let client: S3Client
    private let pageSize: Int?
    private let condition = NSCondition()
    /// What each listed object is read as (nil: left out), given the object and its folder's index.
    private let entry: @Sendable (S3Object, Int) -> DeliveryOrderWalk.Entry?
    private var results: [Result<[DeliveryOrderWalk.Entry], ObjectStoreError>?]
    private var nextFolder = 0
    private var remaining: Int

    init(
        folders: [S3Location], client: S3Client, pageSize: Int?, parallel: Int = 8,
        entry: @escaping @Sendable (S3Object, Int) -> DeliveryOrderWalk.Entry?
    ) {
        self.folders = folders
        self.client = client
        self.pageSize = pageSize
        self.entry = entry
        results = Array(repeating: nil, count: folders.count)
        remaining = folders.count
        // One folder is listed on the caller's thread: no thread (nor its malloc arena) for the common
        // case of one account and region.
        guard folders.count > 1 else {
            work()
            return
        }
        for _ in 0..<min(parallel, folders.count) {
            let thread = Thread { [self] in work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work() {
        while true {
            condition.lock()
            guard nextFolder < folders.count else {
                condition.unlock()
                return
            }
            let index = nextFolder
            nextFolder += 1
            condition.unlock()
            let result = list(index)
            condition.lock()
            results[index] = result
            remaining -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    private func list(_ index: Int) -> Result<[DeliveryOrderWalk.Entry], ObjectStoreError> {
        let folder = folders[index]
        var entries: [DeliveryOrderWalk.Entry] = []
        var token: String? = nil
        do {
            repeat {
                let page = try client.listObjects(
                    bucket: folder.bucket, prefix: folder.prefix, continuationToken: token, maxKeys: pageSize)
                for object in page.objects {
                    if let taken = entry(object, index) { entries.append(taken) }
                }
                token = page.continuationToken
            } while token != nil
        } catch {
            return .failure(error)
        }
        return .success(entries)
    }

    /// Each folder's entries (or why it could not be listed), in the order of the folders, once all are
    /// listed; handed over, not kept here.
    func wait() -> [Result<[DeliveryOrderWalk.Entry], ObjectStoreError>] {
        condition.lock()
        defer { condition.unlock() }
        while remaining > 0 { condition.wait() }
        let taken = results.map { $0! }
        results = []
        return taken
    }
}
