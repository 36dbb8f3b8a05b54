#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import UsageModel

/// The billing export layouts chiptrail reads, recognised by their header row.
public enum BillingLayout: String, Sendable, CaseIterable {
    case curLegacy = "AWS CUR (legacy)"
    case cur2 = "AWS CUR 2.0"
    case focus = "FOCUS"
    case azureCost = "Azure cost export"
}

/// What `--format` asked for, among the billing layouts.
public enum BillingFamily: Sendable {
    case cur
    case focus
    case azureCost

    func admits(_ layout: BillingLayout) -> Bool {
        switch (self, layout) {
        case (.cur, .curLegacy), (.cur, .cur2), (.focus, .focus), (.azureCost, .azureCost): true
        default: false
        }
    }
}

/// Where each field that matters sits in a header row.
struct BillingSchema {
    var layout: BillingLayout
    var columns: Int
    var account = -1
    var accountFallback = -1
    var start = -1
    var end = -1
    var date = -1
    var usageType = -1
    var instanceType = -1
    var resource = -1
    var region = -1
    var zone = -1
    var amount = -1
    var unit = -1
    var rowKind = -1
    var operation = -1
    var description = -1
    var sku = -1
    var provider = -1
    var meterCategory = -1
    var meterSubCategory = -1
    var meterName = -1
    var additionalInfo = -1
    /// Further columns that may name the type (FOCUS `SkuMeter`, `x_…UsageType`, `x_…InstanceType`).
    var typeColumns: [Int] = []

    enum Problem: Error {
        case unknown(String)
        case localized(String)
        case missing(String)
    }

