import Foundation
@testable import Pipeline
import TestSupport
import Testing

/// A resource seen in the audit log and in billing is one session: the billing lines must name it as
/// the audit log does (issue 15: with CUR 2.0 beside the trail, every SageMaker training job was two
/// sessions — `training-job/NAME` from `CreateTrainingJob`, its ARN from the billed hours — and the
/// trail's, which no call ends, stayed open to the end of the input).
@Suite struct BillingJoinTests {
    @Test(arguments: [1, 2])
    func aTrainingJobsBilledHoursJoinTheSessionItsCallOpened(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let create = cloudTrailRecord(
            name: "CreateTrainingJob", time: "2026-03-01T02:17:00Z",
            request:
                "{\"trainingJobName\":\"Pretrain-7\",\"resourceConfig\":{\"instanceType\":\"ml.p5.48xlarge\",\"instanceCount\":2}}",
            response: "{\"trainingJobArn\":\"arn:aws:sagemaker:us-east-1:123456789012:training-job/pretrain-7\"}",
            source: "sagemaker.amazonaws.com")
        let header =
            "line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_usage_type,line_item_operation,line_item_resource_id,line_item_usage_amount,product_instance_type,product_region_code,pricing_unit"
        func row(_ hour: Int) -> String {
            let start = String(format: "2026-03-01T%02d:00:00Z", hour)
            let end = String(format: "2026-03-01T%02d:00:00Z", hour + 1)
            return
                "123456789012,Usage,\(start),\(end),USE1-Train:ml.p5.48xlarge,RunInstance,arn:aws:sagemaker:us-east-1:123456789012:training-job/pretrain-7,2.0,ml.p5.48xlarge,us-east-1,Hrs"
        }
        let inputs = [
            dir.write("trail/a.json", "{\"Records\":[" + create + "]}"),
            dir.write("cur/cur2-00001.csv", ([header] + (2..<5).map(row)).joined(separator: "\n") + "\n"),
            // The audit log goes on past the job's last billed hour.
            dir.write(
                "trail/b.json",
                "{\"Records\":[" + cloudTrailRecord(time: "2026-03-02T12:00:00Z", eventID: "later") + "]}"),
        ]
        let (geo, detector) = OrderedWorkPoolTests.scoring()
        let pipeline = IngestPipeline(
            options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { _ in })
        let summary = pipeline.run(inputs: inputs)
        #expect(summary.computeEvents == 4)
        #expect(summary.sessions == 1)
    }
}
