import ArgumentParser
import Foundation
import Inputs
import NormalizedRecords
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

            Give the same --format, --geoip, --config, --max-decompressed, --max-record-size and \
            --inflater as to ingest: they change what is decoded. Mappings and resellers are used only \
            by the merge.

            Examples:
              chiptrail normalize --geoip ip.csv --output norm/ AWSLogs/
              chiptrail ingest --no-store --normalized --mappings m.csv norm/
              chiptrail normalize --list AWSLogs/ | xargs -0 -n 1 echo
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
        help: ArgumentHelp(
            "A directory to write NNNNNNNNN.normalized files into, one per input in ingest's order; or - for a stream on stdout: per input, its length (8 bytes, little-endian) and its bytes.",
            valueName: "dir"))
    var output: String?

    @Flag(help: "Print the inputs in the order ingest reads them, each ended by a NUL byte, and write nothing.")
    var list = false

    @Option(
        name: .customLong("inputs-from"),
        help: ArgumentHelp(
            "Read the input files' names from FILE (- for stdin), each ended by a NUL byte, as --list prints them: they are read as named, not listed again.",
            valueName: "file"))
    var inputsFrom: String?

    @Flag(name: .customLong("quiet"), help: "No summary line on stderr.")
    var quiet = false

    @Argument(help: ArgumentHelp("Files or directories (as for ingest; not - or s3://).", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if list == (output != nil) {
            throw ValidationError("give --output DIR (or -) to write, or --list to list the inputs")
        }
        if list && inputsFrom != nil {
            throw ValidationError("--list lists PATHs; --inputs-from names inputs already listed")
        }
        if paths.isEmpty == (inputsFrom == nil) {
            throw ValidationError("name the inputs either as PATHs or with --inputs-from FILE, not both")
        }
        if paths.contains("-") || paths.contains(where: { $0.hasPrefix("s3://") }) {
            throw ValidationError(
                "normalize reads local files and directories; stdin and s3:// are read by ingest itself")
        }
        if InputFormat(rawValue: format) == nil {
            throw ValidationError(
                "unknown --format '\(format)'; one of \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The reading options as ingest's: the same setup code makes the same ``IngestOptions``.
    func readerOptions() throws -> ReaderOptions {
        var arguments = ["--format", format, "--inflater", inflater, "--jobs", "1"]
        for path in geoip { arguments += ["--geoip", path] }
        if let config { arguments += ["--config", config] }
        if let maxDecompressed { arguments += ["--max-decompressed", maxDecompressed] }
        if let maxRecordSize { arguments += ["--max-record-size", maxRecordSize] }
        return try ReaderOptions.parse(arguments)
    }

    func run() throws {
        MemoryTuning.keepFreedMemory()
        var inputs: [String] = []
        var listingFailed = false
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
        var setup: PipelineSetup
        do {
            setup = try PipelineSetup(reader.settings())
        } catch let error as ConfigurationError {
            error.diagnostics.forEach(Diagnostics.report)
            Diagnostics.printRaw("chiptrail: nothing was read: the configuration named above is not usable")
            throw ExitStatus(code: 2)
        }
        if inputsFrom == nil {
            // ingest's own expansion (each PATH by itself, then in the order given), so the same list.
            let (found, problems) = try ObjectInputWiring.expand(paths, reader: reader, setup: &setup)
            problems.forEach(Diagnostics.report)
            listingFailed = problems.contains { $0.severity == .error }
            inputs = found
        }
        if list {
            var out: [UInt8] = []
            for name in inputs { out += Array(name.utf8) + [0] }
            try Self.write(out, to: STDOUT_FILENO, naming: "stdout")
            if listingFailed { throw ExitStatus(code: 1) }
            return
        }
        let normalizer = InputNormalizer(options: setup.options, geo: setup.geo)
        let output = output!
        let toStream = output == "-"
        if !toStream {
            do {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            } catch {
                Diagnostics.printRaw(
                    "\(output): error: [output] cannot create the output directory; check the path and its permissions")
                throw ExitStatus(code: 2)
            }
            // Files of an earlier run would be merged with these: refused, not mixed.
            let earlier = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).filter {
                $0.hasSuffix(".normalized")
            }
            if !earlier.isEmpty {
                Diagnostics.printRaw(
                    "\(output): error: [output] already holds \(earlier.count) normalised file(s) of an earlier run; give an empty or new directory"
                )
                throw ExitStatus(code: 2)
            }
        }
        let started = MonotonicClock.seconds()
        var read: Int64 = 0
        var written: Int64 = 0
        var records = 0
        for (index, name) in inputs.enumerated() {
            let normalized = normalizer.normalize(name)
            read += normalized.decodedBytes
            records += normalized.batch.events.count + normalized.batch.calls.count
            let bytes = NormalizedRecordWriter.encode(normalized)
            written += Int64(bytes.count)
            if toStream {
                var length = UInt64(bytes.count).littleEndian
                let header = withUnsafeBytes(of: &length) { Array($0) }
                try Self.write(header + bytes, to: STDOUT_FILENO, naming: "stdout")
            } else {
                let path = (output as NSString).appendingPathComponent(Self.fileName(index))
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else {
                    Diagnostics.printRaw(
                        "\(path): error: [output] cannot create: \(String(cString: strerror(errno)).lowercased()); check the directory and its permissions"
                    )
                    throw ExitStatus(code: 2)
                }
                defer { close(fd) }
                try Self.write(bytes, to: fd, naming: path)
            }
        }
        if !quiet {
            let seconds = MonotonicClock.seconds() - started
            let perRecord = records > 0 ? Double(written) / Double(records) : 0
            Diagnostics.printRaw(
                "chiptrail: normalized \(inputs.count) input(s), \(SummaryLine.format(Double(read) / 1e6)) MB decoded in \(SummaryLine.format(seconds)) s; \(records) record(s) kept in \(written) bytes (\(SummaryLine.format(perRecord)) bytes a record)"
            )
        }
        if listingFailed { throw ExitStatus(code: 1) }
    }

    /// The output file of the `index`th input: names sort in input order and carry no delivery time,
    /// so `ingest --normalized DIR` lists them in that order.
    static func fileName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 9 - digits.count)) + digits + ".normalized"
    }

    static func write(_ bytes: [UInt8], to fd: Int32, naming name: String) throws {
        guard bytes.withUnsafeBytes({ FileDescriptorWriter.writeAll(fd, $0) }) else {
            Diagnostics.printRaw(
                "\(name): error: [output] write failed: \(String(cString: strerror(errno)).lowercased()); check free space"
            )
            throw ExitStatus(code: 2)
        }
    }
}