    /// Reads a header row. Names match ignoring case; a localised name such as
    /// `Ressourcengruppe (ResourceGroup)` stands for its English name in parentheses, except for the
    /// columns that identify the layout (a file whose account, date or meter columns are localised is
    /// refused: such exports localise numbers and dates too).
    static func resolve(_ header: [String], family: BillingFamily?) -> Result<BillingSchema, Problem> {
        var exact: [String: Int] = [:]
        var localized: [String: Int] = [:]
        for (i, raw) in header.enumerated() {
            let name = raw.trimmingSpaces.lowercased()
            if exact[name] == nil { exact[name] = i }
            if name.hasSuffix(")"), let open = name.lastIndex(of: "(") {
                let inner = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
                if localized[inner] == nil { localized[inner] = i }
            }
        }
        func col(_ names: String...) -> Int {
            for n in names { if let i = exact[n] { return i } }
            for n in names { if let i = localized[n] { return i } }
            return -1
        }
        func has(_ name: String) -> Bool { exact[name] != nil }

        let layout: BillingLayout
        if has("lineitem/usageaccountid") {
            layout = .curLegacy
        } else if has("line_item_usage_account_id") {
            layout = .cur2
        } else if has("billingaccountid") && has("chargeperiodstart") {
            layout = .focus
        } else if (has("subscriptionid") || has("subscriptionguid")) && has("metercategory") {
            layout = .azureCost
        } else if localized["subscriptionguid"] != nil || localized["subscriptionid"] != nil
            || localized["metercategory"] != nil
        {
            let shown = header.first { $0.hasSuffix(")") && $0.contains("(") } ?? header.first ?? ""
            return .failure(
                .localized(
                    "localised column names ('\(shown.prefix(60))'): an Azure cost export with non-English headers; export it again with English column names"
                ))
        } else {
            let shown = header.prefix(4).map { "'\($0.prefix(40))'" }.joined(separator: ", ")
            let forced = family.map { " (--format \($0))" } ?? ""
            return .failure(
                .unknown(
                    "CSV header names no billing layout chiptrail reads\(forced): neither AWS CUR (lineItem/UsageAccountId, line_item_usage_account_id), FOCUS (BillingAccountId + ChargePeriodStart) nor an Azure cost export (SubscriptionId + MeterCategory); it begins \(shown)"
                ))
        }
        if let family, !family.admits(layout) {
            return .failure(.missing("the header is \(layout.rawValue), not what --format \(family) names"))
        }
        var s = BillingSchema(layout: layout, columns: header.count)
        switch layout {
        case .curLegacy:
            s.account = col("lineitem/usageaccountid")
            s.start = col("lineitem/usagestartdate")
            s.end = col("lineitem/usageenddate")
            s.usageType = col("lineitem/usagetype")
            s.instanceType = col("product/instancetype")
            s.resource = col("lineitem/resourceid")
            s.region = col("product/regioncode", "product/region")
            s.zone = col("lineitem/availabilityzone")
            s.amount = col("lineitem/usageamount")
            s.unit = col("pricing/unit")
            s.rowKind = col("lineitem/lineitemtype")
            s.operation = col("lineitem/operation")
            s.description = col("lineitem/lineitemdescription")
        case .cur2:
            s.account = col("line_item_usage_account_id")
            s.start = col("line_item_usage_start_date")
            s.end = col("line_item_usage_end_date")
            s.usageType = col("line_item_usage_type")
            s.instanceType = col("product_instance_type")
            s.resource = col("line_item_resource_id")
            s.region = col("product_region_code", "product_region")
            s.zone = col("line_item_availability_zone")
            s.amount = col("line_item_usage_amount")
            s.unit = col("pricing_unit")
            s.rowKind = col("line_item_line_item_type")
            s.operation = col("line_item_operation")
            s.description = col("line_item_line_item_description")
        case .focus:
            s.account = col("subaccountid")
            s.accountFallback = col("billingaccountid")
            s.start = col("chargeperiodstart")
            s.end = col("chargeperiodend")
            s.resource = col("resourceid")
            s.region = col("regionid", "region")
            s.zone = col("availabilityzone")
            s.amount = col("consumedquantity", "usagequantity")
            s.unit = col("consumedunit", "usageunit")
            s.rowKind = col("chargecategory")
            s.description = col("chargedescription")
            s.sku = col("skuid")
            s.provider = col("providername")
            for (name, i) in exact {
                if name == "skumeter"
                    || (name.hasPrefix("x_")
                        && (name.contains("usagetype") || name.contains("instancetype") || name.contains("skumeter")
                            || name.contains("vmsize")))
                {
                    s.typeColumns.append(i)
                }
            }
            s.typeColumns.sort()
        case .azureCost:
            s.account = col("subscriptionid", "subscriptionguid")
            s.date = col("date", "usagedatetime")
            s.start = col("serviceperiodstartdate")
            s.amount = col("quantity", "usagequantity")
            s.unit = col("unitofmeasure")
            s.meterCategory = col("metercategory")
            s.meterSubCategory = col("metersubcategory")
            s.meterName = col("metername")
            s.additionalInfo = col("additionalinfo")
            s.resource = col("resourceid", "instanceid", "instancename")
            s.region = col("resourcelocation")
            s.rowKind = col("chargetype")
        }
        guard s.account >= 0 else { return .failure(.missing("the header has no account column")) }
        guard s.start >= 0 || s.date >= 0 else { return .failure(.missing("the header has no usage date column")) }
        return .success(s)
    }
}

/// Decodes billing exports — AWS CUR (legacy `lineItem/…` and 2.0 `line_item_…`), FOCUS 1.x of any
/// provider, Azure cost exports (EA, pay-as-you-go, MCA, camelCase) — as RFC 4180 CSV, one row at a time.
///
/// Rows of compute use (EC2 box/spot usage, SageMaker instances, Azure virtual machines, GCP GPU SKUs,
/// FOCUS rows whose SKU text names an instance type) become ``UsageEvent``s of action `.usage` over
/// their charge period; every other row is counted and passed over.
public struct BillingDecoder {
    let path: String
    let family: BillingFamily?
    let maxRecordBytes: Int
    /// Which instance types become events; nil takes every one. Billing exports bill every hour of
    /// every instance, so ingest keeps those with accelerators (the catalogue) and counts the rest.
    let keepType: (@Sendable (String) -> Bool)?
    private let reader = CSVRecordReader()
    var schema: BillingSchema?
    /// Set when the header cannot be read: the caller stops reading the file.
    public private(set) var refused = false
    private var skippingOversized = false

