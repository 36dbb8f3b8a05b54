import Foundation

/// Listed objects as inputs (``DeliveryOrderWalk`` gives them in the order local trees are read).
public enum ObjectInputs {
    /// The ledger's identity of a listed object: its size and `etag:` with the ETag (quotes removed).
    public static func fingerprint(_ object: S3Object) -> (size: Int64, fingerprint: String) {
        (object.size, "etag:" + object.etag.trimmingCharacters(in: ["\""]))
    }
}
