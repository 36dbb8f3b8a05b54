import ArgumentParser
import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct Chiptrail: ParsableCommand {
    static let version = ChiptrailVersion.current

    static let configuration = CommandConfiguration(
        commandName: "chiptrail",
        abstract: "Find restricted AI accelerators rented to restricted jurisdictions, in cloud providers' own logs.",
        discussion: """
            chiptrail reads usage and audit logs as providers deliver them (gzip'd or plain), joins each \
            account to the reseller chain and end customer behind it, cuts accelerator use into sessions, \
            and alerts, with a score and its evidence, on sessions where export-controlled accelerators \
            (A100/H100 class and up) are used by accounts linked to restricted jurisdictions.

            Start with:
              chiptrail ingest --no-store --mappings mappings.csv \\
                  --resellers resellers.csv --geoip geoip.csv AWSLogs/
              chiptrail catalog p5.48xlarge

            Exit status: 0 all input read; 1 some input was rejected (each named on stderr with \
            file:line or file:offset); 2 a usage or configuration error; 130 or 143 ingest interrupted by \
            SIGINT or SIGTERM.
            """,
        version: version,
        subcommands: [
            Ingest.self, Tail.self, Query.self, SessionsCommand.self, AlertsCommand.self, Explain.self, Prune.self,
            CatalogCommand.self, Mappings.self, NormalizeCommand.self, InflateCommand.self,
        ]
    )

    /// Parses and runs, mapping errors to the SPEC's exit statuses (usage errors are 2, not 64).
    static func main() {
        MemoryTuning.returnLargeBlocks()
        // A bare `chiptrail` is a usage error: the help, on stderr, and exit status 2.
        if CommandLine.arguments.count == 1 {
            Diagnostics.printRaw(helpMessage())
            Glibc.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitStatus {
            Glibc.exit(exit.code)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Glibc.exit(0)
            }
            if !message.isEmpty {
                Diagnostics.printRaw(message)
            }
            Glibc.exit(code.rawValue == 1 ? 1 : 2)
        }
    }
}

/// A finished run's exit status (thrown so that `defer`s run first).
struct ExitStatus: Error {
    var code: Int32
}
