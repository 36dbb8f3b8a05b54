public import UsageModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How US export controls treat an accelerator.
public enum ControlClass: Sendable, Hashable, CustomStringConvertible {
    /// ECCN 3A090.a (TPP ≥ 4800, or TPP ≥ 1600 with density ≥ 5.92).
    case eccn3A090a
    /// ECCN 3A090.b.
    case eccn3A090b
    /// At least 3A090.b; 3A090.a if the unpublished die area is small enough.
    case eccn3A090bOrHigher
    /// Not 3A090 by the numbers, but a chip-specific licence requirement applies from `since`
    /// (H20, MI308: China incl. Hong Kong and Macau, and D:5).
    case chipSpecific(since: EpochSeconds)
    /// Not controlled.
    case uncontrolled

    /// Whether renting this accelerator to a restricted jurisdiction at `time` is in scope.
    public func isRestricted(at time: EpochSeconds) -> Bool {
        switch self {
        case .eccn3A090a, .eccn3A090b, .eccn3A090bOrHigher: true
        case .chipSpecific(let since): time >= since
        case .uncontrolled: false
        }
    }

    public var description: String {
        switch self {
        case .eccn3A090a: "3A090.a"
        case .eccn3A090b: "3A090.b"
        case .eccn3A090bOrHigher: "3A090.b+"
        case .chipSpecific(let since): "chip-specific:" + String(Timestamp.format(since).prefix(10))
        case .uncontrolled: "none"
        }
    }

    init?(parsing text: String) {
        switch text {
        case "3A090.a": self = .eccn3A090a
        case "3A090.b": self = .eccn3A090b
        case "3A090.b+": self = .eccn3A090bOrHigher
        case "none": self = .uncontrolled
        default:
            guard text.hasPrefix("chip-specific:"), let since = Timestamp.parse(String(text.dropFirst(14))) else {
                return nil
            }
            self = .chipSpecific(since: since)
        }
    }
}

/// One accelerator model.
public struct AcceleratorSpec: Sendable, Hashable {
    public var model: String
    public var vendor: String
    /// Total Processing Performance; nil where unpublished.
    public var tpp: Double?
    public var performanceDensity: Double?
    public var control: ControlClass
    public var source: String
}

/// One instance / VM / machine type with accelerators.
public struct InstanceSpec: Sendable, Hashable {
    public var provider: String
    public var instanceType: String
    public var accelerator: AcceleratorSpec
    /// Accelerators per instance; nil when it varies (family rows).
    public var acceleratorCount: Double?
    public var confidence: String
    public var source: String
}

/// What the tool knows of instance types: accelerator, count, TPP, control status.
public struct InstanceCatalog: Sendable {
    public private(set) var accelerators: [String: AcceleratorSpec] = [:]
    private var exact: [String: InstanceSpec] = [:]
    /// Family rows such as `ecs.gn7e-*`, matched by prefix.
    /// Family rows (`ecs.gn7e-*`) by prefix.
    private var families: [(prefix: String, spec: InstanceSpec)] = []
    /// The families' prefixes as UTF-8 bytes, in the same order, for the look-up's byte comparison
    /// (apart from the specs: walking the pairs retained and released every string of every spec).
    private var familyPrefixes: [[UInt8]] = []

    /// The catalogue built into the binary (see `Sources/Catalog/Data`).
    public static let builtIn: InstanceCatalog = {
        do {
            return try InstanceCatalog(
                acceleratorsCSV: CatalogData.accelerators, instanceTypesCSV: CatalogData.instanceTypes)
        } catch {
            preconditionFailure("the built-in catalogue does not parse: \(error)")
        }
    }()

