import Foundation
import Inputs
public import ObjectStore
import Pipeline
import Store
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// What `tail s3://bucket/prefix… [--sqs QUEUE_URL]` follows and how.
public struct ObjectFollowing: Sendable {
    public var locations: [S3Location]
    public var client: S3Client
    /// The readers' source (the pipeline's opener): objects are registered here before they are read.
    public var source: ObjectReaderSource
    /// The queue of notifications; nil: re-listing alone.
    public var queue: SQSClient?
    /// Seconds between re-listings of the recent days (or of the whole prefix).
    public var relistInterval: Double
    /// Seconds a received message stays hidden; extended while its objects are read.
    public var visibilityTimeout: Int
    /// Keys a listing page (nil: S3's 1,000).
    public var pageSize: Int?

    /// How far back before a re-listing's start (by LastModified, on this host's clock) a layout not laid
    /// out by day is read: older objects were read by an earlier listing, so later listings skip them
    /// and their ledger rows are pruned. A day, for objects that become listable well after their
    /// LastModified (an upload in progress; for a multipart upload, reportedly the time it was started).
    public static let undatedWindow: Int64 = 86_400
    /// The clock skew between S3 (whose clock stamps LastModified) and this host allowed for, on top of
    /// the window: S3 refuses requests signed 15 minutes or more off its clock.
    public static let clockSkewAllowance: Int64 = 900

    public init(
        locations: [S3Location], client: S3Client, source: ObjectReaderSource, queue: SQSClient?,
        relistInterval: Double,
        visibilityTimeout: Int, pageSize: Int? = nil
    ) {
        self.locations = locations
        self.client = client
        self.source = source
        self.queue = queue
        self.relistInterval = relistInterval
        self.visibilityTimeout = visibilityTimeout
        self.pageSize = pageSize
    }
}

/// A received message and the objects it names that are not yet committed.
private struct HeldMessage {
    var receipt: String
    var id: String
    var waiting: Set<String>
}

/// What the object loop knows of each followed location's keys.
private struct LocationLayout {
    /// Stems (`AWSLogs/1111/CloudTrail/us-east-1/`) of the dated keys seen.
    var stems: Set<String> = []
    /// Whether a key that is not dated was seen (then the whole prefix is re-listed).
    var undated = false
    /// The day before which dated keys are read and pruned from the ledger.
    var mark: String?
    /// The LastModified before which every object was read and pruned from the ledger (layouts not laid
    /// out by day).
    var modifiedMark: EpochSeconds?
}

/// A stem (the folder before `YYYY/MM/DD/`) of a followed location that has keys of some day.
private struct DatedStem: Hashable {
    var location: Int
    var stem: String
}

