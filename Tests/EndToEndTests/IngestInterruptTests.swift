import Foundation
import TestSupport
import Testing

/// Issue 19: `ingest --exec` stopped by SIGINT or SIGTERM stops reading, hands the command every alert
/// it printed, says it was interrupted and exits with the shell's status for the signal (128 + its
/// number: SPEC names no status for an interrupted run); a second signal ends it at once.
@Suite(.serialized) struct IngestInterruptTests {
    /// How a process ended.
    enum Termination: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// A running `chiptrail ingest --no-store --jobs 2 --exec HOOK` whose stderr (and stdout, unless it
    /// is a closed pipe) go to files. Spawned with SIGINT, SIGTERM and SIGPIPE at their defaults and no
    /// signal blocked, as from a shell: the test runner's own dispositions (it may ignore SIGINT) are
    /// not inherited.
    final class Running {
        let dir: TemporaryDirectory
        let pid: pid_t
        let out: String
        let err: String
        let got: String
        /// The test's end of the FIFO the last input is: held open, so that a reader waits on it.
        let fifo: Int32
        private(set) var termination: Termination?

        init(dir: TemporaryDirectory, pid: pid_t, out: String, err: String, got: String, fifo: Int32) {
            (self.dir, self.pid, self.out, self.err, self.got, self.fifo) = (dir, pid, out, err, got, fifo)
        }

        func lines(_ path: String) -> [Substring] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
        }

