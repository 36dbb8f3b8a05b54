/// What an IP-intelligence feed says of a source address: the kinds of anonymising network it belongs
/// to (MaxMind's GeoIP Anonymous IP flags), one bit each; empty when the feed does not list it.
public struct AnonymousNetwork: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `is_anonymous`: any sort of anonymous network (set alone when the feed names no kind).
    public static let anonymous = AnonymousNetwork(rawValue: 1 << 0)
    /// `is_anonymous_vpn`: registered to an anonymous VPN provider.
    public static let vpn = AnonymousNetwork(rawValue: 1 << 1)
    /// `is_hosting_provider`: a hosting or VPS provider (VPN providers that do not register their
    /// ranges under their own names are often listed as this only).
    public static let hosting = AnonymousNetwork(rawValue: 1 << 2)
    /// `is_public_proxy`.
    public static let publicProxy = AnonymousNetwork(rawValue: 1 << 3)
    /// `is_residential_proxy`: an anonymising network on a residential ISP's addresses.
    public static let residentialProxy = AnonymousNetwork(rawValue: 1 << 4)
    /// `is_tor_exit_node`.
    public static let torExit = AnonymousNetwork(rawValue: 1 << 5)
    /// Not a feed's: an address many accounts of the population call from (`shared_exit_accounts`),
    /// set by the pipeline where it counts the call. A VPN's, a proxy's or a hosting provider's exit
    /// carries the calls of many unrelated customers; an office's or a home's, of one.
    public static let shared = AnonymousNetwork(rawValue: 1 << 6)

    /// What a feed can say (every bit but ``shared``, which only the pipeline sets where it counts a
    /// call): a record read back keeps these (a stray bit of a record written elsewhere is not trusted).
    public static let listedBits = AnonymousNetwork(rawValue: 0x3F)

    /// A feed's flags read from a byte of a record (``listedBits`` only).
    @inlinable
    public init(listed byte: UInt8) { self.init(rawValue: byte & Self.listedBits.rawValue) }

    /// Whether the address is listed at all.
    @inlinable
    public var isListed: Bool { rawValue != 0 }

    /// The one kind a call through this network counts under in evidence, the most telling first:
    /// Tor, VPN, proxy (public or residential), hosting, other.
    public var kind: Kind? {
        if contains(.torExit) { return .tor }
        if contains(.vpn) { return .vpn }
        if !isDisjoint(with: [.publicProxy, .residentialProxy]) { return .proxy }
        if contains(.hosting) { return .hosting }
        if contains(.anonymous) { return .other }
        if contains(.shared) { return .shared }
        return nil
    }

    /// The kinds anonymising calls are counted by (``shared`` last: counts saved before it are read as
    /// they were).
    public enum Kind: Int, Sendable, CaseIterable {
        case vpn, hosting, proxy, tor, other, shared

        /// Its name in evidence.
        public var name: String {
            switch self {
            case .vpn: "VPN"
            case .hosting: "hosting"
            case .proxy: "proxy"
            case .tor: "Tor"
            case .other: "other anonymous"
            case .shared: "addresses many accounts share"
            }
        }
    }
}
