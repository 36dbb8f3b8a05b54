public import UsageModel
import Inputs

/// One reseller or distributor.
public struct Reseller: Sendable, Hashable {
    public var id: String
    public var name: String
    public var country: CountryCode?
    public var parentID: String?
    public var servesCountries: [CountryCode]
    /// `resellers.csv:3`.
    public var origin: String
}

/// Resellers and the chains their `parent_id`s form (reseller → distributor → …).
public struct ResellerGraph: Sendable {
    public private(set) var resellers: [String: Reseller] = [:]
    /// Rows left out for an error, by reseller id: a child's diagnostic names the row, not "unknown".
    private var rejected: [String: String] = [:]
    /// Longest chain followed; a longer one is cut with a diagnostic at load.
    public static let maxDepth = 16

    public init() {}

    /// Loads reseller files; a bad row, an unknown parent or a cycle is a diagnostic with file:line.
    public static func load(paths: [String]) -> (ResellerGraph, [Diagnostic]) {
        var graph = ResellerGraph()
        var problems: [Diagnostic] = []
        for path in paths {
            do {
                let text = try InputReader.readText(path: path)
                graph.add(text: text, path: path, problems: &problems)
            } catch {
                problems.append(error.diagnostic)
            }
        }
        problems += graph.validate()
        return (graph, problems)
    }

    /// Loads reseller files for detection, validated whole: a file that cannot be read, has no
    /// `reseller_id` column or no usable row is a configuration error.
    /// - Returns: the graph and the diagnostics of single rows, unknown parents and cycles.
    /// - Throws: ``ConfigurationError`` with every problem when a file-level one is among them.
    public static func loadValidated(paths: [String]) throws(ConfigurationError) -> (ResellerGraph, [Diagnostic]) {
        var graph = ResellerGraph()
        let loaded = ConfigurationError.loadEach(
            paths, what: "reseller file", category: "reseller",
            noRows: "no usable reseller row in the file; fix the rows named above, or leave out --resellers"
        ) { text, path, problems in graph.add(text: text, path: path, problems: &problems) }
        var problems = loaded.problems
        problems += graph.validate()
        if loaded.fatal { throw ConfigurationError(diagnostics: problems) }
        return (graph, problems)
    }

    /// Adds the rows of one reseller file's text.
    /// - Returns: the number of rows added, or nil when the header has no `reseller_id` column.
    @discardableResult
    public mutating func add(text: String, path: String, problems: inout [Diagnostic]) -> Int? {
        let csv = NamedCSV(text: text)
        func problem(_ line: Int, _ message: String, _ severity: DiagnosticSeverity = .error) {
            problems.append(
                Diagnostic(
                    path: path, position: .line(line), severity: severity, category: "reseller", message: message))
        }
        guard csv.has("reseller_id") else {
            problem(
                csv.headerLine,
                "header has no reseller_id column; expected reseller_id,name,country,parent_id,serves_countries")
            return nil
        }
        var added = 0
        for row in csv.rows {
            if let fieldProblem = csv.fieldCountProblem(row) {
                problem(row.line, fieldProblem + "; row skipped")
                continue
            }
            let id = csv.value(row, "reseller_id")
            guard !id.isEmpty else {
                problem(row.line, "empty reseller_id; row skipped")
                continue
            }
            var bad = false
            var country: CountryCode? = nil
            let countryText = csv.value(row, "country")
            if !countryText.isEmpty {
                if let code = CountryCode(countryText), code.isAssigned {
                    country = code
                } else {
                    problem(
                        row.line, "unknown country '\(countryText)' in column country; use an ISO 3166-1 alpha-2 code")
                    bad = true
                }
            }
            var serves: [CountryCode] = []
            for part in csv.value(row, "serves_countries").split(separator: ";") {
                let text = String(part).trimmingSpaces()
                if text.isEmpty { continue }
                if let code = CountryCode(text), code.isAssigned {
                    serves.append(code)
                } else {
                    // The reseller stays (its children's chains go through it); only the code is left out.
                    problem(
                        row.line,
                        "unknown country '\(text)' in column serves_countries of reseller '\(id)'; the code is left out, the reseller kept; use ISO 3166-1 alpha-2 codes separated by ';'",
                        .warning)
                }
            }
            if bad {
                rejected[id] = "\(path):\(row.line)"
                continue
            }
            if let existing = resellers[id] {
                problem(row.line, "reseller '\(id)' is defined again (first at \(existing.origin)); the later row wins")
            }
            resellers[id] = Reseller(
                id: id, name: csv.value(row, "name"), country: country,
                parentID: csv.value(row, "parent_id").nilIfEmpty, servesCountries: serves, origin: "\(path):\(row.line)"
            )
            added += 1
        }
        return added
    }

    /// Finds unknown parents and cycles.
    public func validate() -> [Diagnostic] {
        var problems: [Diagnostic] = []
        func diagnostic(_ origin: String, _ message: String) -> Diagnostic {
            let (path, line) = Self.split(origin)
            return Diagnostic(
                path: path, position: .line(line), severity: .error, category: "reseller", message: message)
        }
        var reportedCycles = Set<String>()
        for reseller in resellers.values.sorted(by: { $0.origin < $1.origin }) {
            if let parent = reseller.parentID, resellers[parent] == nil {
                if let origin = rejected[parent] {
                    problems.append(
                        diagnostic(
                            reseller.origin,
                            "parent_id '\(parent)' was left out for the error at \(origin); the chain ends here until it is fixed"
                        ))
                } else {
                    problems.append(
                        diagnostic(
                            reseller.origin, "parent_id '\(parent)' is not a known reseller; the chain ends here"))
                }
            }
            var seen: [String] = [reseller.id]
            var current = reseller
            while let parent = current.parentID, let next = resellers[parent] {
                if let at = seen.firstIndex(of: next.id) {
                    let cycle = Array(seen[at...]) + [next.id]
                    let key = cycle.dropLast().sorted().joined(separator: ",")
                    if reportedCycles.insert(key).inserted {
                        problems.append(
                            diagnostic(
                                reseller.origin,
                                "reseller chain has a cycle: \(cycle.joined(separator: " -> ")); the chain is cut where it repeats"
                            ))
                    }
                    break
                }
                seen.append(next.id)
                current = next
                if seen.count > Self.maxDepth { break }
            }
        }
        return problems
    }

    /// The chain from `resellerID` up through its parents, cycles cut; empty for an unknown id.
    public func chain(from resellerID: String) -> [Reseller] {
        var out: [Reseller] = []
        var seen = Set<String>()
        var next: String? = resellerID
        while let id = next, let reseller = resellers[id], seen.insert(id).inserted, out.count < Self.maxDepth {
            out.append(reseller)
            next = reseller.parentID
        }
        return out
    }

    /// `mappings.csv:14` → (`mappings.csv`, 14).
    public static func split(_ origin: String) -> (String, Int) {
        guard let colon = origin.lastIndex(of: ":"), let line = Int(origin[origin.index(after: colon)...]) else {
            return (origin, 0)
        }
        return (String(origin[..<colon]), line)
    }
}
