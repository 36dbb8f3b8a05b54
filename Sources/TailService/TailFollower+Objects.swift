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
        var loop = try ObjectLoop(follower: self, following: following, control: control)
        defer { loop.heartbeat?.stop() }
        if !settings.quiet {
            reporter.line(
                "chiptrail: tail following \(loop.names)\(following.queue.map { " through \($0.queue.url)" } ?? "") into \(settings.storeName) (pid \(getpid())); re-listing every \(Int(following.relistInterval)) s; SIGHUP reloads the configuration, SIGTERM stops"
            )
        }
        try loop.run()
        try finishDelivery(control: control)
        reportStopped(read: loop.objectsRead, inputs: "object", delivered: loop.delivered)
    }
}

/// The object loop's state, and its steps: ``run()`` lists the locations whole, then long-polls the
/// queue (or sleeps) and re-lists until a stop. The order that holds throughout: a batch of objects is
/// read, committed, delivered, and only then are the messages whose objects are all committed deleted;
/// a kill before a message's deletion leaves it to come back, and its objects are then found in the
/// ledger.
private struct ObjectLoop {
    /// What one re-listing found, before any of it is read.
    struct Listing {
        /// Objects to read now (recent days, layouts not laid out by day), by input name.
        var found: [String: S3Object] = [:]
        /// Locations listed whole, without a failure: those whose ledger may be pruned by LastModified.
        var listedWhole: Set<Int> = []
        /// The stems of each day found by whole listings of layouts by day, by day (`YYYY/MM/DD`).
        var days: [String: Set<DatedStem>] = [:]
    }

    let follower: TailFollower
    let following: ObjectFollowing
    let control: TailControl
    let locations: [S3Location]
    /// The locations as the start line and diagnostics name them.
    let names: String
    /// Keeps the held messages hidden while their objects are read (none without a queue); stopped by
    /// ``TailFollower/runObjects(_:control:)`` on its way out.
    let heartbeat: VisibilityHeartbeat?
    var layouts: [LocationLayout]
    /// Messages received whose objects are not all committed: deleted once they are.
    var held: [HeldMessage] = []
    /// Areas outside the followed locations that notifications named (each said once).
    var reportedOutside: Set<String> = []
    /// Messages whose body is not a notification (each said once).
    var reportedBodies: Set<String> = []
    /// Objects whose bytes were refused (not a format chiptrail reads, corrupt), by fingerprint: said
    /// once, not read again by this process (as a local file is not), their messages deleted.
    var refused: [String: String] = [:]
    var delivered = 0
    var objectsRead = 0
    var pacer = CommitPacer()

    /// Reads each location's marks (the day, and the LastModified, before which it was read and pruned)
    /// and starts the heartbeat (with a queue).
    /// - Throws: ``TailError`` when the store cannot be read (no heartbeat is started then).
    init(follower: TailFollower, following: ObjectFollowing, control: TailControl) throws(TailError) {
        self.follower = follower
        self.following = following
        self.control = control
        locations = following.locations
        layouts = [LocationLayout](repeating: LocationLayout(), count: locations.count)
        do {
            for (i, location) in locations.enumerated() {
                layouts[i].mark = try follower.store.objectMark(location: location.description)
                layouts[i].modifiedMark = try follower.store.objectModifiedMark(location: location.description)
            }
        } catch {
            throw TailError(.store, underlying: error)
        }
        heartbeat = following.queue.map { VisibilityHeartbeat(queue: $0, timeout: following.visibilityTimeout) }
        names = locations.map(\.description).joined(separator: ", ")
    }

    // MARK: The loop

