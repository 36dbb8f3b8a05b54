@testable import Detection
@testable import Pipeline
import Testing
@testable import UsageModel

/// The typical account's share of calls through addresses many accounts share (``SharedExitNorm``): the
/// median of the accounts with at least 20 located calls, counted as their calls come.
@Suite struct SharedExitNormTests {
    /// An activity of `located` calls from Singapore, `shared` of them through a shared address.
    static func activity(located: Int, shared: Int) -> AccountActivity {
        var a = AccountActivity()
        for i in 0..<located {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: 1_772_323_200 + Int64(i) * 60, sourceIP: nil,
                    country: CountryCode("SG")!, isSignIn: false, network: i < shared ? [.shared] : []))
        }
        return a
    }

    @Test(arguments: [(19, 19, -1), (20, 0, 0), (20, 5, 25), (30, 29, 96), (40, 40, 100)])
    func anAccountIsCountedAtItsPercentage(located: Int, shared: Int, percent: Int) {
        #expect(SharedExitNorm.percent(Self.activity(located: located, shared: shared)) == percent)
    }

    /// The median of the counted accounts, the lower of the two middle ones; 1 (nothing hides) until ten
    /// are counted; an account moved leaves its old percentage.
    @Test func theShareIsTheMedianAccounts() {
        var norm = SharedExitNorm()
        norm.settle()
        #expect(norm.share == 1)
        for p in [10, 90, 30, 70, 1, 2, 3, 95, 96] { norm.move(from: -1, to: p) }
        norm.settle()
        #expect(norm.share == 1, "nine accounts: not yet")
        norm.move(from: -1, to: 97)
        norm.settle()
        #expect(norm.share == 0.3)
        norm.move(from: 10, to: 80)
        norm.settle()
        #expect(norm.share == 0.7)
        norm.move(from: -1, to: 0)
        norm.settle()
        #expect(norm.share == 0.7)
        #expect(norm.accounts.reduce(0, +) == 11)
        #expect(norm.accounts[10] == 0 && norm.accounts[80] == 1)
    }
}