        var stderr: String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }

        /// Waits for `condition` (up to `seconds`); false when it never held.
        func wait(seconds: Double, until condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while !condition() {
                if Date() > deadline { return false }
                usleep(10_000)
            }
            return true
        }

        /// Whether the process has ended (reaped here).
        var hasExited: Bool {
            if termination != nil { return true }
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { return false }
            termination = status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signalled(status & 0x7F)
            return true
        }

        /// Waits for the process to end (killed after `seconds`).
        func end(within seconds: Double) -> Termination? {
            if !wait(seconds: seconds, until: { hasExited }) {
                kill(pid, SIGKILL)
                _ = wait(seconds: 10, until: { hasExited })
                return nil
            }
            return termination
        }

        deinit {
            if !hasExited {
                kill(pid, SIGKILL)
                _ = wait(seconds: 10, until: { hasExited })
            }
            close(fifo)
            dir.remove()
        }
    }

    /// Starts ingest on four inputs — account i launches H100s on day i of March, each account mapped to
    /// a CN end customer, so each input's alert is printed once the next input moves event time on
    /// (three while reading, the fourth only at the end of the input) — and then a FIFO on which a
    /// reader waits, so that ingest is still reading when it is signalled.
    static func start(hook: (_ got: String) -> String, closedStdout: Bool = false) throws -> Running {
        let dir = TemporaryDirectory()
        let accounts = (1...4).map { String(repeating: "\($0)", count: 12) }
        var inputs: [String] = []
        for (i, account) in accounts.enumerated() {
            let record = runInstancesRecord(
                ids: ["i-\(i)"], account: account, time: String(format: "2026-03-%02dT02:00:00Z", i + 1))
            inputs.append(dir.write("\(i).json", record + "\n"))
        }
        let fifo = dir.path + "/9-later.json"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Read and write: open(2) does not wait for a reader, and the reader's read(2) waits for data.
        let held = open(fifo, O_RDWR | O_CLOEXEC)
        #expect(held >= 0)
        let mappings = dir.write("m.csv", "account_id,end_customer_country\n" + accounts.map { "\($0),CN\n" }.joined())
        let out = dir.path + "/out.jsonl", err = dir.path + "/err.txt", got = dir.path + "/got.jsonl"
        let arguments =
            [BuiltBinary.path, "ingest", "--no-store", "--jobs", "2", "--exec", hook(got), "--mappings", mappings]
            + inputs + [fifo]
        let command = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        // Stdout is a pipe whose reader is gone before anything is written: every write is EPIPE.
        var ends: [Int32] = [-1, -1]
        if closedStdout {
            #expect(pipe(&ends) == 0)
            close(ends[0])
            posix_spawn_file_actions_adddup2(&actions, ends[1], STDOUT_FILENO)
        }
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
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let script = "exec \(command)" + (closedStdout ? "" : " > \(out)") + " 2> \(err)"
        let words: [String] = ["/bin/sh", "-c", script]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        if closedStdout { close(ends[1]) }
        #expect(rc == 0)
        return Running(dir: dir, pid: pid, out: out, err: err, got: got, fifo: held)
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func everyAlertPrintedBeforeTheSignalReachesTheCommand(signal: Int32) throws {
        // Each run of the command takes a second after taking its alert: the rest wait in the queue.
        let run = try Self.start { got in "sh -c \"cat >> \(got); sleep 1\"" }
        // The three alerts decided while reading are on stdout, and the first has reached the command.
        let ready = run.wait(seconds: 60) { run.lines(run.out).count == 3 && run.lines(run.got).count >= 1 }
        #expect(ready, "stdout \(run.lines(run.out).count) line(s), command \(run.lines(run.got).count)")
        kill(run.pid, signal)
        let ended = run.end(within: 60)
        // The shell's status for the signal, given by exit(3) after the work is done (not death by it).
        #expect(ended == .exited(128 + signal), "\(run.stderr)")
        let printed = run.lines(run.out)
        #expect(printed.count == 3)
        // Every alert on stdout was handed to the command, in stdout's order.
        #expect(run.lines(run.got) == printed)
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        #expect(run.stderr.contains("interrupted by \(name): read 4 of 5 input(s)"), "\(run.stderr)")
        // The summary line still comes, counting the alerts printed.
        #expect(run.stderr.contains("3 alert(s)"), "\(run.stderr)")
    }

    @Test func aSecondSIGINTWhileTheCommandIsWaitedForExitsAtOnce() throws {
        let run = try Self.start { got in "sh -c \"cat >> \(got); sleep 3\"" }
        let ready = run.wait(seconds: 60) { run.lines(run.out).count == 3 && run.lines(run.got).count >= 1 }
        #expect(ready, "stdout \(run.lines(run.out).count) line(s), command \(run.lines(run.got).count)")
        kill(run.pid, SIGINT)
        #expect(run.wait(seconds: 30) { run.stderr.contains("again to exit at once") }, "\(run.stderr)")
        let sent = Date()
        kill(run.pid, SIGINT)
        let ended = run.end(within: 30)
        let took = Date().timeIntervalSince(sent)
        #expect(ended == .exited(130), "\(run.stderr)")
        // Well before the two alerts still waiting (three seconds each) could have been handed over.
        #expect(took < 2.5)
        #expect(run.stderr.contains("SIGINT again: exiting at once"), "\(run.stderr)")
        #expect(run.lines(run.got).count < 3)
    }

    /// A closed stdout ended ingest by SIGPIPE with the alerts queued for the command lost; now the
    /// write fails (EPIPE), reading stops, the queue is handed over, and ingest still ends by SIGPIPE.
    @Test func aClosedStdoutStopsReadingAndTheCommandStillGetsTheAlerts() throws {
        let run = try Self.start(hook: { got in "sh -c \"cat >> \(got); sleep 0.5\"" }, closedStdout: true)
        // Without the stop, ingest would wait on the FIFO for good (killed after the minute).
        let ended = run.end(within: 60)
        #expect(ended == .signalled(SIGPIPE), "\(run.stderr)")
        #expect(run.stderr.contains("stdout was closed: stopped reading after"), "\(run.stderr)")
        // The alert whose line could not be written, and any decided with it, reached the command.
        let delivered = run.lines(run.got)
        #expect(!delivered.isEmpty, "\(run.stderr)")
        for line in delivered { #expect(line.hasPrefix("{\"type\":\"alert\""), "\(line)") }
    }
}
