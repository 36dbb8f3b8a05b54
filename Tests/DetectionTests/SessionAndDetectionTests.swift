import Catalog
import Foundation
import Detection
import Ownership
import Sessions
import TestSupport
import Testing
@testable import UsageModel

func event(
    _ action: ComputeAction, _ time: String, resource: String = "i-1", type: String? = "p5.48xlarge",
    account: String = "123456789012", id: String? = nil
) -> UsageEvent {
    UsageEvent(
        provider: .aws, action: action, time: Timestamp.parse(time)!, accountID: account, resourceID: resource,
        instanceType: action == .launch ? type : nil, region: "us-east-1",
        eventID: id ?? "\(action)-\(time)-\(resource)", eventName: action.rawValue,
        origin: EventOrigin(path: "t.json", position: .line(1)))
}

@Suite struct SessionizerTests {
    @Test func eventsOutOfOrderMakeTheSameSessions() {
        let events = [
            event(.launch, "2026-03-01T02:00:00Z"), event(.stop, "2026-03-01T05:00:00Z"),
            event(.start, "2026-03-01T06:00:00Z"), event(.terminate, "2026-03-01T09:00:00Z"),
        ]
        var inOrder = Sessionizer()
        events.forEach { inOrder.observe($0) }
        var shuffled = Sessionizer()
        events.reversed().forEach { shuffled.observe($0) }
        let a = inOrder.finish(at: Timestamp.parse("2026-03-02T00:00:00Z")!)
        let b = shuffled.finish(at: Timestamp.parse("2026-03-02T00:00:00Z")!)
        #expect(a == b)
        #expect(a.count == 2)
        #expect(a.map(\.hours) == [3, 3])
        #expect(a.allSatisfy { !$0.open && $0.instanceType == "p5.48xlarge" })
    }

    @Test func aSessionStillRunningIsOpenUntilTheLastTimeSeen() {
        var s = Sessionizer()
        s.observe(event(.launch, "2026-03-01T02:00:00Z"))
        let sessions = s.finish(at: Timestamp.parse("2026-03-01T12:00:00Z")!)
        #expect(sessions.count == 1)
        #expect(sessions[0].open)
        #expect(sessions[0].hours == 10)
    }

    @Test func closedSessionsAreEmittedOnceTheWatermarkPassesTheLateness() {
        var s = Sessionizer(allowedLateness: 3600)
        s.observe(event(.launch, "2026-03-01T02:00:00Z"))
        s.observe(event(.terminate, "2026-03-01T03:00:00Z"))
        #expect(s.advance(to: Timestamp.parse("2026-03-01T03:30:00Z")!).isEmpty)
        #expect(s.advance(to: Timestamp.parse("2026-03-01T04:00:00Z")!).count == 1)
        #expect(s.liveResources == 0)
        #expect(s.finish(at: Timestamp.parse("2026-03-02T00:00:00Z")!).isEmpty)
    }
}

@Suite struct LateBillingTests {
    func usage(_ time: String, hours: Double = 1) -> UsageEvent {
        UsageEvent(
            provider: .aws, action: .usage, time: Timestamp.parse(time)!, accountID: "123456789012", resourceID: "i-1",
            instanceType: "p5.48xlarge", eventID: "u-\(time)", eventName: "usage", usageSeconds: 3600,
            usageHours: hours,
            origin: EventOrigin(path: "cur.csv", position: .line(2)))
    }

    /// Billing exports arrive a day after the audit log: their lines for a run already emitted join it,
    /// lines of other times still make sessions.
    @Test func billingAfterTheCloseJoinsTheRunItBills() {
        var s = Sessionizer(allowedLateness: 3600)
        s.observe(event(.launch, "2026-03-01T02:10:00Z"))
        s.observe(event(.terminate, "2026-03-01T05:10:00Z"))
        #expect(s.advance(to: Timestamp.parse("2026-03-01T08:00:00Z")!).count == 1)
        for h in 2...5 { s.observe(usage("2026-03-01T0\(h):00:00Z")) }
        #expect(s.lateUsage == 4)
        #expect(s.liveResources == 0)
        s.observe(usage("2026-03-01T12:00:00Z"))
        let later = s.finish(at: Timestamp.parse("2026-03-02T00:00:00Z")!)
        #expect(later.count == 1 && later[0].start == Timestamp.parse("2026-03-01T12:00:00Z")!)
    }
}

@Suite struct DetectorTests {
    static let mappingsCSV = """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,111,,CUST-1,CN,2025-01-01T00:00:00Z,
        aws,222,RS-HK,,,2025-01-01T00:00:00Z,
        aws,333,RS-SG,,,2025-01-01T00:00:00Z,
        aws,555,RS-US,CUST-5,US,2025-01-01T00:00:00Z,
        """
    static let resellersCSV = """
        reseller_id,name,country,parent_id,serves_countries
        RS-HK,HK Ltd,HK,,CN;HK;MO
        RS-SG,SG Pte,SG,DIST-CN,SG
        DIST-CN,CN Co,CN,,CN
        RS-US,US Inc,US,,US
        """

    static func detector(mappings mappingsText: String = mappingsCSV, resellers resellersText: String = resellersCSV)
        -> Detector
    {
        var mappings = MappingTable()
        var resellers = ResellerGraph()
        var problems: [Diagnostic] = []
        mappings.add(text: mappingsText, path: "m.csv", problems: &problems)
        resellers.add(text: resellersText, path: "r.csv", problems: &problems)
        return Detector(
            catalog: .builtIn, jurisdictions: .builtIn, mappings: mappings, resellers: resellers,
            config: .unfitted)
    }

    func session(account: String, type: String = "p5.48xlarge") -> Session {
        var s = Sessionizer()
        s.observe(event(.launch, "2026-03-01T02:00:00Z", type: type, account: account))
        s.observe(event(.terminate, "2026-03-01T09:00:00Z", account: account))
        return s.finish(at: Timestamp.parse("2026-03-02")!)[0]
    }