    /// Lists the locations whole and reads what the ledger has not seen (the backlog; all that `once`
    /// does), then, until a stop: removes the outbox rows the command has had, applies a reload asked
    /// for, says the heartbeat's problems, re-lists when it is time (every twelfth re-listing, hourly by
    /// default, lists the whole prefixes: accounts and regions that started writing since, whose
    /// notifications never came, are found then), else waits for messages (or, without a queue, for the
    /// next re-listing) and reads the objects they name. A stop is seen between these steps and between
    /// batches, never inside one.
    /// - Throws: ``TailError`` when the store fails.
    mutating func run() throws(TailError) {
        var nextRelist = MonotonicClock.seconds() + following.relistInterval
        var relists = 0
        try relist(full: true)
        while !control.stopRequested && !follower.settings.once {
            try follower.removeDelivered()
            if control.takeReloadRequest() { follower.reloadSetup() }
            reportHeartbeatProblems()
            if MonotonicClock.seconds() >= nextRelist {
                relists += 1
                try relist(full: relists % 12 == 0)
                nextRelist = MonotonicClock.seconds() + following.relistInterval
                continue
            }
            let wait = max(0, nextRelist - MonotonicClock.seconds())
            guard let queue = following.queue else {
                waitForWake(milliseconds: Int32(min(wait, 3600) * 1000))
                continue
            }
            guard let messages = receive(from: queue, waitingUpTo: wait), !messages.isEmpty else { continue }
            let toRead = hold(messages, from: queue)
            deleteFinished()
            try read(toRead)
        }
    }

    /// Says the failures of the heartbeat's visibility extensions since the last look, as warnings.
    func reportHeartbeatProblems() {
        for problem in heartbeat?.takeProblems() ?? [] {
            follower.reporter.diagnostic(
                Diagnostic(
                    path: following.queue?.queue.url ?? names, position: .file, severity: .warning, category: "sqs",
                    message: problem))
        }
    }

    /// Waits up to `milliseconds`, or until a stop or reload request wakes the loop.
    func waitForWake(milliseconds: Int32) {
        var descriptor = pollfd(fd: control.wakeDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, milliseconds)
        control.drainWakes()
    }

    /// Long-polls the queue for up to 10 messages, for at most `wait` seconds (and 20), hidden for the
    /// visibility timeout; a stop request ends the poll.
    /// - Returns: the messages, or nil when the queue failed after its retries: then the failure is
    ///   said and the loop has waited 5 s (or until asked to stop).
    func receive(from queue: SQSClient, waitingUpTo wait: Double) -> [SQSMessage]? {
        do {
            return try queue.receive(
                maxMessages: 10, waitSeconds: Int(min(20, wait.rounded(.up))),
                visibilityTimeout: following.visibilityTimeout, shouldStop: { [control] in control.stopRequested })
        } catch {
            follower.reporter.diagnostic(error.diagnostic)
            // The queue keeps failing after its retries: wait a little, or until asked to stop.
            waitForWake(milliseconds: 5000)
            return nil
        }
    }

    /// Holds the received messages (the heartbeat keeps them hidden) and returns the objects they name,
    /// by input name, a later message's object replacing an earlier one's. A message that cannot be
    /// taken (``take(_:from:)``) is released, left to come back; one that names nothing to read is held
    /// with nothing waiting, so the next ``deleteFinished()`` deletes it.
    mutating func hold(_ messages: [SQSMessage], from queue: SQSClient) -> [String: S3Object] {
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
        return toRead
    }

    // MARK: Messages

    /// The objects a message names under the followed locations, by input name, each with its ETag
    /// (from the notification, or from a listing of the key). Objects outside the locations are
    /// ignored (said once per area); a test event or a removal names none.
    /// - Returns: nil when the message cannot be taken now: its body is not a notification (said once;
    ///   left in the queue for its dead-letter queue), or a key's listing failed (said).
    mutating func take(_ message: SQSMessage, from queue: SQSClient) -> [String: S3Object]? {
        guard let notification = parse(message, from: queue) else { return nil }
        guard case .created(let notified) = notification else { return [:] }  // test event, removals
        var objects: [String: S3Object] = [:]
        for object in notified {
            guard let index = location(of: object.bucket, object.key) else {
                reportOutside(object)
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
                follower.reporter.diagnostic(error.diagnostic)
                return nil
            }
        }
        return objects
    }

    /// The notification a message carries, or nil when its body is not one (said once per message).
    mutating func parse(_ message: SQSMessage, from queue: SQSClient) -> ObjectNotification? {
        do {
            return try ObjectNotification.parse(message.body)
        } catch {
            // Left in the queue (its redrive policy moves it aside after maxReceiveCount); said once.
            if reportedBodies.insert(message.messageID).inserted {
                follower.reporter.diagnostic(
                    Diagnostic(
                        path: queue.queue.url, position: .file, severity: .error, category: "sqs",
                        message:
                            "message \(message.messageID): \(error.message) (the message is left in the queue for its dead-letter queue)"
                    ))
            }
            return nil
        }
    }

