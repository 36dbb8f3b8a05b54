import Foundation
public import UsageModel

/// Expands the user's paths into the inputs to read: files as given, directories recursively in sorted
/// order (hidden entries skipped), `-` for standard input.
public enum InputEnumerator {
    /// - Returns: the input paths, and a diagnostic for every path that does not exist.
    public static func expand(_ paths: [String]) -> (inputs: [String], problems: [Diagnostic]) {
        var inputs: [String] = []
        var problems: [Diagnostic] = []
        let fm = FileManager.default
        for path in paths {
            if path == "-" {
                inputs.append(path)
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "input",
                        message: "no such file or directory; check the path"))
                continue
            }
            if isDirectory.boolValue {
                walk(path, into: &inputs)
            } else {
                inputs.append(path)
            }
        }
        return (inputs, problems)
    }

    private static func walk(_ directory: String, into inputs: inout [String]) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !name.hasPrefix(".") {
            let full = base + "/" + name
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                walk(full, into: &inputs)
            } else {
                inputs.append(full)
            }
        }
    }
}