    /// Parses catalogue tables in the layout of `Sources/Catalog/Data`.
    /// - Throws: ``CatalogError`` naming the line of a bad row.
    public init(acceleratorsCSV: String, instanceTypesCSV: String, path: String = "catalog") throws(CatalogError) {
        let acc = NamedCSV(text: acceleratorsCSV)
        for row in acc.rows {
            let model = acc.value(row, "model")
            guard let control = ControlClass(parsing: acc.value(row, "control")) else {
                throw CatalogError(
                    path: path, line: row.line, message: "unknown control class '\(acc.value(row, "control"))'")
            }
            accelerators[model] = AcceleratorSpec(
                model: model, vendor: acc.value(row, "vendor"), tpp: Double(acc.value(row, "tpp")),
                performanceDensity: Double(acc.value(row, "performance_density")), control: control,
                source: acc.value(row, "source"))
        }
        let inst = NamedCSV(text: instanceTypesCSV)
        for row in inst.rows {
            let model = inst.value(row, "accelerator_model")
            guard let accelerator = accelerators[model] else {
                throw CatalogError(path: path, line: row.line, message: "unknown accelerator model '\(model)'")
            }
            let type = inst.value(row, "instance_type")
            let spec = InstanceSpec(
                provider: inst.value(row, "provider"), instanceType: type, accelerator: accelerator,
                acceleratorCount: Double(inst.value(row, "accelerator_count")),
                confidence: inst.value(row, "confidence"), source: inst.value(row, "source"))
            add(spec)
        }
    }

    private mutating func add(_ spec: InstanceSpec) {
        if spec.instanceType.hasSuffix("*") {
            let prefix = String(spec.instanceType.dropLast())
            families.removeAll { $0.prefix == prefix }
            families.append((prefix, spec))
            familyPrefixes = families.map { Array($0.prefix.utf8) }
        } else {
            exact[spec.instanceType] = spec
            exact[spec.instanceType.lowercased()] = spec
        }
    }

    /// Adds or replaces an instance type (configuration overrides).
    /// - Throws: ``CatalogError`` when the accelerator model is unknown.
    public mutating func override(
        instanceType: String, acceleratorModel: String, count: Double, provider: String = "override"
    ) throws(CatalogError) {
        guard let accelerator = accelerators[acceleratorModel] else {
            throw CatalogError(
                path: "config", line: 0,
                message: "unknown accelerator model '\(acceleratorModel)'; see `chiptrail catalog --accelerators`")
        }
        add(
            InstanceSpec(
                provider: provider, instanceType: instanceType, accelerator: accelerator, acceleratorCount: count,
                confidence: "override", source: "configuration"))
    }

    /// The spec of an instance type as logs spell it (`p5.48xlarge`, `ml.p4d.24xlarge`, `Standard_ND96isr_H100_v5`).
    public func lookup(_ instanceType: String) -> InstanceSpec? {
        if let spec = exact[instanceType] { return spec }
        // Most types looked up are not in the catalogue (no accelerator), and are lowercase ASCII: for
        // those the lowercased key is the key just missed, and a family prefix can be compared as bytes.
        // (Other strings take String's own, Unicode-aware paths, as before.)
        var ascii = true
        var upper = false
        for byte in instanceType.utf8 {
            if byte >= 0x80 { ascii = false }
            if byte &- 0x41 < 26 { upper = true }
        }
        if !ascii || upper, let spec = exact[instanceType.lowercased()] { return spec }
        if ascii {
            var type = instanceType
            let index = type.withUTF8 { bytes -> Int? in
                familyPrefixes.withUnsafeBufferPointer { prefixes in
                    for i in prefixes.indices where prefixes[i].count <= bytes.count {
                        let equal = prefixes[i].withUnsafeBufferPointer {
                            memcmp($0.baseAddress!, bytes.baseAddress!, $0.count) == 0
                        }
                        if equal { return i }
                    }
                    return nil
                }
            }
            return index.map { families[$0].spec }
        }
        for i in families.indices where instanceType.hasPrefix(families[i].prefix) { return families[i].spec }
        return nil
    }

    /// Every instance type, sorted by provider and name.
    public var allInstanceTypes: [InstanceSpec] {
        var seen = Set<String>()
        var out: [InstanceSpec] = []
        for spec in exact.values where seen.insert(spec.instanceType).inserted { out.append(spec) }
        out += families.map(\.spec)
        return out.sorted { ($0.provider, $0.instanceType) < ($1.provider, $1.instanceType) }
    }
}

/// A catalogue table that does not parse.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var message: String

    public var description: String { "\(path):\(line): \(message)" }
}