    /// Says that a notified object lies outside the followed locations, once per bucket and first folder.
    mutating func reportOutside(_ object: NotifiedObject) {
        let area = "s3://\(object.bucket)/\(object.key.split(separator: "/").first ?? "")"
        if reportedOutside.insert(area).inserted {
            follower.reporter.diagnostic(
                Diagnostic(
                    path: object.inputName, position: .file, severity: .warning, category: "sqs",
                    message:
                        "notified object outside the followed locations (\(names)) is ignored; others under \(area) are ignored silently"
                ))
        }
    }

    /// Deletes the held messages with nothing left to commit (called only after their objects'
    /// commit), no longer extending them; a deletion that fails is said, and the message comes back to
    /// be found in the ledger.
    mutating func deleteFinished() {
        guard let queue = following.queue else { return }
        let finished = held.filter { $0.waiting.isEmpty }
        guard !finished.isEmpty else { return }
        held.removeAll { $0.waiting.isEmpty }
        let receipts = finished.map(\.receipt)
        heartbeat?.release(receipts)
        do {
            for failure in try queue.delete(receipts) {
                follower.reporter.diagnostic(
                    Diagnostic(
                        path: queue.queue.url, position: .file, severity: .warning, category: "sqs",
                        message:
                            "\(failure.awsCode): cannot delete a message whose objects are committed: \(failure.message); it comes back and is found in the ledger"
                    ))
            }
        } catch {
            follower.reporter.diagnostic(error.diagnostic)
        }
    }

