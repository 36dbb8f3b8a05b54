@testable import Pipeline
import Testing

/// The de-duplication window's memory follows the days it holds, not the days it has held.
@Suite struct WindowedDeduplicatorTests {
    /// A billing export read before the audit logs makes a table for every day of its period at once;
    /// as the audit logs' time passes those days, their tables are let go (two kept for the next days),
    /// and what the window answers is the same.
    @Test func daysLeftBehindKeepAtMostTwoSpareTables() {
        var window = WindowedDeduplicator(retentionDays: 2)
        for day in 0..<30 {
            for k in 1...100 {
                let new = window.insert(UInt64(day * 1000 + k), at: Int64(day) * 86_400)
                #expect(new)
            }
        }
        #expect(window.count == 3000)
        for day in 0..<30 { window.advance(to: Int64(day) * 86_400 + 3600) }
        #expect(window.spareTables == 2)
        // Days 27 to 29 stay: their keys are still found, an earlier day's are past checking.
        #expect(window.count == 300)
        let again = [window.insert(29_001, at: 29 * 86_400), window.insert(27_100, at: 27 * 86_400)]
        #expect(again == [false, false])
        let older = window.insert(26_001, at: 26 * 86_400)
        #expect(older)
        // A new day takes a spare table.
        let newDay = window.insert(30_001, at: 30 * 86_400)
        #expect(newDay)
        #expect(window.spareTables == 1)
    }

    /// The window says how much it let go (the tables of the days it left, past the spares): the pipeline
    /// hands the pages back when it is a lot (issue 17: at `--jobs 2` no other table is made where they lay).
    @Test func leavingDaysSaysTheBytesOfTheTablesLetGo() {
        var window = WindowedDeduplicator(retentionDays: 2)
        for day in 0..<10 {
            for n in 0..<100 { _ = window.insert(UInt64(day * 1000 + n + 1), at: Int64(day) * 86_400) }
        }
        // Days 0 to 6 leave: two tables are kept as spares, five let go, 8,192 slots (64 KiB) each.
        let freed = window.advance(to: 9 * 86_400)
        #expect(window.spareTables == 2)
        #expect(freed == 5 * 8192 * 8)
        #expect(window.advance(to: 9 * 86_400 + 3600) == 0)
    }
}