    /// `total` calls over `days` days before 2026-03-01, `restricted` of them from CN: spread evenly over
    /// the days, or, with `trip`, all on the days of the middle (one call in `total / restricted` elsewhere).
    func activity(restricted: Int, of total: Int, days: Int = 20, trip: Bool = false) -> AccountActivity {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - Int64(days) * 86_400
        for i in 0..<total {
            let t = start + Int64(i) * Int64(days) * 86_400 / Int64(total)
            let fromChina =
                trip
                ? (i >= (total - restricted) / 2 && i < (total + restricted) / 2)
                : i % (total / max(1, restricted)) == 0 && i / (total / max(1, restricted)) < restricted
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: t, sourceIP: nil,
                    country: fromChina ? CountryCode("CN")! : CountryCode("US")!, isSignIn: false))
        }
        return a
    }

    @Test func aDeclaredRestrictedCustomerOnH100sAlertsHigh() throws {
        let d = Self.detector()
        let a = d.assess(session(account: "111"), activity: nil)
        #expect(a.alerts)
        let alert = d.alert(for: a)
        #expect(alert.severity == .high)
        #expect(alert.jurisdictions == ["CN"])
        #expect(alert.session.acceleratorHours == 56)
        #expect(alert.session.acceleratorCount == 8)
        #expect(alert.evidence.map(\.kind) == [.catalog, .declaredCountry])
        let expected: Double = 1 / (1 + exp(-4.0))
        #expect(abs(alert.score - expected) < 1e-4)
        #expect(alert.evidence[1].sources == ["m.csv:2"])
    }

    /// An account declared in the US (555) with a steady tenth of its calls from China: where the rest
    /// came from the US the declaration weighs in full; where they came through Singapore (no US call,
    /// or fewer than 30%), it is not borne out by the account's own calls and weighs half — and not at
    /// all with `declared_unsupported_factor = 0`; with too few calls to say (under
    /// `declared_support_min_calls` = 8 located calls), in full. A sparse account (10 located calls,
    /// none from the US) is judged too: a few dozen calls are what many diverters' accounts make.
    @Test(arguments: [
        (fromDeclared: 270, elsewhere: 0, factor: 0.5, kept: 1.0),
        (fromDeclared: 0, elsewhere: 270, factor: 0.5, kept: 0.5),
        (fromDeclared: 80, elsewhere: 190, factor: 0.5, kept: 0.5),
        (fromDeclared: 90, elsewhere: 180, factor: 0.5, kept: 1.0),
        (fromDeclared: 0, elsewhere: 270, factor: 0.0, kept: 0.0),
        (fromDeclared: 0, elsewhere: 1, factor: 0.5, kept: 1.0),
        (fromDeclared: 0, elsewhere: 4, factor: 0.5, kept: 0.5),
        (fromDeclared: 3, elsewhere: 1, factor: 0.5, kept: 1.0),
    ])
    func aDeclarationElsewhereWeighsLessWhereTheAccountsCallsDoNotBearItOut(
        fromDeclared: Int, elsewhere: Int, factor: Double, kept: Double
    ) throws {
        var d = Self.detector()
        d.config.declaredUnsupportedFactor = factor
        let config = d.config
        let total = fromDeclared + elsewhere
        let restricted = max(6, total / 9)
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        let countries =
            Array(repeating: "CN", count: restricted) + Array(repeating: "US", count: fromDeclared)
            + Array(repeating: "SG", count: elsewhere)
        for (i, country) in countries.enumerated() {
            // Interleaved over 20 days: the calls from China come on many days (steady, not a trip).
            let slot = (i * 7919) % countries.count
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i),
                    time: start + Int64(slot) * 20 * 86_400 / Int64(countries.count),
                    sourceIP: nil, country: CountryCode(country)!, isSignIn: false))
        }
        let assessment = d.assess(session(account: "555"), activity: a)
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        #expect(network.weight > 0, "\(network.detail)")
        let declared = try #require(assessment.evidence.first { $0.kind == .declaredCountry })
        #expect(abs(declared.weight - kept * config.declaredUnrestrictedWeight) < 1e-9, "\(declared.detail)")
        #expect(declared.detail.contains("not borne out") == (kept != 1), "\(declared.detail)")
    }

    /// Declared support beside shared identity: an account declared in the US (555) probably run by
    /// the same people as an account declared in China (111), with no call from a restricted country
    /// and 12 located calls, none from the US: the same people's other declaration stands beside it as
    /// network evidence does, so the US declaration weighs `declared_unsupported_factor` of its weight;
    /// with its calls from the US, or a link too weak (`declared_support_identity_weight`), in full.
    @Test(arguments: [
        (country: "SG", probability: 0.5, kept: 0.75),
        (country: "US", probability: 0.5, kept: 1.0),
        (country: "SG", probability: 0.1, kept: 1.0),
    ])
    func aDeclarationElsewhereWeighsLessBesideTheSamePeoplesRestrictedDeclaration(
        country: String, probability: Double, kept: Double
    ) throws {
        let d = Self.detector()
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 12 * 86_400
        for i in 0..<12 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(i) * 86_400, sourceIP: nil,
                    country: CountryCode(country)!, isSignIn: false))
        }
        let partner = Detector.IdentityPartner(
            account: "111", probability: probability, shared: "principal 'user/li.wei' (2 of 200 accounts)")
        let assessment = d.assess(session(account: "555"), activity: a, partners: [partner])
        let shared = try #require(assessment.evidence.first { $0.kind == .sharedIdentity })
        #expect(abs(shared.weight - 0.9 * probability * 7.0) < 1e-9)
        #expect(!assessment.evidence.contains { $0.kind == .network && $0.weight > 0 })
        let declared = try #require(assessment.evidence.first { $0.kind == .declaredCountry })
        #expect(
            abs(declared.weight - kept * d.config.declaredUnrestrictedWeight) < 1e-9, "\(declared.detail)")
        #expect(declared.detail.contains("not borne out") == (kept != 1), "\(declared.detail)")
    }

    /// An account whose only calls came from its instances' roles has activity but no first or last
    /// call: assessing its restricted session beside a declared link has no time of day to estimate
    /// (it trapped on an arithmetic overflow: found on a 2,000-account world with billing).
    @Test func anAccountWithOnlyInstanceRoleCallsIsAssessedWithoutTimeEvidence() throws {
        let d = Self.detector()
        var activity = AccountActivity()
        activity.record(
            CallObservation(
                accountKey: 1, eventKey: 1, time: Timestamp.parse("2026-03-01T03:00:00Z")!, sourceIP: nil,
                country: CountryCode("US")!, isSignIn: false, isMachine: true))
        #expect(activity.calls == 1 && activity.lastSeen < activity.firstSeen)
        let a = d.assess(session(account: "111"), activity: activity)
        #expect(a.alerts)
        #expect(!d.alert(for: a).evidence.contains { $0.kind == .time })
    }

    /// A launch inside the first billing period: one session, started by the launch, with the billed
    /// hours and both sources named in the evidence.
    @Test func auditAndBillingOfOneRunAreOneSessionWithBothInTheEvidence() throws {
        var s = Sessionizer()
        s.observe(event(.launch, "2026-03-01T00:10:00Z", account: "111"))
        for h in 0...3 {
            s.observe(
                UsageEvent(
                    provider: .aws, action: .usage, time: Timestamp.parse("2026-03-01T0\(h):00:00Z")!, accountID: "111",
                    resourceID: "i-1", instanceType: "p5.48xlarge", eventID: "u\(h)", eventName: "usage",
                    usageSeconds: 3600, usageHours: h == 0 ? 5.0 / 6 : h == 3 ? 1.0 / 6 : 1,
                    origin: EventOrigin(path: "cur.csv", position: .line(h + 2))))
        }
        s.observe(event(.terminate, "2026-03-01T03:10:00Z", account: "111"))
        let sessions = s.finish(at: Timestamp.parse("2026-03-02T00:00:00Z")!)
        try #require(sessions.count == 1)
        #expect(sessions[0].start == Timestamp.parse("2026-03-01T00:10:00Z")!)
        let a = Self.detector().assess(sessions[0], activity: nil)
        let fused = try #require(a.evidence.first { $0.kind == .auditAndBilling })
        #expect(
            fused.detail.hasPrefix("billed 3.0 instance-hour(s) in 4 billing record(s); launched"), "\(fused.detail)")
        #expect(fused.sources.first == "t.json:1" && fused.sources.contains("cur.csv:2"))
        #expect(a.acceleratorHours == 24)
    }

    @Test func theSameCustomerOnUnrestrictedGPUsDoesNotAlert() {
        let a = Self.detector().assess(session(account: "111", type: "g4dn.12xlarge"), activity: nil)
        #expect(!a.alerts)
        #expect(!a.restrictedConsumption)
    }

    @Test func aResellerServingChinaAlertsWhenTheCustomerIsUnknown() {
        let a = Self.detector().assess(session(account: "222"), activity: nil)
        #expect(a.alerts)
        #expect(a.evidence.contains { $0.kind == .resellerChain && $0.detail.contains("RS-HK") })
        #expect(a.jurisdictions.contains(CountryCode("CN")!))
    }

    @Test func chainEvidenceFallsWithDepth() {
        let d = Self.detector()
        let direct = d.assess(session(account: "222"), activity: nil)
        let viaParent = d.assess(session(account: "333"), activity: nil)
        #expect(viaParent.alerts)
        #expect(viaParent.score < direct.score)
        #expect(viaParent.evidence.last?.detail.contains("via RS-SG") == true)
    }

    @Test func twoTravelCallsDoNotMakeALinkAndASteadyThirtyPercentDoes() {
        let d = Self.detector()
        let travel = d.assess(session(account: "999"), activity: activity(restricted: 2, of: 200))
        #expect(!travel.alerts)
        let steady = d.assess(session(account: "999"), activity: activity(restricted: 60, of: 200))
        #expect(steady.alerts)
        // +4.97 with the share's models fitted on tuning worlds (2026-12-06; the cap, +6, before): unfitted, 0.88.
        #expect(steady.score > 0.85)
    }

    /// Unlinked accounts include some with an office in China (a steady few percent of calls): a few
    /// unlucky days of one do not make a declared US customer's link, while a steady 20% still links an
    /// unknown customer.
    @Test(arguments: [(8, 41), (6, 29)])
    func aSmallOfficeShareIsNotALink(k: Int, n: Int) {
        let d = Self.detector()
        #expect(d.networkWeight(restricted: k, located: n) < 4)
        var noOffice = DetectionConfig.unfitted
        noOffice.benignOfficeWeight = 0
        let strict = Detector(
            catalog: d.catalog, jurisdictions: d.jurisdictions, mappings: d.mappings, resellers: d.resellers,
            config: noOffice)
        #expect(strict.networkWeight(restricted: k, located: n) > 5)
        #expect(!d.assess(session(account: "555"), activity: activity(restricted: k, of: n, days: 6)).alerts)
        // Until 2026-12-06 a steady 20% (40 of 200) linked an unknown customer by itself; with the share's models
        // fitted on tuning worlds it is where multinationals' offices and trips reach (+2.85 of the cap's 6),
        // and it takes a steady third to link alone (+5.67).
        #expect(d.assess(session(account: "999"), activity: activity(restricted: 66, of: 200, days: 10)).alerts)
    }

    /// The network share's models fitted on tuning worlds (issue 15, 2026-12-06): a declared US customer with a
    /// quarter of its calls from China (a multinational's office and Hong Kong footprint, 33 of 135) is not
    /// linked by them — the hand-set linked Beta(3, 7) peaked there and gave the cap — and its evidence says
    /// what it was weighed against; a handful of calls left, all from China (what a covert operator behind
    /// VPN exits the feed leaves out shows), still reach the cap: nothing shrinks the ratio with n.
    @Test func aMultinationalsQuarterFromChinaIsNotALinkAndAHandfulAllFromChinaStillIs() throws {
        let d = Self.detector()
        #expect(d.networkWeight(restricted: 33, located: 135) < 5)
        let a = d.assess(session(account: "555"), activity: activity(restricted: 33, of: 135))
        #expect(!a.alerts, "\(a.score)")
        // The counts the ratio was taken of, which the evidence log writes to fit the models on — also for an
        // account that never called from a restricted country (no network evidence item).
        #expect(a.networkShare.map { [$0.restricted, $0.located] } == [33, 135])
        let none = d.assess(session(account: "888"), activity: activity(restricted: 0, of: 300))
        #expect(!none.evidence.contains { $0.kind == .network })
        #expect(none.networkShare.map { [$0.restricted, $0.located] } == [0, 300])
        let network = try #require(a.evidence.first { $0.kind == .network })
        #expect(
            network.detail.contains(
                "share 0.244; weighed against an office or trips there (18% of benign accounts, their share Beta(0.57, 17.88))"
            ), "\(network.detail)")
        #expect(d.networkWeight(restricted: 9, located: 9) == d.config.networkWeightCap)
        let capped = d.assess(session(account: "999"), activity: activity(restricted: 9, of: 9, days: 9))
        let full = try #require(capped.evidence.first { $0.kind == .network })
        #expect(!full.detail.contains("weighed against"), "\(full.detail)")
    }

    /// The same 30%, but all of it within a few days of an account seen at home before and after: a
    /// trip explains it as well as a link does.
    @Test func aTripExplainsRestrictedCallsConfinedToAFewDays() throws {
        let d = Self.detector()
        let trip = d.assess(session(account: "999"), activity: activity(restricted: 60, of: 200, trip: true))
        #expect(!trip.alerts)
        let network = try #require(trip.evidence.first { $0.kind == .network })
        #expect(network.weight == 1)
        #expect(network.detail.contains("a trip explains them as well"), "\(network.detail)")
    }

    /// Steadiness: calls from China on one day only carry a quarter of the weight, on four days all of it.
    @Test(arguments: [(1, 1.5), (2, 3.0), (4, 6.0)])
    func networkWeightGrowsWithTheDaysItRestsOn(days: Int, weight: Double) throws {
        let a = Self.detector().assess(
            session(account: "999"), activity: activity(restricted: 150, of: 300, days: days))
        let network = try #require(a.evidence.first { $0.kind == .network })
        #expect(abs(network.weight - weight) < 1e-9, "\(network.detail)")
        #expect(
            network.detail.hasSuffix("on \(days) day(s) so far (full weight from 4)") == (days < 4), "\(network.detail)"
        )
    }

    @Test(arguments: [(0, 100), (1, 100), (2, 200), (3, 500)])
    func fewRestrictedCallsWeighAgainstALink(k: Int, n: Int) {
        #expect(Self.detector().networkWeight(restricted: k, located: n) <= 0.5)
    }

    @Test func aDeclaredUSCustomerIsNotFlagged() {
        let a = Self.detector().assess(session(account: "555"), activity: activity(restricted: 2, of: 300))
        #expect(!a.alerts)
    }

    @Test func unmappedAccountsWithoutSignalsDoNotAlert() {
        let a = Self.detector().assess(session(account: "888"), activity: activity(restricted: 0, of: 300))
        #expect(!a.alerts)
    }
}

/// Shared identifiers: specificity from the population's own counts, one installation per tool.
@Suite struct SharedIdentityTests {
    static func call(
        _ account: UInt64, ip: String? = nil, agent: String? = nil, key: String? = nil, principal: String? = nil
    ) -> CallObservation {
        CallObservation(
            accountKey: account, eventKey: UInt64.random(in: 1...UInt64.max), time: 0,
            sourceIP: ip.flatMap { IPAddress.parse($0) },
            isSignIn: false, agentKey: agent.map { UserAgent.installationKey($0) } ?? 0,
            accessKeyKey: key.map { StableHash.hash($0) } ?? 0, principalKey: principal.map { StableHash.hash($0) } ?? 0
        )
    }

    /// `n` unrelated accounts (keys 1000...) on stock tooling: one aws-cli release, the usual role names,
    /// their own addresses.
    static func background(_ g: inout IdentityGraph, accounts n: Int) {
        for a in 0..<n {
            let account = UInt64(1000 + a)
            for c in ["ec2.describe-instances", "s3.ls", "sts.get-caller-identity"] {
                g.observe(
                    call(
                        account, ip: "10.\(a / 250).\(a % 250).7",
                        agent: "aws-cli/2.15.30 Python/3.11.8 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/\(c)",
                        principal: a % 3 == 0 ? "role/admin" : "role/OrganizationAccountAccessRole"))
            }
        }
    }

