// swift-tools-version:6.1
import PackageDescription

let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")

/// Release builds optimise across the package's own modules: the hot paths (decoding, filters,
/// stamps) cross module boundaries, and SwiftPM's default cross-module optimisation only looks at
/// `public` declarations, which this package has none of.
let crossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "citsci",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "citsci", targets: ["citsci"]),
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
        .systemLibrary(name: "CGlibc", path: "Sources/CGlibc"),
        .systemLibrary(name: "CCodecs", path: "Sources/CCodecs", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev", "libsnappy-dev"])]),

        // The modules, in the order of the flow; each imports only those named in its dependencies
        // (scripts/test builds with SwiftPM's import check) and those match docs/ARCHITECTURE.md
        // (ArchitectureTests).
        .target(name: "Basics", swiftSettings: crossModule),
        .target(name: "Schemas", path: "schemas", sources: ["OwnedSchemas.swift"],
                resources: [.embedInCode("rubin-alert.avsc"), .embedInCode("ztf-alert.avsc"),
                            .embedInCode("classification-result.avsc")]),
        .target(name: "Avro", dependencies: ["CAvro", "CCodecs"], swiftSettings: crossModule),
        .target(name: "WebClient", dependencies: ["Basics", "CCurl"], swiftSettings: crossModule),
        .target(name: "AlertModel", dependencies: ["Avro", "Schemas", "WebClient"], swiftSettings: crossModule),
        .target(name: "Kafka", dependencies: ["Basics", "Avro", "AlertModel", "CRdKafka", logging], swiftSettings: crossModule),
        .target(name: "Stamps", dependencies: ["Avro", "AlertModel", "CPNG"], swiftSettings: crossModule),
        .target(name: "Filters", dependencies: ["Basics", "Avro", "AlertModel", "Stamps", .product(name: "Yams", package: "Yams")], swiftSettings: crossModule),
        .target(name: "State", dependencies: ["Basics", "AlertModel", "CSQLite", "CPostgres"], swiftSettings: crossModule),
        .target(name: "Subjects", dependencies: ["Basics", "AlertModel", "Stamps", "Filters", "State", "CGlibc"], swiftSettings: crossModule),
        .target(name: "Zooniverse", dependencies: ["Basics", "State", "Subjects", "WebClient"], swiftSettings: crossModule),
        .target(name: "WebServer", dependencies: [
            "Basics", logging,
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: crossModule),
        .target(name: "Classifications", dependencies: ["Basics", "Avro", "Schemas", "Kafka", "State", "Zooniverse", "WebServer"], swiftSettings: crossModule),
        // The web page for PIs and operators: server-rendered pages over the state, the filters and the window.
        .target(name: "WebPages", dependencies: ["Basics", "AlertModel", "Stamps", "Filters", "State", "Subjects", "Classifications", "WebServer"],
                swiftSettings: crossModule),
        .target(name: "Service", dependencies: [
            "Basics", "Avro", "AlertModel", "Kafka", "Stamps", "Filters", "State", "Subjects", "Zooniverse", "WebClient",
            "WebServer", "WebPages", "Classifications", logging, metrics,
            .product(name: "Yams", package: "Yams"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], swiftSettings: crossModule),
        // The command line: argument parsing, each command a thin call into the modules.
        .executableTarget(name: "citsci", dependencies: [
            "Basics", "Avro", "AlertModel", "Kafka", "Stamps", "Filters", "State", "Subjects", "Zooniverse", "WebServer", "WebPages",
            "Classifications", "Service", "CGlibc", logging, metrics,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: crossModule),

        .target(name: "TestSupport", dependencies: ["Basics", "Avro", "WebClient", "AlertModel", "Kafka", "Stamps", "Filters", "State", "Subjects", "Zooniverse", "WebServer", "Classifications", "Service"], path: "Tests/TestSupport"),
        // Unit tests: no network, no broker, no server, no subprocess, no sleeps (`swift test --filter Unit`).
        .testTarget(name: "UnitTests", dependencies: ["Basics", "Avro", "WebClient", "AlertModel", "Kafka", "Stamps", "Filters", "State", "Subjects", "Zooniverse", "WebServer", "WebPages", "Classifications", "Service", "TestSupport"]),
        // Integration tests: Tansu, PostgreSQL, the fake Panoptes, HTTP servers, the citsci binary, the soak.
        .testTarget(name: "IntegrationTests", dependencies: ["citsci", "Basics", "Avro", "WebClient", "AlertModel", "Kafka", "Stamps", "Filters", "State", "Subjects", "Zooniverse", "WebServer", "WebPages", "Classifications", "Service", "TestSupport"]),
    ]
)
