import Foundation
import Inputs
import LogFormats
import NormalizedRecords
import Ownership
import Pipeline
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// libFuzzer targets over every parser of untrusted bytes: the gzip reader, the JSON framer and its
/// decoders, the CSV splitter and billing decoders, and the mapping, reseller, GeoIP, IP-intelligence
/// and config parsers, and the reader of normalised records (`ingest --normalized`). `CHIPTRAIL_FUZZ_TARGET` picks one (`Scripts/fuzz` runs each with its own corpus).
///
/// Built with `-sanitize=fuzzer -DFUZZING`, libFuzzer supplies `main`; in a plain build, `main` replays
/// the files named on the command line through the target (to reproduce a crash under a debugger).
enum FuzzTargets {
    static let names = [
        "gzip", "cloudtrail", "gcp-audit", "azure-activity", "ndjson", "billing", "mappings",
        "resellers", "geoip", "ipintel", "config", "normalized",
    ]

    static let selected: String = {
        let name = ProcessInfo.processInfo.environment["CHIPTRAIL_FUZZ_TARGET"] ?? "cloudtrail"
        guard names.contains(name) else {
            FileHandle.standardError.write(
                Data("CHIPTRAIL_FUZZ_TARGET '\(name)' is none of \(names.joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return name
    }()

    /// A scratch file for the targets that read a path (gzip, GeoIP, IP intelligence), in `CHIPTRAIL_FUZZ_SCRATCH`
    /// (Scripts/fuzz: .build/fuzz/tmp, emptied after each target) or /tmp.
    static let scratch: String = {
        let directory = ProcessInfo.processInfo.environment["CHIPTRAIL_FUZZ_SCRATCH"] ?? "/tmp"
        return "\(directory)/chiptrail-fuzz-\(getpid()).bin"
    }()

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let maxRecord = 64 << 10
        switch selected {
        case "gzip":
            write(bytes)
            guard let reader = try? InputReader(path: scratch, limits: InputLimits(maxDecompressedBytes: 8 << 20))
            else { return }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
            defer { buffer.deallocate() }
            while let n = try? reader.read(into: buffer), n > 0 {}
        case "cloudtrail": decode(bytes, CloudTrailDecoder(path: "f", maxRecordBytes: maxRecord), maxRecord)
        case "gcp-audit": decode(bytes, JSONLogDecoder.gcpAudit(path: "f", maxRecordBytes: maxRecord), maxRecord)
        case "azure-activity":
            decode(bytes, JSONLogDecoder.azureActivity(path: "f", maxRecordBytes: maxRecord), maxRecord)
        case "ndjson": decode(bytes, JSONLogDecoder.ndjson(path: "f", maxRecordBytes: maxRecord), maxRecord)
        case "billing":
            decode(bytes, BillingDecoder(path: "f", maxRecordBytes: maxRecord, keepType: { _ in true }), maxRecord)
        case "mappings":
            var table = MappingTable()
            var problems: [Diagnostic] = []
            table.add(text: String(decoding: bytes, as: UTF8.self), path: "m.csv", problems: &problems)
            _ = table.consistencyProblems()
            _ = table.mapping(provider: "aws", account: "1", at: 0)
        case "resellers":
            var graph = ResellerGraph()
            var problems: [Diagnostic] = []
            graph.add(text: String(decoding: bytes, as: UTF8.self), path: "r.csv", problems: &problems)
            _ = graph.validate()
            for id in graph.resellers.keys { _ = graph.chain(from: id) }
        case "geoip":
            write(bytes)
            let (table, _) = GeoIPTable.load(paths: [scratch])
            _ = table.country(of: IPAddress(v4: 0x0102_0304))
        case "ipintel":
            // A feed is validated whole: any bytes give a table or a configuration error, never a crash.
            write(bytes)
            if let (table, _) = try? AnonymousNetworkTable.loadValidated(paths: [scratch]) {
                _ = table.network(of: IPAddress(v4: 0xC000_0201))
                _ = table.network(of: IPAddress(value: 0x2001_0db8_0001_0000_0000_0000_0000_0001))
            }
        case "config":
            var config = ConfigFile()
            try? config.apply(text: String(decoding: bytes, as: UTF8.self), path: "c.conf")
            _ = ConfigFile.parseSize(String(decoding: bytes.prefix(64), as: UTF8.self))
        case "normalized":
            // What `ingest --normalized` reads back from the executors of a distributed run.
            if let input = try? NormalizedRecordReader.decode(bytes, path: "f.normalized") {
                _ = NormalizedRecordWriter.encode(input)
            }
        default: break
        }
    }

    /// Feeds the decoder in chunks of a size drawn from the input, the way the pipeline does.
    static func decode(_ bytes: UnsafeRawBufferPointer, _ decoder: some LogDecoder, _ maxRecord: Int) {
        var decoder = decoder
        var batch = DecodedBatch()
        let chunk = 1 + Int(bytes.first ?? 0) * 37
        var pending: [UInt8] = []
        var offset = 0
        while true {
            let end = min(bytes.count, offset + chunk)
            pending += bytes[offset..<end]
            offset = end
            let isFinal = offset == bytes.count
            let consumed = pending.withUnsafeBytes { decoder.decode($0, isFinal: isFinal, into: &batch) }
            pending.removeFirst(min(consumed, pending.count))
            if pending.count > maxRecord + chunk { decoder.skipOversizedRecord() }
            if isFinal || decoder.refused { break }
            if batch.diagnostics.count > 1000 { batch.diagnostics.removeAll() }
        }
        // What the writers make of it must be valid: no non-finite number reaches an output.
        for event in batch.events where !(event.usageHours.isFinite) {
            fatalError("non-finite usage hours from \(event.origin)")
        }
        for i in batch.usageLines.indices where !(batch.usageLines.usageHours(at: i).isFinite) {
            fatalError("non-finite usage hours from \(batch.usageLines.event(at: i).origin)")
        }
    }

    static func write(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        if let base = bytes.baseAddress { _ = Glibc.write(fd, base, bytes.count) }
        close(fd)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func chiptrailFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if FUZZING
    /// libFuzzer's driver (libclang_rt.fuzzer): runs the fuzzing loop with the command line's options.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt
#endif

/// With FUZZING, libFuzzer's driver; without, replays inputs through the selected target:
/// `CHIPTRAIL_FUZZ_TARGET=cloudtrail ChiptrailFuzz FILE...`.
@main
struct FuzzMain {
    static func main() {
        _ = FuzzTargets.selected
        #if FUZZING
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in chiptrailFuzzOneInput(data, size) }))
        #else
            for path in CommandLine.arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                    exit(2)
                }
                data.withUnsafeBytes { FuzzTargets.run($0) }
                print("\(FuzzTargets.selected): \(path): ok")
            }
        #endif
    }
}