    @Test(arguments: [
        (
            "aws-cli/2.15.30 Python/3.11.8 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/ec2.run-instances",
            "aws-cli/2.15.30 Python/3.11.8 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/s3.cp"
        ),
        (
            "aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/linux#5.10 md/arch#x86_64 md/command#ec2.describe-instances",
            "aws-cli/2.22.0 md/awscrt#0.22.0 ua/2.0 os/linux#5.10 md/arch#x86_64 md/command#sts.get-caller-identity"
        ),
        (
            "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux lang/python#3.11 m/E,b Botocore/1.34.0 Resource",
            "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux lang/python#3.11 m/Z Botocore/1.34.0"
        ),
    ])
    func oneInstallationIsOneIdentifierWhateverTheCommand(a: String, b: String) {
        #expect(UserAgent.installationKey(a) == UserAgent.installationKey(b))
        #expect(UserAgent.installation(a) == UserAgent.installation(b))
        #expect(!UserAgent.installation(a).contains("command"))
        #expect(UserAgent.installationKey(a) != UserAgent.installationKey("aws-cli/2.15.31 Python/3.11.8"))
        #expect(UserAgent.installationKey("") == 0)
    }

    /// The installation's text: its tokens joined by single spaces, and one longer than 160 bytes cut to 157
    /// and "..." — at the edges too (exactly 160, 161, a separator at the cut, nothing but per-call tokens).
    @Test(arguments: [
        "", "   ", "m/E,b Resource", "aws-cli/2.22.0", "  aws-cli/2.22.0   ua/2.0  md/command#s3.ls ",
        String(repeating: "a", count: 160), String(repeating: "a", count: 161), String(repeating: "a", count: 400),
        String(repeating: "a", count: 157) + " bb", String(repeating: "a", count: 156) + " b" + " m/x",
        String(repeating: "abc/1.0 ", count: 30), String(repeating: "é", count: 100),
    ])
    func anInstallationsTextIsItsTokensCutAt160Bytes(agent: String) {
        let tokens = agent.split(separator: " ").filter {
            !($0 == "Resource" || $0.hasPrefix("command/") || $0.hasPrefix("md/command#") || $0.hasPrefix("m/")
                || $0.hasPrefix("api/"))
        }
        var expected = Array(tokens.joined(separator: " ").utf8)
        if expected.count > 160 { expected = Array(expected.prefix(157)) + Array("...".utf8) }
        #expect(Array(UserAgent.installation(agent).utf8) == Array(String(decoding: expected, as: UTF8.self).utf8))
    }

    /// Where a value became shared is the input of the call that made it so, however many inputs
    /// alternate between two counts of the runs (the graph numbers them and forgets the numbers at
    /// each settle).
    @Test(arguments: [1, 7, 9, 40])
    func aSharedValueNamesTheInputThatSharedIt(alternating inputs: Int) throws {
        var g = IdentityGraph()
        Self.background(&g, accounts: 200)
        func operatorCall(_ account: UInt64) -> CallObservation {
            Self.call(
                account, ip: "203.0.113.9", agent: "in-house-launcher/0.3 python/3.10", principal: "role/gpu-broker")
        }
        g.input = "objects/a.json.gz"
        for _ in 0..<10 { g.observe(operatorCall(20)) }
        g.settle()
        for round in 0..<3 {
            var last = ""
            for i in 0..<inputs {
                last = "objects/noise-\(i).json.gz"
                g.input = last
                g.observe(Self.call(UInt64(1000 + i), ip: "10.0.\(i).\(round)"))
                if round == 1 && i == inputs / 2 {
                    last = "objects/c.json.gz"
                    g.input = last
                    for _ in 0..<10 { g.observe(operatorCall(21)) }
                }
            }
            #expect(g.input == last)
            g.settle()
        }
        let p = try #require(g.partners(of: 21, population: g.population, parameters: IdentityGraph.Parameters()).first)
        #expect(p.account == 20)
        #expect(!p.shared.isEmpty)
        #expect(p.shared.allSatisfy { $0.sharedIn == "objects/c.json.gz" }, "\(p.shared.map(\.sharedIn))")
    }

    @Test func stockToolingLinksNobodyAndARareSetLinksStrongly() throws {
        var g = IdentityGraph()
        Self.background(&g, accounts: 200)
        // Accounts 20 and 21: one operator (its own launcher, role and jump host for most calls).
        g.input = "objects/b.json.gz"
        for account: UInt64 in [20, 21] {
            for _ in 0..<10 {
                g.observe(
                    Self.call(
                        account, ip: "203.0.113.9", agent: "in-house-launcher/0.3 python/3.10",
                        principal: "role/gpu-broker"))
            }
        }
        // Account 22 shares only the stock aws-cli and the usual role name.
        g.observe(
            Self.call(
                22, ip: "192.0.2.44",
                agent: "aws-cli/2.15.30 Python/3.11.8 Linux/5.10 exe/x86_64.amzn.2 prompt/off command/s3.ls",
                principal: "role/admin"))
        g.settle()
        let parameters = IdentityGraph.Parameters()
        #expect(g.partners(of: 1000, population: g.population, parameters: parameters).isEmpty)
        #expect(g.partners(of: 22, population: g.population, parameters: parameters).isEmpty)
        let p = try #require(g.partners(of: 21, population: g.population, parameters: parameters).first)
        #expect(p.account == 20)
        #expect(p.probability > 0.9)
        #expect(Set(p.shared.map(\.kind)) == [.address, .agent, .principal])
        #expect(p.shared.allSatisfy { $0.sharedIn == "objects/b.json.gz" })
        // Snapshots restore the same answers.
        var h = IdentityGraph()
        h.restore(g.snapshot)
        #expect(h.partners(of: 21, population: h.population, parameters: parameters).map(\.account) == [20])
    }

    @Test(arguments: [
        ("user/carol.adams", true), ("assumed-role/TerraformExecutionRole/erin.walker", true),
        ("assumed-role/AWSReservedSSO_ReadOnlyAccess_19107a0920/grace.green@example.com", true),
        ("user/noahyoung", true), ("federated-user/li.wei", true),
        ("user/gitlab-runner", false), ("user/backup", false), ("role/ec2-app-role", false), ("user/k8s-admin", false),
        ("assumed-role/Admin/i-0abc1234def567890", false), ("assumed-role/deployer/botocore-session-1700000000", false),
        ("assumed-role/DataSync/5f3c9a1b7e2d4c60", false), ("user/terraform", false), ("user/jo", false),
        ("root", false),
    ])
    func aPersonsNameIsToldFromAServicesName(principal: String, personal: Bool) {
        #expect(PrincipalName.isPersonal(principal) == personal)
    }

    /// The decoder's byte rule and the Unicode rule agree on every ASCII name: names made of IAM's
    /// shapes, function words, e-mail addresses, digits and hex runs, from a seeded generator.
    @Test func theByteRuleAgreesWithTheUnicodeRule() {
        var random = SplitMix(seed: 0x2545_F491_4F6C_DD1D)
        func next(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let types = [
            "user/", "federated-user/", "assumed-role/Role/", "assumed-role/", "role/", "", "user//", "root/x/", "*/",
        ]
        let pieces = [
            "carol", "Adams", "gitlab", "runner", "TF", "ci", "@", "@@", ".", "-", "_", "i-", "0abc", "1234",
            "deadbeef", "Erin", "walker", "Infrastructure", "codepipeline", "x", "/", "9", "abcdefghijklmnopq", "sre",
        ]
        for _ in 0..<20_000 {
            var name = types[next(types.count)]
            for _ in 0..<(1 + next(5)) { name += pieces[next(pieces.count)] }
            #expect(
                PrincipalName.isPersonal(name) == PrincipalName.isPersonalUnicode(name), "\(name)")
        }
        // A name that is not ASCII takes the Unicode rule whichever entry is called.
        for name in ["user/zoë.müller", "assumed-role/Dev/李伟", "user/ops-zoë"] {
            let bytes = Array(name.utf8)
            let personal = bytes.withUnsafeBytes { PrincipalName.isPersonal($0) }
            #expect(personal == PrincipalName.isPersonalUnicode(name), "\(name)")
        }
    }

