// swift-tools-version:6.0
// libengram: an inference engine for DeepSeek Engram models behind a stable C ABI.
//
// Products:
//   libengram.so  - the dynamic library (C ABI in include/engram.h), target EngramC
//   engram-cli    - the `engram` command (installed as bin/engram by `make install`);
//                   SwiftPM does not allow a library and an executable product to share a name.
import PackageDescription

/// Absolute path of this package's root (the linker's working directory is not fixed).
let packageRoot = String(#filePath.dropLast("/Package.swift".count))

let package = Package(
    name: "engram",
    products: [
        .library(name: "engram", type: .dynamic, targets: ["EngramC", "EngramExports"]),
        .executable(name: "engram-cli", targets: ["engram"]),
    ],
    targets: [
        // Thread-local error slot and the public header (Sources/CEngramSupport/include/engram.h
        // is a link to include/engram.h), so Swift checks every export against the header.
        .target(name: "CEngramSupport"),
        // C++ shim over libonnx (Debian libonnx-dev, ONNX 1.12 + protobuf) behind a plain C
        // header: parse, check, list initializers and metadata. Used by Sources/Engram/Import.
        .target(
            name: "CEngramONNX",
            cxxSettings: [
                .define("ONNX_ML", to: "1"),
                .define("ONNX_NAMESPACE", to: "onnx"),
            ],
            linkerSettings: [
                .linkedLibrary("onnx"),
                .linkedLibrary("onnx_proto"),
                .linkedLibrary("protobuf"),
                .linkedLibrary("stdc++"),
            ]
        ),
        // The engine: plain Swift, no Foundation.
        // OpenBLAS from the system (Debian libopenblas-dev): sgemm for batched rows.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "Engram", dependencies: ["CEngramSupport", "COpenBLAS", "CEngramONNX"]),
        // The C ABI: argument validation, error translation, no math.
        .target(name: "EngramC", dependencies: ["Engram", "CEngramSupport"]),
        // The version script that limits libengram.so's exports to engram_* (library only).
        .target(
            name: "EngramExports",
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(packageRoot)/Sources/EngramExports/exports.map"])]
        ),
        .executableTarget(name: "engram", dependencies: ["Engram"]),
        // Fuzz harnesses (`make fuzz`), and their replayer in normal builds.
        .executableTarget(name: "engram-fuzz", dependencies: ["Engram", "EngramC", "CEngramSupport"]),
        .testTarget(name: "EngramTests", dependencies: ["Engram"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
