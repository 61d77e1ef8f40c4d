import CapstanCore
import Foundation

/// Reads a CDI spec file strictly: unknown fields, missing required fields, values of the wrong type or out of
/// range, and fields newer than the declared `cdiVersion` are refused. Every error names the file, the position
/// (`line:column`) where the file gives one, and the field path (`devices[1].containerEdits.deviceNodes[0].path`).
///
/// Beyond the specification, for safety: every path is absolute and has no `..` component (a bind mount's
/// `hostPath` included; other mount sources are kept as written), the container path is never `/`, major and minor
/// numbers fit Linux's 12 and 20 bits, `fileMode` is at most `0o7777`, and a hook's `timeout` is at most an hour.
public enum CDISpecDecoder {
    /// Decodes the bytes of a spec file (JSON or YAML: JSON is read as YAML, as the reference library does);
    /// `file` names it in errors.
    public static func decode(_ bytes: [UInt8], file: String, limits: CDILimits = .standard) throws -> CDISpec {
        guard bytes.count <= limits.maximumFileBytes else {
            throw CapstanError(.invalidArgument, "\(file): \(bytes.count) bytes, more than the limit of \(limits.maximumFileBytes) for a CDI spec")
        }
        let root: CDINode
        do {
            root = try CDIDocumentReader(limits: limits).read(bytes)
        } catch {
            let position = error.line.map { ":\($0):\(error.column ?? 0)" } ?? ""
            throw CapstanError(.invalidArgument, "\(file)\(position): \(error.message)")
        }
        var reader = Reader(file: file)
        return try reader.spec(root)
    }

    /// Reads and decodes the spec file at `path` (blocking I/O), refusing a file over ``CDILimits/maximumFileBytes``
    /// before reading it.
    public static func load(path: String, limits: CDILimits = .standard) throws -> CDISpec {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
            throw CapstanError(.unavailable, "\(path): cannot open the CDI spec", cause: error)
        }
        defer { try? handle.close() }
        let data: Data?
        do { data = try handle.read(upToCount: limits.maximumFileBytes + 1) } catch {
            throw CapstanError(.unavailable, "\(path): cannot read the CDI spec", cause: error)
        }
        let bytes = [UInt8](data ?? Data())
        guard bytes.count <= limits.maximumFileBytes else {
            throw CapstanError(.invalidArgument, "\(path): larger than the limit of \(limits.maximumFileBytes) bytes for a CDI spec")
        }
        return try decode(bytes, file: path, limits: limits)
    }
}

/// The field-by-field reader behind ``CDISpecDecoder``.
private struct Reader {
    let file: String
    var version = CDIVersion.v0_3_0

    func failure(_ node: CDINode?, _ path: String, _ message: String) -> CapstanError {
        let position = node.map { ":\($0.line):\($0.column)" } ?? ""
        let field = path.isEmpty ? "" : "\(path): "
        return CapstanError(.invalidArgument, "\(file)\(position): \(field)\(message)")
    }

    /// Refuses a field newer than the declared version.
    func need(_ minimum: CDIVersion, _ node: CDINode, _ path: String, _ what: String = "this field") throws {
        guard version >= minimum else {
            throw failure(node, path, "\(what) needs cdiVersion \(minimum) or later; the file declares \(version)")
        }
    }

    // MARK: The spec

