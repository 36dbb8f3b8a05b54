import ArgumentParser
import Inputs
import Ownership
import UsageModel

struct Mappings: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mapping and reseller files.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate mapping and reseller files; every problem with file:line.",
            discussion: """
                Each file is told by its header: account_id makes a mapping file \
                (provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to), \
                reseller_id without account_id a reseller file \
                (reseller_id,name,country,parent_id,serves_countries). Reseller files are checked together, \
                so chains that cross files, unknown parents and cycles are found.

                Also flagged: rows with more or fewer fields than the header, exact duplicate rows, an \
                account mapped to two resellers or end-customer countries over an overlapping time (an \
                error when both rows start at the same instant), rows valid at no time (valid_to equal to \
                valid_from: a warning), unknown codes in serves_countries (a warning; the reseller is kept).

                Exit status 0 when every row is good (warnings allowed), 1 otherwise.
                """)

        @Argument(help: ArgumentHelp("Mapping or reseller CSV files.", valueName: "file"))
        var files: [String]

        func run() throws {
            var problems: [Diagnostic] = []
            var mappingRows = 0
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
            problems += mappings.consistencyProblems()
            problems += graph.validate()
            // Mappings that name resellers nobody defined.
            if !graph.resellers.isEmpty {
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
            problems.forEach(Diagnostics.report)
            let errors = problems.filter { $0.severity == .error }.count
            print(
                "\(mappingRows) mapping row(s), \(graph.resellers.count) reseller(s); \(errors) error(s), \(problems.count - errors) warning(s)"
            )
            if errors > 0 { throw ExitStatus(code: 1) }
        }
    }
}