    public init(
        path: String, family: BillingFamily? = nil, maxRecordBytes: Int = 16 << 20,
        keepType: (@Sendable (String) -> Bool)? = nil
    ) {
        self.path = path
        self.family = family
        self.maxRecordBytes = maxRecordBytes
        self.keepType = keepType
    }

    /// The layout the header named, once read.
    public var layout: BillingLayout? { schema?.layout }

    /// Skips the record that does not fit the largest buffer (an unclosed quote, most likely).
    public mutating func skipOversizedRecord() { skippingOversized = true }

    private func problem(_ line: Int, _ message: String) -> Diagnostic {
        Diagnostic(path: path, position: .line(line), severity: .error, category: "csv", message: message)
    }

    /// Decodes every complete row in `buffer`; returns the bytes consumed.
    public mutating func decode(_ buffer: UnsafeRawBufferPointer, isFinal: Bool, into out: inout DecodedBatch) -> Int {
        guard let raw = buffer.baseAddress, buffer.count > 0, !refused else { return buffer.count }
        let base = raw.assumingMemoryBound(to: UInt8.self)
        var position = 0
        if skippingOversized {
            guard let nl = memchr(base, 0x0A, buffer.count) else { return buffer.count }
            position = UnsafeRawPointer(nl) - raw + 1
            out.reject(
                problem(
                    reader.nextLine,
                    "row longer than \(maxRecordBytes >> 20) MiB (an unclosed quote?); skipped to the next line"))
            reader.nextLine += 1
            skippingOversized = false
        }
        if schema == nil {
            // The header: a BOM dropped.
            var start = position
            if buffer.count - start >= 3 && base[start] == 0xEF && base[start + 1] == 0xBB && base[start + 2] == 0xBF {
                start += 3
            }
            guard let (record, next) = reader.next(base, count: buffer.count, position: start, isFinal: isFinal) else {
                return position
            }
            position = next
            let names = (0..<record.count).map { record.string($0) }
            switch BillingSchema.resolve(names, family: family) {
            case .success(let s):
                schema = s
            case .failure(let p):
                refused = true
                let message: String
                switch p {
                case .unknown(let m), .localized(let m), .missing(let m): message = m
                }
                out.report(
                    Diagnostic(
                        path: path, position: .line(record.line), severity: .error, category: "format", message: message
                    ))
                return buffer.count
            }
        }
        guard let schema else { return position }
        while let (record, next) = reader.next(base, count: buffer.count, position: position, isFinal: isFinal) {
            position = next
            if record.count == 1 && record.isEmpty(0) { continue }  // blank line
            out.recordsRead += 1
            if record.unclosedQuote {
                out.reject(problem(record.line, "quoted field never closed before the end of the file; row skipped"))
                continue
            }
            guard record.count == schema.columns else {
                out.reject(
                    problem(
                        record.line,
                        "row has \(record.count) field(s), the header \(schema.columns); row skipped (a comma or quote inside an unquoted field?)"
                    ))
                continue
            }
            if record.malformedQuote {
                out.reject(problem(record.line, "text after a closing quote; row skipped"))
                continue
            }
            switch schema.layout {
            case .curLegacy, .cur2: curRow(record, schema, &out)
            case .focus: focusRow(record, schema, &out)
            case .azureCost: azureRow(record, schema, &out)
            }
        }
        return position
    }

    // MARK: - Rows

