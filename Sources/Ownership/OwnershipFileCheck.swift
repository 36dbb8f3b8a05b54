import Inputs
public import UsageModel

/// `chiptrail mappings check`: mapping and reseller files read together, each told apart by its header
/// (`account_id`: mappings; `reseller_id`: resellers), every problem collected — the single-row ones
/// ingest and tail would report, a file they would refuse, the reseller graph's cycles and dangling
/// parents, and (across files) mapping rows naming a reseller no reseller file defines.
public struct OwnershipFileCheck {
    public private(set) var problems: [Diagnostic] = []
    public private(set) var mappingRows = 0
    public private(set) var resellers = 0
    public var errors: Int { problems.filter { $0.severity == .error }.count }

    public init(files: [String]) {
        var graph = ResellerGraph()
        var mappings = MappingTable()
        for path in files {
            let text: String
            do {
                text = try InputReader.readText(path: path)
            } catch {
                problems.append(error.diagnostic)
                continue
            }
            let header = NamedCSV(text: text)
            var added: Int? = nil
            if header.has("account_id") {
                added = mappings.add(text: text, path: path, problems: &problems)
            } else if header.has("reseller_id") {
                added = graph.add(text: text, path: path, problems: &problems)
            } else {
                problems.append(
                    Diagnostic(
                        path: path, position: .line(header.headerLine), severity: .error, category: "mapping",
                        message: "header names neither account_id (mapping file) nor reseller_id (reseller file)"))
            }
            if added == 0 {
                problems.append(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "mapping",
                        message: "no usable row in the file; ingest and tail refuse it as a configuration error"))
            }
        }
        mappingRows = mappings.count
        resellers = graph.resellers.count
        problems += mappings.consistencyProblems()
        problems += graph.validate()
        // Mappings that name resellers nobody defined.
        guard !graph.resellers.isEmpty else { return }
        for row in mappings.allRows.sorted(by: { $0.origin < $1.origin }) {
            if let id = row.resellerID, graph.resellers[id] == nil {
                let (path, line) = ResellerGraph.split(row.origin)
                problems.append(
                    Diagnostic(
                        path: path, position: .line(line), severity: .warning, category: "mapping",
                        message: "reseller_id '\(id)' is not in the reseller files given"))
            }
        }
    }
}
