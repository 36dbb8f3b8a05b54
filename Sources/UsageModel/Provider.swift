/// The cloud whose logs an event came from.
public enum CloudProvider: String, Sendable, Hashable, CaseIterable, Codable {
    case aws
    case gcp
    case azure
    case oci
    case other
}
