// swift-tools-version: 6.0
import PackageDescription

// The upcoming features the swift-server packages enable, for every target in one place.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let hot: [SwiftSetting] = strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "chiptrail",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chiptrail", targets: ["chiptrail"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CPrefetch"),
        .target(name: "UsageModel", dependencies: ["CPrefetch"], swiftSettings: hot),
        .target(name: "Inputs", dependencies: ["CZlib", "CISAL", "UsageModel"], swiftSettings: hot),
        // S3 and SQS: SigV4 signing, credentials as the AWS CLI resolves them, streaming object bodies.
        .target(
            name: "ObjectStore",
            dependencies: ["CCurl", "UsageModel", "Inputs", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(name: "CJSONIndex", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "LogFormats", dependencies: ["UsageModel", "CJSONIndex"], swiftSettings: hot),
        // The first stage's output of a distributed run: one input's decoded records, compact binary.
        .target(name: "NormalizedRecords", dependencies: ["UsageModel", "LogFormats"], swiftSettings: hot),
        .target(name: "Catalog", dependencies: ["UsageModel"], exclude: ["Data"], swiftSettings: strict),
        .target(name: "Ownership", dependencies: ["UsageModel", "Inputs"], swiftSettings: hot),
        .target(
            name: "Sessions",
            dependencies: ["UsageModel", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: hot
        ),
        .target(
            name: "Detection", dependencies: ["CPrefetch", "UsageModel", "Catalog", "Ownership", "Sessions"],
            swiftSettings: hot),
        .target(name: "Alerting", dependencies: ["UsageModel"], swiftSettings: strict),
        .target(
            name: "Store",
            dependencies: [
                "UsageModel", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "UsageModel", "Inputs", "LogFormats", "NormalizedRecords", "Catalog", "Ownership", "Sessions",
                "Detection",
            ],
            swiftSettings: hot
        ),
        // ingest's inputs in order (local paths, then each s3:// location's objects), its store batches, and
        // what it does with each outcome (evidence log, store, sinks).
        .target(
            name: "IngestService",
            dependencies: ["UsageModel", "Inputs", "ObjectStore", "Detection", "Pipeline", "Store", "Alerting"],
            swiftSettings: strict
        ),
        // The daemon as a swift-service-lifecycle Service: watch -> batch -> commit -> deliver.
        .target(
            name: "TailService",
            dependencies: [
                "UsageModel", "Inputs", "Pipeline", "Store", "Alerting", "ObjectStore", "IngestService",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "chiptrail",
            dependencies: [
                "UsageModel", "Inputs", "LogFormats", "NormalizedRecords", "Catalog", "Ownership", "Pipeline",
                "Store", "Alerting", "ObjectStore", "IngestService", "TailService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // libFuzzer targets over the parsers (Scripts/fuzz); a plain build replays files through them.
        .executableTarget(
            name: "ChiptrailFuzz",
            dependencies: ["UsageModel", "Inputs", "LogFormats", "NormalizedRecords", "Ownership", "Pipeline"],
            swiftSettings: strict
        ),
        // Tests (Tests/): the shared helpers, one target per layer run in process, and the built binary end to end.
        .target(name: "TestSupport", dependencies: ["CZlib"], path: "Tests/TestSupport", swiftSettings: strict),
        // moto and its fault-injecting proxy on loopback (Fixtures/s3-fixture.py), for the S3 and SQS tests.
        .target(
            name: "S3TestSupport", dependencies: ["TestSupport", "ObjectStore"], path: "Tests/S3TestSupport",
            exclude: ["Fixtures"], swiftSettings: strict
        ),
        // Bytes in: files, gzip and the inflaters, JSON index, every log format's decoder, fuzz findings.
        .testTarget(
            name: "FormatTests",
            dependencies: [
                "TestSupport", "CZlib", "CJSONIndex", "UsageModel", "Inputs", "LogFormats", "Ownership", "Pipeline",
            ],
            exclude: ["Fixtures"], swiftSettings: strict
        ),
        // Reference data: catalogue, jurisdictions, mappings and reseller chains, configuration validation.
        .testTarget(
            name: "ReferenceTests", dependencies: ["TestSupport", "UsageModel", "Catalog", "Ownership"],
            swiftSettings: strict
        ),
        // Sessions and detection: the sessionizer (also over decoded audit and billing records), evidence, scoring.
        .testTarget(
            name: "DetectionTests",
            dependencies: ["TestSupport", "UsageModel", "LogFormats", "Catalog", "Ownership", "Sessions", "Detection"],
            swiftSettings: strict
        ),
        // The pipeline: event-time order, held spill, checkpoints, the ordered work pool, live checkpoints.
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "TestSupport", "UsageModel", "Catalog", "Ownership", "Sessions", "Detection", "NormalizedRecords",
                "Pipeline", "Store", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // The store: batch transactions, the object ledger.
        .testTarget(
            name: "StoreTests",
            dependencies: ["TestSupport", "UsageModel", "Store", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // Alert sinks: OCSF, syslog, exec, the queued hook.
        .testTarget(
            name: "AlertingTests", dependencies: ["TestSupport", "UsageModel", "Alerting"], swiftSettings: strict
        ),
        // S3 and SQS: locations, dated keys, notifications, SigV4, credentials, the SQS client.
        .testTarget(
            name: "ObjectStoreTests", dependencies: ["TestSupport", "S3TestSupport", "ObjectStore"],
            exclude: ["Fixtures"], swiftSettings: strict
        ),
        // ingest's service in process: its inputs' order, its store batches, the delivery of each outcome.
        .testTarget(
            name: "IngestServiceTests",
            dependencies: [
                "TestSupport", "UsageModel", "Inputs", "Detection", "Pipeline", "Store", "Alerting", "IngestService",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // The daemon's parts in process: the directory watcher, stop and reload requests, the visibility
        // heartbeat (moto), the directory loop over a real store.
        .testTarget(
            name: "TailServiceTests",
            dependencies: [
                "TestSupport", "S3TestSupport", "UsageModel", "Inputs", "ObjectStore", "Pipeline", "Store", "Alerting",
                "TailService", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // The built `chiptrail` binary as a user runs it: commands, ingest, store, tail, S3, interrupts, Spark.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TestSupport", "S3TestSupport", "UsageModel", "Inputs", "LogFormats", "NormalizedRecords",
                "ObjectStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"], swiftSettings: strict
        ),
    ]
)
