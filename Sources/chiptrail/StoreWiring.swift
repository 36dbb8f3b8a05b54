import Alerting
import Store

extension AlertRendering {
    /// Alerts in the store as the sinks print them: `--format json` and the OCSF finding.
    static let sinks = AlertRendering(json: { AlertEncoding.json($0) }, ocsf: { LineAlertSink.Style.ocsf.encode($0) })
}
