public import UsageModel

/// A fault in reading one input: it stops that input (the rest of the run goes on).
public struct InputError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; new codes break no caller.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case cannotOpen, readFailed, notGzip, truncated, checksumMismatch, corruptDeflate, tooLarge
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file could not be opened.
        public static let cannotOpen = Code(.cannotOpen)
        /// `read(2)` failed.
        public static let readFailed = Code(.readFailed)
        /// Gzip magic with a header zlib refuses, or bytes after a member that are no gzip member.
        public static let notGzip = Code(.notGzip)
        /// The input ends inside a gzip member.
        public static let truncated = Code(.truncated)
        /// The CRC-32 or the length in a gzip trailer does not match the data.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// The deflate data is invalid.
        public static let corruptDeflate = Code(.corruptDeflate)
        /// Decompression passed the configured size or ratio cap (a decompression bomb).
        public static let tooLarge = Code(.tooLarge)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var path: String
    /// Byte offset into the file as stored; nil when it does not apply.
    public var offset: Int64?
    /// Lowercase, no final period, the remedy after a semicolon.
    public var message: String

    public init(code: Code, path: String, offset: Int64?, message: String) {
        self.code = code
        self.path = path
        self.offset = offset
        self.message = message
    }

    /// The category printed in brackets.
    public var category: String {
        switch code {
        case .cannotOpen, .readFailed: "input"
        default: "gzip"
        }
    }

    public var diagnostic: Diagnostic {
        Diagnostic(
            path: path, position: offset.map { .offset($0) } ?? .file, severity: .error, category: category,
            message: message)
    }

    public var description: String { diagnostic.description }
}

/// The deflate implementation that inflates gzip inputs. Both read the same bytes and report the same
/// faults (kinds and offsets; the deflate detail in a corrupt-data message is each library's own).
public enum Inflater: String, Sendable, CaseIterable {
    /// zlib (the system's libz).
    case zlib
    /// Intel ISA-L's `isal_inflate` (libisal): the same output, about twice zlib's speed on x86-64.
    case isal
}

/// How inputs are read: the caps that protect a run from decompression bombs, and the inflater.
public struct InputLimits: Sendable, Equatable {
    /// Most decompressed bytes one input may yield.
    public var maxDecompressedBytes: Int64
    /// Most decompressed bytes per compressed byte, checked once `ratioCheckAfter` bytes came out.
    public var maxRatio: Int64
    public var ratioCheckAfter: Int64
    /// Which library inflates gzip (default ISA-L).
    public var inflater: Inflater

    public init(
        maxDecompressedBytes: Int64 = 16 << 30, maxRatio: Int64 = 200, ratioCheckAfter: Int64 = 64 << 20,
        inflater: Inflater = .isal
    ) {
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxRatio = maxRatio
        self.ratioCheckAfter = ratioCheckAfter
        self.inflater = inflater
    }
}

extension ConfigurationError {
    /// The diagnostic for a configuration file (mappings, resellers, GeoIP, config) that cannot be read.
    public static func unreadable(_ error: InputError, what: String) -> Diagnostic {
        var diagnostic = error.diagnostic
        diagnostic.category = "config"
        diagnostic.message = "\(what): \(error.message); detection cannot run without it"
        return diagnostic
    }
}
