/// Finds the instance, VM or accelerator type that billing text names: the catalogue then says what
/// it is. Works on the field's bytes; only the type found is materialised.
enum InstanceTypeHint {
    /// The first AWS-style instance type in `text` (`p5.48xlarge`, `ml.p4d.24xlarge`, `g5.metal`),
    /// e.g. in "$1.624 per On Demand Linux g5.4xlarge Instance Hour".
    static func awsType(in text: UnsafeRawBufferPointer) -> String? {
        var i = 0
        let n = text.count
        while i < n {
            while i < n && isSeparator(text[i]) { i += 1 }
            let start = i
            while i < n && !isSeparator(text[i]) { i += 1 }
            if looksLikeAWSType(UnsafeRawBufferPointer(rebasing: text[start..<i])) {
                return String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<i]), as: UTF8.self)
            }
        }
        return nil
    }

    /// `family.size` where the size ends in `large` or `metal` (an optional `ml.` prefix for SageMaker).
    static func looksLikeAWSType(_ token: UnsafeRawBufferPointer) -> Bool {
        guard token.count >= 7, let dot = token.firstIndex(of: 0x2E), dot > 0 else { return false }
        guard isLower(token[0]) else { return false }
        let tailCount = token.count - dot - 1
        guard tailCount >= 5 else { return false }
        func endsWith(_ literal: StaticString) -> Bool {
            let l = literal.utf8CodeUnitCount
            guard token.count >= l else { return false }
            for k in 0..<l where token[token.count - l + k] != literal.utf8Start[k] { return false }
            return true
        }
        return endsWith("large") || endsWith("metal")
    }

    /// The first Azure VM size (`Standard_ND96asr_v4`) in `text`.
    static func azureSize(in text: UnsafeRawBufferPointer) -> String? {
        let n = text.count
        var i = 0
        let prefix: StaticString = "standard_"
        while i + prefix.utf8CodeUnitCount < n {
            var match = true
            for k in 0..<prefix.utf8CodeUnitCount where lower(text[i + k]) != prefix.utf8Start[k] {
                match = false
                break
            }
            if match && (i == 0 || isSeparator(text[i - 1])) {
                var end = i + prefix.utf8CodeUnitCount
                while end < n && (isAlnum(text[end]) || text[end] == 0x5F || text[end] == 0x2D) { end += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: text[i..<end]), as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    /// GCP billing GPU SKU descriptions ("Nvidia H100 80GB GPU running in Americas") to the accelerator
    /// type names of the Compute API (`nvidia-h100-80gb`), which the catalogue knows. The wording is
    /// from shared/reference/instance-types.csv (billing_usage_embedding); the first match wins.
    static let gpuPhrases: [(phrase: String, type: String)] = [
        ("nvidia h100 80gb plus", "nvidia-h100-mega-80gb"),
        ("nvidia h100 mega", "nvidia-h100-mega-80gb"),
        ("nvidia h100", "nvidia-h100-80gb"),
        ("nvidia h200", "nvidia-h200-141gb"),
        ("nvidia tesla a100 80gb", "nvidia-a100-80gb"),
        ("nvidia a100 80gb", "nvidia-a100-80gb"),
        ("nvidia tesla a100", "nvidia-tesla-a100"),
        ("nvidia a100", "nvidia-tesla-a100"),
        ("nvidia b200", "nvidia-b200"),
        ("nvidia l4", "nvidia-l4"),
        ("nvidia tesla t4", "nvidia-tesla-t4"),
        ("nvidia tesla v100", "nvidia-tesla-v100"),
        ("nvidia tesla p100", "nvidia-tesla-p100"),
        ("nvidia tesla p4", "nvidia-tesla-p4"),
        ("nvidia tesla k80", "nvidia-tesla-k80"),
    ]

    /// The accelerator type a GPU SKU description names.
    static func gpuType(in text: UnsafeRawBufferPointer) -> String? {
        guard contains(text, "nvidia") else { return nil }
        let lower = text.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for (phrase, type) in gpuPhrases {
            let p = Array(phrase.utf8)
            var i = 0
            while i + p.count <= lower.count {
                if lower[i..<(i + p.count)].elementsEqual(p) {
                    // "nvidia l4" must not match "nvidia l40s".
                    let after = i + p.count
                    if after == lower.count || !isAlnum(lower[after]) { return type }
                }
                i += 1
            }
        }
        return nil
    }

    /// Any of the above.
    static func anyType(in text: UnsafeRawBufferPointer) -> String? {
        awsType(in: text) ?? azureSize(in: text) ?? gpuType(in: text)
    }

    /// Case-insensitive substring test on bytes.
    static func contains(_ text: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let l = literal.utf8CodeUnitCount
        guard text.count >= l else { return false }
        var i = 0
        while i + l <= text.count {
            var k = 0
            while k < l && text[i + k] | 0x20 == literal.utf8Start[k] | 0x20 { k += 1 }
            if k == l { return true }
            i += 1
        }
        return false
    }

    /// The value after `key` in a JSON-ish fragment (`"ServiceType": "Standard_DS2_v2"`, with quotes
    /// possibly doubled by CSV or escaped by an enclosing JSON string).
    static func value(after key: StaticString, in text: UnsafeRawBufferPointer) -> String? {
        let l = key.utf8CodeUnitCount
        var i = 0
        while i + l <= text.count {
            var k = 0
            while k < l && text[i + k] | 0x20 == key.utf8Start[k] | 0x20 { k += 1 }
            if k == l {
                var j = i + l
                // Past the key's closing quote(s), the colon and the value's opening quote(s).
                var sawColon = false
                while j < text.count, text[j] == 0x22 || text[j] == 0x5C || text[j] == 0x20 || text[j] == 0x3A {
                    if text[j] == 0x3A { sawColon = true }
                    j += 1
                }
                if sawColon {
                    let start = j
                    while j < text.count, text[j] != 0x22 && text[j] != 0x5C && text[j] != 0x2C && text[j] != 0x7D {
                        j += 1
                    }
                    if j > start {
                        return String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<j]), as: UTF8.self)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    @inline(__always) static func isSeparator(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x2C || b == 0x3B || b == 0x3A || b == 0x28 || b == 0x29 || b == 0x22 || b == 0x2F
            || b == 0x09 || b == 0x27 || b == 0x5B || b == 0x5D || b == 0x7B || b == 0x7D || b == 0x3D || b == 0x7C
    }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A)
    }
}
