public import Alerting
public import Pipeline
public import Store
import UsageModel
import Detection

/// What `ingest` does with each merged input's outcome, in input order: the evidence log (when asked
/// for), the store's batch (``StoreWriter``), and the alerts to the sinks — once committed with a store,
/// at once without. After a store failure nothing more is written or printed (the run ends with exit
/// status 2), and nothing of a failed batch is printed.
public final class OutcomeDelivery {
    private var sink: any AlertSink
    private let storeWriter: StoreWriter?
    private let inputs: InputSequence
    private let evidenceLog: EvidenceLog?
    private let beforeAlert: () -> Void
    private let report: (StoreError) -> Void
    /// Alerts handed to the sinks.
    public private(set) var alertsEmitted = 0
    /// The store's first failure, if any.
    public private(set) var storeFailure: StoreError?

    /// - Parameters:
    ///   - beforeAlert: called before each alert is printed (a progress line is cleared).
    ///   - report: how a store failure is told (once).
    public init(
        sink: any AlertSink, storeWriter: StoreWriter?, inputs: InputSequence, evidenceLog: EvidenceLog?,
        beforeAlert: @escaping () -> Void, report: @escaping (StoreError) -> Void
    ) {
        self.sink = sink
        self.storeWriter = storeWriter
        self.inputs = inputs
        self.evidenceLog = evidenceLog
        self.beforeAlert = beforeAlert
        self.report = report
    }

    /// Takes one outcome (the pipeline's `onOutcome`); its input is forgotten by the inputs afterwards.
    public func take(_ outcome: FileOutcome) {
        defer { if let path = outcome.path { inputs.finished(path) } }
        evidenceLog?.write(outcome.decisions)
        guard storeFailure == nil else { return }
        guard let storeWriter else {
            for case let alert? in outcome.decisions.lazy.map(\.alert) { deliver(alert) }
            return
        }
        do throws(StoreError) {
            try storeWriter.add(outcome) { deliver($0) }
        } catch {
            fail(error)
        }
    }

    /// An interrupted run: what was merged is committed as a batch, as every few dozen inputs are, and
    /// its alerts printed.
    public func commitInterrupted() {
        guard let storeWriter, storeFailure == nil else { return }
        do throws(StoreError) {
            try storeWriter.commitOpen { deliver($0) }
        } catch {
            fail(error)
        }
    }

    private func deliver(_ alert: Alert) {
        beforeAlert()
        sink.deliver(alert)
        alertsEmitted += 1
    }

    private func fail(_ error: StoreError) {
        storeFailure = error
        report(error)
    }
}
