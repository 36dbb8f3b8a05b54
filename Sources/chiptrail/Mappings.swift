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
            let check = OwnershipFileCheck(files: files)
            check.problems.forEach(Diagnostics.report)
            print(
                "\(check.mappingRows) mapping row(s), \(check.resellers) reseller(s); \(check.errors) error(s), \(check.problems.count - check.errors) warning(s)"
            )
            if check.errors > 0 { throw ExitStatus(code: 1) }
        }
    }
}
