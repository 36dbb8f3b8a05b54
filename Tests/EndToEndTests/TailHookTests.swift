import Foundation
import TestSupport
import Testing

/// Issue 19: `tail --exec` runs the command beside the loop, not in it — reading goes on while a slow
/// command runs, an alert leaves the outbox only once the command has had it, a stop waits for the
/// command up to a deadline, and the command runs in a process group of its own. The built binary,
/// real signals, real processes.
@Suite(.serialized) struct TailHookTests {
    static let mappingHeader =
        "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"

    /// A directory for one test: `in/`, stdout and stderr files, and a mapping of `accounts` to CN.
    static func prepare(_ dir: TemporaryDirectory, accounts: [String]) -> [String] {
        TailTests.prepare(dir)
        let mappings = dir.write(
            "m.csv", Self.mappingHeader + accounts.map { "aws,\($0),,C-\($0),CN,2025-01-01T00:00:00Z,\n" }.joined())
        return ["--mappings", mappings]
    }

    /// One object in which each of `accounts` launches an H100 instance on `day`, and a call at noon moves
    /// event time on: an alert each, printed as soon as the object is read.
    static func drop(_ dir: TemporaryDirectory, accounts: [String], day: Int, name: String) {
        let records =
            accounts.map { account in
                runInstancesRecord(ids: ["i-\(account)"], account: account, time: "2026-03-0\(day)T02:00:00Z")
            } + [cloudTrailRecord(account: accounts[0], time: "2026-03-0\(day)T12:00:00Z")]
        _ = dir.write(
            "in/\(name)_CloudTrail_us-east-1_2026030\(day)T1200Z_\(name).json.gz",
            TestGzip.compress("{\"Records\":[" + records.joined(separator: ",") + "]}"))
    }

    static func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    /// The alert ids of JSON lines.
    static func ids(_ lines: [Substring]) -> [String] {
        lines.map { line in
            let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return o?["id"] as? String ?? "unparsable: \(line.prefix(60))"
        }
    }

