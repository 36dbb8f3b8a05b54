import Foundation
import Sessions
public import Catalog
public import Detection
public import Inputs
public import UsageModel

/// The configuration file: `key = value` lines, `#` comments. Every key is documented in the README.
///
/// ```
/// min_score = 0.6
/// restricted_countries_add = KH
/// catalog.p5.48xlarge = NVIDIA H100 SXM5 80GB x 8
/// ```
public struct ConfigFile: Sendable {
    public var detection = DetectionConfig()
    public var jurisdictions = RestrictedJurisdictions.builtIn
    public var catalog = InstanceCatalog.builtIn
    public var limits = InputLimits()
    public var maxRecordBytes = 16 << 20
    public var allowedLateness: Int64 = 6 * 3600
    /// The largest gap between billing periods of one resource within one session.
    public var sessionGap: Int64 = 2 * 3600
    /// How long a closed session's run is remembered for billing lines of it delivered late or again
    /// (`billing_redelivery`; ``Sessionizer/rememberClosedRuns``).
    public var billingRedelivery: Int64 = Sessionizer.defaultRememberClosedRuns
    /// Whether billing lines of every instance type make sessions, or only of accelerated ones.
    public var billingAllTypes = false
    /// Lifecycle events of every instance type make sessions (`sessions = all`), not only accelerated ones.
    public var lifecycleAllTypes = false

    public init() {}

