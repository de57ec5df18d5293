// swift-tools-version: 6.0
// A CloudDispatch driver in Swift, in a package of its own: copy this folder to start one.
// It depends on the CloudDispatch package for one thing, the `PluginABI` library (the ABI
// header); point CLOUD_DISPATCH_PACKAGE at a checkout (default: the one this folder is in),
// or use `.package(url: ..., from: ...)` instead.
import Foundation
import PackageDescription

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let cloudDispatch = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CLOUD_DISPATCH_PACKAGE"] ?? "../..", relativeTo: here)
    .standardizedFileURL
// A package depended on by path is known by its folder's name.
let cloudDispatchIdentity = cloudDispatch.lastPathComponent.lowercased()

let package = Package(
    name: "DriverMemory",
    products: [
        // The driver: libcdd_memory.so, for a plugins folder.
        .library(name: "cdd_memory", type: .dynamic, targets: ["CDDMemory"]),
    ],
    dependencies: [
        .package(path: cloudDispatch.path),
    ],
    targets: [
        .target(name: "CDDMemory",
                dependencies: [.product(name: "PluginABI", package: cloudDispatchIdentity)],
                // Export cdd_negotiate and cdd_open only: Swift has no -fvisibility=hidden.
                linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(here.path)/exports.map"])]),
    ]
)
