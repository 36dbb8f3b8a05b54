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
        .target(name: "Ownership", dependencies: ["UsageModel", "Catalog", "Inputs"], swiftSettings: hot),
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
            dependencies: ["UsageModel", .product(name: "GRDB", package: "GRDB.swift")],
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
        // ingest's inputs in order (local paths, then each s3:// location's objects) and its store batches.
        .target(
            name: "IngestService",
            dependencies: ["UsageModel", "Inputs", "ObjectStore", "Pipeline", "Store"],
            swiftSettings: strict
        ),
        // The daemon as a swift-service-lifecycle Service: watch -> batch -> commit -> deliver.
        .target(
            name: "TailService",
            dependencies: [
                "UsageModel", "Inputs", "Pipeline", "Store", "Alerting", "Detection", "Ownership", "ObjectStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "chiptrail",
            dependencies: [
                "UsageModel", "Inputs", "LogFormats", "NormalizedRecords", "Catalog", "Ownership", "Detection",
                "Pipeline", "Store", "Alerting", "ObjectStore", "IngestService", "TailService",
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
        .testTarget(
            name: "ChiptrailTests",
            dependencies: [
                "UsageModel", "Inputs", "LogFormats", "Catalog", "Ownership", "Sessions", "Detection", "Alerting",
                "Pipeline", "Store", "TailService", "CZlib", "CJSONIndex", "ObjectStore", "NormalizedRecords",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ]
)