    /// Two accounts sharing only a person's role-session name are likelier one operator than two
    /// sharing only a service's user name, seen by as many accounts in as large a population.
    @Test(arguments: ["assumed-role/TerraformExecutionRole/erin.walker", "user/carol.adams"])
    func aSharedPersonsNameWeighsMoreThanASharedServiceName(person: String) throws {
        func probability(_ principal: String) throws -> (Double, Double) {
            var g = IdentityGraph()
            Self.background(&g, accounts: 2_000)
            for account: UInt64 in [20, 21] {
                for _ in 0..<5 { g.observe(Self.call(account, ip: "192.0.2.\(account)", principal: principal)) }
            }
            g.settle()
            g.nameNew { raw, kind in kind == .principal && raw == StableHash.hash(principal) ? principal : nil }
            let p = try #require(
                g.partners(of: 21, population: g.population, parameters: IdentityGraph.Parameters(), minimum: 0).first)
            #expect(p.account == 20)
            return (p.logRatio, p.probability)
        }
        let (personal, pPersonal) = try probability(person)
        let (service, pService) = try probability("user/gitlab-runner")
        // log(0.5 / 0.003) against log(0.5 / 0.03): one value in 2,002 accounts is below both floors
        // (a person's holds for 2,000 accounts: here it is 2,000 / 2,002 of itself; a service's stands).
        #expect(abs(personal - log(0.5 / (0.003 * 2_000 / 2_002))) < 1e-9)
        #expect(abs(service - log(0.5 / 0.03)) < 1e-9)
        #expect(pPersonal > 5 * pService)
    }

    /// The floors of people's names (and addresses, access keys) hold for populations of up to
    /// `floorAccounts` (2,000); in a larger one a person's
    /// name four accounts show is rarer than the floor says: two accounts sharing one such name are as
    /// likely one operator as at 2,000 accounts, though the pair prior is ten times smaller, and two
    /// sharing two such names likelier.
    @Test func aLargePopulationShowsAValueRarerThanTheFloor() throws {
        var g = IdentityGraph()
        for account: UInt64 in [1, 2, 3, 4] {
            for name in ["user/ann.lee@corp.com", "user/wei.zhang"] where account < 3 || name.hasPrefix("user/ann") {
                for _ in 0..<5 {
                    g.observe(
                        Self.call(
                            account, ip: "192.0.2.\(account)", agent: account < 3 ? "tool-x/1.0 (custom)" : nil,
                            principal: name))
                }
            }
        }
        g.settle()
        g.nameNew { raw, kind in
            ["user/ann.lee@corp.com", "user/wei.zhang"].first { kind == .principal && StableHash.hash($0) == raw }
        }
        // The floors are what is asked here: the second person's name counts in full.
        var full = IdentityGraph.Parameters()
        full.secondPersonFactor = 1
        func partner(
            population: Int, _ p: IdentityGraph.Parameters? = nil, other: UInt64 = 2
        ) throws -> IdentityGraph.Partner {
            let p = p ?? full
            return try #require(
                g.partners(of: 1, population: population, parameters: p, minimum: 0).first { $0.account == other })
        }
        func ratio(_ p: IdentityGraph.Partner, _ name: String) throws -> Double {
            try #require(p.shared.first { $0.name == name }).logRatio
        }
        // 200 and 2,000 accounts: the floor, 0.003, stands below the count (3 of 199 others: 0.015).
        let small = try partner(population: 200)
        #expect(abs(try ratio(small, "user/ann.lee@corp.com") - log(0.5 / (3 / 200.0))) < 1e-9)
        #expect(abs(try ratio(small, "user/wei.zhang") - log(0.5 / (1 / 200.0))) < 1e-9)
        let middle = try partner(population: 2_000)
        #expect(abs(try ratio(middle, "user/ann.lee@corp.com") - log(0.5 / 0.003)) < 1e-9)
        #expect(abs(try ratio(middle, "user/wei.zhang") - log(0.5 / 0.003)) < 1e-9)
        // 20,000 accounts: the floor a tenth of itself, 0.0003, above the count for both names.
        let large = try partner(population: 20_000)
        #expect(abs(try ratio(large, "user/ann.lee@corp.com") - log(0.5 / 0.000_3)) < 1e-9)
        #expect(abs(try ratio(large, "user/wei.zhang") - log(0.5 / 0.000_3)) < 1e-9)
        // A tool's release recurs by design: its floor, 0.05, stands at every size.
        let tool = try #require(large.shared.first { $0.kind == .agent })
        #expect(abs(tool.logRatio - log(0.5 / 0.05)) < 1e-9)
        #expect(large.probability > 0.9 && large.probability > middle.probability)
        // By default the second person's name counts at half (`identity_second_person_factor`).
        let halved = try partner(population: 20_000, IdentityGraph.Parameters())
        #expect(abs(halved.logRatio - 1.5 * log(0.5 / 0.000_3) - log(0.5 / 0.05)) < 1e-9)
        // One name in common (accounts 1 and 3): the same posterior at 2,000 and 20,000 accounts.
        let one = (try partner(population: 2_000, other: 3), try partner(population: 20_000, other: 3))
        #expect(one.0.shared.count == 1 && one.1.shared.count == 1)
        #expect(abs(one.0.probability - one.1.probability) < 1e-4)
        // The floors at every size (the rule before): the same pair at 20,000 accounts, far less likely.
        var floorOnly = full
        floorOnly.floorAccounts = 1e15
        let before = try partner(population: 20_000, floorOnly)
        #expect(abs(before.logRatio - 2 * log(0.5 / 0.003) - log(0.5 / 0.05)) < 1e-9)
        #expect(before.probability < 0.75)
        // 0: the count alone beyond the population.
        #expect(IdentityGraph.chance(showing: 4, population: 20_000, floor: 0.003, floorAccounts: 0) == 3 / 20_000.0)
    }

    /// A value shown by three accounts says more in a population of 20,000 than in one of 200.
    @Test func specificityFollowsThePopulation() throws {
        var g = IdentityGraph()
        for account: UInt64 in [1, 2, 3] { for _ in 0..<2 { g.observe(Self.call(account, ip: "203.0.113.50")) } }
        g.settle()
        let parameters = IdentityGraph.Parameters()
        let small = try #require(g.partners(of: 1, population: 200, parameters: parameters, minimum: 0).first)
        let large = try #require(g.partners(of: 1, population: 20_000, parameters: parameters, minimum: 0).first)
        #expect(small.logRatio < large.logRatio)
        // An address behind a small share of the calls counts for less.
        for i in 0..<19 { g.observe(Self.call(1, ip: "198.51.100.\(i % 3 + 1)")) }
        g.settle()
        let diluted = try #require(g.partners(of: 1, population: 20_000, parameters: parameters, minimum: 0).first)
        #expect(diluted.logRatio < large.logRatio)
    }

    /// An address's share of an account's calls is taken of at least `addressMinimumCalls` calls: two
    /// accounts whose first two calls came through one address have not shown it is where they work.
    @Test func anAddressBehindAFewCallsCountsForLess() throws {
        func logRatio(calls: Int, minimum: Double) throws -> Double {
            var g = IdentityGraph()
            Self.background(&g, accounts: 2_000)
            for account: UInt64 in [20, 21] {
                for _ in 0..<calls { g.observe(Self.call(account, ip: "203.0.113.77")) }
            }
            g.settle()
            var parameters = IdentityGraph.Parameters()
            parameters.addressMinimumCalls = minimum
            let p = try #require(g.partners(of: 21, population: g.population, parameters: parameters, minimum: 0).first)
            #expect(p.shared.first?.shares.0 == 1)
            return p.logRatio
        }
        let full = log(0.5 / (0.002 * 2_000 / 2_002))
        #expect(abs(try logRatio(calls: 2, minimum: 0) - full) < 1e-9)
        // 2 of at least 20 calls: a share of 0.1, half of the 0.2 that counts in full.
        #expect(abs(try logRatio(calls: 2, minimum: 20) - full / 2) < 1e-9)
        #expect(abs(try logRatio(calls: 4, minimum: 20) - full) < 1e-9)
    }

    /// The graph notes the accounts that came to share a value held by at most `newlySharedHolders`
    /// (the pipeline looks at their remembered sessions again), and none while that is 0.
    @Test(arguments: [0, 8])
    func accountsThatComeToShareARareValueAreNoted(limit: Int) {
        var g = IdentityGraph()
        g.newlySharedHolders = limit
        Self.background(&g, accounts: 50)
        g.settle()
        _ = g.takeNewlyShared()
        for _ in 0..<5 { g.observe(Self.call(20, ip: "203.0.113.5", principal: "user/wei.zhang")) }
        g.settle()
        #expect(g.takeNewlyShared().isEmpty)
        for _ in 0..<5 { g.observe(Self.call(21, ip: "198.51.100.21", principal: "user/wei.zhang")) }
        g.settle()
        #expect(g.takeNewlyShared() == (limit > 0 ? [20, 21] : []))
        #expect(g.takeNewlyShared().isEmpty)
        // A value already held by more accounts than the limit notes nobody.
        for a: UInt64 in 100..<110 { for _ in 0..<3 { g.observe(Self.call(a, agent: "tool-x/1.0 (custom)")) } }
        g.settle()
        _ = g.takeNewlyShared()
        for _ in 0..<3 { g.observe(Self.call(22, agent: "tool-x/1.0 (custom)")) }
        g.settle()
        #expect(g.takeNewlyShared().isEmpty)
    }

    /// Memory follows the accounts, not the distinct values: 50,000 addresses through 10 accounts leave
    /// at most 40 indexed values per account.
    @Test func memoryIsBoundedByAccounts() {
        var g = IdentityGraph()
        for i in 0..<50_000 {
            g.observe(Self.call(UInt64(i % 10 + 1), ip: "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"))
        }
        g.settle()
        #expect(g.population == 10)
        #expect(g.indexedValues <= 10 * 40)
    }

    @Test func aValueOfManyAccountsIsCommon() {
        var g = IdentityGraph()
        for account: UInt64 in 1...100 { for _ in 0..<2 { g.observe(Self.call(account, principal: "role/admin")) } }
        g.settle()
        #expect(g.accountsShowing(IdentityGraph.key(StableHash.hash("role/admin"), kind: .principal)) > g.maxOwners)
        #expect(!g.hasPartners(1))
    }

    @Test func anAccountLikelyRunByTheOperatorOfADeclaredAccountInheritsItsLink() throws {
        let d = DetectorTests.detector()
        let s = DetectorTests().session(account: "999")
        #expect(!d.assess(s, activity: nil, partners: []).alerts)
        let weak = d.assess(s, activity: nil, partners: [.init(account: "111", probability: 0.1, shared: "shares x")])
        #expect(!weak.alerts)
        let strong = d.assess(
            s, activity: nil,
            partners: [.init(account: "111", probability: 0.98, shared: "shares role/x", seenIn: ["logs/o.json.gz"])])
        #expect(strong.alerts)
        let e = try #require(strong.evidence.first { $0.kind == .sharedIdentity })
        #expect(abs(e.weight - min(6.0, 0.9 * 0.98 * 7.0)) < 1e-9)
        #expect(e.detail.contains("account 111 (end customer declared in CN)") && e.detail.contains("shares role/x"))
        #expect(e.sources == ["m.csv:2", "logs/o.json.gz"])
        // Its own declared unrestricted customer is evidence beside the link, not a veto.
        let declared = d.assess(
            DetectorTests().session(account: "555"), activity: nil,
            partners: [.init(account: "111", probability: 0.98, shared: "shares role/x")])
        #expect(declared.alerts)
        #expect(declared.evidence.contains { $0.kind == .declaredCountry && $0.weight < 0 })
        // A partner whose own customer is declared unrestricted passes nothing on.
        #expect(!d.assess(s, activity: nil, partners: [.init(account: "555", probability: 0.99, shared: "")]).alerts)
    }

    /// Two steps: the probabilities multiply and the chain's decay applies once more.
    @Test func aLinkPropagatesTwoStepsWithDecay() throws {
        let d = DetectorTests.detector()
        let s = DetectorTests().session(account: "999")
        let twoSteps = d.assess(
            s, activity: nil, partners: [.init(account: "111", probability: 0.9, shared: "shares y", via: "998")])
        let e = try #require(twoSteps.evidence.first { $0.kind == .sharedIdentity })
        #expect(abs(e.weight - 0.9 * 0.9 * 0.6 * 7) < 1e-9)
        #expect(
            e.detail.contains("like account 998, which is like account 111 (end customer declared in CN); two steps"),
            "\(e.detail)")
        #expect(twoSteps.jurisdictions == [CountryCode("CN")!])
    }

    /// One operator's accounts pooled: account 13 shares a person's name with the CN-declared account 11
    /// and its host with account 12, which 11's people plainly run; neither alone makes 13 theirs, the two
    /// together do (`shared_identity_pooled`), and with pooling off nothing changes.
    @Test(arguments: [true, false])
    func whatAnAccountSharesWithAnOperatorsTwoAccountsCountsTogether(pooled: Bool) throws {
        var g = IdentityGraph()
        Self.background(&g, accounts: 2_000)
        for _ in 0..<30 {
            for name in ["user/erin.walker", "user/wei.zhang", "user/grace.wright"] {
                g.observe(Self.call(11, ip: "203.0.113.10", principal: name))
            }
            for name in ["user/erin.walker", "user/wei.zhang"] {
                g.observe(Self.call(12, ip: "203.0.113.10", principal: name))
                g.observe(Self.call(12, ip: "198.51.100.7", principal: name))
            }
            g.observe(Self.call(13, ip: "198.51.100.7", principal: "user/grace.wright"))
        }
        g.settle()
        g.nameNew { raw, kind in
            ["user/erin.walker", "user/wei.zhang", "user/grace.wright"].first {
                kind == .principal && StableHash.hash($0) == raw
            }
        }
        var detector = DetectorTests.detector()
        detector.config.sharedIdentityPooled = pooled ? 1 : 0
        let names: [UInt64: String] = [11: "111", 12: "998", 13: "999"]
        let partners = detector.identityPartners(of: 13, in: g) { names[$0] }
        // Alone: one person's name (with 11), one host (with 12), each a coincidence among 2,003 accounts.
        let alone = try #require(partners.first { $0.account == "111" && $0.via == nil })
        #expect(alone.probability < 0.05)
        let assessment = detector.assess(DetectorTests().session(account: "999"), activity: nil, partners: partners)
        let together = partners.first { $0.pooled }
        #expect((together != nil) == pooled)
        #expect(assessment.alerts == pooled)
        guard let together else { return }
        // Both values, each at its own rarity (the name's floor and the address's, in 2,003 accounts); 12 is
        // 11's almost surely (two people's names, the second at half, and a host).
        #expect(together.account == "111" && together.via == "998" && together.viaProbability > 0.9)
        let scale = 2_000.0 / Double(g.population)
        #expect(abs(together.logRatio - log(0.5 / (0.003 * scale)) - log(0.5 / (0.002 * scale))) < 1e-9)
        let p = 1 / (1 + exp(-(together.logRatio + log(0.2 / Double(g.population - 1)))))
        let expected = together.viaProbability * p + (1 - together.viaProbability) * alone.probability
        #expect(abs(together.probability - expected) < 1e-9 && together.probability > 0.7)
        let e = try #require(assessment.evidence.first { $0.kind == .sharedIdentity })
        #expect(abs(e.weight - 0.9 * together.probability * 7) < 1e-9)
        #expect(
            e.detail.contains("account 111 (end customer declared in CN) and account 998, which they probably run too"),
            "\(e.detail)")
        #expect(e.detail.contains("'user/grace.wright'") && e.detail.contains("'198.51.100.7'"), "\(e.detail)")
    }
}