    private func curRow(_ r: CSVRecord, _ s: BillingSchema, _ out: inout DecodedBatch) {
        if s.rowKind >= 0 && !r.isEmpty(s.rowKind) && !r.equalsIgnoringCase(s.rowKind, "Usage")
            && !r.equalsIgnoringCase(s.rowKind, "DiscountedUsage")
            && !r.equalsIgnoringCase(s.rowKind, "SavingsPlanCoveredUsage")
        {
            return
        }
        if s.unit >= 0 && !r.isEmpty(s.unit) && !r.hasPrefixIgnoringCase(s.unit, "hr")
            && !r.hasPrefixIgnoringCase(s.unit, "hour")
        {
            return
        }
        let usageType = r.bytes(s.usageType)
        guard Self.isInstanceUsage(usageType) else { return }
        var type: String? = nil
        if s.instanceType >= 0 && !r.isEmpty(s.instanceType) {
            type = r.string(s.instanceType)
        } else {
            type = InstanceTypeHint.awsType(in: usageType)
        }
        guard let type else { return }
        emit(r, s, provider: .aws, type: type, eventName: r.string(s.usageType), &out)
    }

    /// `BoxUsage:…`, `USW2-SpotUsage:…`, `DedicatedUsage:…`, SageMaker `USE1-Train:ml.…` and the like:
    /// usage types of running instances (not EBS, data transfer, …).
    static func isInstanceUsage(_ usageType: UnsafeRawBufferPointer) -> Bool {
        guard let colon = usageType.firstIndex(of: 0x3A) else { return false }
        let head = UnsafeRawBufferPointer(rebasing: usageType[0..<colon])
        for marker: StaticString in [
            "BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage", "Train", "Notebook",
            "Host", "Processing", "Studio",
        ]
        where InstanceTypeHint.contains(head, marker) {
            return true
        }
        return false
    }

    private func focusRow(_ r: CSVRecord, _ s: BillingSchema, _ out: inout DecodedBatch) {
        if s.rowKind >= 0 && !r.isEmpty(s.rowKind) && !r.equalsIgnoringCase(s.rowKind, "Usage") { return }
        guard s.unit >= 0, r.hasPrefixIgnoringCase(s.unit, "hour") || r.hasPrefixIgnoringCase(s.unit, "hr") else {
            return
        }
        var type: String? = nil
        for c in s.typeColumns where !r.isEmpty(c) {
            if let t = InstanceTypeHint.anyType(in: r.bytes(c)) {
                type = t
                break
            }
        }
        if type == nil && s.description >= 0 { type = InstanceTypeHint.anyType(in: r.bytes(s.description)) }
        guard let type else { return }
        let provider = Self.provider(r.bytes(s.provider))
        emit(r, s, provider: provider, type: type, eventName: "FOCUS usage", &out)
    }

    static func provider(_ name: UnsafeRawBufferPointer) -> CloudProvider {
        if InstanceTypeHint.contains(name, "amazon") || InstanceTypeHint.contains(name, "aws") { return .aws }
        if InstanceTypeHint.contains(name, "microsoft") || InstanceTypeHint.contains(name, "azure") { return .azure }
        if InstanceTypeHint.contains(name, "google") || InstanceTypeHint.contains(name, "gcp") { return .gcp }
        if InstanceTypeHint.contains(name, "oracle") || InstanceTypeHint.contains(name, "oci") { return .oci }
        return .other
    }

    private func azureRow(_ r: CSVRecord, _ s: BillingSchema, _ out: inout DecodedBatch) {
        guard s.meterCategory >= 0, r.equalsIgnoringCase(s.meterCategory, "Virtual Machines") else { return }
        if s.rowKind >= 0 && !r.isEmpty(s.rowKind) && !r.equalsIgnoringCase(s.rowKind, "Usage") { return }
        var type: String? = nil
        if s.additionalInfo >= 0, let t = InstanceTypeHint.value(after: "ServiceType", in: r.bytes(s.additionalInfo)) {
            type = t
        }
        if type == nil, s.meterName >= 0, !r.isEmpty(s.meterName) {
            // "ND96asr v4" (or "D2 v3/D2s v3": the first) is Standard_ND96asr_v4.
            let name = r.string(s.meterName).split(separator: "/").first.map(String.init) ?? ""
            var trimmed = name.trimmingSpaces
            // Spot and low-priority meters name the same size: "D3 v2 Spot", "D3 v2 Low Priority".
            for suffix in [" Spot", " Low Priority"] where trimmed.hasSuffix(suffix) {
                trimmed = String(trimmed.dropLast(suffix.count))
            }
            if !trimmed.isEmpty { type = "Standard_" + trimmed.replacingSpaces(with: "_") }
        }
        emit(r, s, provider: .azure, type: type, eventName: "Azure VM usage", &out)
    }

