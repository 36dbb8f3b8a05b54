import Foundation
import TestSupport
import Testing

@testable import TailService

/// The watcher's wait ends at once on a stop or reload request, with inotify and without.
struct TailControlTests {
    static func seconds(_ body: () -> Void) -> Double {
        let start = Date()
        body()
        return Date().timeIntervalSince(start)
    }

    @Test(arguments: [true, false], ["stop", "reload"])
    func aRequestEndsTheWatchersWaitAtOnce(inotify: Bool, request: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let control = try TailControl()
        // Followed below the temporary directory: the watch on its parent sees nothing else land.
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        let watcher = DirectoryWatcher(paths: [dir.path + "/in"], inotify: inotify, control: control)
        _ = watcher.next(waitingUpTo: 30)  // the first wake walks the tree without waiting
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
            if request == "stop" { control.requestStop() } else { control.requestReload() }
        }
        let waited = Self.seconds { _ = watcher.next(waitingUpTo: 30) }
        #expect(waited >= 0.15 && waited < 5, "\(waited)")
        if request == "stop" {
            #expect(control.stopRequested)
            // A stop stays set: every later wait ends at once too.
            #expect(Self.seconds { _ = watcher.next(waitingUpTo: 30) } < 5)
        } else {
            #expect(!control.stopRequested)
            #expect(control.takeReloadRequest())
            #expect(!control.takeReloadRequest())
            // Taken and drained: the next wait waits its time.
            #expect(Self.seconds { _ = watcher.next(waitingUpTo: 0.3) } >= 0.25)
        }
    }
}