/// Fitted calibration: each family's weight times its factor, the prior as fitted.
@Suite struct FamilyFactorTests {
    @Test func eachFamilysWeightIsScaledByItsFactor() throws {
        var config = DetectionConfig.unfitted
        let plain = DetectorTests.detector()
        config.familyFactors = ["declared-restricted": 0.5, "declared-unrestricted": 2]
        let scaled = Detector(
            catalog: plain.catalog, jurisdictions: plain.jurisdictions, mappings: plain.mappings,
            resellers: plain.resellers,
            config: config)
        let a = scaled.assess(DetectorTests().session(account: "111"), activity: nil)
        #expect(a.evidence.first { $0.kind == .declaredCountry }?.weight == 3.5)
        let b = scaled.assess(DetectorTests().session(account: "555"), activity: nil)
        #expect(b.evidence.first { $0.kind == .declaredCountry }?.weight == -4)
        // The defaults are the fitted ones: every family named, none negative.
        let fitted = DetectionConfig()
        #expect(Set(fitted.familyFactors.keys) == Set(DetectionConfig.families))
        #expect(fitted.familyFactors.values.allSatisfy { $0 >= 0 })
    }
}

/// Rings: fresh accounts under a chain that reaches a restricted jurisdiction, run alike, whatever
/// they declare.
@Suite struct RingTests {
    static let mappings = """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,801,RS-TH,C-801,TH,2026-02-20T00:00:00Z,
        aws,802,RS-TH,C-802,VN,2026-02-21T00:00:00Z,
        aws,803,RS-TH,C-803,AE,2026-02-22T00:00:00Z,
        aws,804,RS-TH,C-804,TH,2025-01-01T00:00:00Z,
        aws,901,RS-FR,C-901,TH,2026-02-20T00:00:00Z,
        aws,902,RS-FR,C-902,TH,2026-02-20T00:00:00Z,
        aws,903,RS-FR,C-903,TH,2026-02-20T00:00:00Z,
        """
    static let resellers = """
        reseller_id,name,country,parent_id,serves_countries
        RS-TH,TH Co,TH,DIST-CN,TH
        DIST-CN,CN Co,CN,,CN
        RS-FR,FR SA,FR,,FR
        """

    static func detector() -> Detector { DetectorTests.detector(mappings: mappings, resellers: resellers) }

    @Test func freshAccountsRunAlikeUnderAChainReachingChinaAreARing() throws {
        let d = Self.detector()
        let peers: [Detector.IdentityPartner] = [
            .init(account: "802", probability: 0.97, shared: "shares role/ops"),
            .init(account: "803", probability: 0.95, shared: "shares role/ops"),
        ]
        let a = d.assess(DetectorTests().session(account: "801"), activity: nil, partners: peers)
        let ring = try #require(a.evidence.first { $0.kind == .ring })
        #expect(ring.weight == 3.0)
        #expect(ring.detail.contains("one of 3 accounts") && ring.detail.contains("802, 803"), "\(ring.detail)")
        #expect(a.alerts && a.jurisdictions == [CountryCode("CN")!])
        #expect(a.ringPeers == ["802", "803"])
        // One peer is not a ring; nor is an account onboarded long ago; nor a chain reaching nothing.
        let alone = d.assess(DetectorTests().session(account: "801"), activity: nil, partners: [peers[0]])
        #expect(!alone.evidence.contains { $0.kind == .ring } && alone.ringPeers.isEmpty)
        #expect(
            !d.assess(DetectorTests().session(account: "804"), activity: nil, partners: peers).evidence.contains {
                $0.kind == .ring
            })
        let french: [Detector.IdentityPartner] = [
            .init(account: "902", probability: 0.97, shared: ""), .init(account: "903", probability: 0.97, shared: ""),
        ]
        #expect(!d.assess(DetectorTests().session(account: "901"), activity: nil, partners: french).alerts)
    }

    /// In a large population two ring members are rarely "probably one operator" against the whole
    /// population's prior, yet their shared set is far likelier under one operator than by chance:
    /// a partner whose likelihood ratio reaches `ringPeerLogRatio` is a peer whatever its posterior.
    @Test(arguments: [(5.5, true), (4.0, false)])
    func aRingPeerIsOneWhoseSharedSetIsUnlikelyByChance(logRatio: Double, peer: Bool) {
        let d = Self.detector()
        let peers: [Detector.IdentityPartner] = [
            .init(account: "802", probability: 0.02, shared: "shares a person's name", logRatio: logRatio),
            .init(account: "803", probability: 0.02, shared: "shares a person's name", logRatio: logRatio),
        ]
        let a = d.assess(DetectorTests().session(account: "801"), activity: nil, partners: peers)
        #expect(a.evidence.contains { $0.kind == .ring } == peer)
    }
}

/// An account that delivers billing only has nothing of its own to be run alike with a ring: under a
/// reseller whose recent cohort holds one, it weighs a member's ring weight times the share of the
/// cohort's accounts with a trail that are in the ring.
@Suite struct CohortRingTests {
    static let mappings =
        RingTests.mappings + """

            aws,805,RS-TH,C-805,TH,2026-02-23T00:00:00Z,
            aws,806,RS-TH,C-806,TH,2026-02-24T00:00:00Z,
            aws,807,RS-TH,C-807,TH,2026-02-25T00:00:00Z,

            """

    /// Everyone in `group` run alike with everyone else in it.
    static func partners(_ group: [String]) -> (String) -> [Detector.IdentityPartner] {
        { account in
            group.contains(account)
                ? group.filter { $0 != account }.map { .init(account: $0, probability: 0.9, shared: "shares role/ops") }
                : []
        }
    }

    @Test(arguments: [
        (["802", "803", "805", "806"], 4, 1.0),
        (["802", "803", "805"], 3, 0.75),
        (["802", "803"], 0, 0.0),
    ])
    func aBillingOnlyAccountWeighsTheRingOfItsResellersCohort(ring: [String], members: Int, share: Double) throws {
        let d = DetectorTests.detector(mappings: Self.mappings, resellers: RingTests.resellers)
        let session = DetectorTests().session(account: "801")
        // 804 was onboarded long before (not of the cohort); 807 has no trail either (not counted).
        let withTrail: Set<String> = ["802", "803", "804", "805", "806"]
        let cohort = d.cohortRing(
            of: session, accounts: { d.mappings.accounts(underReseller: $0) }, hasTrail: { withTrail.contains($0) },
            restrictedUse: { _, _ in true }, partners: Self.partners(ring))
        guard members > 0 else {
            #expect(cohort == nil)
            return
        }
        let found = try #require(cohort)
        #expect(found.members == ring.sorted() && found.withTrail == 4)
        let a = d.assess(session, activity: nil, partners: [], cohort: found)
        let evidence = try #require(a.evidence.first { $0.kind == .ring })
        let memberWeight = min(3.0 * log2(1 + Double(members) / 2), 5.0)
        #expect(abs(evidence.weight - memberWeight * share) < 1e-9)
        #expect(evidence.detail.contains("of the 4 other accounts with a trail") && evidence.detail.contains("RS-TH"))
        #expect(a.jurisdictions == [CountryCode("CN")!] && a.ringPeers.isEmpty)
        // An account with a trail is weighed by its own identity, never by the cohort.
        let activity = DetectorTests().activity(restricted: 0, of: 10)
        #expect(
            !d.assess(session, activity: activity, partners: [], cohort: found).evidence.contains { $0.kind == .ring })
        // Nor is an account under a chain that reaches no restricted country.
        let french = DetectorTests().session(account: "901")
        #expect(
            d.cohortRing(
                of: french, accounts: { d.mappings.accounts(underReseller: $0) }, hasTrail: { _ in true },
                restrictedUse: { _, _ in true }, partners: Self.partners(["902", "903"])) == nil)
        // Run alike without restricted use (a managed-service provider's staff) is no ring.
        #expect(
            d.cohortRing(
                of: session, accounts: { d.mappings.accounts(underReseller: $0) },
                hasTrail: { withTrail.contains($0) }, restrictedUse: { _, _ in false },
                partners: Self.partners(ring)) == nil)
    }
}

/// A distributor above the account's reseller is calibrated by what it says: one that serves a
/// restricted country (above a reseller that leaves its customer unknown) apart from one that is only
/// incorporated there.
@Suite struct UpstreamResellerTests {
    @Test(arguments: [
        ("RS-SG,SG Pte,SG,DIST,SG\nDIST,Dist Ltd,SG,,SG;CN", "reseller-upstream-serves"),
        ("RS-SG,SG Pte,SG,DIST,SG\nDIST,Dist Ltd,HK,,SG;MY", "reseller-upstream"),
        ("RS-SG,SG Pte,SG,,SG;CN", "reseller-chain"),
    ])
    func theUpstreamFamilyFollowsWhatTheDistributorSays(resellers: String, family: String) throws {
        let d = DetectorTests.detector(
            mappings:
                "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\naws,333,RS-SG,,,2025-01-01T00:00:00Z,\n",
            resellers: "reseller_id,name,country,parent_id,serves_countries\n" + resellers + "\n")
        let a = d.assess(DetectorTests().session(account: "333"), activity: nil)
        let i = try #require(a.evidence.firstIndex { $0.kind == .resellerChain })
        #expect(a.families[i] == family)
    }
}

/// Structuring (family 5 of the statistical detector issue, a first version).
@Suite struct StructuringTests {
    static let mappings = """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,700,RS-SG,,,2025-01-01T00:00:00Z,
        aws,701,RS-SG,C-1,MY,2025-01-01T00:00:00Z,
        """

    func detector() -> Detector {
        var mappings = MappingTable()
        var resellers = ResellerGraph()
        var problems: [Diagnostic] = []
        mappings.add(text: Self.mappings, path: "m.csv", problems: &problems)
        resellers.add(
            text: "reseller_id,name,country,parent_id,serves_countries\nRS-SG,SG Pte,SG,,SG;MY\n", path: "r.csv",
            problems: &problems)
        return Detector(
            catalog: .builtIn, jurisdictions: .builtIn, mappings: mappings, resellers: resellers, config: .unfitted)
    }

