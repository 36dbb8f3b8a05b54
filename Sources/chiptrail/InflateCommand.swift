import ArgumentParser
import Foundation
import Inputs

/// Reads inputs through the same inflate code as `ingest` and discards the bytes: the benchmark's
/// baseline for "zlib inflate alone". Hidden from `--help`.
struct InflateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inflate", abstract: "Inflate inputs and discard them (benchmark baseline).",
        shouldDisplay: false)

    @Argument(help: "Files or directories.")
    var paths: [String]

    func run() throws {
        let (inputs, _) = InputEnumerator.expand(paths)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        for path in inputs {
            let reader = try InputReader(path: path)
            while true {
                let n = try reader.read(into: buffer)
                if n == 0 { break }
                total += Int64(n)
            }
        }
        print(total)
    }
}
