import Foundation
import TestSupport
import Testing

/// Issue 18, item 8: CSV and table output cannot carry control characters or spreadsheet formulas.
@Suite(.serialized) struct OutputSafetyTests {
    static let hostile = """
        SELECT '=HYPERLINK("http://x")' AS a, '-1.5' AS b, -1.5 AS c, 'x' || char(27) || '[2J' AS d, \
        'l1' || char(10) || 'l2' AS e, 'p' || char(8232) || 'q' AS f, '@SUM(1)' AS g, char(9) || 'tab' AS h, \
        '+1 555' AS i, 'plain' AS "j" || char(27)
        """

    static func store(_ dir: TemporaryDirectory) throws -> String {
        let store = dir.path + "/s.db"
        let input = dir.write("a.json", runInstancesRecord(ids: ["i-1"]) + "\n")
        let made = try BuiltBinary.run(["ingest", "--store", store, input], timeout: 60)
        #expect(made.status == 0, "\(made.stderr)")
        return store
    }

    @Test func csvEscapesControlCharactersAndNeutralisesFormulas() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Self.store(dir)
        let sql = Self.hostile.replacingOccurrences(of: " AS \"j\" || char(27)", with: " AS j")
        let result = try BuiltBinary.run(["query", "--store", store, "--output", "csv", sql], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3, "\(result.stdout)")
        #expect(lines[0] == "a,b,c,d,e,f,g,h,i,j")
        #expect(
            lines[1]
                == #""'=HYPERLINK(""http://x"")",-1.5,-1.5,x\x1b[2J,l1\nl2,p\u2028q,'@SUM(1),'\ttab,'+1 555,plain"#,
            "\(lines[1])")
        for bad: Character in ["\u{1B}", "\u{2028}", "\t"] { #expect(!result.stdout.contains(bad)) }
    }

    @Test func tableOutputNeverWritesRawControlCharacters() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Self.store(dir)
        let sql =
            "SELECT 'x' || char(27) || '[2J' AS \"c\u{1B}]0;t\u{07}\", 'l1' || char(10) || 'l2' AS e, char(8233) AS f"
        let result = try BuiltBinary.run(["query", "--store", store, sql], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1B}"))
        #expect(!result.stdout.contains("\u{07}"))
        #expect(!result.stdout.contains("\u{2029}"))
        #expect(result.stdout.contains(#"l1\nl2"#))
        #expect(result.stdout.split(separator: "\n").count == 4, "\(result.stdout)")
    }
}
