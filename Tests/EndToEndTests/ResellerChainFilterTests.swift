import Foundation
import TestSupport
import Testing

/// Issue 18, item 9: `--reseller X` finds the accounts whose reseller chain goes through X.
@Suite(.serialized) struct ResellerChainFilterTests {
    static func accounts(_ store: String, _ command: String, _ reseller: String) throws -> [String] {
        let r = try BuiltBinary.run(
            [command, "--store", store, "--output", "csv", "--reseller", reseller], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        let column = try #require(lines.first?.split(separator: ",").firstIndex(of: "account_id"))
        return lines.dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[column]) }
    }

    @Test func aDistributorFindsTheAccountsOfItsResellers() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        let made = try StoreTests.ingest(store)
        #expect(made.status == 0, "\(made.stderr)")
        // SampleLogs: 666666666666 is RS-SG-002's, whose parent is DIST-CN-01 (its sessions do not
        // alert); 222222222222 is RS-HK-001's, whose parent is DIST-SG-01.
        #expect(try Self.accounts(store, "alerts", "DIST-CN-01").isEmpty)
        let viaSG = try Self.accounts(store, "alerts", "DIST-SG-01")
        #expect(viaSG.count == 2)
        #expect(Set(viaSG) == ["222222222222"])
        #expect(try Self.accounts(store, "alerts", "RS-HK-001") == viaSG)
        let sessions = try Self.accounts(store, "sessions", "DIST-CN-01")
        #expect(!sessions.isEmpty)
        #expect(Set(sessions) == ["666666666666"])
        #expect(try Self.accounts(store, "sessions", "DIST-SG-01").contains("222222222222"))
        #expect(try Self.accounts(store, "alerts", "NOBODY").isEmpty)
        // A reseller id that is a prefix of another's matches only itself.
        #expect(try Self.accounts(store, "sessions", "DIST-CN").isEmpty)
        #expect(try Self.accounts(store, "alerts", "DIST-SG").isEmpty)
    }
}
