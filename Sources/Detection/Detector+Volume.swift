import UsageModel
import Ownership
import Sessions

extension Detector {
    func volumeEvidence(_ c: AssessmentContext, volume: VolumeBook, into draft: inout AssessmentDraft) {
        if c.restricted, c.hours > 0 {
            if let e = volumeEvidence(
                c.session, hours: c.hours, count: c.count, mapping: c.mapping, activity: c.activity, volume: volume)
            {
                draft.evidence.append(e)
            }
        }
    }

    /// Volume: the session against the account's own recent sessions (or its peer group's), and a new
    /// account whose first session goes straight to restricted capacity. A booster: names no jurisdiction.
    func volumeEvidence(
        _ session: Session, hours: Double, count: Double, mapping: MappingRow?, activity: AccountActivity?,
        volume: VolumeBook
    ) -> Evidence? {
        func number(_ x: Double) -> String { JSONWriter.formatNumber(x, decimals: 1) }
        var parts: [String] = []
        var weight = 0.0
        let own = volume.account(session.accountID)
        let group = VolumeBook.group(provider: session.provider.rawValue, reseller: mapping?.resellerID)
        if let own, let r = own.robustZ(hours, minimum: config.volumeMinimumSessions) {
            if r.z >= config.volumeZ {
                weight += config.volumeWeight
                parts.append(
                    "\(number(hours)) accelerator-hours against a median of \(number(r.median)) (MAD \(number(r.mad)), EWMA \(number(own.ewma))) over its last \(own.recent.count) sessions: robust z \(number(r.z))"
                )
            }
        } else if let peers = volume.group(group),
            let r = peers.robustZ(hours, minimum: config.volumePeerMinimumSessions),
            r.z >= config.volumeZ
        {
            weight += config.volumeWeight
            parts.append(
                "\(number(hours)) accelerator-hours against a median of \(number(r.median)) (MAD \(number(r.mad))) over the last \(peers.recent.count) sessions of its peer group \(group): robust z \(number(r.z))"
            )
        }
        if (own?.sessions ?? 0) == 0 && count >= config.newAccountMinimumAccelerators {
            let window = Int64(config.newAccountDays * 86_400)
            let firstSeen = min(activity?.firstSeen ?? .max, session.start)
            if let onboarded = mapping?.validFrom, onboarded <= session.start, session.start - onboarded <= window {
                weight += config.newAccountWeight
                parts.append(
                    "onboarded \(Timestamp.format(onboarded)) (mapping), its first session \(number(Double(session.start - onboarded) / 86_400)) day(s) later on \(number(count)) restricted accelerators"
                )
            } else if volume.streamStart != .max, firstSeen - volume.streamStart >= window,
                session.start - firstSeen <= window
            {
                weight += config.newAccountWeight
                parts.append(
                    "new account: first seen \(Timestamp.format(firstSeen)), \(number(Double(firstSeen - volume.streamStart) / 86_400)) day(s) into the stream; its first session \(number(Double(session.start - firstSeen) / 86_400)) day(s) later on \(number(count)) restricted accelerators"
                )
            }
        }
        guard !parts.isEmpty else { return nil }
        return Evidence(kind: .volume, detail: parts.joined(separator: "; "), weight: weight)
    }
}