    /// Some calls from China: network evidence too weak to alert alone.
    func weakNetwork() -> AccountActivity {
        var a = AccountActivity()
        for i in 0..<40 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: 0, sourceIP: nil,
                    country: CountryCode(i < 4 ? "CN" : "SG")!, isSignIn: false))
        }
        return a
    }

    @Test func manySmallUndeclaredAccountsUnderOneResellerAddUp() {
        let d = detector()
        let s = DetectorTests().session(account: "700")
        let alone = d.assess(s, activity: weakNetwork(), partners: [], aggregate: ResellerAggregate())
        #expect(!alone.alerts)
        #expect(!alone.evidence.contains { $0.kind == .structuring })
        var agg = ResellerAggregate()
        for i in 0..<9 { agg.add(reseller: "RS-SG", account: "71\(i)", acceleratorHours: 56) }
        let many = d.assess(s, activity: weakNetwork(), partners: [], aggregate: agg)
        let e = many.evidence.first { $0.kind == .structuring }
        #expect(e != nil)
        #expect(e?.detail.contains("one of 10 accounts with unknown end customers under RS-SG, together 560.0") == true)
        // 10 of its 10 accounts with restricted use, no other reseller (the population's share (0 + 1) /
        // (0 + 2)): Beta-Binomial Beta(3,2) against Beta(5,5).
        func lnBeta(_ a: Double, _ b: Double) -> Double { lgamma(a) + lgamma(b) - lgamma(a + b) }
        let ratio = (lnBeta(13, 2) - lnBeta(3, 2)) - (lnBeta(15, 5) - lnBeta(5, 5))
        #expect(abs((e?.weight ?? 0) - ratio) < 1e-9)
        #expect(e?.detail.contains("10 of its 10 accounts with restricted use (share 1.0) against 0 of 0") == true)
        #expect(many.score > alone.score)
        // Without any restricted country reached it names no jurisdiction: no alert from structuring alone.
        let silent = d.assess(s, activity: nil, partners: [], aggregate: agg)
        #expect(!silent.alerts)
        // A declared customer under the same reseller is not structuring.
        #expect(
            !d.assess(DetectorTests().session(account: "701"), activity: weakNetwork(), partners: [], aggregate: agg)
                .evidence.contains { $0.kind == .structuring })
    }

    /// A large reseller's many undeclared accounts are its size: 10 undeclared among 120 accounts with
    /// restricted use, where the population's other resellers leave a tenth of theirs undeclared, is no
    /// structuring (it was, by the count, before 2026-12-05: 2 × log2(3)); the same 10 among 14 is.
    @Test func aLargeResellersUndeclaredAccountsAreItsSizeNotStructuring() throws {
        let d = detector()
        let s = DetectorTests().session(account: "700")
        func aggregate(declaredHere: Int) -> ResellerAggregate {
            var agg = ResellerAggregate()
            for i in 0..<9 { agg.add(reseller: "RS-SG", account: "71\(i)", acceleratorHours: 56) }
            for i in 0..<declaredHere { agg.addDeclared(reseller: "RS-SG", account: "72\(i)", acceleratorHours: 30) }
            // Other resellers: 30 of 300 accounts with restricted use undeclared.
            for i in 0..<30 { agg.add(reseller: "RS-\(i % 5)", account: "80\(i)", acceleratorHours: 20) }
            for i in 0..<270 { agg.addDeclared(reseller: "RS-\(i % 5)", account: "81\(i)", acceleratorHours: 20) }
            return agg
        }
        let large = aggregate(declaredHere: 110)
        #expect(large.population.undeclared == 39 && large.population.accounts == 419)
        #expect(large.declaredAccounts(of: "RS-SG") == 110)
        #expect(
            !d.assess(s, activity: weakNetwork(), partners: [], aggregate: large).evidence.contains {
                $0.kind == .structuring
            })
        let (ratio, base) = d.structuringRatio(undeclared: 10, accounts: 120, population: (30, 300))
        #expect(ratio < 0 && abs(base - 31.0 / 302) < 1e-12)
        let small = d.assess(s, activity: weakNetwork(), partners: [], aggregate: aggregate(declaredHere: 4))
        let e = try #require(small.evidence.first { $0.kind == .structuring })
        #expect(e.weight > 2 && e.weight <= d.config.structuringCap)
        #expect(e.detail.contains("10 of its 14 accounts with restricted use (share 0.714) against 30 of 300"))
    }

    /// A ring behind one reseller that serves no restricted country (the population generator's
    /// structurers): 8 undeclared accounts among the reseller's 15 with restricted use — no more than
    /// the population's other resellers leave undeclared — but 7 of them call from China as a linked
    /// account does, against 5 of the others' 80. This one's own 6 of 83 calls from China look like an
    /// office's (network evidence below 1: +0.65 with the share's models fitted on tuning worlds, 2026-12-06,
    /// below 0 before; they lean restricted now, as any call from a restricted country does, and name China
    /// by themselves): the calling reading names China too, and the accounts it counted are handed on for
    /// look-back. Off (`structuring_calling = 0`), nothing alerts.
    @Test(arguments: [true, false])
    func aResellersAccountsCallingFromChinaNameIt(calling: Bool) throws {
        var d = detector()
        d.config = DetectionConfig()
        d.config.structuringCalling = calling ? 1 : 0
        // The structuring family alone: the restricted clock would name China for these calls (one every
        // 8 h 20 min, whose hours happen to sit around UTC+8's working day).
        d.config.clockWeight = 0
        var agg = ResellerAggregate()
        for i in 0..<7 {
            agg.add(reseller: "RS-SG", account: "71\(i)", acceleratorHours: 20)
            agg.noteCalls(reseller: "RS-SG", account: "71\(i)", leanRestricted: true)
        }
        for i in 0..<7 { agg.addDeclared(reseller: "RS-SG", account: "72\(i)", acceleratorHours: 20) }
        // Other resellers: 30 of 80 accounts with restricted use undeclared, 5 of those calling from China.
        for i in 0..<30 {
            agg.add(reseller: "RS-\(i % 3)", account: "80\(i)", acceleratorHours: 20)
            agg.noteCalls(reseller: "RS-\(i % 3)", account: "80\(i)", leanRestricted: i < 5)
        }
        for i in 0..<50 { agg.addDeclared(reseller: "RS-\(i % 3)", account: "81\(i)", acceleratorHours: 20) }
        #expect(agg.populationCalling == 12 && agg.callingAccounts(of: "RS-SG").count == 7)
        var activity = AccountActivity()
        for i in 0..<83 {
            activity.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: Int64(i) * 30_000, sourceIP: nil,
                    country: CountryCode(i % 14 == 0 ? "CN" : "SG")!, isSignIn: false))
        }
        #expect(d.callsLeanRestricted(activity, at: 0, sharedNorm: 0))
        let s = DetectorTests().session(account: "700")
        let a = d.assess(s, activity: activity, partners: [], aggregate: agg)
        #expect(a.evidence.first { $0.kind == .network }.map { $0.weight < 1 } == true)
        let e = try #require(a.evidence.first { $0.kind == .structuring })
        #expect(a.alerts == calling)
        #expect(a.jurisdictions == [CountryCode("CN")!])
        #expect(a.structuringPeers == (calling ? (0..<7).map { "71\($0)" } : []))
        guard calling else {
            #expect(!e.detail.contains("calling"))
            return
        }
        // 8 of 15 (the 7 and this one) against (5 + 1) / (80 + 2), times the structuring family's factor.
        let (ratio, base) = d.structuringRatio(undeclared: 8, accounts: 15, population: (5, 80))
        #expect(abs(base - 6.0 / 82) < 1e-12 && ratio > 2)
        #expect(abs(e.weight - min(d.config.structuringCap, ratio) * d.config.familyFactors["structuring"]!) < 1e-9)
        #expect(e.detail.contains("8 of them with calls leaning to restricted countries (share 0.533) against 5 of 80"))
        #expect(e.detail.contains("this account's own calls come from CN 6: it names them"), "\(e.detail)")
        // Without a call from a restricted country of its own, it names nothing.
        let none = d.assess(s, activity: nil, partners: [], aggregate: agg)
        #expect(!none.alerts && none.structuringPeers.isEmpty)
    }

    /// What the aggregate notes of each account's calls is replaced, counted once, and comes back from
    /// its pairs.
    @Test func theNotedCallsAreCountedOnceAndRestored() {
        var agg = ResellerAggregate()
        agg.add(reseller: "RS-1", account: "1", acceleratorHours: 3)
        agg.noteCalls(reseller: "RS-1", account: "1", leanRestricted: true)
        agg.noteCalls(reseller: "RS-1", account: "1", leanRestricted: true)
        #expect(agg.populationCalling == 1 && agg.population.undeclared == 1)
        agg.noteCalls(reseller: "RS-1", account: "1", leanRestricted: false)
        #expect(agg.populationCalling == 0 && agg.callingAccounts(of: "RS-1").isEmpty)
        agg.noteCalls(reseller: "RS-1", account: "1", leanRestricted: true)
        var restored = ResellerAggregate()
        for p in agg.pairs {
            restored.restore(
                reseller: p.reseller, account: p.account, hours: agg.hours(reseller: p.reseller, account: p.account)!)
        }
        #expect(restored.populationCalling == 1 && restored.population.undeclared == 1)
        #expect(restored.population.accounts == 1 && restored.callingAccounts(of: "RS-1") == ["1"])
    }

    /// The aggregate's checkpoint holds its pairs only; the counts come back from them.
    @Test func theAggregatesCountsSurviveItsCoding() throws {
        var agg = ResellerAggregate()
        agg.add(reseller: "RS-1", account: "1", acceleratorHours: 3)
        agg.add(reseller: "RS-1", account: "1", acceleratorHours: 3)
        agg.addDeclared(reseller: "RS-1", account: "2", acceleratorHours: 5)
        let back = try JSONDecoder().decode(ResellerAggregate.self, from: JSONEncoder().encode(agg))
        #expect(back.population.undeclared == 1 && back.population.accounts == 2)
        #expect(back.declaredAccounts(of: "RS-1") == 1 && back.peers(of: "RS-1").hours == 6)
        var restored = ResellerAggregate()
        for p in agg.pairs {
            restored.restore(
                reseller: p.reseller, account: p.account, hours: agg.hours(reseller: p.reseller, account: p.account)!)
        }
        #expect(restored.population.undeclared == 1 && restored.population.accounts == 2)
    }
}

/// Time (family 3 of the statistical detector issue, a first version: no holiday calendars yet).
@Suite struct TimeZoneTests {
    /// Three weeks of an office at `offset`: weekdays 09–18 local, one call an hour.
    func office(offset: Int) -> AccountActivity {
        var a = AccountActivity()
        let monday: Int64 = 1_772_409_600  // 2026-03-02T00:00:00Z, a Monday
        var key: UInt64 = 0
        for day in 0..<21 where day % 7 < 5 {
            for hour in 9..<18 {
                key += 1
                let t = monday + Int64(day) * 86_400 + Int64(hour - offset) * 3600 + 120
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key, time: t, sourceIP: nil, country: CountryCode("US")!,
                        isSignIn: false))
            }
        }
        return a
    }

    @Test(arguments: [8, 1, -5, 3])
    func theOfficesOffsetIsFound(offset: Int) throws {
        let a = office(offset: offset)
        let tz = try #require(TimeZoneEstimate.estimate(hourOfWeek: a.hourOfWeek, span: a.lastSeen - a.firstSeen))
        #expect(tz.offsetHours == offset)
        #expect(tz.confidence > 0.8)
        #expect(tz.activeHours == 15 * 9)
    }

    @Test func twoDaysAreNotEnough() {
        var a = AccountActivity()
        for h in 0..<48 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(h), time: 1_772_323_200 + Int64(h) * 3600, sourceIP: nil,
                    isSignIn: false))
        }
        #expect(TimeZoneEstimate.estimate(hourOfWeek: a.hourOfWeek, span: a.lastSeen - a.firstSeen) == nil)
    }

    @Test func timeWeighsOnlyBesideAJurisdictionItMatches() {
        let d = DetectorTests.detector()
        // Declared CN customer, office at UTC+8: the time adds its weight.
        let cn = d.assess(DetectorTests().session(account: "111"), activity: office(offset: 8))
        let t = cn.evidence.first { $0.kind == .time }
        #expect(t?.weight == 0.5)
        #expect(t?.detail.contains("UTC+8") == true && t?.detail.contains("the time of CN") == true)
        // The same office with no link: not even estimated (it could weigh nothing), no alert (UTC+8
        // is also Singapore).
        let none = d.assess(DetectorTests().session(account: "999"), activity: office(offset: 8))
        #expect(!none.evidence.contains { $0.kind == .time })
        #expect(!none.alerts)
        // A link (CN) whose clock the office does not keep (UTC-5): reported, weightless.
        let elsewhere = d.assess(DetectorTests().session(account: "111"), activity: office(offset: -5))
        #expect(elsewhere.evidence.first { $0.kind == .time }?.weight == 0)
    }
}

