@testable import Sessions
import TestSupport
import Testing
import UsageModel

/// Session ids are stored (sessions, alerts, evidence): the id hashed in parts must be the id of the text.
@Suite struct SessionIDTests {
    @Test func theIdHashedInPartsIsTheIdOfTheWholeText() {
        var rng = SplitMix(seed: 17)
        let accounts = ["123456789012", "", "projects/my-project", "sub-ü-ñ-東京", "a|b"]
        let resources = ["i-0123456789abcdef0", "", "arn:aws:sagemaker:us-east-1:1:training-job/x", "vm/é"]
        let starts: [EpochSeconds] = [0, -1, 1_772_323_200, .max, .min, 42]
        var checked = 0
        for provider in CloudProvider.allCases {
            for account in accounts {
                for resource in resources {
                    for start in starts + [EpochSeconds(truncatingIfNeeded: rng.next())] {
                        let key = Sessionizer.ResourceKey(provider: provider, account: account, resource: resource)
                        #expect(
                            Sessionizer.sessionID(key, start: start) == Sessionizer.sessionIDByText(key, start: start))
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 5 * 5 * 4 * 7)
    }
}
