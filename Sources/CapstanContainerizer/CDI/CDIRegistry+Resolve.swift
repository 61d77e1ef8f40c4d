import CapstanCore

/// Devices resolved for one container: the names asked for and their merged edits.
public struct CDIResolution: Sendable, Equatable {
    /// The devices, in the order asked (each once).
    public var devices: [CDIDeviceName]
    /// The spec files they came from, in order of first use.
    public var specFiles: [String]
    /// The spec-level edits of each spec used (once per spec, before its first device's), then each device's.
    public var edits: CDIContainerEdits
}

extension CDIRegistry {
    /// Resolves fully qualified device names (`vendor.com/class=name`) into one set of edits.
    ///
    /// Merging: edits are taken in the order asked; a spec's own `containerEdits` come once, just before the first
    /// of its devices. Entries that are exactly the same (a device node, mount, environment entry, hook or gid that
    /// two devices both bring) are kept once. Two different device nodes at one container path, two different mounts
    /// at one destination, or two values for one environment variable are refused with a `conflict` error naming
    /// both devices: which one the container should get is not knowable.
    public func resolve(_ names: [String]) throws -> CDIResolution {
        let parsed = try names.map { try CDIDeviceName(parsing: $0) }
        var merger = CDIEditsMerger()
        var devices: [CDIDeviceName] = []
        var specFiles: [String] = []
        for name in parsed where !devices.contains(name) {
            let (file, device) = try self.device(name)
            if !specFiles.contains(file.path) {
                specFiles.append(file.path)
                try merger.add(file.spec.containerEdits, from: "the spec-level edits of \(file.path)")
            }
            try merger.add(device.containerEdits, from: "\(name) (\(file.path))")
            devices.append(name)
        }
        return CDIResolution(devices: devices, specFiles: specFiles, edits: merger.edits)
    }
}

/// Merges container edits one source at a time, keeping exact repeats once and refusing conflicts.
struct CDIEditsMerger {
    private(set) var edits = CDIContainerEdits()
    private var nodeSource: [String: String] = [:]
    private var mountSource: [String: String] = [:]
    private var envSource: [String: (value: String, source: String)] = [:]
    private var rdtSource: String?

    mutating func add(_ more: CDIContainerEdits, from source: String) throws {
        for entry in more.env {
            let key = String(entry[..<(entry.firstIndex(of: "=") ?? entry.endIndex)])
            if let earlier = envSource[key] {
                guard earlier.value == entry else {
                    throw CapstanError(
                        .conflict, "CDI edits conflict: \(earlier.source) sets '\(earlier.value)' and \(source) sets '\(entry)'")
                }
                continue
            }
            envSource[key] = (entry, source)
            edits.env.append(entry)
        }
        for node in more.deviceNodes {
            if let index = edits.deviceNodes.firstIndex(where: { $0.path == node.path }) {
                guard edits.deviceNodes[index] == node else {
                    throw CapstanError(
                        .conflict,
                        "CDI edits conflict: \(nodeSource[node.path] ?? "?") and \(source) both create device node \(node.path), differently")
                }
                continue
            }
            nodeSource[node.path] = source
            edits.deviceNodes.append(node)
        }
        for mount in more.mounts {
            if let index = edits.mounts.firstIndex(where: { $0.containerPath == mount.containerPath }) {
                guard edits.mounts[index] == mount else {
                    throw CapstanError(
                        .conflict,
                        "CDI edits conflict: \(mountSource[mount.containerPath] ?? "?") and \(source) both mount at \(mount.containerPath), differently")
                }
                continue
            }
            mountSource[mount.containerPath] = source
            edits.mounts.append(mount)
        }
        for hook in more.hooks where !edits.hooks.contains(hook) { edits.hooks.append(hook) }
        for gid in more.additionalGids where !edits.additionalGids.contains(gid) { edits.additionalGids.append(gid) }
        if let rdt = more.intelRdt {
            if let existing = edits.intelRdt, existing != rdt {
                throw CapstanError(.conflict, "CDI edits conflict: \(rdtSource ?? "?") and \(source) set different intelRdt settings")
            }
            edits.intelRdt = rdt
            rdtSource = rdtSource ?? source
        }
        for device in more.netDevices where !edits.netDevices.contains(device) {
            if edits.netDevices.contains(where: { $0.hostInterfaceName == device.hostInterfaceName || $0.name == device.name }) {
                throw CapstanError(
                    .conflict, "CDI edits conflict: \(source) moves interface \(device.hostInterfaceName) as \(device.name), clashing with an earlier device")
            }
            edits.netDevices.append(device)
        }
    }
}