@Suite struct HolidayTests {
    static let calendar = HolidayCalendar.prc

    static func day(_ date: String) -> Int64 { Timestamp.parse(date)! / 86_400 }

    @Test(arguments: [
        ("2026-05-04", HolidayCalendar.DayClass.holiday), ("2026-05-09", .makeup), ("2026-05-06", .working),
        ("2026-05-10", .weekend), ("2026-05-02", .weekend), ("2026-02-14", .makeup), ("2025-01-28", .holiday),
    ])
    func theStateCouncilCalendarIsRead(date: String, expected: HolidayCalendar.DayClass) {
        #expect(Self.calendar.dayClass(Self.day(date)) == expected)
    }

    @Test func yearsTheDataDoesNotListAreUnknown() {
        #expect(Self.calendar.dayClass(Self.day("2024-05-01")) == nil)
        #expect(Self.calendar.dayClass(Self.day("2027-05-03")) == nil)
    }

    /// An office at `offset` working 09–17 local on the days `works` picks, 2026-04-13 to 2026-05-20.
    static func office(offset: Int64, works: (HolidayCalendar.DayClass) -> Bool) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        for day in day("2026-04-13")...day("2026-05-20") where works(calendar.dayClass(day)!) {
            for hour: Int64 in 9..<17 {
                key += 1
                let t = day * 86_400 + (hour - offset) * 3600 + 60
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key, time: t, sourceIP: nil, country: CountryCode("US")!,
                        isSignIn: false))
            }
        }
        return a
    }

    static func fit(_ a: AccountActivity) -> HolidayFit? {
        HolidayFit.estimate(
            activeDays: a.activeDays, days: calendar.localDay(a.firstSeen)...calendar.localDay(a.lastSeen),
            calendar: calendar)
    }

    @Test func anOfficeKeepingThePRCCalendarFitsIt() throws {
        let prc = try #require(Self.fit(Self.office(offset: 8) { $0 == .working || $0 == .makeup }))
        #expect(prc.holidays == 3 && prc.activeHolidays == 0)
        #expect(prc.makeupDays == 1 && prc.activeMakeupDays == 1)
        #expect(prc.logLikelihoodRatio > 4, "\(prc)")
    }

    @Test func anOfficeWorkingThroughThePRCHolidaysDoesNot() throws {
        // Singapore at the same clock: Labour Day on 1 May only, no make-up Saturday.
        let sg = try #require(Self.fit(Self.office(offset: 8) { $0 == .working || $0 == .holiday }))
        #expect(sg.logLikelihoodRatio < 0, "\(sg)")
    }

    @Test func theHolidayWeighsOnlyBesideALinkToChina() throws {
        let d = DetectorTests.detector()
        let activity = Self.office(offset: 8) { $0 == .working || $0 == .makeup }
        var s = Sessionizer()
        s.observe(event(.launch, "2026-05-12T02:00:00Z", account: "111"))
        s.observe(event(.terminate, "2026-05-12T09:00:00Z", account: "111"))
        let session = s.finish(at: Timestamp.parse("2026-05-13")!)[0]
        let cn = d.assess(session, activity: activity)
        let holiday = try #require(cn.evidence.first { $0.kind == .holiday })
        #expect(holiday.weight == 0.5)
        #expect(
            holiday.detail.hasPrefix(
                "active on 0 of 3 PRC public holiday(s) on working days and 1 of 1 make-up weekend day(s)"),
            "\(holiday.detail)")
        // No link at all: not even estimated, no alert.
        var t = Sessionizer()
        t.observe(event(.launch, "2026-05-12T02:00:00Z", account: "999"))
        let unlinked = d.assess(t.finish(at: Timestamp.parse("2026-05-13")!)[0], activity: activity)
        #expect(!unlinked.evidence.contains { $0.kind == .holiday })
        #expect(!unlinked.alerts)
    }
}

/// Declared support's second witness: an account declared in the US (555) whose located calls come
/// from Singapore and, steadily, China — a few from the US, under `declared_support_share` — has its
/// declaration weigh `declared_unsupported_factor` of its weight, unless it works through the PRC's public
/// holidays (as a business elsewhere does): then the declaration is borne out by its rhythm and weighs in
/// full. The rhythm says where the account is not, though: with (almost) none of its calls from the US
/// (under `declared_support_holiday_floor`) it bears nothing out, holidays or not.
@Suite struct DeclaredSupportWitnessTests {
    /// Calls from the US where the call's number is 1 modulo `usEvery` and not a multiple of 5 (those are
    /// China's): 6 gives about 4 in 30 (0.13), 40 about one in 40 (0.02); 0: none.
    static func activity(usEvery: UInt64 = 0, works: (HolidayCalendar.DayClass) -> Bool) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        let calendar = HolidayCalendar.prc
        for day in HolidayTests.day("2026-04-13")...HolidayTests.day("2026-05-20") where works(calendar.dayClass(day)!)
        {
            for hour: Int64 in 9..<17 {
                key += 1
                let t = day * 86_400 + (hour - 8) * 3600 + 60
                let country = key % 5 == 0 ? "CN" : usEvery > 0 && key % usEvery == 1 ? "US" : "SG"
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key, time: t, sourceIP: nil, country: CountryCode(country)!,
                        isSignIn: false))
            }
        }
        return a
    }

    /// (works through the holidays, `usEvery` as in ``activity(usEvery:works:)``, the declaration's weight kept)
    @Test(
        arguments: [(true, 6, 1.0), (false, 6, 0.75), (true, 40, 0.75), (true, 0, 0.75), (false, 0, 0.75)]
            as [(Bool, UInt64, Double)])
    func aDeclarationIsBorneOutByWorkingThroughThePRCHolidays(
        throughHolidays: Bool, usEvery: UInt64, kept: Double
    ) throws {
        let d = DetectorTests.detector()
        let activity = Self.activity(usEvery: usEvery) {
            throughHolidays ? ($0 == .working || $0 == .holiday) : ($0 == .working || $0 == .makeup)
        }
        var s = Sessionizer()
        s.observe(event(.launch, "2026-05-12T02:00:00Z", account: "555"))
        s.observe(event(.terminate, "2026-05-12T09:00:00Z", account: "555"))
        let a = d.assess(s.finish(at: Timestamp.parse("2026-05-13")!)[0], activity: activity)
        let network = try #require(a.evidence.first { $0.kind == .network })
        #expect(network.weight > 0, "\(network.detail)")
        let holiday = try #require(a.evidence.first { $0.kind == .holiday }?.detail)
        let declared = try #require(a.evidence.first { $0.kind == .declaredCountry })
        #expect(
            abs(declared.weight - kept * d.config.declaredUnrestrictedWeight) < 1e-9, "\(declared.detail) | \(holiday)")
        let share = [0: "0.0,", 6: "0.13", 40: "0.02"][usEvery]!
        #expect(declared.detail.contains("(share \(share)"), "\(declared.detail)")
        #expect(declared.detail.contains("borne out by its rhythm") == (kept == 1), "\(declared.detail)")
        #expect(declared.detail.contains("not borne out") == (kept != 1), "\(declared.detail)")
        // Working through the holidays with (almost) no call from the US: the detail says why the rhythm did
        // not count.
        #expect(
            declared.detail.contains("nor by its rhythm (it works through the PRC's public holidays")
                == (throughHolidays && kept != 1), "\(declared.detail)")
        // With the witness off (a ratio no fit reaches), the calls alone decide.
        var off = d
        off.config.declaredSupportHolidayRatio = 1_000
        let plain = try #require(
            off.assess(a.session, activity: activity).evidence.first { $0.kind == .declaredCountry })
        #expect(abs(plain.weight - 0.75 * d.config.declaredUnrestrictedWeight) < 1e-9, "\(plain.detail)")
    }
}

@Suite struct ResellerBorneOutTests {
    /// A Hong Kong reseller's customer declared in Singapore (777), one whose country is not declared (778),
    /// and a Singaporean reseller's under a Chinese distributor, declared in Singapore (780).
    static let mappings = """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,777,RS-HK,CUST-7,SG,2025-01-01T00:00:00Z,
        aws,778,RS-HK,,,2025-01-01T00:00:00Z,
        aws,780,RS-SG,CUST-8,SG,2025-01-01T00:00:00Z,
        aws,781,RS-HK2,,,2025-01-01T00:00:00Z,
        aws,782,RS-HK2,CUST-9,CN,2025-01-01T00:00:00Z,
        aws,783,RS-HK2,,,2026-02-15T00:00:00Z,
        aws,784,RS-HK3,,,2025-01-01T00:00:00Z,
        """
    /// The tests' resellers, a Hong Kong reseller that says nothing of whom it serves (781's, 782's, 783's), and
    /// one that serves Singapore and the mainland (784's).
    static let resellers = DetectorTests.resellersCSV + "\nRS-HK2,HK Two,HK,,\nRS-HK3,HK Three,HK,,SG;CN"

