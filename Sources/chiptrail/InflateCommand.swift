import ArgumentParser
import Foundation
import Inputs

/// Reads inputs through the same inflate code as `ingest` and discards the bytes: the benchmark's
/// baseline for "inflate alone" (`--inflater zlib` or `isal`). Hidden from `--help`.
struct InflateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inflate", abstract: "Inflate inputs and discard them (benchmark baseline).",
        shouldDisplay: false)

    @Argument(help: "Files or directories.")
    var paths: [String]

    @Option(help: ArgumentHelp("isal (default) or zlib.", valueName: "name"))
    var inflater: String = Inflater.isal.rawValue

    func run() throws {
        guard let inflater = Inflater(rawValue: inflater) else {
            throw ValidationError("unknown --inflater '\(inflater)'; one of isal, zlib")
        }
        let limits = InputLimits(inflater: inflater)
        let (inputs, _) = InputEnumerator.expand(paths)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        for path in inputs {
            let reader = try InputReader(path: path, limits: limits)
            while true {
                let n = try reader.read(into: buffer)
                if n == 0 { break }
                total += Int64(n)
            }
        }
        print(total)
    }
}
