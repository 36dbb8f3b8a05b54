import Foundation

/// The AWS CLI's shared files, `~/.aws/credentials` (sections named by profile) and `~/.aws/config`
/// (`[default]` and `[profile NAME]`), as INI: `key = value`, `#` and `;` comments, indented lines
/// (nested settings such as `s3 =` blocks) ignored.
package struct SharedConfigFile: Sendable {
    package var sections: [String: [String: String]] = [:]

    package init(text: String, isConfig: Bool) {
        var current: String? = nil
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            if line.first == " " || line.first == "\t" { continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else {
                    current = nil
                    continue
                }
                var name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingCharacters(
                    in: .whitespaces)
                if isConfig {
                    if name.hasPrefix("profile ") {
                        name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces)
                    } else if name != "default" {
                        // `[sso-session x]`, `[services x]`: not profiles.
                        current = nil
                        continue
                    }
                }
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            // An inline comment after whitespace, as botocore reads it.
            if let hash = value.range(of: " #") ?? value.range(of: " ;") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            sections[section, default: [:]][key] = value
        }
    }

    package static func load(path: String, isConfig: Bool) -> SharedConfigFile? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return SharedConfigFile(text: String(decoding: data, as: UTF8.self), isConfig: isConfig)
    }
}