    // MARK: - Events

    private func emit(
        _ r: CSVRecord, _ s: BillingSchema, provider: CloudProvider, type: String?, eventName: String,
        _ out: inout DecodedBatch
    ) {
        if let keepType, !keepType(type ?? "") { return }
        var account = r.bytes(s.account)
        if account.isEmpty && s.accountFallback >= 0 { account = r.bytes(s.accountFallback) }
        guard !account.isEmpty else {
            out.reject(problem(r.line, "usage row without an account id; skipped"))
            return
        }
        var start: EpochSeconds
        var end: EpochSeconds
        if s.layout == .azureCost {
            guard let day = Self.parseDate(r.bytes(s.date >= 0 ? s.date : s.start)) else {
                out.reject(
                    problem(
                        r.line,
                        "usage date '\(r.string(s.date >= 0 ? s.date : s.start).prefix(40))' is not a date; row skipped"
                    ))
                return
            }
            start = day
            end = day + 86_400
        } else {
            guard let a = Timestamp.parse(r.bytes(s.start)) else {
                out.reject(problem(r.line, "usage start '\(r.string(s.start).prefix(40))' is not a time; row skipped"))
                return
            }
            start = a
            end = Timestamp.parse(r.bytes(s.end)) ?? (a + 3600)
            if end < start { end = start }
        }
        var hours = 0.0
        if s.amount >= 0 {
            guard let amount = Self.parseNumber(r.bytes(s.amount)) else {
                out.reject(
                    problem(r.line, "usage amount '\(r.string(s.amount).prefix(40))' is not a number; row skipped"))
                return
            }
            hours = amount * (s.layout == .azureCost ? Self.unitMultiplier(r.bytes(s.unit)) : 1)
            guard hours.isFinite, abs(hours) <= UsageLimits.maxUsageHours else {
                out.reject(
                    problem(
                        r.line,
                        "usage amount '\(r.string(s.amount).prefix(40))' is beyond \(Int(UsageLimits.maxUsageHours)) hours; row skipped"
                    ))
                return
            }
        } else {
            hours = Double(end - start) / 3600
        }
        let accountID = String(decoding: account, as: UTF8.self)
        var resource: String
        if s.resource >= 0 && !r.isEmpty(s.resource) {
            resource = Self.normalizeResource(r.string(s.resource))
        } else {
            // Without resource ids (an option of the export) one session per usage type and place.
            let place = s.zone >= 0 && !r.isEmpty(s.zone) ? r.string(s.zone) : (s.region >= 0 ? r.string(s.region) : "")
            resource = UsageEvent.fleetResourcePrefix + (type ?? eventName) + (place.isEmpty ? "" : "@" + place)
        }
        var region = s.region >= 0 ? r.string(s.region) : ""
        if region.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { region = region.lowercased() }
        // The same period of the same resource and type, delivered twice, is one event.
        var h = StableHash.hash(account)
        var text = resource
        h = text.withUTF8 { StableHash.hash(UnsafeRawBufferPointer($0), seed: h) }
        if var t = type { h = t.withUTF8 { StableHash.hash(UnsafeRawBufferPointer($0), seed: h ^ 0x1F) } }
        var period = (start, end)
        h = withUnsafeBytes(of: &period) { StableHash.hash($0, seed: h) }
        h = StableHash.hash(r.bytes(s.operation), seed: h ^ 0x2F)
        h = StableHash.hash(r.bytes(s.usageType), seed: h ^ 0x3F)
        out.usageLines.append(
            provider: provider, time: start, accountID: accountID, resourceID: resource, instanceType: type,
            region: region, key: h, eventName: eventName, usageSeconds: end - start, usageHours: hours, path: path,
            line: r.line)
    }