    /// Calls over 20 days: `direct` from Singapore, China and Japan in that order, then `vpn` through listed VPN
    /// exits in Singapore and the US.
    static func activity(direct: (sg: Int, cn: Int, jp: Int), vpn: (sg: Int, us: Int) = (0, 0)) -> AccountActivity {
        let calls: [(String, AnonymousNetwork)] =
            Array(repeating: ("SG", []), count: direct.sg) + Array(repeating: ("CN", []), count: direct.cn)
            + Array(repeating: ("JP", []), count: direct.jp)
            + Array(repeating: ("SG", [.anonymous, .vpn]), count: vpn.sg)
            + Array(repeating: ("US", [.anonymous, .vpn]), count: vpn.us)
        var a = AccountActivity()
        let start = Timestamp.parse("2026-02-09")!
        for (i, call) in calls.enumerated() {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(i) * 1_728_000 / Int64(calls.count),
                    sourceIP: nil, country: CountryCode(call.0)!, isSignIn: false, network: call.1))
        }
        return a
    }

    /// (account, direct calls from SG / CN / JP, calls through VPN exits in SG / the US, the reseller's weight
    /// kept, the counts the evidence gives: from SG, located, from restricted countries)
    @Test(
        arguments: [
            ("777", (80, 2, 18), (0, 0), 0.5, (80, 100, 2)),  // borne out: most calls from SG, 2% from China
            ("777", (30, 9, 61), (0, 0), 0.5, (30, 100, 9)),  // at the share (0.3), under the restricted share
            ("777", (8, 0, 0), (0, 0), 0.5, (8, 8, 0)),  // just enough located calls (8)
            ("777", (29, 2, 69), (0, 0), 1.0, (0, 0, 0)),  // under the share: not borne out
            ("777", (80, 10, 10), (0, 0), 1.0, (0, 0, 0)),  // 10% from China: not under the restricted share
            ("777", (7, 0, 0), (0, 0), 1.0, (0, 0, 0)),  // too few located calls to say
            ("777", (0, 0, 0), (100, 0), 1.0, (0, 0, 0)),  // only VPN exits in SG: they bear nothing out
            ("777", (30, 5, 0), (0, 65), 1.0, (0, 0, 0)),  // 5 of the 35 calls not hidden are China's (14%)
            ("777", (80, 2, 0), (0, 18), 0.5, (80, 82, 2)),  // hidden calls left out of the counts
            ("778", (80, 2, 18), (0, 0), 1.0, (0, 0, 0)),  // nothing declared: no declaration to bear out
        ] as [(String, (Int, Int, Int), (Int, Int), Double, (Int, Int, Int))])
    func aRestrictedResellersCountryWeighsLessWhereTheCallsBearTheDeclarationOut(
        account: String, direct: (Int, Int, Int), vpn: (Int, Int), kept: Double, counts: (Int, Int, Int)
    ) throws {
        let d = DetectorTests.detector(mappings: Self.mappings)
        let session = DetectorTests().session(account: account)
        let activity = Self.activity(direct: direct, vpn: vpn)
        let a = d.assess(session, activity: activity)
        let chain = try #require(a.evidence.first { $0.kind == .resellerChain })
        #expect(abs(chain.weight - kept * d.config.resellerCountryWeight) < 1e-9, "\(chain.detail)")
        #expect(chain.detail.contains("bear its end customer's declaration out") == (kept != 1), "\(chain.detail)")
        if kept != 1 {
            #expect(
                chain.detail.contains(
                    "(\(counts.0) of \(counts.1) located calls from SG, \(counts.2) from restricted countries): the link is where the reseller is incorporated, weighs 0.5 of its weight"
                ), "\(chain.detail)")
        }
        // Off (`reseller_borne_out_factor` 1): the reseller's country in full.
        var off = d
        off.config.resellerBorneOutFactor = 1
        let full = try #require(off.assess(session, activity: activity).evidence.first { $0.kind == .resellerChain })
        #expect(full.weight == d.config.resellerCountryWeight, "\(full.detail)")
    }

    /// (direct calls from SG / CN / JP, calls through VPN exits in SG / the US, the reseller's weight kept, the
    /// counts the evidence gives: the placing country, its calls, located, from restricted countries)
    @Test(
        arguments: [
            ((80, 2, 18), (0, 0), 0.25, ("SG", 80, 100, 2)),  // placed in Singapore, 2% from China
            ((30, 9, 61), (0, 0), 0.25, ("JP", 61, 100, 9)),  // the country with most calls places it
            ((8, 0, 0), (0, 0), 0.25, ("SG", 8, 8, 0)),  // just enough located calls (8)
            ((7, 0, 0), (0, 0), 1.0, ("", 0, 0, 0)),  // too few to say
            ((80, 10, 10), (0, 0), 1.0, ("", 0, 0, 0)),  // 10% from China: not under the restricted share
            ((25, 0, 25), (0, 50), 0.25, ("JP", 25, 50, 0)),  // hidden calls left out; a tie goes to the smaller code
            ((20, 5, 0), (0, 75), 1.0, ("", 0, 0, 0)),  // 5 of the 25 calls not hidden are China's (20%)
            ((0, 0, 0), (100, 0), 1.0, ("", 0, 0, 0)),  // only VPN exits: nothing placed
        ] as [((Int, Int, Int), (Int, Int), Double, (String, Int, Int, Int))])
    func anUndeclaredCustomersOwnCallsPlaceIt(
        direct: (Int, Int, Int), vpn: (Int, Int), kept: Double, counts: (String, Int, Int, Int)
    ) throws {
        var d = DetectorTests.detector(mappings: Self.mappings, resellers: Self.resellers)
        d.config.resellerPlacedFactor = 0.25
        let activity = Self.activity(direct: direct, vpn: vpn)
        func resellerEvidence(_ account: String, _ detector: Detector) throws -> Evidence {
            try #require(
                detector.assess(DetectorTests().session(account: account), activity: activity).evidence.first {
                    $0.kind == .resellerChain
                })
        }
        let chain = try resellerEvidence("781", d)
        #expect(abs(chain.weight - kept * d.config.resellerCountryWeight) < 1e-9, "\(chain.detail)")
        #expect(
            chain.detail.contains(
                "; nothing is declared of its end customer's country, but the account's own calls place it in \(counts.0) (\(counts.1) of \(counts.2) located calls, \(counts.3) from restricted countries): the link is where the reseller is incorporated, weighs 0.25 of its weight"
            ) == (kept != 1), "\(chain.detail)")
        // Off (`reseller_placed_factor` 1; the default is 0.25, set above so that the test does not follow it):
        // the reseller's country in full.
        var off = d
        off.config.resellerPlacedFactor = 1
        let full = try resellerEvidence("781", off)
        #expect(full.weight == d.config.resellerCountryWeight, "\(full.detail)")
        // A customer declared in a restricted country is not placed by its calls (782), nor one whose reseller
        // serves neither Singapore nor Japan (778: RS-HK serves China, Hong Kong and Macau), nor one whose mapping
        // began after the account's first call (783: from 2026-02-15, the calls from 2026-02-09).
        for account in ["782", "778", "783"] {
            let other = try resellerEvidence(account, d)
            #expect(!other.detail.contains("place it in"), "\(account): \(other.detail)")
        }
        // A reseller that serves Singapore (and the mainland): a customer placed in Singapore is placed, one in
        // Japan is not.
        let served = try resellerEvidence("784", d)
        #expect(served.detail.contains("place it in SG") == (kept != 1 && counts.0 == "SG"), "\(served.detail)")
    }

    /// Calls spread over four unrestricted countries, a quarter each: none holds 30% of them, nothing is placed.
    @Test func callsSpreadOverManyCountriesPlaceNoOne() throws {
        var d = DetectorTests.detector(mappings: Self.mappings, resellers: Self.resellers)
        d.config.resellerPlacedFactor = 0.25
        var activity = AccountActivity()
        let start = Timestamp.parse("2026-02-09")!
        for (i, code) in Array(repeating: ["SG", "JP", "DE", "US"], count: 25).joined().enumerated() {
            activity.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(i) * 10_000, sourceIP: nil,
                    country: CountryCode(code)!, isSignIn: false, network: []))
        }
        let chain = try #require(
            d.assess(DetectorTests().session(account: "781"), activity: activity).evidence.first {
                $0.kind == .resellerChain
            })
        #expect(chain.weight == d.config.resellerCountryWeight, "\(chain.detail)")
    }

    /// A distributor further up in a restricted country says less already (0.6 of its weight): its evidence is
    /// left as it is, however well the calls bear the declaration out.
    @Test func aDistributorFurtherUpIsNotWeighedAgain() throws {
        let d = DetectorTests.detector(mappings: Self.mappings)
        let a = d.assess(
            DetectorTests().session(account: "780"), activity: Self.activity(direct: (90, 0, 10)))
        let chain = try #require(a.evidence.first { $0.kind == .resellerChain })
        #expect(abs(chain.weight - d.config.resellerCountryWeight * d.config.chainDecay) < 1e-9, "\(chain.detail)")
        #expect(!chain.detail.contains("bear its end customer's declaration out"), "\(chain.detail)")
    }
}

@Suite struct VolumeTests {
    @Test func robustStatisticsOverABoundedWindow() throws {
        var h = VolumeHistory(capacity: 4)
        for x in [10.0, 12, 11, 9, 100] { h.add(x) }
        #expect(h.recent == [12, 11, 9, 100])
        #expect(h.sessions == 5)
        let (median, mad) = try #require(h.baseline(minimum: 4))
        #expect(median == 11.5 && mad == 1.5)
        #expect(h.baseline(minimum: 5) == nil)
        #expect(abs(h.ewma - (0.3 * 100 + 0.7 * (0.3 * 9 + 0.7 * (0.3 * 11 + 0.7 * (0.3 * 12 + 0.7 * 10))))) < 1e-9)
    }

    /// A 7-hour session on 8 H100s (56 accelerator-hours) of account `account`.
    func session(account: String, start: String = "2026-03-01T02:00:00Z", end: String = "2026-03-01T09:00:00Z")
        -> Session
    {
        var s = Sessionizer()
        s.observe(event(.launch, start, account: account))
        s.observe(event(.terminate, end, account: account))
        return s.finish(at: Timestamp.parse("2026-03-02")!)[0]
    }

    @Test(arguments: [("111", true), ("999", false)])
    func aSessionFarAboveTheAccountsOwnHistoryBoostsOnlyALink(account: String, linked: Bool) throws {
        var book = VolumeBook()
        for x in [6.0, 8, 7, 9, 8, 7] { book.add(account: account, group: "g", acceleratorHours: x) }
        let a = DetectorTests.detector().assess(session(account: account), activity: nil, partners: [], volume: book)
        let v = try #require(a.evidence.first { $0.kind == .volume })
        #expect(v.weight == 0.5)
        #expect(v.detail.hasPrefix("56.0 accelerator-hours against a median of 7.5 (MAD 0.5"), "\(v.detail)")
        #expect(a.alerts == linked)  // volume alone never alerts
        // Within its usual range: nothing to say.
        var usual = VolumeBook()
        for x in [50.0, 60, 55, 58, 52] { usual.add(account: account, group: "g", acceleratorHours: x) }
        let b = DetectorTests.detector().assess(session(account: account), activity: nil, partners: [], volume: usual)
        #expect(!b.evidence.contains { $0.kind == .volume })
    }

    @Test func withoutOwnHistoryThePeerGroupIsTheBaseline() throws {
        var book = VolumeBook()
        for i in 0..<30 { book.add(account: "peer\(i)", group: "RS-HK", acceleratorHours: 4 + Double(i % 3)) }
        let a = DetectorTests.detector().assess(session(account: "222"), activity: nil, partners: [], volume: book)
        let v = try #require(a.evidence.first { $0.kind == .volume })
        #expect(v.detail.contains("peer group RS-HK"), "\(v.detail)")
    }

    @Test func aNewAccountGoingStraightToRestrictedCapacity() throws {
        var book = VolumeBook()
        book.streamStart = Timestamp.parse("2026-02-20T00:00:00Z")!
        var activity = AccountActivity()
        activity.record(
            CallObservation(
                accountKey: 1, eventKey: 1, time: Timestamp.parse("2026-03-01T01:00:00Z")!, sourceIP: nil,
                isSignIn: true))
        let a = DetectorTests.detector().assess(session(account: "111"), activity: activity, partners: [], volume: book)
        let v = try #require(a.evidence.first { $0.kind == .volume })
        #expect(
            v.detail.hasPrefix("new account: first seen 2026-03-01T01:00:00Z, 9.0 day(s) into the stream"),
            "\(v.detail)")
        // Seen since the stream began: not new.
        book.streamStart = Timestamp.parse("2026-03-01T00:00:00Z")!
        let b = DetectorTests.detector().assess(session(account: "111"), activity: activity, partners: [], volume: book)
        #expect(!b.evidence.contains { $0.kind == .volume })
    }
}
