// swift-tools-version: 6.0
// Insert-rate comparison of the two maintained Swift SQLite libraries on the package mirror, run by
// Scripts/bench-store-libraries. Not part of the main package (its NIO dependency would slow CI).
import PackageDescription

let package = Package(
    name: "StoreLibraries",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
    ],
    targets: [
        .executableTarget(
            name: "store-libraries",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ])
    ]
)
