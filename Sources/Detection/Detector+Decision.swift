public import UsageModel
import Catalog
import Ownership
import Sessions

extension Detector {
    /// An assessed session and the alert raised on it, if it alerts: what the engine hands on.
    public struct Decision: Sendable {
        public var assessment: Assessment
        public var alert: Alert?

        public init(_ assessment: Assessment, alert: Alert?) {
            self.assessment = assessment
            self.alert = alert
        }

        /// The session as the store keeps it (its row, its mapping row, its alert).
        public var stored: StoredSession {
            let a = assessment
            let s = a.session
            let mapping = a.mapping.map { m in
                StoredSession.Mapping(
                    origin: m.origin, provider: m.provider, accountID: m.accountID, resellerID: m.resellerID,
                    endCustomerID: m.endCustomerID, endCustomerCountry: m.endCustomerCountry, validFrom: m.validFrom,
                    validTo: m.validTo,
                    chain: a.chain.map { r in
                        "\(r.id) (\(r.country?.description ?? "?"), serves \(r.servesCountries.map(\.description).joined(separator: ";"))) at \(r.origin)"
                    }.joined(separator: " -> "))
            }
            return StoredSession(
                id: s.id, provider: s.provider, accountID: s.accountID, resourceID: s.resourceID,
                instanceType: s.instanceType, accelerator: a.spec?.accelerator.model,
                acceleratorCount: a.acceleratorCount, acceleratorHours: a.acceleratorHours, start: s.start, end: s.end,
                open: s.open, regions: s.regions, restricted: a.restrictedConsumption, score: a.score,
                jurisdictions: a.jurisdictions, chain: a.chain.map(\.id), supersedes: a.supersedes, mapping: mapping,
                alert: alert)
        }
    }
}
