import Inputs
import UsageModel

/// The paths one wake looks at, handed out one at a time in delivery-time order, each once.
///
/// A walk of a followed directory is held as ``LocalDeliveryWalk`` holds it — the folders above a date and
/// the days each has, the day being handed out, and the files not laid out by day — not as a path per
/// file: the first wake over a month of small objects (931,029 files for 20,000 accounts) held every
/// path, in a list and in a set, ~400 MB before anything was read. Other paths (named by inotify
/// events, looked at on every wake, followed paths that are files) come as a list, sorted.
///
/// Every source is merged by delivery time, then path (``InputEnumerator/sortedByDeliveryTime(_:)``'s
/// order, as `ingest` merges the paths it is given: a walk of the whole tree reads what `ingest` of the
/// same paths reads, in its order, whatever order the paths were named in), and a path that two sources
/// name comes once: a walk leaves out every path a list names (a file listed by the
/// walk and also named by an event: the walk may hand it out elsewhere than at its delivery time, when
/// its name carries another day than its folder), and two lists' copies of a path come together.
///
/// A wake whose reading stops early (the files after one still being written wait for it) keeps what is
/// left, the walk's place rather than its paths, and ``resume(with:)`` merges it with what the next wake
/// names: what waits is bounded by what the walk holds, not by the files still to come.
struct WakeCandidates: Sequence, IteratorProtocol {
    enum Source {
        /// A followed directory, a day at a time.
        case walk(LocalDeliveryWalk)
        /// Paths in order, and the next to hand out.
        case paths([String], next: Int)
    }

    private var sources: [Source]
    /// The sources' merge by delivery time.
    private var merge: DeliveryOrderMerge
    /// The last path handed out (a path two lists name comes once).
    private var last: String?
    /// The paths the lists name: the walks leave them out. Bounded: at each ``resume(with:)`` a name
    /// every walk has passed for good (``LocalDeliveryWalk/hasPassed(_:)``: its day's folder listed and
    /// handed out) is dropped, so what is kept is the names of the lists still to hand out and of the
    /// days the walks have not finished — not every name of every wake a long backlog goes on through.
    private var named: Set<String> = []
    /// The files the walks' listings left out, changed after the wake began (``LocalDeliveryWalk/changedUpTo``);
    /// taken by ``takeChangedLater()``.
    private var changedLater: [String] = []
    /// What the walks could not list again (a day's folder gone or unreadable since the first walk), each
    /// named once; taken by ``takeProblems()``.
    private var problems: [Diagnostic] = []

    /// Nothing to look at.
    init() {
        self.init(sources: [])
    }

    /// - Parameter sources: walks (each in delivery order) and lists of paths (each in delivery order),
    ///   merged by delivery time (each path once).
    init(sources: [Source]) {
        self.sources = sources
        merge = DeliveryOrderMerge(count: sources.count)
        noteNamed(sources)
    }

    /// Whether every path was handed out.
    var isFinished: Bool {
        sources.indices.allSatisfy { !merge.isHolding($0) && Self.isEmpty(sources[$0]) }
    }

    /// Merges what is left with a later wake's lists of paths (``DirectoryWatcher/Wake``'s, when that wake
    /// did not walk the whole tree), by delivery time. A path the later wake names is left out of the walks
    /// from now on.
    mutating func resume(with later: WakeCandidates) {
        var kept: [Source] = []
        var keptIndexes: [Int] = []
        var again = Set<String>()
        for source in later.sources {
            if case .paths(let paths, let next) = source { again.formUnion(paths[next...]) }
        }
        for i in sources.indices {
            var source = sources[i]
            // A path the later wake names again (looked at on every wake) comes from its list, so that
            // the lists do not grow with the wakes; a list handed out whole is dropped.
            if case .paths(let paths, let next) = source {
                source = .paths(paths[next...].filter { !again.contains($0) }, next: 0)
            }
            guard merge.isHolding(i) || !Self.isEmpty(source) else { continue }
            kept.append(source)
            keptIndexes.append(i)
        }
        let added = later.sources.filter { !Self.isEmpty($0) }
        merge = merge.keeping(keptIndexes, adding: added.count)
        sources = kept + added
        // A path handed out at an earlier wake and named again is looked at again.
        last = nil
        // Names the walks will not come to again are let go (the lists' own are noted again below).
        let walks = sources.compactMap { source -> LocalDeliveryWalk? in
            if case .walk(let walk) = source { return walk }
            return nil
        }
        named = named.filter { name in walks.contains { !$0.hasPassed(name) } }
        noteNamed(sources)
        problems += later.problems
        changedLater += later.changedLater
    }

    /// The files the walks' listings left out since the last call because they changed after the wake
    /// began: the caller looks at them again (at the next wake, whether or not an event names them).
    mutating func takeChangedLater() -> [String] {
        defer { changedLater = [] }
        return changedLater
    }

    /// Names the walks leave out (tests).
    var namedCount: Int { named.count }

    /// What the walks could not list again since the last call, each once.
    mutating func takeProblems() -> [Diagnostic] {
        defer { problems = [] }
        return problems
    }

    private mutating func noteNamed(_ sources: [Source]) {
        for source in sources {
            if case .paths(let paths, let next) = source { named.formUnion(paths[next...]) }
        }
    }

    private static func isEmpty(_ source: Source) -> Bool {
        switch source {
        case .walk(let walk): walk.isFinished
        case .paths(let paths, let next): next >= paths.count
        }
    }

    /// Paths held now as strings of their own: the lists' and the walks' (the files of the walks not
    /// laid out by day, and of each walk's day being handed out). Not the walks' days to come.
    var pathsHeld: Int {
        sources.reduce(0) { n, source in
            switch source {
            case .walk(let walk): n + walk.pathsHeld
            case .paths(let paths, let next): n + paths.count - next
            }
        }
    }

    /// The next path to look at, or nil after the last.
    mutating func next() -> String? {
        while true {
            var merge = self.merge
            let path = merge.next { pull($0) }
            self.merge = merge
            guard let head = path else { return nil }
            if head == last { continue }
            last = head
            return head
        }
    }

    /// Source `i`'s next path, or nil after its last.
    private mutating func pull(_ i: Int) -> String? {
        switch sources[i] {
        case .walk(var walk):
            // Taken out while it moves on, so that its buffers are not copied.
            sources[i] = .paths([], next: 0)
            var path = walk.next(report: { problems.append($0) })
            // A path a list names comes from the list (at its delivery time).
            while let p = path, named.contains(p) { path = walk.next(report: { problems.append($0) }) }
            changedLater += walk.takeChangedLater()
            sources[i] = .walk(walk)
            return path
        case .paths(let paths, let next):
            guard next < paths.count else { return nil }
            sources[i] = .paths(paths, next: next + 1)
            return paths[next]
        }
    }
}
