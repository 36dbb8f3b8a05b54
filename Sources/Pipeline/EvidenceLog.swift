import Foundation
public import Detection
import Sessions
import UsageModel

/// Every assessment of restricted use with its evidence by kind, as JSON lines, for fitting the
/// detector's weights (`Scripts/fit-weights`). Written only when `CHIPTRAIL_EVIDENCE_LOG` names a file:
/// a tool for the people who tune the detector, not part of the contract.
public final class EvidenceLog {
    private let handle: FileHandle

    /// The log the environment asks for, if any.
    public static func fromEnvironment() -> EvidenceLog? {
        guard let path = ProcessInfo.processInfo.environment["CHIPTRAIL_EVIDENCE_LOG"], !path.isEmpty else {
            return nil
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            // A tuning run without its log would fit weights on nothing: said, not skipped silently.
            FileHandle.standardError.write(
                Data("chiptrail: CHIPTRAIL_EVIDENCE_LOG: cannot create \(path); no evidence is logged\n".utf8))
            return nil
        }
        return EvidenceLog(handle: handle)
    }

    init(handle: FileHandle) { self.handle = handle }

    deinit { try? handle.close() }

    public func write(_ decisions: [Detector.Decision]) {
        var out = Data()
        for a in decisions.lazy.map(\.assessment) where a.restrictedConsumption {
            var kinds: [String: Double] = [:]
            var details: [String: String] = [:]
            for (e, family) in zip(a.evidence, a.families) {
                // The working week's detail under its family: its kind (time) is the time zone's too.
                details[family == "week" ? family : e.kind.rawValue] = e.detail
                kinds[family, default: 0] += e.weight
            }
            var line: [String: Any] = [
                "account": a.session.accountID, "resource": a.session.resourceID, "session": a.session.id,
                "open": a.session.open, "score": a.score, "alerts": a.alerts,
                "reached": !a.jurisdictions.isEmpty, "evidence": kinds, "details": details,
            ]
            // What the network evidence was taken of, also when it gave no evidence item (no call from a
            // restricted country): the benign mixture is fitted on every account's counts.
            if let share = a.networkShare { line["network_calls"] = [share.restricted, share.located] }
            if let share = a.anonymousShare { line["anonymous_calls"] = [share.hidden, share.located] }
            if let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) {
                out.append(data)
                out.append(0x0A)
            }
        }
        if !out.isEmpty { handle.write(out) }
    }
}
