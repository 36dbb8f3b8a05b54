import Foundation
import TestSupport
import Testing
@testable import UsageModel
import Inputs

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-03-01T02:00:00Z", Int64(1_772_330_400)),
        ("2026-03-01T02:00:00.123Z", 1_772_330_400),
        ("2026-03-01 02:00:00.000000000", 1_772_330_400),
        ("2026-03-01 02:00:00", 1_772_330_400),
        ("2026-03-01T10:00:00+08:00", 1_772_330_400),
        ("2026-03-01T01:30:00-00:30", 1_772_330_400),
        ("2026-03-01", 1_772_323_200),
        ("1970-01-01T00:00:00Z", 0),
    ])
    func parsesTheTimeFormatsLogsUse(text: String, expected: Int64) {
        #expect(Timestamp.parse(text) == expected)
    }

    @Test(arguments: [
        "", "yesterday", "2026-13-01T00:00:00Z", "2026-03-01T25:00:00Z", "2026/03/01", "2026-03-01T02:00:00Zjunk",
    ])
    func rejectsWhatIsNotATime(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test(arguments: [Int64(0), 1_772_330_400, 951_782_400, 4_102_444_799])
    func formatsAndParsesBack(seconds: Int64) {
        #expect(Timestamp.parse(Timestamp.format(seconds)) == seconds)
    }

    /// The digits written in place agree with a formatter built from the civil date by interpolation,
    /// over seeded random times from year 0 to 9999 and the edges of that range.
    @Test func formatsLikeAnInterpolatedReference() {
        func reference(_ seconds: Int64) -> String {
            let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
            let rest = Int(seconds - Int64(days) * 86_400)
            let (y, m, d) = Timestamp.civilFromDays(days)
            func pad(_ v: Int, _ width: Int) -> String {
                String(repeating: "0", count: max(0, width - String(v).count)) + String(v)
            }
            return
                "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))Z"
        }
        let first: Int64 = -62_167_219_200, last: Int64 = 253_402_300_799  // 0000-01-01, 9999-12-31T23:59:59
        var rng = SplitMix(seed: 1970)
        let times =
            [first, last, -1, 0, 86_399, 86_400]
            + (0..<2000).map { _ in first + Int64(rng.next() % UInt64(last - first + 1)) }
        for t in times { #expect(Timestamp.format(t) == reference(t), "\(t)") }
        #expect(Timestamp.format(first) == "0000-01-01T00:00:00Z" && Timestamp.format(last) == "9999-12-31T23:59:59Z")
    }

    @Test func durations() {
        #expect(Timestamp.parseDuration("7d") == Int64(7 * 86_400))
        #expect(Timestamp.parseDuration("90s") == Int64(90))
        #expect(Timestamp.parseDuration("x") == nil)
    }
}

@Suite struct IPAddressTests {
    @Test(arguments: [
        "198.51.100.7", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::1", "::ffff:192.0.2.1", "fe80::1:2:3:4",
    ])
    func parsesAddresses(text: String) {
        #expect(IPAddress.parse(text) != nil)
    }

    @Test(arguments: [
        "ec2.amazonaws.com", "AWS Internal", "100.200.300.400", "06.237.252.245", "225.01.00.16", "1.2.3", "",
        "1::2::3",
        "12345::", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.04", "256.0.0.1", "1.2.3.4 ", "1.2.3.4:443",
    ])
    func rejectsWhatIsNotAnAddress(text: String) {
        #expect(IPAddress.parse(text) == nil)
    }

    @Test func ipv4MapsIntoTheIPv6Space() {
        #expect(IPAddress.parse("::ffff:192.0.2.1") == IPAddress.parse("192.0.2.1"))
        #expect(IPAddress.parse("192.0.2.1")!.description == "192.0.2.1")
    }
}

@Suite struct StableHashTests {
    /// The two-at-a-time form gives each text the hash it has alone, whichever is longer.
    @Test(arguments: [
        ("", ""), ("369655005736", ""), ("", "ASIA82FAF47B43DDD335"),
        ("ebdbcaf2-2fff-700e-fe47-4af92d9db438", "aws-cli/2"),
        ("ASIA82FAF47B43DDD335", "369655005736"), ("same", "same"),
    ])
    func pairsHashLikeSingles(a: String, b: String) {
        var x = a
        var y = b
        let (ha, hb) = x.withUTF8 { xa in
            y.withUTF8 { yb in StableHash.hash(UnsafeRawBufferPointer(xa), UnsafeRawBufferPointer(yb)) }
        }
        #expect(ha == StableHash.hash(a))
        #expect(hb == StableHash.hash(b))
    }

    /// FNV-1a: the values are stored (event keys, session and alert ids), so they must not drift.
    @Test func knownValues() {
        #expect(StableHash.hash("") == 0xCBF2_9CE4_8422_2325)
        #expect(StableHash.hash("a") == 0xAF63_DC4C_8601_EC8C)
    }
}

@Suite struct EscapingTests {
    @Test(arguments: ["evil\nHIGH 1.0 forged", "bell\u{07}", "esc\u{1B}[31m", "line\u{2028}sep", "del\u{7F}"])
    func logTextCannotForgeLines(text: String) {
        let escaped = TextEscaping.escapeForTerminal(text)
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x2028 })
        let json = quoted(text)
        #expect(!json.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x2028 })
    }

    @Test func numbersPrintAsTheSpecShows() {
        #expect(JSONWriter.formatNumber(56) == "56.0")
        #expect(JSONWriter.formatNumber(0.97) == "0.97")
        #expect(JSONWriter.formatNumber(1.0 / 3.0, decimals: 2) == "0.33")
    }
}

