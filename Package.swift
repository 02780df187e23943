// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "citsci",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "citsci", targets: ["citsci"]),
        .library(name: "BrokerIngest", targets: ["BrokerIngest"]),
        .library(name: "Filters", targets: ["Filters"]),
        .library(name: "CitSciCore", targets: ["CitSciCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // The HTTP surfaces (metrics, health, Caesar): SwiftNIO under Hummingbird, without its
        // swift-configuration trait (nothing here reads configuration through it).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
    ],
    targets: [
        // The four C libraries (and the codecs), each wrapped once in Swift (DESIGN.md rule 6).
        .systemLibrary(name: "CRdKafka", path: "Sources/CRdKafka", pkgConfig: "rdkafka",
                       providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CAvro", path: "Sources/CAvro", pkgConfig: "avro-c",
                       providers: [.apt(["libavro-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCodecs", path: "Sources/CCodecs", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev", "libsnappy-dev"])]),

        .target(name: "BrokerIngest", dependencies: ["CAvro", "CCodecs", "CCurl", "CRdKafka",
                                                    .product(name: "Logging", package: "swift-log")]),
        .target(name: "Filters", dependencies: ["BrokerIngest", .product(name: "Yams", package: "Yams")]),
        .target(name: "CitSciCore", dependencies: [
            "BrokerIngest", "Filters", "CPNG", "CSQLite", "CPostgres",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ]),
        .executableTarget(name: "citsci", dependencies: [
            "BrokerIngest", "Filters", "CitSciCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        .target(name: "TestSupport", dependencies: ["BrokerIngest", "CitSciCore"], path: "Tests/TestSupport"),
        .testTarget(name: "BrokerIngestTests", dependencies: ["BrokerIngest", "TestSupport"]),
        .testTarget(name: "FiltersTests", dependencies: ["Filters", "BrokerIngest", "TestSupport"]),
        .testTarget(name: "CitSciCoreTests", dependencies: ["CitSciCore", "BrokerIngest", "Filters", "TestSupport"]),
        .testTarget(name: "citsciTests", dependencies: ["citsci", "TestSupport", "BrokerIngest", "CitSciCore", "Filters"]),
    ]
)
