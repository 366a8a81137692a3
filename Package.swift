// swift-tools-version: 6.0
import PackageDescription

// Release builds of numeric code need unchecked arithmetic in hot loops to be fast; the
// loops themselves bound their indices, so -Ounchecked is not used: plain -O everywhere.
let package = Package(
    name: "icl-heads",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "icl-capture", targets: ["CaptureCLI"]),
        .executable(name: "icl-analyze", targets: ["AnalyzeCLI"]),
        .library(name: "Capture", targets: ["Capture"]),
        .library(name: "Analyze", targets: ["Analyze"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries: Debian's libhdf5-dev (serial) and libopenblas-dev, each behind a
        // small C shim header (HDF5's type ids are macros Swift cannot import).
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),

        // Vectorised exp, attention softmax and SiLU, compiled for AVX2 + FMA and for the
        // baseline target, picked at run time.
        .target(name: "CKernels"),

        .target(name: "Shared", dependencies: ["CHDF5", "COpenBLAS", "CKernels"]),
        .target(name: "Capture", dependencies: ["Shared", "COpenBLAS", "CKernels"]),
        // Testable in release too (the tests run in release): the report renderer's layout
        // helpers are tested directly. The engine (Capture) keeps plain -O.
        .target(name: "Analyze", dependencies: ["Shared"], swiftSettings: [.unsafeFlags(["-enable-testing"])]),

        // What both tools share: the entry point that prints every failure as one line, output
        // path checks, and the source commit fixed at build time (BuildCommit.value, generated
        // by the plugin).
        .plugin(name: "BuildCommit", capability: .buildTool(), path: "Plugins/BuildCommit"),
        .target(
            name: "CLISupport",
            dependencies: ["Shared", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            plugins: ["BuildCommit"]),
        .executableTarget(
            name: "CaptureCLI",
            dependencies: ["Capture", "Shared", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "AnalyzeCLI",
            dependencies: ["Analyze", "Shared", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Speed and memory benchmarks (release builds only): see benchmarks/README.md.
        .executableTarget(name: "EngineBenchmark", dependencies: ["Capture", "Shared"], path: "benchmarks/EngineBenchmark"),
        .executableTarget(name: "DumpGenerator", dependencies: ["TestSupport", "Capture", "Shared"], path: "benchmarks/DumpGenerator"),

        .target(name: "TestSupport", dependencies: ["Shared", "Capture"], path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "CKernels", "Shared", "TestSupport"]),
        .testTarget(name: "AnalyzeTests", dependencies: ["Analyze", "Capture", "Shared", "TestSupport"]),
    ]
)
