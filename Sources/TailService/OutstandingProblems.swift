import UsageModel

/// Problems of the followed paths (missing, unreadable, loops, special files), each reported once while
/// it lasts — not at every scan — and a missing path that appears is said to be followed.
struct OutstandingProblems {
    private var current: [String: Diagnostic] = [:]
    private let report: (Diagnostic) -> Void

    init(report: @escaping (Diagnostic) -> Void) { self.report = report }

    mutating func update(_ problems: [Diagnostic]) {
        var next: [String: Diagnostic] = [:]
        for problem in problems {
            let key = problem.description
            if current[key] == nil { report(problem) }
            next[key] = problem
        }
        for (key, old) in current where next[key] == nil && old.message.hasPrefix("no such file or directory") {
            report(
                Diagnostic(
                    path: old.path, position: .file, severity: .note, category: "input",
                    message: "now present; following it"))
        }
        current = next
    }
}