    /// Waits for `condition` up to `seconds`; false when it never held.
    static func wait(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// The process group of `pid`, from /proc (field 5 of its stat).
    static func processGroup(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.range(of: ")", options: .backwards)
        else { return nil }
        let fields = stat[close.upperBound...].split(separator: " ")
        return fields.count > 2 ? pid_t(fields[2]) : nil
    }

    @Test func aSlowHookDoesNotStallReading() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Self.prepare(dir, accounts: ["111111111111", "222222222222"])
        let out = dir.path + "/stdout.txt", got = dir.path + "/got.jsonl", seen = dir.path + "/seen"
        // Each run takes its alert, waits four seconds, then counts the alerts on tail's stdout.
        let hook = "sh -c 'cat >> \(got); sleep 4; wc -l < \(out) >> \(seen)'"
        let p = try TailTests.start(dir.path, options: options + ["--quiet"], extra: ["--exec", hook])
        TailTests.waitUntilReady(p)
        Self.drop(dir, accounts: ["111111111111"], day: 1, name: "a")
        #expect(Self.wait(seconds: 30) { Self.lines(out).count == 1 && Self.lines(got).count == 1 })
        // The first command runs; a later file's alert is printed meanwhile, not after it.
        let dropped = Date()
        Self.drop(dir, accounts: ["222222222222"], day: 2, name: "b")
        #expect(Self.wait(seconds: 30) { Self.lines(out).count == 2 })
        let printedAfter = Date().timeIntervalSince(dropped)
        #expect(Self.wait(seconds: 30) { Self.lines(seen).count >= 1 })
        #expect(
            Self.lines(seen).first?.trimmingCharacters(in: .whitespaces) == "2",
            "the first command saw \(Self.lines(seen)) alert(s) on stdout as it ended; the second was printed \(printedAfter) s after its file landed"
        )
        #expect(printedAfter < 4, "the second alert took \(printedAfter) s")
        // Every alert reaches the command, in stdout's order, before a stop returns.
        kill(p.processIdentifier, SIGTERM)
        TailLifecycleTests.waitForExit(p, within: 60)
        #expect(p.terminationStatus == 0)
        #expect(Self.lines(got) == Self.lines(out))
        #expect(try TailLifecycleTests.count(dir.path, "SELECT COUNT(*) FROM outbox") == 0)
    }

    @Test func killedWhileTheHookRunsTheRestartHandsItEveryAlertItHadNot() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Self.prepare(dir, accounts: ["111111111111", "222222222222"])
        let out = dir.path + "/stdout.txt", got = dir.path + "/got.jsonl", pids = dir.path + "/pids"
        // Each run says its pid, then records its alert only when it ends, six seconds later.
        let slow = "sh -c 'echo $$ >> \(pids); a=$(cat); sleep 6; printf \"%s\\n\" \"$a\" >> \(got)'"
        let p = try TailTests.start(dir.path, options: options + ["--quiet"], extra: ["--exec", slow])
        TailTests.waitUntilReady(p)
        Self.drop(dir, accounts: ["111111111111"], day: 1, name: "a")
        #expect(Self.wait(seconds: 30) { Self.lines(out).count == 1 && Self.lines(pids).count == 1 })
        let dropped = Date()
        Self.drop(dir, accounts: ["222222222222"], day: 2, name: "b")
        #expect(Self.wait(seconds: 30) { Self.lines(out).count == 2 })
        let printedAfter = Date().timeIntervalSince(dropped)
        // Both printed, neither had by the command: the first still runs, the second waits for it.
        #expect(Self.lines(got).isEmpty, "the command ended before the second alert was printed (\(printedAfter) s)")
        // kill -9 of tail and of the command's group, as a crash of the whole service would.
        let hooks = Self.lines(pids).compactMap { pid_t($0) }
        #expect(hooks.count == 1)
        kill(p.processIdentifier, SIGKILL)
        for pid in hooks {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        let killedAt = Date()
        p.waitUntilExit()
        let waited = Date().timeIntervalSince(killedAt)
        usleep(200_000)
        #expect(Self.lines(got).isEmpty, "killed \(hooks); tail's end was seen \(waited) s after the kill")
        #expect(try TailLifecycleTests.count(dir.path, "SELECT COUNT(*) FROM outbox") == 2)

        // The restart hands the command both alerts (stdout shows them again, as after any crash).
        let fast = "sh -c 'cat >> \(got)'"
        let again = try TailTests.start(dir.path, options: options + ["--quiet"], extra: ["--exec", fast, "--once"])
        TailLifecycleTests.waitForExit(again, within: 60)
        #expect(again.terminationStatus == 0)
        let printed = Self.ids(Self.lines(out))
        #expect(printed.count == 4 && Set(printed).count == 2, "\(printed)")
        #expect(Self.ids(Self.lines(got)) == Array(printed.prefix(2)))
        #expect(try TailLifecycleTests.count(dir.path, "SELECT COUNT(*) FROM outbox") == 0)
    }

    @Test func sigtermWaitsForTheHookUpToTheDeadlineAndTheNextStartHandsItTheRest() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let accounts = (10..<22).map { String(repeating: "\($0)", count: 6) }
        let options = Self.prepare(dir, accounts: accounts)
        let out = dir.path + "/stdout.txt", err = dir.path + "/stderr.txt", got = dir.path + "/got.jsonl"
        // A second per alert; --exec-timeout 2 makes the deadline 2 × 3 tries + 1.5 s of back-off = 7.5 s,
        // short of the twelve seconds the twelve alerts need.
        let slow = "sh -c 'a=$(cat); sleep 1; printf \"%s\\n\" \"$a\" >> \(got)'"
        let p = try TailTests.start(dir.path, options: options, extra: ["--exec", slow, "--exec-timeout", "2"])
        TailTests.waitUntilReady(p)
        Self.drop(dir, accounts: accounts, day: 1, name: "a")
        #expect(Self.wait(seconds: 30) { Self.lines(out).count == 12 })
        // All twelve printed while the command has had at most a few.
        #expect(Self.lines(got).count < 4, "\(Self.lines(got).count) alert(s) had by the command")
        let sent = Date()
        kill(p.processIdentifier, SIGTERM)
        TailLifecycleTests.waitForExit(p, within: 60)
        let took = Date().timeIntervalSince(sent)
        #expect(p.terminationStatus == 0)
        #expect(took < 7.5 + 3, "tail took \(took) s to stop")
        let had = Self.lines(got).count
        #expect(had < 12, "the command had every alert: tail waited \(took) s")
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(stderr.contains("handing the "), "\(stderr)")
        #expect(stderr.contains("up to 7.5 s"), "\(stderr)")
        #expect(stderr.contains("\(12 - had) alert(s) not handed to --exec before the stop"), "\(stderr)")
        #expect(try TailLifecycleTests.count(dir.path, "SELECT COUNT(*) FROM outbox") == 12 - had)

        // The next start hands the command the rest; every alert has reached it, in stdout's order.
        let fast = "sh -c 'cat >> \(got)'"
        let again = try TailTests.start(dir.path, options: options + ["--quiet"], extra: ["--exec", fast, "--once"])
        TailLifecycleTests.waitForExit(again, within: 60)
        #expect(again.terminationStatus == 0)
        let printed = Self.ids(Self.lines(out))
        #expect(Set(printed).count == 12)
        let delivered = Self.ids(Self.lines(got))
        #expect(delivered == Array(printed.prefix(12)), "\(delivered)")
        #expect(try TailLifecycleTests.count(dir.path, "SELECT COUNT(*) FROM outbox") == 0)
    }

    /// tail started as a shell starts a foreground job (a process group of its own); Ctrl-C is SIGINT to
    /// that whole group.
    @Test func theHookRunsInAProcessGroupOfItsOwnAndCtrlCLeavesItRunning() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = Self.prepare(dir, accounts: ["111111111111"])
        let out = dir.path + "/stdout.txt", err = dir.path + "/stderr.txt", got = dir.path + "/got.jsonl"
        let groups = dir.path + "/groups", pids = dir.path + "/pids"
        let hook =
            "sh -c 'echo $$ >> \(pids); a=$(cat); sleep 2; cut -d\" \" -f5 /proc/$$/stat >> \(groups); printf \"%s\\n\" \"$a\" >> \(got)'"
        let arguments =
            [BuiltBinary.path, "tail", "--store", "s.db", "--poll-interval", "0.05"] + options + ["--exec", hook, "in"]
        let command = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let words = ["/bin/sh", "-c", "cd '\(dir.path)' && exec \(command) > \(out) 2> \(err)"]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ) == 0)
        var exitStatus: Int32 = 0
        var reaped = false
        defer {
            if !reaped {
                kill(pid, SIGKILL)
                waitpid(pid, &exitStatus, 0)
            }
        }
        // Ready once SIGINT is caught (SigCgt), as the other tail tests wait.
        _ = Self.wait(seconds: 30) {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
                let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16)
            else { return false }
            return mask & (1 << (UInt64(SIGINT) - 1)) != 0
        }
        let tailGroup = try #require(Self.processGroup(of: pid))
        #expect(tailGroup == pid)
        Self.drop(dir, accounts: ["111111111111"], day: 1, name: "a")
        #expect(Self.wait(seconds: 30) { Self.lines(out).count == 1 && Self.lines(pids).count == 1 })
        // Ctrl-C while the command runs: tail stops; the command, in another group, runs to its end.
        kill(-tailGroup, SIGINT)
        reaped = Self.wait(seconds: 60) { waitpid(pid, &exitStatus, WNOHANG) == pid }
        #expect(reaped)
        #expect(exitStatus == 0, "status \(exitStatus)")
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(!stderr.contains("killed by signal"), "\(stderr)")
        #expect(Self.lines(pids).count == 1, "the command ran \(Self.lines(pids).count) times: \(stderr)")
        #expect(Self.lines(got) == Self.lines(out))
        let hookPID = try #require(Self.lines(pids).first.flatMap { pid_t($0) })
        let hookGroup = Self.lines(groups).first.flatMap { pid_t($0) }
        #expect(hookGroup == hookPID, "the command's group \(String(describing: hookGroup))")
        #expect(hookGroup != tailGroup)
        #expect(try TailLifecycleTests.count(dir.path, "SELECT COUNT(*) FROM outbox") == 0)
    }
}
