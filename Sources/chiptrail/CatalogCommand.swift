import ArgumentParser
import Catalog
import UsageModel
import Pipeline

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "What chiptrail knows of instance types: accelerator, count, TPP, export-control status.",
        discussion: """
            With no argument, lists every known type. Types are matched as logs spell them \
            (p5.48xlarge, ml.p4d.24xlarge, a3-highgpu-8g, Standard_ND96isr_H100_v5, BM.GPU.H100.8). \
            The data comes from Sources/Catalog/Data (sources cited per row); a config file can add \
            or override types with 'catalog.<type> = MODEL x COUNT'.

            Examples:
              chiptrail catalog p5.48xlarge g5.xlarge
              chiptrail catalog --accelerators
            """)

    @Flag(help: "List accelerator models instead of instance types.")
    var accelerators = false

    @Option(help: ArgumentHelp("table (default) or json (one object per line).", valueName: "format"))
    var output: String = "table"

    /// The earlier spelling of --output json.
    @Flag(help: ArgumentHelp("Same as --output json.", visibility: .hidden))
    var json = false

    func validate() throws {
        guard ["table", "json"].contains(output) else {
            throw ValidationError("unknown --output '\(output)'; one of table, json")
        }
    }

    private var asJSON: Bool { json || output == "json" }

    @Option(help: ArgumentHelp("Config file with catalogue overrides.", valueName: "file"))
    var config: String?

    @Argument(help: ArgumentHelp("Instance types to look up.", valueName: "instance-type"))
    var types: [String] = []

    func run() throws {
        var catalog = InstanceCatalog.builtIn
        if let config {
            do {
                catalog = try ConfigFile.load(path: config).catalog
            } catch {
                Diagnostics.report(error.diagnostic)
                throw ExitStatus(code: 2)
            }
        }
        if accelerators {
            for spec in catalog.accelerators.values.sorted(by: { $0.model < $1.model }) {
                if asJSON {
                    var w = JSONWriter()
                    w.beginObject()
                    w.string("model", spec.model)
                    w.string("vendor", spec.vendor)
                    if let tpp = spec.tpp { w.number("tpp", tpp, decimals: 1) } else { w.null("tpp") }
                    if let pd = spec.performanceDensity {
                        w.number("performance_density", pd, decimals: 2)
                    } else {
                        w.null("performance_density")
                    }
                    w.string("control", spec.control.description)
                    w.endObject()
                    print(w.text)
                } else {
                    let tpp = spec.tpp.map { JSONWriter.formatNumber($0, decimals: 1) } ?? "-"
                    print("\(pad(spec.model, 42)) \(pad(spec.vendor, 8)) TPP \(pad(tpp, 9)) \(spec.control)")
                }
            }
            return
        }
        var unknown: [String] = []
        let specs: [InstanceSpec]
        if types.isEmpty {
            specs = catalog.allInstanceTypes
        } else {
            var found: [InstanceSpec] = []
            for type in types {
                if let spec = catalog.lookup(type) {
                    found.append(spec)
                } else {
                    unknown.append(type)
                }
            }
            specs = found
        }
        for (index, spec) in specs.enumerated() {
            let count = spec.acceleratorCount.map { JSONWriter.formatNumber($0, decimals: 4) }
            let tpp = spec.accelerator.tpp
            let restricted = spec.accelerator.control.isRestricted(at: Int64.max)
            if asJSON {
                var w = JSONWriter()
                w.beginObject()
                w.string("instance_type", types.isEmpty ? spec.instanceType : types[index])
                w.string("provider", spec.provider)
                w.string("accelerator", spec.accelerator.model)
                if let c = spec.acceleratorCount {
                    w.number("accelerator_count", c)
                } else {
                    w.null("accelerator_count")
                }
                if let tpp { w.number("tpp", tpp, decimals: 1) } else { w.null("tpp") }
                if let tpp, let c = spec.acceleratorCount { w.number("instance_tpp", tpp * c, decimals: 1) }
                w.string("control", spec.accelerator.control.description)
                w.bool("restricted", restricted)
                w.string("confidence", spec.confidence)
                w.string("source", spec.source)
                w.endObject()
                print(w.text)
            } else {
                let tppText = tpp.map { JSONWriter.formatNumber($0, decimals: 1) } ?? "unpublished"
                print(
                    "\(pad(spec.instanceType, 34)) \(pad(spec.provider, 6)) \(pad(count ?? "varies", 6)) x \(pad(spec.accelerator.model, 40)) TPP \(pad(tppText, 11)) \(pad(spec.accelerator.control.description, 24)) \(restricted ? "restricted" : "not restricted")"
                )
            }
        }
        for type in unknown {
            Diagnostics.printRaw(
                "chiptrail: warning: unknown instance type '\(TextEscaping.escapeForTerminal(type))'; it carries no known accelerator (add it with 'catalog.\(type) = MODEL x COUNT' in the config)"
            )
        }
        if !unknown.isEmpty { throw ExitStatus(code: 1) }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