    /// A problem with the configuration: exit status 2.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var diagnostic: Diagnostic
        public var description: String { diagnostic.description }
    }

    /// Reads `path` over the defaults.
    /// - Throws: ``Problem`` naming the line of the first bad setting.
    public static func load(path: String) throws(Problem) -> ConfigFile {
        let text: String
        do {
            text = try InputReader.readText(path: path, maxBytes: 16 << 20)
        } catch {
            throw Problem(diagnostic: error.diagnostic)
        }
        var config = ConfigFile()
        try config.apply(text: text, path: path)
        return config
    }

    public mutating func apply(text: String, path: String) throws(Problem) {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = String(line).trimmingSpaces().trimmingTrailing("\r")
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw problem(path, lineNumber, "expected 'key = value', found '\(trimmed)'")
            }
            let key = String(trimmed[..<eq]).trimmingSpaces().lowercased()
            let value = String(trimmed[trimmed.index(after: eq)...]).trimmingSpaces()
            try set(key, value, path: path, line: lineNumber)
        }
    }

    private func problem(_ path: String, _ line: Int, _ message: String) -> Problem {
        Problem(
            diagnostic: Diagnostic(
                path: path, position: .line(line), severity: .error, category: "config", message: message))
    }

    nonisolated(unsafe) private static let weights: [String: WritableKeyPath<DetectionConfig, Double>] = [
        "prior_log_odds": \.priorLogOdds,
        "declared_country_weight": \.declaredCountryWeight,
        "declared_unrestricted_weight": \.declaredUnrestrictedWeight,
        "reseller_country_weight": \.resellerCountryWeight,
        "reseller_serves_weight": \.resellerServesWeight,
        "chain_decay": \.chainDecay,
        "linked_share_alpha": \.linkedShareAlpha,
        "linked_share_beta": \.linkedShareBeta,
        "benign_share_alpha": \.benignShareAlpha,
        "benign_share_beta": \.benignShareBeta,
        "benign_office_weight": \.benignOfficeWeight,
        "benign_office_alpha": \.benignOfficeAlpha,
        "benign_office_beta": \.benignOfficeBeta,
        "network_weight_floor": \.networkWeightFloor,
        "network_weight_cap": \.networkWeightCap,
        "network_skip_anonymous": \.networkSkipsAnonymous,
        "anonymous_linked_alpha": \.anonymousLinkedAlpha,
        "anonymous_linked_beta": \.anonymousLinkedBeta,
        "anonymous_benign_alpha": \.anonymousBenignAlpha,
        "anonymous_benign_beta": \.anonymousBenignBeta,
        "anonymous_listing_weight": \.anonymousListingWeight,
        "anonymous_weight_cap": \.anonymousWeightCap,
        "anonymous_hosting_share": \.anonymousHostingShare,
        "shared_identity_share": \.sharedIdentityShare,
        "shared_identity_cap": \.sharedIdentityCap,
        "shared_identity_pooled": \.sharedIdentityPooled,
        "ring_weight": \.ringWeight,
        "ring_cap": \.ringCap,
        "ring_min_peers": \.ringMinPeers,
        "ring_recent_days": \.ringRecentDays,
        "ring_peer_probability": \.ringPeerProbability,
        "ring_peer_log_ratio": \.ringPeerLogRatio,
        "lookback_days": \.lookbackDays,
        "lookback_identity_holders": \.lookbackIdentityHolders,
        "lookback_identity_weight": \.lookbackIdentityWeight,
        "lookback_network": \.lookbackNetwork,
        "lookback_network_weight": \.lookbackNetworkWeight,
        "structuring_calling": \.structuringCalling,
        "ring_trailless": \.ringTrailless,
        "lookback_carry": \.lookbackCarry,
        "identity_same_operator_address": \.identity.sameOperator[0],
        "identity_same_operator_agent": \.identity.sameOperator[1],
        "identity_same_operator_access_key": \.identity.sameOperator[2],
        "identity_same_operator_principal": \.identity.sameOperator[3],
        "identity_chance_floor_address": \.identity.chanceFloor[0],
        "identity_chance_floor_agent": \.identity.chanceFloor[1],
        "identity_chance_floor_access_key": \.identity.chanceFloor[2],
        "identity_chance_floor_principal": \.identity.chanceFloor[3],
        "identity_chance_floor_personal_principal": \.identity.personalPrincipalFloor,
        "identity_chance_floor_accounts": \.identity.floorAccounts,
        "identity_address_share_full": \.identity.addressShareFull,
        "identity_address_min_calls": \.identity.addressMinimumCalls,
        "identity_expected_partners": \.identity.expectedPartners,
        "identity_second_person_factor": \.identity.secondPersonFactor,
        "structuring_linked_alpha": \.structuringLinkedAlpha,
        "structuring_linked_beta": \.structuringLinkedBeta,
        "structuring_benign_concentration": \.structuringBenignConcentration,
        "time_zone_weight": \.timeZoneWeight,
        "time_zone_confidence": \.timeZoneConfidence,
        "clock_weight": \.clockWeight,
        "clock_elsewhere_posterior": \.clockElsewherePosterior,
        "clock_trip": \.clockTrip,
        "clock_hidden_calls": \.clockHiddenCalls,
        "clock_min_calls": \.clockMinimumCalls,
        "clock_min_days": \.clockMinimumDays,
        "clock_posterior": \.clockPosterior,
        "clock_holiday_ratio": \.clockHolidayRatio,
        "week_weight": \.weekWeight,
        "week_posterior": \.weekPosterior,
        "week_declared_factor": \.weekDeclaredFactor,
        "exit_country_share": \.exitCountryShare,
        "exit_country_keeps_declared": \.exitCountryKeepsDeclared,
        "trip_days": \.tripDays,
        "trip_margin_days": \.tripMarginDays,
        "trip_weight_cap": \.tripWeightCap,
        "trip_hidden_share": \.tripHiddenShare,
        "trip_clock_posterior": \.tripClockPosterior,
        "trip_clock_hours": \.tripClockHours,
        "trip_clock_hidden_share": \.tripClockHiddenShare,
        "trip_exit_countries": \.tripExitCountries,
        "trip_exit_min_calls": \.tripExitMinimumCalls,
        "steady_clock": \.steadyClock,
        "steady_days": \.steadyDays,
        "anonymous_steady": \.anonymousSteady,
        "shared_exit_accounts": \.sharedExitAccounts,
        "shared_exit_share": \.sharedExitShare,
        "declared_support_share": \.declaredSupportShare,
        "declared_support_min_calls": \.declaredSupportMinimumCalls,
        "declared_support_identity_weight": \.declaredSupportIdentityWeight,
        "declared_unsupported_factor": \.declaredUnsupportedFactor,
        "declared_support_holiday_ratio": \.declaredSupportHolidayRatio,
        "declared_support_holiday_floor": \.declaredSupportHolidayFloor,
        "reseller_borne_out_factor": \.resellerBorneOutFactor,
        "reseller_borne_out_restricted_share": \.resellerBorneOutRestrictedShare,
        "reseller_placed_factor": \.resellerPlacedFactor,
        "holiday_weight": \.holidayWeight,
        "holiday_min_ratio": \.holidayMinimumRatio,
        "holiday_dip": \.holidayDip,
        "volume_weight": \.volumeWeight,
        "volume_z": \.volumeZ,
        "new_account_weight": \.newAccountWeight,
        "new_account_days": \.newAccountDays,
        "new_account_min_accelerators": \.newAccountMinimumAccelerators,
        "structuring_cap": \.structuringCap,
        "structuring_min_hours": \.structuringMinHours,
        "min_score": \.minScore,
        "high_score": \.highScore,
        "high_accelerator_hours": \.highAcceleratorHours,
        "medium_score": \.mediumScore,
    ]

    /// The longest `allowed_lateness` or `session_gap`: a year (times are added to event times).
    static let longestDuration: Int64 = 366 * 86_400

    /// Keys that are probabilities or fractions: [0,1].
    static let probabilities: Set<String> = [
        "chain_decay", "time_zone_confidence", "clock_posterior", "week_posterior", "week_declared_factor",
        "holiday_dip", "benign_office_weight", "identity_second_person_factor",
        "shared_identity_share",
        "declared_support_share", "declared_support_holiday_floor", "declared_unsupported_factor",
        "reseller_borne_out_factor", "reseller_borne_out_restricted_share", "reseller_placed_factor",
        "network_skip_anonymous", "anonymous_listing_weight", "anonymous_hosting_share",
        "exit_country_share", "exit_country_keeps_declared",
        "lookback_network", "trip_hidden_share", "trip_clock_hidden_share", "steady_clock", "structuring_calling",
        "lookback_carry",
        "shared_identity_pooled",
        "ring_trailless", "clock_elsewhere_posterior", "clock_trip", "anonymous_steady", "shared_exit_share",
    ]
    /// Keys that are chances in (0,1]: a chance floor of 0 made one shared value infinite evidence, and a
    /// same-operator chance of 0 turned shared identity off.
    static let chances: Set<String> = [
        "identity_same_operator_address", "identity_same_operator_agent", "identity_same_operator_access_key",
        "identity_same_operator_principal", "identity_chance_floor_address", "identity_chance_floor_agent",
        "identity_chance_floor_access_key", "identity_chance_floor_principal",
        "identity_chance_floor_personal_principal",
    ]
    /// Keys that are days, counts, caps or thresholds: not negative.
    static let nonNegative: Set<String> = [
        "steady_days", "trip_days", "trip_margin_days", "trip_weight_cap", "trip_clock_posterior", "trip_clock_hours",
        "new_account_days",
        "new_account_min_accelerators", "structuring_min_hours", "structuring_cap", "shared_identity_cap",
        "network_weight_cap", "high_accelerator_hours", "volume_z", "holiday_min_ratio",
        "declared_support_holiday_ratio", "declared_support_min_calls", "declared_support_identity_weight",
        "anonymous_weight_cap", "lookback_identity_holders", "lookback_identity_weight", "lookback_network_weight",
        "identity_address_min_calls",
        "identity_chance_floor_accounts", "trip_exit_countries", "trip_exit_min_calls", "clock_weight",
        "week_weight", "clock_min_calls", "clock_min_days", "clock_holiday_ratio",
        "shared_exit_accounts", "clock_hidden_calls",
    ]
    /// Counts read as whole numbers (a fraction would be cut without a word).
    static let wholeCounts: Set<String> = [
        "trip_exit_countries", "trip_exit_min_calls", "clock_min_calls", "clock_min_days", "shared_exit_accounts",
        "clock_hidden_calls",
    ]
    /// Beta distribution parameters: above 0.
    static let positive: Set<String> = [
        "linked_share_alpha", "linked_share_beta", "benign_share_alpha", "benign_share_beta", "benign_office_alpha",
        "benign_office_beta", "anonymous_linked_alpha", "anonymous_linked_beta", "anonymous_benign_alpha",
        "anonymous_benign_beta", "structuring_linked_alpha", "structuring_linked_beta",
        "structuring_benign_concentration",
    ]

    /// Every key the file takes.
    public static var keys: [String] {
        weights.keys.sorted() + [
            "restricted_countries", "restricted_countries_add", "restricted_countries_remove", "max_decompressed",
            "max_ratio", "max_record_size", "allowed_lateness", "session_gap", "billing_redelivery", "sessions",
            "billing_sessions",
            "catalog.<instance_type>",
            "factor.<evidence_family>",
        ]
    }

    private mutating func set(_ key: String, _ value: String, path: String, line: Int) throws(Problem) {
        if let keyPath = Self.weights[key] {
            guard let number = Double(value), number.isFinite else {
                throw problem(path, line, "'\(key)' takes a number, found '\(value)'")
            }
            if key.hasSuffix("score") && !(0...1).contains(number) {
                throw problem(path, line, "'\(key)' is a score in [0,1], found \(value)")
            }
            if Self.probabilities.contains(key) && !(0...1).contains(number) {
                throw problem(path, line, "'\(key)' is a probability or fraction in [0,1], found \(value)")
            }
            if Self.chances.contains(key) && !(number > 0 && number <= 1) {
                throw problem(path, line, "'\(key)' is a chance in (0,1], found \(value)")
            }
            if Self.nonNegative.contains(key) && number < 0 {
                throw problem(
                    path, line, "'\(key)' is a count, cap or threshold and cannot be negative, found \(value)")
            }
            if key == "trip_clock_hours" && (number.rounded() != number || number > 12) {
                throw problem(
                    path, line, "'trip_clock_hours' takes a whole number of hours from 0 to 12, found \(value)")
            }
            if Self.wholeCounts.contains(key) && number.rounded() != number {
                throw problem(path, line, "'\(key)' is a count and takes a whole number, found \(value)")
            }
            if Self.positive.contains(key) && !(number > 0) {
                throw problem(
                    path, line, "'\(key)' is a Beta distribution parameter and must be above 0, found \(value)")
            }
            if abs(number) > 1e6 {
                throw problem(path, line, "'\(key)' = \(value) is beyond any sensible setting (at most 1e6 in size)")
            }
            detection[keyPath: keyPath] = number
            return
        }
        if key.hasPrefix("factor.") {
            let family = key.dropFirst(7).replacingOccurrences(of: "_", with: "-")
            guard DetectionConfig.families.contains(family) else {
                throw problem(
                    path, line,
                    "unknown evidence family '\(family)'; known: \(DetectionConfig.families.joined(separator: ", "))")
            }
            guard let number = Double(value), number.isFinite, number >= 0, number <= 10 else {
                throw problem(path, line, "'\(key)' takes a factor between 0 and 10, found '\(value)'")
            }
            detection.familyFactors[family] = number
            return
        }
        switch key {
        case "restricted_countries", "restricted_countries_add", "restricted_countries_remove":
            var codes: [CountryCode] = []
            for part in value.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }) {
                guard let code = CountryCode(part), code.isAssigned else {
                    throw problem(path, line, "unknown country '\(part)'; use ISO 3166-1 alpha-2 codes")
                }
                codes.append(code)
            }
            switch key {
            case "restricted_countries": jurisdictions = RestrictedJurisdictions(codes: codes)
            case "restricted_countries_add":
                var merged = jurisdictions
                merged.add(codes)
                jurisdictions = merged
            default:
                var reduced = jurisdictions
                reduced.remove(codes)
                jurisdictions = reduced
            }
        case "max_decompressed", "max_record_size":
            guard let bytes = Self.parseSize(value) else {
                throw problem(
                    path, line, "'\(key)' takes a size such as 512MiB or 16GiB (below 8 EiB), found '\(value)'")
            }
            if key == "max_decompressed" { limits.maxDecompressedBytes = bytes } else { maxRecordBytes = Int(bytes) }
        case "max_ratio":
            guard let ratio = Int64(value), ratio > 1 else {
                throw problem(path, line, "'max_ratio' takes a whole number above 1, found '\(value)'")
            }
            limits.maxRatio = ratio
        case "allowed_lateness":
            guard let seconds = Timestamp.parseDuration(value), seconds <= Self.longestDuration else {
                throw problem(
                    path, line, "'allowed_lateness' takes a duration such as 6h or 2d, at most 366d, found '\(value)'")
            }
            allowedLateness = seconds
        case "sessions":
            switch value {
            case "accelerated": lifecycleAllTypes = false
            case "all": lifecycleAllTypes = true
            default: throw problem(path, line, "'sessions' is 'accelerated' or 'all', found '\(value)'")
            }
        case "billing_sessions":
            switch value {
            case "accelerated": billingAllTypes = false
            case "all": billingAllTypes = true
            default: throw problem(path, line, "'billing_sessions' is 'accelerated' or 'all', found '\(value)'")
            }
        case "session_gap":
            guard let seconds = Timestamp.parseDuration(value), seconds <= Self.longestDuration else {
                throw problem(
                    path, line, "'session_gap' takes a duration such as 2h or 1d, at most 366d, found '\(value)'")
            }
            sessionGap = seconds
        case "billing_redelivery":
            guard let seconds = Timestamp.parseDuration(value), seconds >= 3600, seconds <= Self.longestDuration else {
                throw problem(
                    path, line,
                    "'billing_redelivery' takes a duration such as 40d (a billing period and the days its export is still rewritten after), from 1h to 366d, found '\(value)'"
                )
            }
            billingRedelivery = seconds
        default:
            if key.hasPrefix("catalog.") {
                let type = String(key.dropFirst(8))
                // Keys are lower-cased; the catalogue matches case-insensitively.
                let parts = value.components(separatedBy: " x ")
                guard parts.count == 2, let count = Double(parts[1].trimmingSpaces()), count > 0 else {
                    throw problem(path, line, "catalog override takes 'MODEL x COUNT', found '\(value)'")
                }
                guard count.isFinite, count <= 4096 else {
                    throw problem(
                        path, line,
                        "catalog override count \(parts[1].trimmingSpaces()) is not a number of accelerators in (0, 4096]"
                    )
                }
                do {
                    try catalog.override(
                        instanceType: type, acceleratorModel: parts[0].trimmingSpaces(), count: count)
                } catch {
                    throw problem(path, line, error.message)
                }
                return
            }
            throw problem(path, line, "unknown setting '\(key)'; known: \(Self.keys.joined(separator: ", "))")
        }
    }

    /// `512MiB`, `16GiB`, `100MB`, `1048576`.
    public static func parseSize(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40), ("kb", 1000), ("mb", 1_000_000),
            ("gb", 1_000_000_000), ("tb", 1_000_000_000_000), ("b", 1),
        ]
        let lower = text.lowercased().trimmingSpaces()
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let n = Double(String(lower.dropLast(suffix.count)).trimmingSpaces()), n > 0 else { return nil }
            // Below 2^63 bytes: Int64(_:) of anything larger (or of inf, nan) traps.
            let bytes = n * Double(factor)
            guard bytes.isFinite, bytes < 0x1p63, bytes >= 1 else { return nil }
            return Int64(bytes)
        }
        guard let n = Int64(lower), n > 0 else { return nil }
        return n
    }
}

extension String {
    /// The string without the trailing `c`s (Foundation's `trimmingCharacters(in:)` trims both ends).
    func trimmingTrailing(_ c: Character) -> String {
        var s = Substring(self)
        while s.last == c { s = s.dropLast() }
        return String(s)
    }

}
