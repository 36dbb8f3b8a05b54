import LogFormats
import IngestService
import Alerting
import ArgumentParser
import Foundation
import Inputs
import ObjectStore
import Pipeline
import Store
import UsageModel

/// Options shared by `ingest` and `tail`: the SPEC names them.
struct ReaderOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("mappings"),
        help: ArgumentHelp("Account→reseller mapping CSV (repeatable).", valueName: "file"))
    var mappings: [String] = []

    @Option(
        name: .customLong("resellers"),
        help: ArgumentHelp("Reseller CSV with parent chains (repeatable).", valueName: "file"))
    var resellers: [String] = []

    @Option(
        name: .customLong("geoip"),
        help: ArgumentHelp(
            "IP→country ranges: DB-IP/IP2Location range CSV, or the two GeoLite2-Country CSVs (repeatable).",
            valueName: "file"))
    var geoip: [String] = []

    @Option(
        name: .customLong("ip-intel"),
        help: ArgumentHelp(
            "IP-intelligence feed naming anonymising networks (VPN, hosting, proxy, Tor): MaxMind GeoIP Anonymous IP CSV (repeatable).",
            valueName: "file"))
    var ipIntel: [String] = []

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("Thresholds, weights, restricted countries, catalogue overrides.", valueName: "file"))
    var config: String?

    @Option(
        help: ArgumentHelp(
            "Input format: \(InputFormat.allCases.map(\.rawValue).joined(separator: "|")).", valueName: "format"))
    var format: String = "auto"

    @Option(
        help: ArgumentHelp(
            "Alert output on stdout: jsonl (the SPEC's JSON lines), ocsf (OCSF Detection Finding, class 2004), text.",
            valueName: "style"))
    var alerts: String = "jsonl"

    @Option(
        help: ArgumentHelp(
            "Also send each alert to syslog, RFC 5424 with structured data: unix:/dev/log, udp://host:port or tcp://host:port (octet-counted).",
            valueName: "target"))
    var syslog: String?

    @Option(
        help: ArgumentHelp(
            "Also run CMD per alert with the alert on its stdin (never in its arguments; no shell). Failures are retried twice, then logged.",
            valueName: "cmd"))
    var exec: String?

    @Option(
        name: .customLong("exec-timeout"),
        help: ArgumentHelp("Seconds a --exec command may run (default 10).", valueName: "s"))
    var execTimeout: Double = 10

    @Option(
        name: .customLong("min-score"),
        help: ArgumentHelp("Emit alerts at or above this score (default from config: 0.5).", valueName: "x"))
    var minScore: Double?

    @Option(help: ArgumentHelp("Parallel readers (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    @Option(
        name: .customLong("max-decompressed"),
        help: ArgumentHelp(
            "Cap on one file's decompressed size, against decompression bombs (default 16GiB).", valueName: "size"))
    var maxDecompressed: String?

    @Option(
        name: .customLong("max-record-size"),
        help: ArgumentHelp("Records larger than this are skipped (default 16MiB).", valueName: "size"))
    var maxRecordSize: String?

    @Option(
        help: ArgumentHelp(
            "Gzip inflater: isal (Intel ISA-L, default) or zlib; the same bytes and the same faults either way.",
            valueName: "name"))
    var inflater: String = Inflater.isal.rawValue

    @Option(
        name: .customLong("endpoint-url"),
        help: ArgumentHelp(
            "An S3-compatible endpoint instead of AWS's (path-style addressing); credentials and region as the AWS CLI resolves them.",
            valueName: "url"))
    var endpointURL: String?

    @Flag(name: .customLong("quiet"), help: "No summary line on stderr.")
    var quiet = false

    func validateHooks() throws {
        if LineAlertSink.Style(rawValue: alerts) == nil {
            throw ValidationError("unknown --alerts '\(alerts)'; one of jsonl, ocsf, text")
        }
        if let syslog, SyslogTarget(syslog) == nil {
            throw ValidationError("--syslog takes unix:/path, udp://host:port or tcp://host:port, not '\(syslog)'")
        }
        if let exec {
            guard let sink = ExecSink(command: exec) else {
                throw ValidationError("--exec '\(exec)' has an unclosed quote or is empty")
            }
            if sink.resolvedExecutable() == nil {
                throw ValidationError(
                    "--exec: '\(sink.arguments[0])' is not an executable file\(sink.arguments[0].contains("/") ? "" : " on PATH"); give the command's path, or install it"
                )
            }
        }
        if !(execTimeout > 0) { throw ValidationError("--exec-timeout takes a number of seconds above 0") }
    }

    /// Stdout in the chosen style; syslog and the command, when asked, always get the SPEC's alert JSON
    /// (`--alerts` chooses what stdout shows, not what hooks parse).
    /// - Parameters:
    ///   - stored: whether alerts are kept in a store (said of an alert a command did not take).
    ///   - hookThread: whether the command runs on a thread of its own (``QueuedAlertSink``), returned
    ///     as `hook` to be finished before the summary; otherwise it runs on the caller's thread.
    ///   - onStdoutClosed: called once when stdout's reader is gone (EPIPE; SIGPIPE must be ignored).
    func makeAlertSink(
        stored: Bool = true, hookThread: Bool = false, onStdoutClosed: (() -> Void)? = nil
    ) -> (sink: AlertFanOut, hook: QueuedAlertSink?) {
        var sinks = makeLineSinks(onStdoutClosed: onStdoutClosed)
        guard let e = makeExecSink(stored: stored) else { return (sinks, nil) }
        if hookThread {
            let queued = QueuedAlertSink(e)
            sinks.sinks.append(queued)
            return (sinks, queued)
        }
        sinks.sinks.append(e)
        return (sinks, nil)
    }

    /// Stdout in the chosen style and, when asked, syslog with the SPEC's alert JSON: the sinks that take
    /// an alert at once.
    /// - Parameter onStdoutClosed: called once when stdout's reader is gone (EPIPE; SIGPIPE must be ignored).
    func makeLineSinks(onStdoutClosed: (() -> Void)? = nil) -> AlertFanOut {
        let style = LineAlertSink.Style(rawValue: alerts) ?? .jsonl
        var sinks: [any AlertSink] = [LineAlertSink(style: style, onClosed: onStdoutClosed)]
        if let syslog, let target = SyslogTarget(syslog) {
            let s = SyslogSink(target: target)
            s.body = { AlertEncoding.json($0) }
            s.onError = { Diagnostics.printRaw("chiptrail: warning: \($0)") }
            sinks.append(s)
        }
        return AlertFanOut(sinks)
    }

    /// The `--exec` command with the SPEC's alert JSON on its stdin, or nil without `--exec`.
    /// - Parameter stored: whether alerts are kept in a store (said of an alert the command did not take).
    func makeExecSink(stored: Bool = true) -> ExecSink? {
        guard let exec, let e = ExecSink(command: exec, timeout: execTimeout) else { return nil }
        e.body = { AlertEncoding.json($0) }
        e.undeliveredNote = stored ? "it is in the store" : "it was printed on stdout only: --no-store keeps nothing"
        e.onError = { Diagnostics.printRaw("chiptrail: warning: \($0)") }
        return e
    }
}

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read log files, directories (recursively) or - (stdin), and emit alerts.",
        discussion: """
            Every input may be gzip'd (multi-member too) or plain; the format is told by content (JSON keys, \
            CSV header), not by name: AWS CloudTrail (S3 objects, arrays, single events, one per line; digests \
            skipped), GCP Cloud Audit Logs, Azure Activity Log, AWS CUR (legacy and 2.0), FOCUS 1.x, Azure cost \
            exports, and chiptrail NDJSON (README). --format overrides. Audit and billing records of one \
            resource make one session.

            Alerts go to stdout (one JSON object per line by default); problems go to stderr as \
            'file:line: error: [category] message'. Bad records are skipped and named; the rest is read.

            SIGINT (Ctrl-C) or SIGTERM stops the reading at the next input; the alerts already printed are \
            handed to --exec, then ingest exits 130 or 143 (a second signal exits at once).

            Examples:
              chiptrail ingest --no-store --mappings m.csv --resellers r.csv \\
                  --geoip ip.csv AWSLogs/
              zcat trail.json.gz | chiptrail ingest --no-store -
              chiptrail ingest --no-store --alerts text --min-score 0.9 logs/
              chiptrail ingest --mappings m.csv cur/ AWSLogs/ gcp-audit.json.gz \\
                  azure-cost.csv
              chiptrail ingest --alerts ocsf --syslog tcp://siem.example:6514 \\
                  --exec 'notify-oncall --team sec' logs/
            """)

    @OptionGroup var reader: ReaderOptions

    @Option(help: ArgumentHelp("The store (SQLite file; default ./chiptrail.db).", valueName: "path"))
    var store: String?

    @Flag(
        name: .customLong("no-store"), help: "Do not keep what was read (and do not skip alerts an earlier run stored)."
    )
    var noStore = false

    @Flag(
        name: .customLong("store-all"),
        help: "Store every call, not only compute events, sign-ins and calls from restricted countries.")
    var storeAll = false

    @Flag(
        name: .customLong("no-detector"),
        help: ArgumentHelp(
            "Cut sessions but score none (measures what scoring costs; Scripts/bench-detector).", visibility: .hidden))
    var noDetector = false

    @Option(
        name: .customLong("held-memory"),
        help: ArgumentHelp(
            "Memory for records held until event time passes them (default 16MiB); past it they wait in an unlinked file under $TMPDIR. 0 writes them out after every input, 'all' keeps them in memory. The output is the same.",
            valueName: "size", visibility: .hidden))
    var heldMemory: String?

    @Flag(
        name: .customLong("normalized"),
        help: ArgumentHelp(
            "PATHs are what 'chiptrail normalize' wrote (its output directory or files): each is merged as the input it was made from, under that input's name, with the same result as ingesting the inputs (Scripts/spark-ingest)."
        ))
    var normalized = false

    @Option(
        name: .customLong("inputs-from"),
        help: ArgumentHelp(
            "Read the input files' names from FILE (- for stdin), each ended by a NUL byte, instead of PATHs: they are read as named and in that order, not listed again, each as soon as its name arrives (Scripts/spark-ingest names each normalised file as it is written). Local files only.",
            valueName: "file"))
    var inputsFrom: String?

    @Option(
        name: .customLong("inputs-count"),
        help: ArgumentHelp(
            "With --inputs-from: how many names the list holds. A list that ends sooner was cut (its writer died): nothing is decided at an end of input not reached, and ingest exits 2 as if interrupted.",
            valueName: "n"))
    var inputsCount: Int?

    @Argument(help: ArgumentHelp("Files, directories, - for stdin, or s3://bucket/prefix.", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if let inputsCount, inputsFrom == nil || inputsCount < 0 {
            throw ValidationError(
                inputsCount < 0
                    ? "--inputs-count takes a count of at least 0" : "--inputs-count goes with --inputs-from FILE")
        }
        if inputsFrom != nil {
            if !paths.isEmpty {
                throw ValidationError("name the inputs either as PATHs or with --inputs-from FILE, not both")
            }
        } else if paths.isEmpty {
            throw ValidationError("name at least one file or directory, or - for stdin")
        }
        try ObjectInputWiring.validateLocations(paths)
        if noStore && (storeAll || store != nil) {
            throw ValidationError("--no-store cannot go with --store or --store-all")
        }
        guard InputFormat(rawValue: reader.format) != nil else {
            throw ValidationError(
                "unknown --format '\(reader.format)'; one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        try reader.validateHooks()
        if let jobs = reader.jobs, jobs < 1 { throw ValidationError("--jobs takes a whole number of at least 1") }
        if let minScore = reader.minScore, !(0...1).contains(minScore) {
            throw ValidationError("--min-score takes a score in [0,1]")
        }
    }

    /// The inputs: PATHs expanded, or the names `--inputs-from` gives as they come (a list cut before
    /// `--inputs-count` names stops the run; the stream, returned, says whether it was).
    private func inputSequence(setup: inout PipelineSetup, stop: StopRequest) throws -> (
        InputSequence, [Diagnostic], NameStream?
    ) {
        guard let inputsFrom else {
            let (inputs, problems) = try ObjectInputWiring.inputs(
                paths, reader: reader, setup: &setup, report: Diagnostics.report)
            return (inputs, problems, nil)
        }
        do {
            let names = try NameStream(
                path: inputsFrom, expected: inputsCount, stopped: { stop.isRequested }, onCut: { stop.request() })
            return (InputSequence([.stream(names)], source: nil, report: Diagnostics.report), [], names)
        } catch {
            Diagnostics.report(error.diagnostic)
            throw ExitStatus(code: 2)
        }
    }

    func run() throws {
        MemoryTuning.keepFreedMemory()
        var setup = try PipelineSetup.atStart(reader)
        try configure(&setup.options)
        // SIGINT, SIGTERM or a closed stdout: reading stops, and the alerts already given to the sinks
        // are handed to the command before ingest exits. A closed stdout is EPIPE, not SIGPIPE's end.
        let stop = StopRequest()
        var stdoutClosed = false
        signal(SIGPIPE, SIG_IGN)
        // A slow --exec command runs beside the merge, not in it: reading goes on while it runs.
        let alertSinks = reader.makeAlertSink(
            stored: !noStore, hookThread: true,
            onStdoutClosed: {
                stdoutClosed = true
                stop.request()
            })
        let hook = alertSinks.hook
        let interrupt = InterruptTrap.install(stop: stop, hook: hook)
        let store = try openStore()
        let (inputs, missing, names) = try inputSequence(setup: &setup, stop: stop)
        missing.forEach(Diagnostics.report)
        let delivery = OutcomeDelivery(
            sink: alertSinks.sink, storeWriter: store.map { StoreWriter(store: $0, objects: inputs) }, inputs: inputs,
            evidenceLog: EvidenceLog.fromEnvironment(), beforeAlert: Diagnostics.clearProgress,
            report: { Diagnostics.printRaw($0.description) })
        let pipeline = IngestPipeline(
            options: setup.options, detector: setup.detector, geo: setup.geo, anonymous: setup.anonymous,
            onDiagnostic: Diagnostics.report,
            onOutcome: delivery.take)
        pipeline.onLargeFree = MemoryTuning.returnFreePages
        let started = MonotonicClock.seconds()
        let progress = !reader.quiet && isatty(STDERR_FILENO) == 1
        if progress {
            var line = ProgressLine(started: started)
            pipeline.onProgress = { done, total, summary in line.update(done: done, total: total, summary: summary) }
        }
        let summary = pipeline.run(expected: inputs.expected, next: inputs.next, stop: stop)
        if progress { Diagnostics.writeControl("\r\u{1B}[K") }
        if summary.interrupted { delivery.commitInterrupted() }
        if let signal = interrupt.signal, let hook, hook.waitingCount > 0 {
            let name = InterruptTrap.name(of: signal)
            Diagnostics.printRaw(
                "chiptrail: \(name): handing the \(hook.waitingCount) alert(s) still waiting to --exec"
                    + " (\(name) again to exit at once)")
        }
        hook?.finish()
        if !reader.quiet {
            Diagnostics.printRaw(
                SummaryLine.text(
                    summary, seconds: MonotonicClock.seconds() - started, emitted: delivery.alertsEmitted))
        }
        let read = inputs.expected > summary.files ? "\(summary.files) of \(inputs.expected)" : "\(summary.files)"
        if summary.interrupted, names?.wasCut == true {
            Diagnostics.printRaw(
                "chiptrail: the list of inputs was cut: read \(read) input(s); the sessions still running were not"
                    + " decided; run ingest again to read every input")
            throw ExitStatus(code: 2)
        }
        if summary.interrupted, let signal = interrupt.signal {
            let name = InterruptTrap.name(of: signal)
            Diagnostics.printRaw(
                "chiptrail: interrupted by \(name): read \(read) input(s); the rest were not read and the sessions"
                    + " still running were not decided; run ingest again to read every input")
            throw ExitStatus(code: delivery.storeFailure != nil ? 2 : InterruptTrap.exitStatus(for: signal))
        }
        if stdoutClosed { try endAfterStdoutClosed(read: read) }
        if delivery.storeFailure != nil { throw ExitStatus(code: 2) }
        if missing.contains(where: { $0.severity == .error }) || inputs.listingFailed || summary.rejectedInput
            || setup.hadProblems
        {
            throw ExitStatus(code: 1)
        }
    }

    /// The pipeline's options this command's flags set: what is kept for the store, scoring, normalized
    /// input, the held-record budget.
    private func configure(_ options: inout IngestOptions) throws {
        options.keepCalls = noStore ? .none : (storeAll ? .all : .evidence)
        options.scoring = !noDetector
        options.readsNormalized = normalized
        guard let text = heldMemory else { return }
        if text == "all" {
            options.heldMemoryBudget = nil
        } else if text == "0" {
            options.heldMemoryBudget = 0
        } else if let bytes = ConfigFile.parseSize(text) {
            options.heldMemoryBudget = Int(clamping: bytes)
        } else {
            throw ValidationError("--held-memory takes a size such as 32MiB, or all; found '\(text)'")
        }
    }

    /// The store to write, unless `--no-store`; a store that cannot be opened ends the run (exit 2).
    private func openStore() throws -> Store? {
        guard !noStore else { return nil }
        do {
            return try Store(path: self.store ?? Store.defaultPath, command: "ingest", rendering: .sinks)
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
    }

    /// A closed stdout stopped the run: says what was not printed and where the alerts went, then ends
    /// as SIGPIPE ended it before, so that a pipeline sees the status it saw.
    private func endAfterStdoutClosed(read: String) throws -> Never {
        let kept = [
            reader.exec == nil && reader.syslog == nil ? nil : "the hooks had them",
            noStore ? nil : "the store has them",
        ].compactMap { $0 }
        Diagnostics.printRaw(
            "chiptrail: stdout was closed: stopped reading after \(read) input(s); the alerts from then on"
                + " were not printed" + (kept.isEmpty ? "" : " (" + kept.joined(separator: ", ") + ")"))
        signal(SIGPIPE, SIG_DFL)
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_UNBLOCK, &pipeSignal, nil)
        raise(SIGPIPE)
        throw ExitStatus(code: 128 + SIGPIPE)
    }
}

extension PipelineSetup {
    /// The setup at start: a configuration error is reported and ends the run with exit status 2; the
    /// problems of single rows are reported (unless `reportRows` is false: `normalize` leaves them to the
    /// merge, which reports them once) and the run goes on.
    static func atStart(_ reader: ReaderOptions, reportRows: Bool = true) throws -> PipelineSetup {
        do {
            let setup = try PipelineSetup(reader.settings())
            if reportRows { setup.problems.forEach(Diagnostics.report) }
            return setup
        } catch let error as ConfigurationError {
            error.diagnostics.forEach(Diagnostics.report)
            Diagnostics.printRaw("chiptrail: nothing was read: the configuration named above is not usable")
            throw ExitStatus(code: 2)
        }
    }
}

/// A status line on a terminal's stderr, redrawn at most ten times a second: files, bytes, rate.
struct ProgressLine {
    let started: Double
    var lastDraw = -Double.infinity

    init(started: Double) { self.started = started }

    mutating func update(done: Int, total: Int, summary: IngestSummary) {
        let now = MonotonicClock.seconds()
        guard now - lastDraw > 0.1 || done == total else { return }
        lastDraw = now
        let seconds = now - started
        let mb = Double(summary.decodedBytes) / 1e6
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Diagnostics.progressShown = true
        Diagnostics.writeControl(
            "\r\u{1B}[K[\(bar)] \(done)/\(total) files, \(SummaryLine.format(mb)) MB, \(SummaryLine.format(seconds > 0 ? mb / seconds : 0)) MB/s, \(summary.alerts) alert(s)",
            newline: false)
    }
}

enum SummaryLine {
    static func text(_ s: IngestSummary, seconds: Double, emitted: Int) -> String {
        let mb = Double(s.decodedBytes) / 1_000_000
        let rate = seconds > 0 ? mb / seconds : 0
        var parts = [
            "read \(s.files) file(s), \(format(mb)) MB in \(format(seconds)) s (\(format(rate)) MB/s)",
            "\(s.records) record(s)",
        ]
        if s.recordsRejected > 0 { parts.append("\(s.recordsRejected) rejected") }
        if s.filesFailed > 0 { parts.append("\(s.filesFailed) file(s) not read to the end") }
        if s.documentsSkipped > 0 { parts.append("\(s.documentsSkipped) digest(s) skipped") }
        if s.duplicateEvents > 0 { parts.append("\(s.duplicateEvents) duplicate(s)") }
        if s.lateRecords > 0 {
            parts.append("\(s.lateRecords) record(s) later than the allowed lateness")
        }
        let earlier = s.alerts - emitted
        parts.append(
            "\(s.accounts) account(s), \(s.sessions) session(s), \(emitted) alert(s)"
                + (earlier > 0 ? " (\(earlier) more already in the store)" : ""))
        return "chiptrail: " + parts.joined(separator: "; ")
    }

    static func format(_ value: Double) -> String {
        String(format: value >= 100 ? "%.0f" : "%.2f", value)
    }
}

extension ReaderOptions {
    /// What the options say of the pipeline's setup, sizes and names parsed.
    /// - Throws: `ValidationError` for a size or an inflater the options cannot name.
    func settings() throws -> PipelineSettings {
        var settings = PipelineSettings()
        settings.config = config
        settings.minScore = minScore
        if let text = maxDecompressed {
            guard let bytes = ConfigFile.parseSize(text) else {
                throw ValidationError(
                    "--max-decompressed takes a size such as 512MiB or 16GiB, below 8EiB; found '\(text)'")
            }
            settings.maxDecompressedBytes = bytes
        }
        guard let inflater = Inflater(rawValue: inflater) else {
            throw ValidationError("unknown --inflater '\(self.inflater)'; one of isal, zlib")
        }
        settings.inflater = inflater
        if let text = maxRecordSize {
            guard let bytes = ConfigFile.parseSize(text) else {
                throw ValidationError("--max-record-size takes a size such as 16MiB, below 8EiB; found '\(text)'")
            }
            settings.maxRecordBytes = Int(bytes)
        }
        settings.mappings = mappings
        settings.resellers = resellers
        settings.geoip = geoip
        settings.ipIntel = ipIntel
        settings.jobs = jobs
        settings.format = InputFormat(rawValue: format) ?? .auto
        return settings
    }
}
