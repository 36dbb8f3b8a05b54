public import UsageModel
import Foundation
import Inputs

/// The objects under `s3://bucket/prefix` locations as inputs, in the order local trees are read:
/// by the delivery time in each key's last component (`…_20260301T0405Z_…`), then by name.
public enum ObjectInputs {
    /// What the listing found.
    public struct Listing: Sendable {
        /// Input names (`s3://bucket/key`), each location's in delivery-time order.
        public var inputs: [String] = []
        /// Each listed object by input name (its ETag and size: the ledger's identity).
        public var objects: [String: S3Object] = [:]
        /// Locations that could not be listed, each named with the AWS error code.
        public var problems: [Diagnostic] = []
    }

    /// Lists every location (paginated ListObjectsV2). Keys ending in `/` (folder markers) are left out.
    /// - Complexity: O(objects) in requests/1000, time and memory (as a local tree's listing).
    /// - Parameter pageSize: keys a ListObjectsV2 page (nil: S3's 1,000).
    public static func list(_ locations: [S3Location], client: S3Client, pageSize: Int? = nil) -> Listing {
        var listing = Listing()
        for location in locations {
            do {
                let objects = try client.listAll(location, pageSize: pageSize).filter { !$0.key.hasSuffix("/") }
                var names: [String] = []
                for object in objects {
                    let name = S3Location.inputName(bucket: location.bucket, key: object.key)
                    guard listing.objects[name] == nil else { continue }  // overlapping prefixes: once
                    listing.objects[name] = object
                    names.append(name)
                }
                listing.inputs += InputEnumerator.sortedByDeliveryTime(names)
            } catch {
                var diagnostic = error.diagnostic
                if error.key == nil || error.key == location.prefix { diagnostic.path = location.description }
                listing.problems.append(diagnostic)
            }
        }
        return listing
    }

    /// The ledger's identity of a listed object: its size and `etag:` with the ETag (quotes removed).
    public static func fingerprint(_ object: S3Object) -> (size: Int64, fingerprint: String) {
        (object.size, "etag:" + object.etag.trimmingCharacters(in: ["\""]))
    }
}