@Suite struct JSONQuotingTests {
    /// Plain strings take the fast path, the rest the escaping one; both give JSON that reads back as
    /// the same string and holds no raw control, C1 or line-separator character.
    @Test(arguments: [
        "plain ascii", "", "quote \" inside", "back\\slash", "tab\tnew\nline\r", "del \u{7F}", "c1 \u{85} \u{9F}",
        "nbsp \u{A0} is fine", "ls \u{2028} ps \u{2029}", "emoji 🙂 and 漢字", "é at the end é", "ctl \u{01}\u{1F}\u{0}",
        "\u{2027}\u{202A} neighbours of the separators", "\u{A0}\u{C2}",
    ])
    func quotedStringsReadBack(text: String) throws {
        let out = quoted(text)
        let back = try JSONSerialization.jsonObject(with: Data(("[" + out + "]").utf8)) as? [String]
        #expect(back == [text])
        #expect(
            !out.unicodeScalars.contains {
                $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029
            })
        let escapes = text.unicodeScalars.contains {
            $0.value < 0x20 || $0 == "\"" || $0 == "\\" || (0x7F..<0xA0).contains($0.value) || $0.value == 0x2028
                || $0.value == 0x2029
        }
        #expect((out != "\"" + text + "\"") == escapes)
    }
}

@Suite struct DeliveryTimeTests {
    /// The delivery time in an object's name orders inputs (AWS's `YYYYMMDDTHHMMZ`, with seconds too).
    @Test(arguments: [
        (
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0205Z_abc.json.gz",
            Int64?(1_772_330_700)
        ),
        ("/data/x_20260301T020507Z.json", 1_772_330_707),
        ("20260301T0205Z.json", 1_772_330_700),
        ("dir.20260301T0205Z/", 1_772_330_700),
        ("dir_20260301T0205Z/file.json", nil),
        ("a/b_20261301T0205Z.json", nil),
        ("a/b_20260301T2505Z.json", nil),
        ("a/plain.json", nil),
        ("/", nil),
        ("", nil),
    ])
    func isReadFromTheLastComponent(path: String, expected: Int64?) {
        #expect(InputEnumerator.deliveryTime(inName: path) == expected)
    }
}

/// `text` as the JSON writer quotes a string value.
func quoted(_ text: String) -> String {
    var w = JSONWriter()
    w.string(nil, text)
    return w.text
}
