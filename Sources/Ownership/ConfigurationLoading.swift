import UsageModel
import Inputs

extension ConfigurationError {
    /// Reads each configuration file of one kind and hands its text to `add`, collecting every
    /// problem: a file that cannot be read, or whose header lacks the key column (`add` returns nil),
    /// or that adds no row, is fatal (the caller throws); single rows' problems are not.
    /// - Returns: the problems in file order, and whether any is fatal.
    static func loadEach(
        _ paths: [String], what: String, category: String, noRows: String,
        add: (String, String, inout [Diagnostic]) -> Int?
    ) -> (problems: [Diagnostic], fatal: Bool) {
        var problems: [Diagnostic] = []
        var fatal = false
        for path in paths {
            let text: String
            do {
                text = try InputReader.readText(path: path)
            } catch {
                problems.append(ConfigurationError.unreadable(error, what: what))
                fatal = true
                continue
            }
            let added = add(text, path, &problems)
            if let added, added == 0 {
                problems.append(
                    Diagnostic(path: path, position: .file, severity: .error, category: category, message: noRows))
            }
            if added ?? 0 == 0 { fatal = true }
        }
        return (problems, fatal)
    }
}