    /// ARM ids lowercased (Azure spells them in both cases); GCP's `//compute.googleapis.com/` dropped; a
    /// SageMaker training job's ARN (`arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME`) as the audit log's
    /// decoder names the job, `training-job/NAME` in lower case, so its billed hours join the session its
    /// `CreateTrainingJob` call opened instead of making a second session of the same job.
    static func normalizeResource(_ id: String) -> String {
        var id = id
        if id.hasPrefix("//compute.googleapis.com/") { id.removeFirst("//compute.googleapis.com/".count) }
        if id.hasPrefix("/subscriptions/") || id.hasPrefix("/SUBSCRIPTIONS/") { return id.lowercased() }
        if id.hasPrefix("arn:"), let name = sageMakerTrainingJobName(inARN: id) { return "training-job/" + name }
        return id
    }

    /// The job name of `arn:PARTITION:sagemaker:REGION:ACCOUNT:training-job/NAME`, lowercased; nil for any
    /// other ARN.
    static func sageMakerTrainingJobName(inARN arn: String) -> String? {
        // arn, partition, service, region, account, resource: the resource may hold colons of its own.
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "sagemaker", parts[5].hasPrefix("training-job/") else { return nil }
        let name = parts[5].dropFirst("training-job/".count)
        return name.isEmpty ? nil : name.lowercased()
    }

    /// `MM/DD/YYYY` (EA, M/D allowed), `YYYY-MM-DD` (pay-as-you-go), or a full RFC 3339 time.
    static func parseDate(_ b: UnsafeRawBufferPointer) -> EpochSeconds? {
        if b.count >= 10, b[4] == 0x2D { return Timestamp.parse(UnsafeRawBufferPointer(rebasing: b[0..<10])) }
        var parts: [Int] = []
        var value = 0
        var digits = 0
        for c in b {
            if c >= 0x30 && c <= 0x39 {
                value = value * 10 + Int(c - 0x30)
                digits += 1
            } else if c == 0x2F {
                guard digits > 0 else { return nil }
                parts.append(value)
                value = 0
                digits = 0
            } else if c == 0x20 || c == 0x54 {
                break  // a time of day after the date
            } else {
                return nil
            }
        }
        guard digits > 0 else { return nil }
        parts.append(value)
        guard parts.count == 3, (1...12).contains(parts[0]), (1...31).contains(parts[1]) else { return nil }
        var year = parts[2]
        if year < 100 { year += 2000 }
        return Int64(Timestamp.daysFromCivil(year: year, month: parts[0], day: parts[1])) * 86_400
    }

    /// A decimal number (`2.000000000000000`, `1e-3`); nil otherwise. `NULL` and empty are zero.
    static func parseNumber(_ b: UnsafeRawBufferPointer) -> Double? {
        if b.isEmpty || (b.count == 4 && InstanceTypeHint.contains(b, "null")) { return 0 }
        var buffer = (Int64(0), Int64(0), Int64(0), Int64(0), Int64(0))  // 40 bytes, NUL-terminated copy
        guard b.count < 39 else { return nil }
        return withUnsafeMutableBytes(of: &buffer) { tmp -> Double? in
            tmp.copyMemory(from: b)
            tmp[b.count] = 0
            let p = tmp.baseAddress!.assumingMemoryBound(to: CChar.self)
            var endPointer: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(p, &endPointer)
            guard let endPointer, endPointer - p == b.count else { return nil }
            return v.isFinite ? v : nil
        }
    }

    /// Azure's `UnitOfMeasure` carries a multiplier: "10 Hours", "100 Hours", "1 Hour".
    static func unitMultiplier(_ b: UnsafeRawBufferPointer) -> Double {
        var value = 0.0
        var digits = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { break }
            value = value * 10 + Double(c - 0x30)
            digits += 1
        }
        return digits > 0 && value > 0 ? value : 1
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\u{FEFF}" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }

    func replacingSpaces(with replacement: String) -> String {
        split(separator: " ", omittingEmptySubsequences: true).joined(separator: replacement)
    }
}
