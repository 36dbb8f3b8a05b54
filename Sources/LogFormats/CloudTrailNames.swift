public import UsageModel

/// ARN parts for names (the same cut as the principal key).
public enum CloudTrailNames {
    /// The seed of a person's name's principal key (the name alone, whatever credentials carried it):
    /// never the key of a whole principal name.
    public static let personSeed: UInt64 = 0x5045_5253_4F4E_0001

    /// Whether a principal name is one AWS gives every account that uses a service
    /// (`role/aws-service-role/…` service-linked roles, `role/aws-reserved/…` IAM Identity Center
    /// roles): the same in unrelated accounts by construction, so no identifier.
    @inlinable
    public static func isManagedByAWS(_ name: UnsafeRawBufferPointer) -> Bool {
        func has(_ prefix: StaticString) -> Bool { name.hasPrefix(prefix) }
        return has("role/aws-service-role/") || has("role/aws-reserved/") || has("assumed-role/aws-service-role/")
            || has("assumed-role/AWSServiceRole") || has("role/AWSServiceRole")
    }

    /// Whether an assumed-role ARN or principal id names an EC2 instance's session
    /// (`…:assumed-role/Role/i-0123456789abcdef0`, `AROA…:i-0123456789abcdef0`): instance-profile
    /// credentials, whose calls come from the instance.
    @inlinable
    public static func isInstanceSession(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = b.count
        while i > 0 && b[i - 1] != 0x2F && b[i - 1] != 0x3A { i -= 1 }
        let n = b.count - i
        guard n == 10 || n == 19, b[i] == 0x69, b[i + 1] == 0x2D else { return false }
        for j in (i + 2)..<b.count {
            let c = b[j]
            guard (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) else { return false }
        }
        return true
    }

    /// The person's part of a principal name (``principalName(_:)``): what follows its last `/`
    /// (`assumed-role/ops/erin.walker` → `erin.walker`); empty when nothing follows one.
    @inlinable
    public static func personName(_ name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = name.count
        while start > 0 && name[start - 1] != 0x2F { start -= 1 }
        guard start > 0 else { return UnsafeRawBufferPointer(rebasing: name[0..<0]) }
        return UnsafeRawBufferPointer(rebasing: name[start...])
    }

    @inlinable
    public static func principalName(_ arn: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var colons = 0
        var i = 0
        while i < arn.count {
            if arn[i] == 0x3A {
                colons &+= 1
                if colons == 5 { return UnsafeRawBufferPointer(rebasing: arn[(i + 1)...]) }
            }
            i &+= 1
        }
        return UnsafeRawBufferPointer(rebasing: arn[0..<0])
    }
}