    /// Settles the held messages after a batch: a message waiting for a `failed` object is abandoned
    /// (no longer extended, not deleted: it comes back); the `committed` objects are struck from the
    /// others, and those with nothing left are deleted (``deleteFinished()``).
    mutating func finish(_ committed: Set<String>, failed: Set<String>) {
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

    // MARK: Reading

    /// Reads the objects the ledger has not seen with their ETag, in delivery-time order, in
    /// batches each committed in one transaction; after each commit, the messages whose objects are
    /// all committed are deleted. An object whose read failed for good (rewritten since: `changed`,
    /// or deleted; or its bytes refused) counts as done; one the store failed to deliver after the
    /// retries leaves its messages to come back. A stop asked for ends the reading after the batch in
    /// hand (the first batch is always read); a reload asked for applies from the next batch on.
    /// - Returns: the objects not done: failed, or not reached before a stop.
    /// - Throws: ``TailError`` when the store fails.
    @discardableResult
    mutating func read(_ objects: [String: S3Object]) throws(TailError) -> Set<String> {
        let toRead = sortOut(objects)
        var notDone: Set<String> = []
        var index = 0
        while index < toRead.count && (!control.stopRequested || index == 0) {
            if index > 0 && control.takeReloadRequest() { follower.reloadSetup() }
            let chunk = Array(toRead[index..<min(toRead.count, index + pacer.files)])
            index += chunk.count
            let failedNames = try readAndCommit(chunk)
            let (committed, failed) = outcomes(of: chunk, failedNames: failedNames)
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

    /// Sorts `objects` into those done already — in the ledger with their ETag, or refused with these
    /// bytes by this process — whose messages are settled at once (``finish(_:failed:)``), and those
    /// to read, registered with the readers' source.
    /// - Returns: the input names to read, in delivery-time order.
    mutating func sortOut(_ objects: [String: S3Object]) -> [String] {
        var toRead: [String] = []
        var done: Set<String> = []
        for (name, object) in objects {
            let (_, fingerprint) = ObjectInputs.fingerprint(object)
            if refused[name] == fingerprint
                || (try? follower.store.hasRead(path: name, fingerprint: fingerprint)) == true
            {
                done.insert(name)
            } else {
                following.source.register(object, as: name)
                toRead.append(name)
            }
        }
        finish(done, failed: [])
        return InputEnumerator.sortedByDeliveryTime(toRead)
    }

    /// Reads one batch and commits it in one transaction (``TailFollower/commit(offsets:)``), paces the
    /// next batch on its cost, then delivers the outbox. No message is deleted here: a kill before the
    /// commit ends loses the batch and its messages come back; a kill after it leaves the messages to
    /// come back and be found in the ledger, and the alerts in the outbox for the next start.
    /// - Returns: the objects whose read failed (their outcome says so).
    /// - Throws: ``TailError`` when the store fails.
    mutating func readAndCommit(_ chunk: [String]) throws(TailError) -> Set<String> {
        follower.beginBatch()
        let started = MonotonicClock.seconds()
        _ = follower.pipeline.runIncrementally(
            inputs: chunk.map { IngestPipeline.FollowedInput(path: $0) }, deferIncomplete: false)
        let readAt = MonotonicClock.seconds()
        let failedNames = Set(follower.batch.filter(\.failed).compactMap(\.path))
        do {
            try follower.commit(offsets: [])
            pacer.observe(files: chunk.count, reading: readAt - started, committing: MonotonicClock.seconds() - readAt)
            delivered += try follower.deliverOutbox(control: control)
        } catch {
            throw TailError(.store, underlying: error)
        }
        return failedNames
    }

    /// After a batch's commit, each object's outcome, taken from the readers' source (which then forgets
    /// it): read (counted), refused (remembered by fingerprint, not read again), gone or rewritten (a
    /// newer version has its own notification) — all done — or failed in the store after the retries.
    /// - Returns: the done objects (`committed`) and the failed ones, whose messages come back.
    mutating func outcomes(of chunk: [String], failedNames: Set<String>) -> (
        committed: Set<String>, failed: Set<String>
    ) {
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
        return (committed, failed)
    }

    // MARK: Listing

    /// The index of the location `bucket`/`key` falls under, or nil.
    func location(of bucket: String, _ key: String) -> Int? {
        locations.firstIndex { $0.bucket == bucket && key.hasPrefix($0.prefix) }
    }

    /// Whether the key is dated before its location's mark (read and pruned already).
    func beforeMark(_ index: Int, _ key: String) -> Bool {
        guard let mark = layouts[index].mark, let day = DatedKeys.split(key)?.day else { return false }
        return day < mark
    }

    /// Learns the key's layout: its stem if it is dated, else that the location holds undated keys.
    mutating func learn(_ index: Int, _ key: String) {
        if let stem = DatedKeys.split(key)?.stem {
            layouts[index].stems.insert(stem)
        } else {
            layouts[index].undated = true
        }
    }

    /// Lists the locations (`full`: the whole prefixes; else the recent days of dated layouts) and
    /// reads what the ledger has not seen; then prunes the ledger below the re-listed days, or (layouts
    /// not laid out by day) of objects modified before the window. A whole listing of a layout by day
    /// keeps only the days it finds (per stem), then lists and reads one day at a time, oldest first
    /// (one ListObjectsV2 more per stem and day), so memory holds one day's keys, not the prefix's.
    /// The pruning comes after the reading, so a kill in between only leaves rows to prune next time.
    /// - Throws: ``TailError`` when the store fails.
    mutating func relist(full: Bool) throws(TailError) {
        let now = Date()
        let listing = listLocations(full: full, now: now)
        var notDone = try read(listing.found)
        for day in listing.days.keys.sorted() where !control.stopRequested {
            notDone.formUnion(try read(listDay(day, listing.days[day, default: []])))
        }
        try pruneUndated(listing, notDone: notDone, now: now)
        try pruneDated(now: now)
    }

    /// Lists each location (`full`, or a location whose layout is not known to be by day: its whole
    /// prefix; else its stems' recent days, today and yesterday by `now`). Nothing is read here.
    mutating func listLocations(full: Bool, now: Date) -> Listing {
        var listing = Listing()
        let recentDays = [DatedKeys.day(now), DatedKeys.day(now, daysBefore: 1)]
        for (i, location) in locations.enumerated() {
            if !full && !layouts[i].undated && !layouts[i].stems.isEmpty {
                for stem in layouts[i].stems.sorted() {
                    for day in recentDays {
                        _ = list(S3Location(bucket: location.bucket, prefix: stem + day + "/"), i) {
                            listing.found[$0] = $1
                        }
                    }
                }
                continue
            }
            listWhole(i, into: &listing)
        }
        return listing
    }

    /// Lists location `index` whole: dated keys are kept as the days (and stems) they are of, to be
    /// listed a day at a time; others as found. A location known to hold keys of other layouts is kept
    /// whole (its ledger is pruned by LastModified), and so is one found to hold both now (listed again).
    mutating func listWhole(_ index: Int, into listing: inout Listing) {
        let location = locations[index]
        // Known to hold keys of other layouts: kept whole (its ledger is pruned by LastModified).
        let whole = layouts[index].undated
        var dated = false
        let listed = list(location, index) { name, object in
            if !whole, let split = DatedKeys.split(object.key) {
                listing.days[split.day, default: []].insert(DatedStem(location: index, stem: split.stem))
                dated = true
            } else {
                listing.found[name] = object
            }
        }
        if listed { listing.listedWhole.insert(index) }
        // Keys by day and others under one prefix (first seen now): listed again and kept whole,
        // as the LastModified pruning of such a prefix needs.
        if layouts[index].undated && dated {
            for day in listing.days.keys {
                listing.days[day] = listing.days[day]?.filter { $0.location != index }
            }
            if !list(location, index, { listing.found[$0] = $1 }) { listing.listedWhole.remove(index) }
        }
    }

    /// Lists one day's folder under each of `stems`, in order of location and stem.
    /// - Returns: the day's objects not marked read, by input name.
    mutating func listDay(_ day: String, _ stems: Set<DatedStem>) -> [String: S3Object] {
        var ofTheDay: [String: S3Object] = [:]
        for dated in stems.sorted(by: { ($0.location, $0.stem) < ($1.location, $1.stem) }) {
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
        return ofTheDay
    }

    /// Lists `prefix` (under location `index`) page by page, and hands `take` each object not marked
    /// read (by its day or its LastModified), by input name; a failure is reported.
    /// - Returns: whether the whole prefix was listed.
    mutating func list(_ prefix: S3Location, _ index: Int, _ take: (String, S3Object) -> Void) -> Bool {
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
            follower.reporter.diagnostic(diagnostic)
            return false
        }
    }

    // MARK: Pruning

    /// Layouts not laid out by day (re-listed whole each time), each listed whole by this listing:
    /// objects modified before the window were read by this listing or an earlier one, so later
    /// listings skip them, and the ledger keeps only the rows of the objects listed within the window,
    /// as listed (older objects, older versions of rewritten ones, deleted ones go). An object not read
    /// (failed, or a stop came first) holds the mark at its LastModified, so it is read by a later
    /// listing. Each location's pruning and its new mark are one transaction.
    /// - Throws: ``TailError`` when the store fails.
    mutating func pruneUndated(_ listing: Listing, notDone: Set<String>, now: Date) throws(TailError) {
        for (i, location) in locations.enumerated() where layouts[i].undated && listing.listedWhole.contains(i) {
            var mark =
                EpochSeconds(now.timeIntervalSince1970) - ObjectFollowing.undatedWindow
                - ObjectFollowing.clockSkewAllowance
            for name in notDone where name.hasPrefix(location.description) {
                guard let modified = listing.found[name].flatMap({ Timestamp.parse($0.lastModified) }) else {
                    mark = .min
                    break
                }
                mark = min(mark, modified)
            }
            guard mark != .min, mark >= (layouts[i].modifiedMark ?? .min) else { continue }
            var kept: [String: String] = [:]
            for (name, object) in listing.found where name.hasPrefix(location.description) {
                if let modified = Timestamp.parse(object.lastModified), modified < mark { continue }
                kept[name] = ObjectInputs.fingerprint(object).fingerprint
            }
            do {
                try follower.store.pruneObjectLedger(location: location.description, modifiedBefore: mark) {
                    kept[$0] == $1
                }
                layouts[i].modifiedMark = mark
            } catch {
                throw TailError(.store, underlying: error)
            }
        }
    }

    /// Layouts by day: days before the day before yesterday (by `now`) are no longer re-listed: their
    /// ledger rows go, and the mark says they were read (a restart's listing skips them); each location's pruning
    /// and its new mark are one transaction.
    /// - Throws: ``TailError`` when the store fails.
    mutating func pruneDated(now: Date) throws(TailError) {
        let cutoff = DatedKeys.day(now, daysBefore: 2)
        for (i, location) in locations.enumerated() where !layouts[i].undated && !layouts[i].stems.isEmpty {
            guard layouts[i].mark.map({ $0 < cutoff }) ?? true else { continue }
            do {
                try follower.store.pruneObjectLedger(location: location.description, before: cutoff) {
                    DatedKeys.day(ofInputName: $0)
                }
                layouts[i].mark = cutoff
            } catch {
                throw TailError(.store, underlying: error)
            }
        }
    }
}
