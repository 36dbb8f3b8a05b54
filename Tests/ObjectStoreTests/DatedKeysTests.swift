import Foundation
import ObjectStore
import Testing

/// Keys laid out by day (CloudTrail's `…/YYYY/MM/DD/name`): what `tail s3://…` re-lists and prunes by.
struct DatedKeysTests {
    @Test(arguments: [
        (
            "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/x.json.gz",
            "AWSLogs/111111111111/CloudTrail/us-east-1/", "2026/03/01"
        ),
        ("2026/12/31/x.json", "", "2026/12/31"),
    ])
    func aKeyLaidOutByDayGivesItsStemAndDay(key: String, stem: String, day: String) throws {
        let split = try #require(DatedKeys.split(key))
        #expect(split.stem == stem)
        #expect(split.day == day)
    }

    @Test(arguments: [
        "cur2/data/BILLING_PERIOD=2026-03/part-0.csv.gz", "AWSLogs/2026/13/01/x.json", "AWSLogs/2026/03/1/x.json",
        "AWSLogs/26/03/01/x.json", "2026/03/01",
    ])
    func otherKeysAreNotDated(key: String) {
        #expect(DatedKeys.split(key) == nil)
    }

    @Test func daysAreUTCAndCountBackAcrossMonthsAndYears() {
        let newYear = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z
        #expect(DatedKeys.day(newYear) == "2027/01/01")
        #expect(DatedKeys.day(newYear, daysBefore: 1) == "2026/12/31")
        #expect(DatedKeys.day(newYear, daysBefore: 2) == "2026/12/30")
        #expect(DatedKeys.day(ofInputName: "s3://b/AWSLogs/1/CloudTrail/r/2026/03/01/x") == "2026/03/01")
    }
}
