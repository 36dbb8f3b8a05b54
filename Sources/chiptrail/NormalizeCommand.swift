import ArgumentParser
import Foundation
import Inputs
import NormalizedRecords
import ObjectStore
import Pipeline
import UsageModel
import LogFormats

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The first stage of a distributed run: read inputs with `ingest`'s readers and decoders and write
/// what they decode, one compact binary file per input, for `ingest --normalized` to merge.
struct NormalizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "normalize",
        abstract:
            "Decode inputs as ingest would and write their records compactly (the map stage of Scripts/spark-ingest).",
        discussion: """
            Each input is read with the readers, format sniffing, decoders and GeoIP look-up of ingest, \
            and what ingest's merge would receive from it — events, reduced calls, names, diagnostics, \
            counts, with each record's file:line under the input's own name — is written as one binary \
            file (format: Sources/NormalizedRecords/NormalizedRecordWriter.swift). Merging those files \
            with 'ingest --normalized' gives the same alerts, sessions and scores as ingesting the \
            inputs, because the merge sees the same values in the same order: inputs are listed and \
            ordered here exactly as ingest lists them (directories recursively, by the delivery time in \
            file names, then by path), and the output files are numbered in that order.

            Problems of single records are kept in the output and reported by ingest --normalized; \
            paths that cannot be listed are reported here (exit status 1).

            Give the same --format, --geoip, --ip-intel, --config, --max-decompressed, --max-record-size and \
            --inflater as to ingest: they change what is decoded. Mappings and resellers are used only \
            by the merge.

            Examples:
              chiptrail normalize --geoip ip.csv --output norm/ AWSLogs/
              chiptrail ingest --no-store --normalized --mappings m.csv norm/
              chiptrail normalize --list AWSLogs/ | xargs -0 -n 1 echo
              chiptrail normalize --list s3://org-trail/AWSLogs/
              chiptrail normalize --list --sizes s3://org-trail/AWSLogs/ | tr '\\000' '\\n'
              printf '%s\\0' a.json.gz b.json.gz | chiptrail normalize --inputs-from - --output -
            """)

    @Option(
        help: ArgumentHelp(
            "Input format, as for ingest: \(InputFormat.allCases.map(\.rawValue).joined(separator: "|")).",
            valueName: "format"))
    var format: String = "auto"

    @Option(
        name: .customLong("geoip"),
        help: ArgumentHelp("IP→country ranges, as for ingest (repeatable).", valueName: "file"))
    var geoip: [String] = []

    @Option(
        name: .customLong("ip-intel"),
        help: ArgumentHelp(
            "IP-intelligence feed (MaxMind GeoIP Anonymous IP CSV), as for ingest (repeatable).", valueName: "file"))
    var ipIntel: [String] = []

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "The config file given to ingest (record size, caps, billing types, catalogue).", valueName: "file"))
    var config: String?

    @Option(
        name: .customLong("max-decompressed"), help: ArgumentHelp("As for ingest (default 16GiB).", valueName: "size"))
    var maxDecompressed: String?

    @Option(
        name: .customLong("max-record-size"), help: ArgumentHelp("As for ingest (default 16MiB).", valueName: "size"))
    var maxRecordSize: String?

    @Option(help: ArgumentHelp("Gzip inflater, as for ingest: isal (default) or zlib.", valueName: "name"))
    var inflater: String = Inflater.isal.rawValue

    @Option(
        name: .customLong("endpoint-url"),
        help: ArgumentHelp(
            "An S3-compatible endpoint for s3:// inputs, as for ingest (credentials as the AWS CLI finds them).",
            valueName: "url"))
    var endpointURL: String?

    @Option(
        help: ArgumentHelp(
            "A directory to write NNNNNNNNN.normalized files into, one per input in ingest's order; or - for a stream on stdout: per input, its length (8 bytes, little-endian) and its bytes.",
            valueName: "dir"))
    var output: String?

    @Flag(help: "Print the inputs in the order ingest reads them, each ended by a NUL byte, and write nothing.")
    var list = false

    @Flag(
        help:
            "With --list: each input as its size in bytes as stored (an object's as listed, a file's as it is now; 0 when it cannot be read), a tab, and its name, ended by a NUL byte — what spark-ingest deals tasks by."
    )
    var sizes = false

    @Option(
        name: .customLong("inputs-from"),
        help: ArgumentHelp(
            "Read the input files' names from FILE (- for stdin), each ended by a NUL byte, as --list prints them: they are read as named, not listed again.",
            valueName: "file"))
    var inputsFrom: String?

    @Flag(name: .customLong("quiet"), help: "No summary line on stderr.")
    var quiet = false

    @Argument(
        help: ArgumentHelp(
            "Files, directories or s3://bucket/prefix locations (as for ingest; not -).", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if list == (output != nil) {
            throw ValidationError("give --output DIR (or -) to write, or --list to list the inputs")
        }
        if sizes && !list {
            throw ValidationError("--sizes goes with --list")
        }
        if list && inputsFrom != nil {
            throw ValidationError("--list lists PATHs; --inputs-from names inputs already listed")
        }
        if paths.isEmpty == (inputsFrom == nil) {
            throw ValidationError("name the inputs either as PATHs or with --inputs-from FILE, not both")
        }
        if paths.contains("-") {
            throw ValidationError(
                "normalize reads files, directories and s3:// locations; stdin is read by ingest itself")
        }
        try ObjectInputWiring.validateLocations(paths)
        if InputFormat(rawValue: format) == nil {
            throw ValidationError(
                "unknown --format '\(format)'; one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The reading options as ingest's: the same setup code makes the same ``IngestOptions``.
    func readerOptions() throws -> ReaderOptions {
        var arguments = ["--format", format, "--inflater", inflater, "--jobs", "1"]
        for path in geoip { arguments += ["--geoip", path] }
        for path in ipIntel { arguments += ["--ip-intel", path] }
        if let config { arguments += ["--config", config] }
        if let maxDecompressed { arguments += ["--max-decompressed", maxDecompressed] }
        if let maxRecordSize { arguments += ["--max-record-size", maxRecordSize] }
        if let endpointURL { arguments += ["--endpoint-url", endpointURL] }
        return try ReaderOptions.parse(arguments)
    }

    func run() throws {
        MemoryTuning.keepFreedMemory()
        var inputs: [String] = []
        var listingFailed = false
        var listedSizes: [Int64?] = []
        if let inputsFrom {
            let bytes: [UInt8]
            do {
                bytes = try InputReader.readAll(path: inputsFrom, maxBytes: 1 << 30)
            } catch {
                Diagnostics.report(error.diagnostic)
                throw ExitStatus(code: 2)
            }
            inputs = bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }
        // The configuration is checked before anything is listed or distributed: a bad one ends the
        // run here (exit status 2). Its single-row problems are the merge's to report, once.
        let reader = try readerOptions()
        var setup = try PipelineSetup.atStart(reader, reportRows: false)
        var objects: ObjectReaderSource? = nil
        if inputsFrom == nil {
            // ingest's own expansion (each PATH by itself, then merged in delivery order), so the same list.
            let (found, problems, source, foundSizes) = try ObjectInputWiring.expand(
                paths, reader: reader, setup: &setup, keepObjects: !list)
            problems.forEach(Diagnostics.report)
            listingFailed = problems.contains { $0.severity == .error }
            inputs = found
            objects = source
            listedSizes = foundSizes
        } else if inputs.contains(where: { S3Location.object(fromInputName: $0) != nil }) {
            // Objects named by a listing made elsewhere (spark-ingest's driver): read as they are now.
            let source = ObjectReaderSource(client: try ObjectInputWiring.makeClient(reader))
            setup.options.opener = { name, limits throws(InputError) in try source.open(name, limits: limits) }
            objects = source
        }
        do {
            if list {
                var out: [UInt8] = []
                for (n, name) in inputs.enumerated() {
                    if sizes { out += Array("\(listedSizes[n] ?? Self.storedSize(of: name))\t".utf8) }
                    out += Array(name.utf8) + [0]
                }
                try NormalizedOutput.write(out, to: STDOUT_FILENO, naming: "stdout")
            } else {
                let summary = try Self.normalize(inputs, setup: setup, objects: objects, output: output!)
                if !quiet { Diagnostics.printRaw(summary) }
            }
        } catch {
            Diagnostics.printRaw(error.message)
            throw ExitStatus(code: 2)
        }
        if listingFailed { throw ExitStatus(code: 1) }
    }

    /// A local input's size as stored, from `stat` (0 when it cannot be read: the read reports it); an
    /// object's comes from its listing.
    static func storedSize(of name: String) -> Int64 {
        var status = stat()
        return stat(name, &status) == 0 ? Int64(status.st_size) : 0
    }

    /// Each input read as ingest reads it and written to `output` (a directory, or `-`: stdout); an
    /// object's ledger identity (its size and ETag as read, from `objects`) goes with its records, so a
    /// store written by the merge keys it as ingest's would.
    /// - Returns: the summary line.
    static func normalize(
        _ inputs: [String], setup: PipelineSetup, objects: ObjectReaderSource?, output: String
    ) throws(NormalizedOutput.Failure) -> String {
        let normalizer = InputNormalizer(options: setup.options, geo: setup.geo, anonymous: setup.anonymous)
        var out = try NormalizedOutput(output == "-" ? .stream(STDOUT_FILENO) : .directory(output))
        let started = MonotonicClock.seconds()
        for name in inputs {
            var input = normalizer.normalize(name)
            if let object = objects?.object(named: name) {
                input.ledgerIdentity = ObjectInputs.fingerprint(object)
                objects?.forget(name)
            }
            _ = objects?.takeFailure(name)  // reported in the records already (the read's end check)
            try out.write(input)
        }
        let seconds = MonotonicClock.seconds() - started
        let perRecord = out.records > 0 ? Double(out.writtenBytes) / Double(out.records) : 0
        return
            "chiptrail: normalized \(inputs.count) input(s), \(SummaryLine.format(Double(out.decodedBytes) / 1e6)) MB decoded in \(SummaryLine.format(seconds)) s; \(out.records) record(s) kept in \(out.writtenBytes) bytes (\(SummaryLine.format(perRecord)) bytes a record)"
    }
}