    mutating func spec(_ root: CDINode) throws -> CDISpec {
        let fields = try Fields(root, "", allowed: ["cdiVersion", "kind", "annotations", "devices", "containerEdits"], reader: self)
        let versionNode = try fields.required("cdiVersion")
        let versionText = try string(versionNode, "cdiVersion")
        guard let declared = CDIVersion(versionText) else {
            if versionText == "0.1.0" || versionText == "0.2.0" {
                throw failure(versionNode, "cdiVersion", "'\(versionText)' uses the pre-0.3.0 schema, which Capstan does not read; regenerate the spec")
            }
            let known = CDIVersion.known.map(\.description).joined(separator: ", ")
            throw failure(versionNode, "cdiVersion", "'\(CDIKind.shown(versionText))' is not a CDI version Capstan knows (\(known))")
        }
        version = declared

        let kindNode = try fields.required("kind")
        let kind: CDIKind
        do { kind = try CDIKind(parsing: try string(kindNode, "kind")) } catch let error as CapstanError {
            throw failure(kindNode, "kind", error.message)
        }
        if kind.class.contains(".") { try need(.v0_6_0, kindNode, "kind", "a '.' in the class of kind") }

        let annotations = try fields.optional("annotations").map { try self.annotations($0, "annotations") } ?? [:]

        let devicesNode = try fields.required("devices")
        let items = try list(devicesNode, "devices")
        guard !items.isEmpty else { throw failure(devicesNode, "devices", "at least one device is required") }
        var devices: [CDIDevice] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let path = "devices[\(index)]"
            let device = try self.device(item, path)
            if let earlier = seen[device.name] {
                throw failure(item, path + ".name", "'\(device.name)' is already the name of devices[\(earlier)]")
            }
            seen[device.name] = index
            devices.append(device)
        }
        let edits = try fields.optional("containerEdits").map { try containerEdits($0, "containerEdits") } ?? CDIContainerEdits()
        return CDISpec(version: version, kind: kind, annotations: annotations, devices: devices, containerEdits: edits)
    }

    func device(_ node: CDINode, _ path: String) throws -> CDIDevice {
        let fields = try Fields(node, path, allowed: ["name", "annotations", "containerEdits"], reader: self)
        let nameNode = try fields.required("name")
        let name = try string(nameNode, path + ".name")
        if let problem = CDIDeviceName.nameProblem(name) { throw failure(nameNode, path + ".name", "'\(CDIKind.shown(name))' \(problem)") }
        if let first = name.utf8.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) {
            try need(.v0_5_0, nameNode, path + ".name", "a device name starting with a digit")
        }
        let annotations = try fields.optional("annotations").map { try self.annotations($0, path + ".annotations") } ?? [:]
        let edits = try fields.optional("containerEdits").map { try containerEdits($0, path + ".containerEdits") } ?? CDIContainerEdits()
        return CDIDevice(name: name, annotations: annotations, containerEdits: edits)
    }

    func annotations(_ node: CDINode, _ path: String) throws -> [String: String] {
        guard case .mapping(let pairs) = node.value else { throw failure(node, path, "must be a mapping of strings to strings") }
        var result: [String: String] = [:]
        for pair in pairs { result[pair.key] = try string(pair.value, path + "." + pair.key) }
        if !result.isEmpty { try need(.v0_6_0, node, path, "annotations") }
        return result
    }

    // MARK: Container edits

    func containerEdits(_ node: CDINode, _ path: String) throws -> CDIContainerEdits {
        let fields = try Fields(
            node, path, allowed: ["env", "deviceNodes", "mounts", "hooks", "additionalGids", "intelRdt", "netDevices"], reader: self)
        var edits = CDIContainerEdits()
        if let env = fields.optional("env") { edits.env = try environment(env, path + ".env") }
        if let nodes = fields.optional("deviceNodes") {
            edits.deviceNodes = try list(nodes, path + ".deviceNodes").enumerated().map { try deviceNode($1, path + ".deviceNodes[\($0)]") }
        }
        if let mounts = fields.optional("mounts") {
            edits.mounts = try list(mounts, path + ".mounts").enumerated().map { try mount($1, path + ".mounts[\($0)]") }
        }
        if let hooks = fields.optional("hooks") {
            edits.hooks = try list(hooks, path + ".hooks").enumerated().map { try hook($1, path + ".hooks[\($0)]") }
        }
        if let gidsNode = fields.optional("additionalGids") {
            let gids = try list(gidsNode, path + ".additionalGids").enumerated().map {
                UInt32(try integer($1, path + ".additionalGids[\($0)]", 0...Int64(UInt32.max - 1)))
            }
            if !gids.isEmpty { try need(.v0_7_0, gidsNode, path + ".additionalGids", "additionalGids") }
            edits.additionalGids = gids.filter { $0 != 0 }  // "Values of 0 are ignored."
        }
        if let rdt = fields.optional("intelRdt") {
            try need(.v0_7_0, rdt, path + ".intelRdt", "intelRdt")
            edits.intelRdt = try intelRdt(rdt, path + ".intelRdt")
        }
        if let netNode = fields.optional("netDevices") {
            let devices = try list(netNode, path + ".netDevices").enumerated().map { try netDevice($1, path + ".netDevices[\($0)]") }
            if !devices.isEmpty { try need(.v1_1_0, netNode, path + ".netDevices", "netDevices") }
            edits.netDevices = devices
        }
        return edits
    }

    func deviceNode(_ node: CDINode, _ path: String) throws -> CDIDeviceNode {
        let fields = try Fields(
            node, path, allowed: ["path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"], reader: self)
        let pathNode = try fields.required("path")
        var result = CDIDeviceNode(path: try absolutePath(pathNode, path + ".path", allowRoot: false))
        if let host = fields.optional("hostPath"), !(try string(host, path + ".hostPath")).isEmpty {
            try need(.v0_5_0, host, path + ".hostPath", "hostPath")
            result.hostPath = try absolutePath(host, path + ".hostPath", allowRoot: false)
        }
        if let typeNode = fields.optional("type") {
            let text = try string(typeNode, path + ".type")
            if !text.isEmpty {
                guard let type = CDIDeviceType(rawValue: text) else {
                    throw failure(typeNode, path + ".type", "'\(CDIKind.shown(text))' is not a device type; use c, b, u or p")
                }
                result.type = type
            }
        }
        // Linux device numbers: a 12-bit major and a 20-bit minor.
        result.major = try fields.optional("major").map { try integer($0, path + ".major", 0...4095) }
        result.minor = try fields.optional("minor").map { try integer($0, path + ".minor", 0...0xF_FFFF) }
        result.fileMode = try fields.optional("fileMode").map { UInt32(try integer($0, path + ".fileMode", 0...0o7777)) }
        if let permissionsNode = fields.optional("permissions") {
            let text = try string(permissionsNode, path + ".permissions")
            if text == "none" {
                result.permissions = ""
            } else if !text.isEmpty {
                guard text.allSatisfy({ "rwm".contains($0) }) else {
                    throw failure(permissionsNode, path + ".permissions", "'\(CDIKind.shown(text))' must be some of r, w and m, or none")
                }
                result.permissions = "rwm".filter { text.contains($0) }
            }
        }
        result.uid = try fields.optional("uid").map { UInt32(try integer($0, path + ".uid", 0...Int64(UInt32.max - 1))) }
        result.gid = try fields.optional("gid").map { UInt32(try integer($0, path + ".gid", 0...Int64(UInt32.max - 1))) }
        return result
    }

    func mount(_ node: CDINode, _ path: String) throws -> CDIMount {
        let fields = try Fields(node, path, allowed: ["hostPath", "containerPath", "type", "options"], reader: self)
        let containerPath = try absolutePath(try fields.required("containerPath"), path + ".containerPath", allowRoot: false)
        var type: String?
        if let typeNode = fields.optional("type") {
            let text = try string(typeNode, path + ".type")
            if !text.isEmpty {
                try need(.v0_4_0, typeNode, path + ".type", "the type of a mount")
                type = text
            }
        }
        let options = try fields.optional("options").map { try strings($0, path + ".options") } ?? []
        var mount = CDIMount(hostPath: "", containerPath: containerPath, type: type, options: options)
        let hostNode = try fields.required("hostPath")
        if mount.isBind {
            mount.hostPath = try absolutePath(hostNode, path + ".hostPath", allowRoot: true)
        } else {
            mount.hostPath = try string(hostNode, path + ".hostPath")
            guard !mount.hostPath.isEmpty else { throw failure(hostNode, path + ".hostPath", "required") }
        }
        return mount
    }

    func hook(_ node: CDINode, _ path: String) throws -> CDIHook {
        let fields = try Fields(node, path, allowed: ["hookName", "path", "args", "env", "timeout"], reader: self)
        let nameNode = try fields.required("hookName")
        let name = try string(nameNode, path + ".hookName")
        guard let stage = CDIHookStage(rawValue: name) else {
            let known = CDIHookStage.allCases.map(\.rawValue).joined(separator: ", ")
            throw failure(nameNode, path + ".hookName", "'\(CDIKind.shown(name))' is not a hook name; use one of \(known)")
        }
        return CDIHook(
            stage: stage,
            path: try absolutePath(try fields.required("path"), path + ".path", allowRoot: false),
            args: try fields.optional("args").map { try strings($0, path + ".args") } ?? [],
            env: try fields.optional("env").map { try environment($0, path + ".env") } ?? [],
            timeoutSeconds: try fields.optional("timeout").map { Int(try integer($0, path + ".timeout", 1...3600)) })
    }

    func intelRdt(_ node: CDINode, _ path: String) throws -> CDIIntelRdt {
        var allowed = ["closID", "l3CacheSchema", "memBwSchema", "schemata", "enableMonitoring"]
        if version < .v1_1_0 { allowed += ["enableCMT", "enableMBM"] }
        let fields = try Fields(node, path, allowed: allowed, reader: self)
        var rdt = CDIIntelRdt()
        rdt.closID = try fields.optional("closID").map { try string($0, path + ".closID") }
        rdt.l3CacheSchema = try fields.optional("l3CacheSchema").map { try string($0, path + ".l3CacheSchema") }
        rdt.memBwSchema = try fields.optional("memBwSchema").map { try string($0, path + ".memBwSchema") }
        if let schemata = fields.optional("schemata") {
            try need(.v1_1_0, schemata, path + ".schemata", "schemata")
            rdt.schemata = try strings(schemata, path + ".schemata")
        }
        if let monitoring = fields.optional("enableMonitoring") {
            rdt.enableMonitoring = try boolean(monitoring, path + ".enableMonitoring")
            if rdt.enableMonitoring { try need(.v1_1_0, monitoring, path + ".enableMonitoring", "enableMonitoring") }
        }
        rdt.enableCMT = try fields.optional("enableCMT").map { try boolean($0, path + ".enableCMT") } ?? false
        rdt.enableMBM = try fields.optional("enableMBM").map { try boolean($0, path + ".enableMBM") } ?? false
        return rdt
    }

    func netDevice(_ node: CDINode, _ path: String) throws -> CDINetDevice {
        let fields = try Fields(node, path, allowed: ["hostInterfaceName", "name"], reader: self)
        let host = try string(try fields.required("hostInterfaceName"), path + ".hostInterfaceName")
        let name = try string(try fields.required("name"), path + ".name")
        for (value, field) in [(host, "hostInterfaceName"), (name, "name")] where value.isEmpty || value.utf8.count > 15 || value.contains("/") {
            throw failure(node, path + "." + field, "'\(CDIKind.shown(value))' is not an interface name (1 to 15 characters, no '/')")
        }
        return CDINetDevice(hostInterfaceName: host, name: name)
    }

    // MARK: Values

    func string(_ node: CDINode, _ path: String) throws -> String {
        guard case .scalar(let text, _) = node.value else { throw failure(node, path, "must be a string, not a list or mapping") }
        guard !text.utf8.contains(0) else { throw failure(node, path, "must not contain a NUL character") }
        return text
    }

    func list(_ node: CDINode, _ path: String) throws -> [CDINode] {
        guard case .sequence(let items) = node.value else { throw failure(node, path, "must be a list") }
        return items
    }

    func strings(_ node: CDINode, _ path: String) throws -> [String] {
        try list(node, path).enumerated().map { try string($1, "\(path)[\($0)]") }
    }

    func environment(_ node: CDINode, _ path: String) throws -> [String] {
        let items = try list(node, path)
        return try items.enumerated().map { index, item in
            let entry = try string(item, "\(path)[\(index)]")
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw failure(item, "\(path)[\(index)]", "'\(CDIKind.shown(entry))' is not of the form KEY=value")
            }
            return entry
        }
    }

    /// An integer in `range`: a plain scalar, decimal, `0x` hexadecimal, or octal as `0o644` or YAML 1.1's `0644`.
    func integer(_ node: CDINode, _ path: String, _ range: ClosedRange<Int64>) throws -> Int64 {
        guard case .scalar(let text, let plain) = node.value else { throw failure(node, path, "must be a number, not a list or mapping") }
        guard plain else { throw failure(node, path, "must be a number, not a quoted string") }
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative || digits.hasPrefix("+") { digits = digits.dropFirst() }
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 24, let magnitude = Int64(digits, radix: radix) else {
            throw failure(node, path, "'\(CDIKind.shown(text))' is not a whole number")
        }
        let value = negative ? -magnitude : magnitude
        guard range.contains(value) else {
            throw failure(node, path, "\(text) is out of range (\(range.lowerBound) to \(range.upperBound))")
        }
        return value
    }

    func boolean(_ node: CDINode, _ path: String) throws -> Bool {
        if case .scalar(let text, plain: true) = node.value {
            if ["true", "True", "TRUE"].contains(text) { return true }
            if ["false", "False", "FALSE"].contains(text) { return false }
        }
        throw failure(node, path, "must be true or false")
    }

    /// An absolute path without `..` components, normalized (`.` and repeated `/` removed).
    func absolutePath(_ node: CDINode, _ path: String, allowRoot: Bool) throws -> String {
        let text = try string(node, path)
        guard !text.isEmpty else { throw failure(node, path, "required") }
        guard text.hasPrefix("/") else { throw failure(node, path, "'\(CDIKind.shown(text))' must be an absolute path") }
        let parts = text.split(separator: "/").filter { $0 != "." }
        guard !parts.contains("..") else { throw failure(node, path, "'\(CDIKind.shown(text))' must not contain '..'") }
        guard allowRoot || !parts.isEmpty else { throw failure(node, path, "must not be '/'") }
        return "/" + parts.joined(separator: "/")
    }
}

/// A mapping's fields, checked against the names allowed there.
private struct Fields {
    let values: [String: CDINode]
    let node: CDINode
    let path: String
    let reader: Reader

    init(_ node: CDINode, _ path: String, allowed: [String], reader: Reader) throws {
        guard case .mapping(let pairs) = node.value else {
            throw reader.failure(node, path, "must be a mapping (an object with fields)")
        }
        var values: [String: CDINode] = [:]
        for pair in pairs {
            guard allowed.contains(pair.key) else {
                let field = path.isEmpty ? pair.key : "\(path).\(pair.key)"
                throw reader.failure(pair.keyNode, field, "unknown field; the fields here are \(allowed.joined(separator: ", "))")
            }
            values[pair.key] = pair.value
        }
        self.values = values
        self.node = node
        self.path = path
        self.reader = reader
    }

    /// The field, or nil when it is absent or null.
    func optional(_ key: String) -> CDINode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func required(_ key: String) throws -> CDINode {
        guard let value = optional(key) else { throw reader.failure(node, path.isEmpty ? key : "\(path).\(key)", "required") }
        return value
    }
}
