@testable import LogFormats
import TestSupport
import Testing
import UsageModel

/// The reader's cache of user agents' installation keys gives the key the agent's bytes give, whatever
/// agents share its slot: agents of every length around the cached ones, agents equal in length and in
/// their first and last eight bytes but not between, and agents that vary per call.
@Suite struct AgentKeyCacheTests {
    @Test(arguments: [1, 2, 3])
    func theCachedKeyIsTheAgentsKey(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let tokens = [
            "aws-cli/2.16.33", "Python/3.11.21", "Linux/6.1.37", "exe/x86_64.amzn.2023", "command/ec2.run-instances",
            "md/command#ec2.describe", "Boto3/1.34.69", "ua/2.0", "os/linux", "api/ec2#1.37.29", "a", "",
        ]
        // A pool small enough that agents recur, with near-duplicates that differ in one middle byte.
        var pool: [[UInt8]] = []
        for _ in 0..<40 {
            let count = Int(rng.next() % 9)
            var agent = (0..<count).map { _ in tokens[Int(rng.next() % UInt64(tokens.count))] }.joined(
                separator: rng.next() % 5 == 0 ? "  " : " ")
            if rng.next() % 7 == 0 { agent = String(repeating: "x", count: Int(rng.next() % 200)) }
            pool.append(Array(agent.utf8))
            if agent.utf8.count > 17 {
                var twin = Array(agent.utf8)
                twin[twin.count / 2] ^= 0x01
                pool.append(twin)
            }
        }
        var cache = AgentKeyCache()
        for _ in 0..<5_000 {
            let agent = pool[Int(rng.next() % UInt64(pool.count))]
            agent.withUnsafeBytes { bytes in
                #expect(
                    cache.key(bytes) == UserAgent.installationKey(bytes), "\(String(decoding: agent, as: UTF8.self))")
            }
        }
    }

    /// The one walk of an agent's tokens (``UserAgent/installationKeyAndCloudShell(_:)``), and the cache
    /// that holds its answers, give the hash of the installation's text and what the CloudShell walk gives: whether the token
    /// `exec-env/CloudShell` is there, beside near-misses of it, after tokens that vary per call, with
    /// spaces doubled, leading and trailing.
    @Test(arguments: [4, 5, 6])
    func oneWalkGivesTheKeyAndCloudShell(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let tokens = [
            "aws-cli/2.15.30", "Python/3.11.8", "exec-env/CloudShell", "exec-env/CloudShellx", "xexec-env/CloudShell",
            "exec-env/CloudShel", "exec-env/cloudshell", "command/exec-env/CloudShell", "m/E,b", "Resource",
            "md/command#ec2.describe", "api/ec2#1.37.29", "exe/x86_64.amzn.2023", "a", "",
        ]
        var cache = AgentKeyCache()
        var shells = 0
        for _ in 0..<20_000 {
            let count = Int(rng.next() % 8)
            var agent = (0..<count).map { _ in tokens[Int(rng.next() % UInt64(tokens.count))] }.joined(
                separator: rng.next() % 4 == 0 ? "  " : " ")
            if rng.next() % 5 == 0 { agent = " " + agent }
            if rng.next() % 5 == 0 { agent += " " }
            Array(agent.utf8).withUnsafeBytes { bytes in
                let walked = UserAgent.installationKeyAndCloudShell(bytes)
                let key = walked.key
                let isCloudShell = UserAgent.isCloudShell(bytes)
                // The key is the hash of the installation's text (the tokens that do not vary per call,
                // joined by single spaces), where that text is whole (up to 160 bytes).
                let text = UserAgent.installation(bytes)
                if text.utf8.count <= 160 {
                    let h = StableHash.hash(text)
                    #expect(key == (text.isEmpty ? 0 : h == 0 ? 1 : h), "\(agent)")
                }
                #expect(walked.isCloudShell == isCloudShell, "\(agent)")
                if !bytes.isEmpty {
                    let cached = cache.read(bytes)
                    #expect(cached.key == key && cached.isCloudShell == isCloudShell, "\(agent)")
                }
                if isCloudShell { shells += 1 }
            }
        }
        // Both answers drawn often enough to count.
        #expect(shells > 1_000 && shells < 19_000)
    }
}
