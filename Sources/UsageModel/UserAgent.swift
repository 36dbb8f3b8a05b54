/// A user agent reduced to the installation that sent it: the tokens that name a tool, its version,
/// its runtime and its host stay; the tokens that change from call to call of one installation go.
///
/// AWS CLI v2 bundles its own Python, so two calls of one installation differ only in
/// `command/ec2.describe-instances` (or `md/command#…`); SDKs built on the "ua/2.0" scheme append the
/// features a call used (`m/E,b`) and the API (`api/ec2#1.0`); boto3's resource layer appends
/// `Resource`. Hashing the whole string counted one installation as many identifiers.
extension UnsafeRawBufferPointer {
    /// Whether the bytes start with `prefix`'s UTF-8.
    @inlinable @inline(__always)
    public func hasPrefix(_ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard count >= n else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where self[i] != p[i] { return false }
        return true
    }
}

public enum UserAgent {
    /// Whether the token `b[start..<end]` varies per call (see the type's note).
    @inline(__always)
    static func variesPerCall(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        let token = UnsafeRawBufferPointer(rebasing: b[start..<end])
        @inline(__always) func has(_ prefix: StaticString) -> Bool { token.hasPrefix(prefix) }
        if token.count == 8 && has("Resource") { return true }
        return has("command/") || has("md/command#") || has("m/") || has("api/")
    }

    /// The ``StableHash`` of the installation's tokens (joined by single spaces); 0 for an empty agent.
    public static func installationKey(_ b: UnsafeRawBufferPointer) -> UInt64 {
        installationKeyAndCloudShell(b).key
    }

    /// The installation's tokens as text (at most 160 bytes), for evidence.
    ///
    /// Built in a buffer on the stack: one allocation (the string's), not an array grown token by token
    /// (four in five of a large trail's allocations on the readers were that array's growth).
    public static func installation(_ b: UnsafeRawBufferPointer) -> String {
        // One byte past the limit tells a longer installation from one of exactly 160 bytes.
        let limit = 161
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: limit) { out in
            var count = 0
            forEachToken(b) { start, end in
                if count > 0 && count < limit {
                    out[count] = 0x20
                    count &+= 1
                }
                var i = start
                while i < end && count < limit {
                    out[count] = b[i]
                    count &+= 1
                    i &+= 1
                }
            }
            if count > 160 {
                out[157] = 0x2E
                out[158] = 0x2E
                out[159] = 0x2E
                count = 160
            }
            return String(decoding: UnsafeBufferPointer(rebasing: out[0..<count]), as: UTF8.self)
        }
    }

    public static func installation(_ s: String) -> String {
        var s = s
        return s.withUTF8 { installation(UnsafeRawBufferPointer($0)) }
    }

    public static func installationKey(_ s: String) -> UInt64 {
        var s = s
        return s.withUTF8 { installationKey(UnsafeRawBufferPointer($0)) }
    }

    /// Whether the agent carries the token `exec-env/CloudShell`: AWS CloudShell's CLI, which runs in the
    /// region and calls from AWS's own addresses there (a person types it; its address is the region's).
    public static func isCloudShell(_ b: UnsafeRawBufferPointer) -> Bool {
        let token: StaticString = "exec-env/CloudShell"
        let n = token.utf8CodeUnitCount
        var i = 0
        while i < b.count {
            while i < b.count && b[i] == 0x20 { i &+= 1 }
            let start = i
            while i < b.count && b[i] != 0x20 { i &+= 1 }
            if i - start == n && UnsafeRawBufferPointer(rebasing: b[start..<i]).hasPrefix(token) { return true }
        }
        return false
    }

    /// ``installationKey(_:)`` and ``isCloudShell(_:)`` in one walk of the agent's tokens: what a reader
    /// asks of every agent it has not seen (the large customer's trail has an agent of its own nearly every
    /// other record, and the second walk was 1.9% of `ingest --jobs 1` there).
    public static func installationKeyAndCloudShell(_ b: UnsafeRawBufferPointer) -> (key: UInt64, isCloudShell: Bool) {
        let shell: StaticString = "exec-env/CloudShell"
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var any = false
        var cloudShell = false
        // The CloudShell token does not vary per call: the installation's tokens include it.
        forEachToken(b) { start, end in
            if !cloudShell && end - start == shell.utf8CodeUnitCount
                && UnsafeRawBufferPointer(rebasing: b[start..<end]).hasPrefix(shell)
            {
                cloudShell = true
            }
            if any {
                h ^= 0x20
                h &*= 0x0000_0100_0000_01B3
            }
            any = true
            for i in start..<end {
                h ^= UInt64(b[i])
                h &*= 0x0000_0100_0000_01B3
            }
        }
        return (any ? (h == 0 ? 1 : h) : 0, cloudShell)
    }

    public static func isCloudShell(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isCloudShell(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    static func forEachToken(_ b: UnsafeRawBufferPointer, _ body: (Int, Int) -> Void) {
        var i = 0
        let n = b.count
        while i < n {
            while i < n && b[i] == 0x20 { i &+= 1 }
            let start = i
            while i < n && b[i] != 0x20 { i &+= 1 }
            if i > start && !variesPerCall(b, start, i) { body(start, i) }
        }
    }
}
