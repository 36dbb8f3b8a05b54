import Synchronization
public import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a command per alert with the alert's JSON line on its stdin — never in its arguments, and
/// never through a shell, so no log text is interpreted. A command that fails (non-zero exit, killed,
/// or over the timeout) is reported and retried with back-off; after the last try the alert is
/// counted in `failures` (it stays in the store).
///
/// Each run is a process group of its own, so that a Ctrl-C in a terminal (SIGINT to the foreground
/// group) does not also end the command; a run over the timeout has its whole group killed, and
/// ``interrupt()`` kills the one in progress from another thread.
public final class ExecSink: InterruptibleAlertSink {
    public let arguments: [String]
    public var timeout: Double
    public var attempts: Int
    public var backoff: Double
    public private(set) var failures = 0
    public var onError: (String) -> Void = { _ in }
    /// The document written to stdin: the alert's JSON line by default.
    public var body: (Alert) -> String = { AlertEncoding.json($0) }
    /// Said of an alert not delivered after the last try: where it can still be found.
    public var undeliveredNote = "it is in the store"
    /// The run in progress (its pid, which is its process group) and whether ``interrupt()`` was called.
    private let interruption = Mutex<(running: pid_t?, interrupted: Bool)>((nil, false))

    /// - Parameter command: the operator's command line, split into words like a shell would
    ///   (quotes, backslashes) but not run by one: no expansion, no redirection.
    public init?(command: String, timeout: Double = 10, attempts: Int = 3, backoff: Double = 0.5) {
        guard let words = Self.split(command), !words.isEmpty else { return nil }
        arguments = words
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
    }

    /// The program the command runs, as `posix_spawnp` would find it: a path with a `/` as given, else
    /// the first executable regular file of that name on `PATH`; nil when there is none.
    public func resolvedExecutable(path searchPath: String? = nil) -> String? {
        let program = arguments[0]
        func isExecutable(_ candidate: String) -> Bool {
            var info = stat()
            return stat(candidate, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(candidate, X_OK) == 0
        }
        if program.contains("/") { return isExecutable(program) ? program : nil }
        let directories = (searchPath ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin").split(
            separator: ":", omittingEmptySubsequences: false)
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// Splits a command line into words: whitespace separates, '…' and "…" quote, \ escapes.
    /// Returns nil for an unclosed quote.
    public static func split(_ line: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escape = false
        for c in line {
            if escape {
                current.append(c)
                escape = false
                continue
            }
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "\\" && q == "\"" {
                    escape = true
                } else {
                    current.append(c)
                }
                continue
            }
            switch c {
            case "\\":
                escape = true
                inWord = true
            case "'", "\"":
                quote = c
                inWord = true
            case " ", "\t", "\n":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            default:
                current.append(c)
                inWord = true
            }
        }
        if quote != nil || escape { return nil }
        if inWord { words.append(current) }
        return words
    }

    /// The longest one alert may take: every try up to the timeout, and the back-off between them.
    public var longestDelivery: Double {
        timeout * Double(attempts) + (1..<attempts).reduce(0) { $0 + backoff * Double(1 << ($1 - 1)) }
    }

    /// Kills the run in progress (its process group) and ends its retries: the alert in hand is neither
    /// delivered nor counted as failed, and later alerts are not run. Safe from any thread.
    public func interrupt() {
        let running = interruption.withLock {
            $0.interrupted = true
            return $0.running
        }
        if let running { Self.killGroup(running) }
    }

    /// Whether ``interrupt()`` was called.
    public var isInterrupted: Bool { interruption.withLock { $0.interrupted } }

    /// SIGKILL to the process group `pid` leads; to `pid` alone when the command left that group.
    private static func killGroup(_ pid: pid_t) {
        if kill(-pid, SIGKILL) != 0 { kill(pid, SIGKILL) }
    }

    public func deliver(_ alert: Alert) {
        let input = body(alert) + "\n"
        for attempt in 1...attempts {
            if isInterrupted { return }
            let problem = run(input)
            guard let problem else { return }
            if isInterrupted { return }
            if attempt < attempts {
                onError("exec '\(arguments[0])': \(problem); alert \(alert.id), retry \(attempt + 1) of \(attempts)")
                usleep(useconds_t(backoff * Double(1 << (attempt - 1)) * 1_000_000))
            } else {
                failures += 1
                onError(
                    "exec '\(arguments[0])': \(problem); alert \(alert.id) not delivered after \(attempts) tries (\(undeliveredNote))"
                )
            }
        }
    }

    /// Runs the command once; nil when it exited 0 within the timeout.
    func run(_ input: String) -> String? {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { return "pipe: \(String(cString: strerror(errno)))" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        // The command starts with SIGPIPE at its default and no signal blocked, whatever this process
        // ignores or this thread blocks (tail ignores SIGPIPE; a child inherits an ignored signal).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        // A process group of its own (pgid = its pid): a terminal's SIGINT to chiptrail's group does not
        // reach it, and a timeout kills whatever it started.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(pipeFDs[0])
        guard rc == 0 else {
            close(pipeFDs[1])
            return "cannot run: \(String(cString: strerror(rc)))"
        }
        let interrupted = interruption.withLock {
            $0.running = pid
            return $0.interrupted
        }
        if interrupted { Self.killGroup(pid) }
        // Write the alert; a command that does not read it gets EPIPE, which is not our failure. SIGPIPE
        // is blocked on this thread only (the disposition is the whole process's, and the merge may be
        // writing stdout meanwhile); one raised by this write is taken before the mask is restored. The
        // command was spawned before, with this thread's usual mask.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previousMask)
        FileDescriptorWriter.writeAll(pipeFDs[1], input)
        close(pipeFDs[1])
        var pending = sigset_t()
        if sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1 && sigismember(&previousMask, SIGPIPE) == 0
        {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSignal, nil, &now)
        }
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        // Wait, up to the timeout. The exit is seen without reaping it (WNOWAIT), so that the pid, and
        // its group, cannot be taken by another process while ``interrupt()`` may still signal it.
        let deadline = MonotonicClock.seconds() + timeout
        var timedOut = false
        while true {
            var info = siginfo_t()
            let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if r == 0 && info._sifields._sigchld.si_pid == pid { break }
            if r < 0 && errno != EINTR {
                let problem = "waitid: \(String(cString: strerror(errno)))"
                interruption.withLock { $0.running = nil }
                return problem
            }
            if MonotonicClock.seconds() > deadline {
                Self.killGroup(pid)
                timedOut = true
                break
            }
            usleep(2_000)
        }
        interruption.withLock { $0.running = nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut {
            return "timed out after \(JSONWriter.formatNumber(timeout, decimals: 1)) s (its process group killed)"
        }
        let exited = status & 0x7F == 0
        if exited {
            let code = (status >> 8) & 0xFF
            return code == 0 ? nil : "exited with status \(code)"
        }
        return "killed by signal \(status & 0x7F)"
    }
}
