extension InputReader {
    /// Reads a whole (small) file, inflating gzip: for mapping, reseller, GeoIP and config files.
    /// - Throws: ``InputError`` when the file cannot be read or passes `maxBytes`.
    public static func readAll(path: String, maxBytes: Int64 = 1 << 30) throws(InputError) -> [UInt8] {
        let reader = try InputReader(
            path: path, limits: InputLimits(maxDecompressedBytes: maxBytes, maxRatio: 1000, ratioCheckAfter: 1 << 30))
        var out: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try reader.read(into: chunk)
            if n == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
        return out
    }

    /// ``readAll(path:maxBytes:)`` as UTF-8 text (invalid sequences repaired).
    public static func readText(path: String, maxBytes: Int64 = 1 << 30) throws(InputError) -> String {
        String(decoding: try readAll(path: path, maxBytes: maxBytes), as: UTF8.self)
    }
}