extension TailFollower {
    /// Follows `s3://` locations: lists them and reads what the ledger has not seen, then long-polls
    /// the queue and reads each notified object not already in the ledger with its ETag; a message is
    /// deleted only once the batch holding its objects is committed. Re-lists the recent days every
    /// `relistInterval` (notifications that never came), and prunes the ledger rows of days no longer
    /// re-listed.
    func runObjects(_ following: ObjectFollowing, control: TailControl) throws(TailError) {
        let locations = following.locations
        var layouts = [LocationLayout](repeating: LocationLayout(), count: locations.count)
        do {
            for (i, location) in locations.enumerated() {
                layouts[i].mark = try store.objectMark(location: location.description)
                layouts[i].modifiedMark = try store.objectModifiedMark(location: location.description)
            }
        } catch {
            throw TailError(.store, underlying: error)
        }
        let heartbeat = following.queue.map { VisibilityHeartbeat(queue: $0, timeout: following.visibilityTimeout) }
        defer { heartbeat?.stop() }
        var held: [HeldMessage] = []
        var reportedOutside: Set<String> = []
        var reportedBodies: Set<String> = []
        /// Objects whose bytes were refused (not a format chiptrail reads, corrupt), by fingerprint: said
        /// once, not read again by this process (as a local file is not), their messages deleted.
        var refused: [String: String] = [:]
        var delivered = 0
        var objectsRead = 0
        var pacer = CommitPacer()
        let names = locations.map(\.description).joined(separator: ", ")
        if !settings.quiet {
            reporter.line(
                "chiptrail: tail following \(names)\(following.queue.map { " through \($0.queue.url)" } ?? "") into \(settings.storeName) (pid \(getpid())); re-listing every \(Int(following.relistInterval)) s; SIGHUP reloads the configuration, SIGTERM stops"
            )
        }

        /// The index of the location `bucket`/`key` falls under, or nil.
        func location(of bucket: String, _ key: String) -> Int? {
            locations.firstIndex { $0.bucket == bucket && key.hasPrefix($0.prefix) }
        }

        /// Whether the key is dated before its location's mark (read and pruned already).
        func beforeMark(_ index: Int, _ key: String) -> Bool {
            guard let mark = layouts[index].mark, let day = DatedKeys.split(key)?.day else { return false }
            return day < mark
        }

        func learn(_ index: Int, _ key: String) {
            if let stem = DatedKeys.split(key)?.stem {
                layouts[index].stems.insert(stem)
            } else {
                layouts[index].undated = true
            }
        }

        /// Deletes the held messages with nothing left to commit.
        func deleteFinished() {
            guard let queue = following.queue else { return }
            let finished = held.filter { $0.waiting.isEmpty }
            guard !finished.isEmpty else { return }
            held.removeAll { $0.waiting.isEmpty }
            let receipts = finished.map(\.receipt)
            heartbeat?.release(receipts)
            do {
                for failure in try queue.delete(receipts) {
                    reporter.diagnostic(
                        Diagnostic(
                            path: queue.queue.url, position: .file, severity: .warning, category: "sqs",
                            message:
                                "\(failure.awsCode): cannot delete a message whose objects are committed: \(failure.message); it comes back and is found in the ledger"
                        ))
                }
            } catch {
                reporter.diagnostic(error.diagnostic)
            }
        }

        /// Reads the objects the ledger has not seen with their ETag, in delivery-time order, in
        /// batches each committed in one transaction; after each commit, the messages whose objects are
        /// all committed are deleted. An object whose read failed for good (rewritten since: `changed`,
        /// or deleted; or its bytes refused) counts as done; one the store failed to deliver after the
        /// retries leaves its messages to come back.
        /// - Returns: the objects not done: failed, or not reached before a stop.
        @discardableResult
        func read(_ objects: [String: S3Object]) throws(TailError) -> Set<String> {
            var toRead: [String] = []
            var done: Set<String> = []
            for (name, object) in objects {
                let (_, fingerprint) = ObjectInputs.fingerprint(object)
                if refused[name] == fingerprint || (try? store.hasRead(path: name, fingerprint: fingerprint)) == true {
                    done.insert(name)
                } else {
                    following.source.register(object, as: name)
                    toRead.append(name)
                }
            }
            finish(done, failed: [])
            toRead = InputEnumerator.sortedByDeliveryTime(toRead)
            var notDone: Set<String> = []
            var index = 0
            while index < toRead.count && (!control.stopRequested || index == 0) {
                if index > 0 && control.takeReloadRequest() { reload(pipeline) }
                let chunk = Array(toRead[index..<min(toRead.count, index + pacer.files)])
                index += chunk.count
                batch.removeAll()
                openBatch = store.beginBatch()
                let started = MonotonicClock.seconds()
                _ = pipeline.runIncrementally(
                    inputs: chunk.map { IngestPipeline.FollowedInput(path: $0) }, deferIncomplete: false)
                let readAt = MonotonicClock.seconds()
                let failedNames = Set(batch.filter(\.failed).compactMap(\.path))
                do {
                    try commit(offsets: [])
                    pacer.observe(
                        files: chunk.count, reading: readAt - started, committing: MonotonicClock.seconds() - readAt)
                    delivered += try deliverOutbox(control: control)
                } catch {
                    throw TailError(.store, underlying: error)
                }
                var failed: Set<String> = []
                var committed: Set<String> = []
                for name in chunk {
                    if failedNames.contains(name) {
                        switch following.source.takeFailure(name) {
                        case .none:
                            // The bytes were read and refused (reported): reading them again changes nothing.
                            if let object = following.source.object(named: name) {
                                refused[name] = ObjectInputs.fingerprint(object).fingerprint
                            }
                            committed.insert(name)
                        case .some(let error) where error.code == .changed || error.code == .notFound:
                            committed.insert(name)  // a newer version has its own notification
                        case .some:
                            failed.insert(name)  // the store failed after the retries: its messages come back
                        }
                    } else {
                        committed.insert(name)
                        objectsRead += 1
                    }
                    following.source.forget(name)
                }
                finish(committed, failed: failed)
                notDone.formUnion(failed)
            }
            // Stopped before the rest: their messages come back (not deleted, no longer extended).
            if index < toRead.count {
                finish([], failed: Set(toRead[index...]))
                notDone.formUnion(toRead[index...])
            }
            return notDone
        }

        func finish(_ committed: Set<String>, failed: Set<String>) {
            guard !held.isEmpty else { return }
            var abandoned: [String] = []
            held.removeAll { message in
                if !message.waiting.isDisjoint(with: failed) {
                    abandoned.append(message.receipt)
                    return true
                }
                return false
            }
            heartbeat?.release(abandoned)
            for i in held.indices { held[i].waiting.subtract(committed) }
            deleteFinished()
        }

        /// Lists `prefix` (under location `index`) page by page, and hands `take` each object not marked
        /// read (by its day or its LastModified), by input name; a failure is reported.
        /// - Returns: whether the whole prefix was listed.
        func list(_ prefix: S3Location, _ index: Int, _ take: (String, S3Object) -> Void) -> Bool {
            var token: String? = nil
            do {
                repeat {
                    let page = try following.client.listObjects(
                        bucket: prefix.bucket, prefix: prefix.prefix, continuationToken: token,
                        maxKeys: following.pageSize)
                    for object in page.objects where !object.key.hasSuffix("/") {
                        learn(index, object.key)
                        if beforeMark(index, object.key) { continue }
                        // Modified before the location's mark: read by an earlier listing (a rewrite has a
                        // new LastModified).
                        if let mark = layouts[index].modifiedMark, let modified = Timestamp.parse(object.lastModified),
                            modified < mark
                        {
                            continue
                        }
                        take(S3Location.inputName(bucket: prefix.bucket, key: object.key), object)
                    }
                    token = page.continuationToken
                } while token != nil
                return true
            } catch {
                var diagnostic = error.diagnostic
                diagnostic.path = prefix.description
                reporter.diagnostic(diagnostic)
                return false
            }
        }

        /// Lists the locations (`full`: the whole prefixes; else the recent days of dated layouts) and
        /// reads what the ledger has not seen; then prunes the ledger below the re-listed days, or (layouts
        /// not laid out by day) of objects modified before the window. A whole listing of a layout by day
        /// keeps only the days it finds (per stem), then lists and reads one day at a time, oldest first
        /// (one ListObjectsV2 more per stem and day), so memory holds one day's keys, not the prefix's.
        func relist(full: Bool) throws(TailError) {
            var found: [String: S3Object] = [:]
            /// Locations listed whole, without a failure: those whose ledger may be pruned by LastModified.
            var listedWhole: Set<Int> = []
            /// The stems of each day found by whole listings of layouts by day, by day (`YYYY/MM/DD`).
            var days: [String: Set<DatedStem>] = [:]
            let now = Date()
            let recentDays = [DatedKeys.day(now), DatedKeys.day(now, daysBefore: 1)]
            for (i, location) in locations.enumerated() {
                if !full && !layouts[i].undated && !layouts[i].stems.isEmpty {
                    for stem in layouts[i].stems.sorted() {
                        for day in recentDays {
                            _ = list(S3Location(bucket: location.bucket, prefix: stem + day + "/"), i) {
                                found[$0] = $1
                            }
                        }
                    }
                    continue
                }
                // Known to hold keys of other layouts: kept whole (its ledger is pruned by LastModified).
                let whole = layouts[i].undated
                var dated = false
                let listed = list(location, i) { name, object in
                    if !whole, let split = DatedKeys.split(object.key) {
                        days[split.day, default: []].insert(DatedStem(location: i, stem: split.stem))
                        dated = true
                    } else {
                        found[name] = object
                    }
                }
                if listed { listedWhole.insert(i) }
                // Keys by day and others under one prefix (first seen now): listed again and kept whole,
                // as the LastModified pruning of such a prefix needs.
                if layouts[i].undated && dated {
                    for day in days.keys { days[day] = days[day]?.filter { $0.location != i } }
                    if !list(location, i, { found[$0] = $1 }) { listedWhole.remove(i) }
                }
            }
            var notDone = try read(found)
            for day in days.keys.sorted() where !control.stopRequested {
                var ofTheDay: [String: S3Object] = [:]
                for dated in days[day, default: []].sorted(by: { ($0.location, $0.stem) < ($1.location, $1.stem) }) {
                    let location = locations[dated.location]
                    _ = list(S3Location(bucket: location.bucket, prefix: dated.stem + day + "/"), dated.location) {
                        name, object in
                        // Keys deeper than the day's folder are of another layout (listed with the prefix).
                        guard let split = DatedKeys.split(object.key), split.stem == dated.stem, split.day == day else {
                            return
                        }
                        ofTheDay[name] = object
                    }
                }
                notDone.formUnion(try read(ofTheDay))
            }
            // Layouts not laid out by day (re-listed whole each time): objects modified before the window
            // were read by this listing or an earlier one, so later listings skip them, and the ledger
            // keeps only the rows of the objects listed within the window, as listed (older objects,
            // older versions of rewritten ones, deleted ones go). An object not read (failed, or a stop
            // came first) holds the mark at its LastModified, so it is read by a later listing.
            for (i, location) in locations.enumerated() where layouts[i].undated && listedWhole.contains(i) {
                var mark =
                    EpochSeconds(now.timeIntervalSince1970) - ObjectFollowing.undatedWindow
                    - ObjectFollowing.clockSkewAllowance
                for name in notDone where name.hasPrefix(location.description) {
                    guard let modified = found[name].flatMap({ Timestamp.parse($0.lastModified) }) else {
                        mark = .min
                        break
                    }
                    mark = min(mark, modified)
                }
                guard mark != .min, mark >= (layouts[i].modifiedMark ?? .min) else { continue }
                var kept: [String: String] = [:]
                for (name, object) in found where name.hasPrefix(location.description) {
                    if let modified = Timestamp.parse(object.lastModified), modified < mark { continue }
                    kept[name] = ObjectInputs.fingerprint(object).fingerprint
                }
                do {
                    try store.pruneObjectLedger(location: location.description, modifiedBefore: mark) {
                        kept[$0] == $1
                    }
                    layouts[i].modifiedMark = mark
                } catch {
                    throw TailError(.store, underlying: error)
                }
            }
            // Days before the day before yesterday are no longer re-listed: their ledger rows go, and
            // the mark says they were read (a restart's listing skips them).
            let cutoff = DatedKeys.day(now, daysBefore: 2)
            for (i, location) in locations.enumerated() where !layouts[i].undated && !layouts[i].stems.isEmpty {
                guard layouts[i].mark.map({ $0 < cutoff }) ?? true else { continue }
                do {
                    try store.pruneObjectLedger(location: location.description, before: cutoff) {
                        DatedKeys.day(ofInputName: $0)
                    }
                    layouts[i].mark = cutoff
                } catch {
                    throw TailError(.store, underlying: error)
                }
            }
        }

        /// The objects a message names, sorted into those to read and what the message is.
        func take(_ message: SQSMessage, from queue: SQSClient) -> [String: S3Object]? {
            let notification: ObjectNotification
            do {
                notification = try ObjectNotification.parse(message.body)
            } catch {
                // Left in the queue (its redrive policy moves it aside after maxReceiveCount); said once.
                if reportedBodies.insert(message.messageID).inserted {
                    reporter.diagnostic(
                        Diagnostic(
                            path: queue.queue.url, position: .file, severity: .error, category: "sqs",
                            message:
                                "message \(message.messageID): \(error.message) (the message is left in the queue for its dead-letter queue)"
                        ))
                }
                return nil
            }
            guard case .created(let notified) = notification else { return [:] }  // test event, removals
            var objects: [String: S3Object] = [:]
            for object in notified {
                guard let index = location(of: object.bucket, object.key) else {
                    let area = "s3://\(object.bucket)/\(object.key.split(separator: "/").first ?? "")"
                    if reportedOutside.insert(area).inserted {
                        reporter.diagnostic(
                            Diagnostic(
                                path: object.inputName, position: .file, severity: .warning, category: "sqs",
                                message:
                                    "notified object outside the followed locations (\(names)) is ignored; others under \(area) are ignored silently"
                            ))
                    }
                    continue
                }
                // Read whatever its day: the mark only spares listings (a message is deleted once its
                // objects are committed, so a notification names an object not read yet, or rewritten).
                learn(index, object.key)
                if let etag = object.etag {
                    objects[object.inputName] = S3Object(
                        key: object.key, size: object.size ?? 0, etag: "\"\(etag)\"", lastModified: "")
                    continue
                }
                // CloudTrail's notification names keys only: their ETag from a listing of the key.
                do {
                    let page = try following.client.listObjects(bucket: object.bucket, prefix: object.key, maxKeys: 1)
                    if let listed = page.objects.first, listed.key == object.key { objects[object.inputName] = listed }
                } catch {
                    reporter.diagnostic(error.diagnostic)
                    return nil
                }
            }
            return objects
        }

        var nextRelist = MonotonicClock.seconds() + following.relistInterval
        // Every twelfth re-listing (hourly by default) lists the whole prefixes: accounts and regions
        // that started writing since, whose notifications never came, are found then.
        var relists = 0
        try relist(full: true)
        while !control.stopRequested && !settings.once {
            try removeDelivered()
            if control.takeReloadRequest() { reload(pipeline) }
            for problem in heartbeat?.takeProblems() ?? [] {
                reporter.diagnostic(
                    Diagnostic(
                        path: following.queue?.queue.url ?? names, position: .file, severity: .warning, category: "sqs",
                        message: problem))
            }
            if MonotonicClock.seconds() >= nextRelist {
                relists += 1
                try relist(full: relists % 12 == 0)
                nextRelist = MonotonicClock.seconds() + following.relistInterval
                continue
            }
            let wait = max(0, nextRelist - MonotonicClock.seconds())
            guard let queue = following.queue else {
                var descriptor = pollfd(fd: control.wakeDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, Int32(min(wait, 3600) * 1000))
                control.drainWakes()
                continue
            }
            let messages: [SQSMessage]
            do {
                messages = try queue.receive(
                    maxMessages: 10, waitSeconds: Int(min(20, wait.rounded(.up))),
                    visibilityTimeout: following.visibilityTimeout, shouldStop: { control.stopRequested })
            } catch {
                reporter.diagnostic(error.diagnostic)
                // The queue keeps failing after its retries: wait a little, or until asked to stop.
                var descriptor = pollfd(fd: control.wakeDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, 5000)
                control.drainWakes()
                continue
            }
            if messages.isEmpty { continue }
            heartbeat?.hold(messages.map(\.receiptHandle))
            var toRead: [String: S3Object] = [:]
            for message in messages {
                guard let objects = take(message, from: queue) else {
                    heartbeat?.release([message.receiptHandle])
                    continue
                }
                held.append(
                    HeldMessage(receipt: message.receiptHandle, id: message.messageID, waiting: Set(objects.keys)))
                toRead.merge(objects) { _, newer in newer }
            }
            deleteFinished()
            try read(toRead)
        }
        try finishDelivery(control: control)
        if !settings.quiet {
            let s = pipeline.currentSummary
            reporter.line(
                "chiptrail: tail stopped: \(objectsRead) object(s) read, \(s.records) record(s), \(s.sessions) session(s) closed, \(delivered) alert(s); state committed to \(settings.storeName)"
            )
        }
    }
}
