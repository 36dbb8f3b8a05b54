import Catalog
import Foundation
public import Detection
public import Inputs
public import LogFormats
public import Ownership
public import UsageModel

/// What a run's setup reads: the config file and the reference files, and what the command line
/// sets over the config file.
public struct PipelineSettings: Sendable {
    public var config: String?
    public var minScore: Double?
    public var maxDecompressedBytes: Int64?
    public var inflater: Inflater = .isal
    public var maxRecordBytes: Int?
    public var mappings: [String] = []
    public var resellers: [String] = []
    public var geoip: [String] = []
    /// IP-intelligence feeds (`--ip-intel`): MaxMind GeoIP Anonymous IP CSV.
    public var ipIntel: [String] = []
    /// Parallel readers; nil: the number of cores.
    public var jobs: Int?
    public var format: InputFormat = .auto

    public init() {}
}

/// Loads mappings, resellers, GeoIP, the IP-intelligence feed and config into the pipeline's parts, validated as a whole.
public struct PipelineSetup: Sendable {
    public var options: IngestOptions
    public var detector: Detector
    public var geo: GeoIPTable
    /// The IP-intelligence feed; empty without `--ip-intel`.
    public var anonymous = AnonymousNetworkTable()
    /// Problems of single rows (each row left out): reported by the caller.
    public var problems: [Diagnostic] = []
    /// A mapping, reseller, GeoIP or IP-intelligence row was rejected (exit status 1, as for any bad input).
    public var hadProblems: Bool { problems.contains { $0.severity == .error } }

    /// - Throws: ``ConfigurationError`` when the config file, or a mapping, reseller or GeoIP file, is
    ///   missing, unreadable or has no usable row (every file is checked, so all such problems are named
    ///   at once).
    public init(_ settings: PipelineSettings) throws(ConfigurationError) {
        var config = ConfigFile()
        var fileProblems: [Diagnostic] = []
        var failed = false
        if let path = settings.config {
            do {
                config = try ConfigFile.load(path: path)
            } catch {
                fileProblems.append(error.diagnostic)
                failed = true
            }
        }
        if let minScore = settings.minScore { config.detection.minScore = minScore }
        if let bytes = settings.maxDecompressedBytes { config.limits.maxDecompressedBytes = bytes }
        config.limits.inflater = settings.inflater
        if let bytes = settings.maxRecordBytes { config.maxRecordBytes = bytes }
        var mappings = MappingTable()
        var resellers = ResellerGraph()
        var geo = GeoIPTable()
        do {
            (mappings, problems) = try MappingTable.loadValidated(paths: settings.mappings)
        } catch {
            fileProblems += error.diagnostics
            failed = true
        }
        do {
            let (graph, resellerProblems) = try ResellerGraph.loadValidated(paths: settings.resellers)
            resellers = graph
            problems += resellerProblems
        } catch {
            fileProblems += error.diagnostics
            failed = true
        }
        do {
            let (table, geoProblems) = try GeoIPTable.loadValidated(paths: settings.geoip)
            geo = table
            problems += geoProblems
        } catch {
            fileProblems += error.diagnostics
            failed = true
        }
        do {
            if !settings.ipIntel.isEmpty {
                let (table, intelProblems) = try AnonymousNetworkTable.loadValidated(paths: settings.ipIntel)
                anonymous = table
                problems += intelProblems
            }
        } catch {
            fileProblems += error.diagnostics
            failed = true
        }
        if failed { throw ConfigurationError(diagnostics: fileProblems + problems) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        options = IngestOptions(
            jobs: settings.jobs ?? cores, limits: config.limits, maxRecordBytes: config.maxRecordBytes,
            format: settings.format, allowedLateness: config.allowedLateness)
        options.sessionGap = config.sessionGap
        options.billingRedelivery = config.billingRedelivery
        options.allLifecycleTypes = config.lifecycleAllTypes
        if !config.billingAllTypes {
            let catalog = config.catalog
            options.billingTypes = { catalog.lookup($0) != nil }
        }
        detector = Detector(
            catalog: config.catalog, jurisdictions: config.jurisdictions, mappings: mappings, resellers: resellers,
            config: config.detection)
        self.geo = geo
    }
}
