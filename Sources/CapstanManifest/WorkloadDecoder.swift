import CapstanCore
import Yams

/// Decodes one YAML document (a composed node) into a ``ManifestEntry``, reporting every problem through the reader.
struct WorkloadDecoder {
    let reader: NodeReader

    /// The document as a ``SkippedDocument`` when it is a mapping that is not a Capstan manifest (see
    /// ``SkippedDocument/isForeign(apiVersion:kind:)``); nil for everything the decoder must read (and report).
    func foreign(_ root: YAMLNode) -> SkippedDocument? {
        guard case .mapping(let mapping) = root else { return nil }
        var apiVersion: String?
        var kind: String?
        for (key, value) in mapping {
            guard case .scalar(let name) = key, case .scalar(let text) = value else { continue }
            if name.string == "apiVersion" && apiVersion == nil { apiVersion = text.string }
            if name.string == "kind" && kind == nil { kind = text.string }
        }
        guard SkippedDocument.isForeign(apiVersion: apiVersion, kind: kind) else { return nil }
        // A document with neither field but with Capstan's own top-level fields is a manifest missing them: report it.
        if apiVersion == nil, mapping.contains(where: { pair in
            if case .scalar(let name) = pair.0 { return name.string == "metadata" || name.string == "spec" }
            return false
        }) {
            return nil
        }
        return SkippedDocument(location: reader.location(mapping.mark), apiVersion: apiVersion, kind: kind)
    }

    func decode(_ root: YAMLNode) -> ManifestEntry? {
        guard let doc = reader.fields(root, "", ManifestFields.document) else { return nil }
        var ok = true

        if let node = doc["apiVersion"] {
            if let version = reader.string(node, "apiVersion"), version != ManifestFields.apiVersion {
                reader.report(node, "apiVersion", "unsupported apiVersion '\(version)' (expected \(ManifestFields.apiVersion))")
                ok = false
            }
        } else {
            missing(doc, "apiVersion")
            ok = false
        }

        var kind: WorkloadKind?
        if let node = doc["kind"] {
            if let text = reader.string(node, "kind") {
                kind = WorkloadKind(rawValue: text)
                if kind == nil { reader.report(node, "kind", "unknown kind '\(text)' (expected App or Job)") }
            }
        } else {
            missing(doc, "kind")
        }

        var name: AppName?
        var nameLocation = reader.location(root.mark)
        var labels: [String: String] = [:]
        if let node = doc["metadata"], let metadata = reader.fields(node, "metadata", ManifestFields.metadata) {
            if let nameNode = metadata["name"] {
                nameLocation = reader.location(nameNode.mark)
                if let text = reader.string(nameNode, "metadata.name") {
                    if ManifestValue.isDNSLabel(text) {
                        name = AppName(text)
                    } else {
                        reader.report(nameNode, "metadata.name", "'\(text)' is not a DNS label (1-63 of a-z, 0-9 and '-', starting and ending with a letter or digit)")
                    }
                }
            } else {
                missing(metadata, "name")
            }
            if let node = metadata["labels"] { labels = reader.stringMap(node, "metadata.labels", lenient: true) ?? [:] }
        } else if doc["metadata"] == nil {
            missing(doc, "metadata")
        }

        var dependsOnLocations: [SourceLocation] = []
        var spec: WorkloadSpec?
        if let node = doc["spec"] {
            spec = decodeSpec(node, kind: kind ?? .app, dependsOnLocations: &dependsOnLocations)
        } else {
            missing(doc, "spec")
        }

        guard ok, let kind, let name, let spec else { return nil }
        return ManifestEntry(
            workload: Workload(kind: kind, name: name, labels: labels, spec: spec), nameLocation: nameLocation,
            dependsOnLocations: dependsOnLocations)
    }

    private func missing(_ fields: Fields, _ key: String) {
        reader.report(fields.node, fields.path(key), "missing required field '\(key)'")
    }

    // MARK: spec

    private func decodeSpec(_ node: YAMLNode, kind: WorkloadKind, dependsOnLocations: inout [SourceLocation]) -> WorkloadSpec? {
        guard let f = reader.fields(node, "spec", ManifestFields.spec) else { return nil }
        let before = reader.diagnostics.count
        var spec = WorkloadSpec()

        if let n = f["image"] { spec.image = reader.string(n, f.path("image"), nonEmpty: true) }
        if let n = f["command"] {
            if case .scalar = n, reader.tag(n) == .str, let shell = reader.string(n, f.path("command"), nonEmpty: true) {
                spec.command = ["/bin/sh", "-c", shell]
            } else if let argv = reader.stringList(n, f.path("command")) {
                if argv.isEmpty { reader.report(n, f.path("command"), "must not be empty") }
                spec.command = argv
            }
        }
        if let n = f["args"] { spec.args = reader.stringList(n, f.path("args")) ?? [] }
        if f["image"] == nil && f["command"] == nil {
            reader.report(f.node, "spec", "needs an image or a command")
        }
        if let n = f["env"] { spec.env = reader.stringMap(n, f.path("env"), lenient: true) ?? [:] }
        if let n = f["instances"] { spec.instances = reader.int(n, f.path("instances")) ?? 1 }
        if let n = f["resources"] { spec.resources = decodeResources(n, f.path("resources")) }
        if let n = f["network"] { spec.network = decodeNetwork(n, f.path("network")) }
        if let n = f["volumes"], let items = reader.list(n, f.path("volumes"), of: "volumes") {
            var paths: [String: YAMLNode] = [:]
            var keys: [String: String] = [:]
            for (i, item) in items.enumerated() {
                let path = "\(f.path("volumes"))[\(i)]"
                guard let volume = decodeVolume(item, path) else { continue }
                if paths[volume.path] != nil {
                    reader.report(item, "\(path).path", "duplicate volume path '\(volume.path)'")
                }
                paths[volume.path] = item
                if case .persistent = volume.source {
                    if volume.path.hasPrefix("/") && f["image"] == nil {
                        reader.report(
                            item, "\(path).path",
                            "a persistent volume at an absolute path needs spec.image; without an image give a path in the sandbox, such as '\(AppVolumeID.sandboxPath(forPath: volume.path))'")
                    }
                    let key = AppVolumeID.key(forPath: volume.path)
                    if let other = keys[key] {
                        reader.report(item, "\(path).path", "'\(volume.path)' and '\(other)' name the same persistent volume ('\(key)'): rename one")
                    }
                    keys[key] = volume.path
                }
                spec.volumes.append(volume)
            }
        }
        if let n = f["health"] { spec.health = decodeHealth(n, f.path("health"), ports: spec.network.ports) }
        if let n = f["update"] {
            if kind == .job {
                reader.report(f.keys["update"]!, f.path("update"), "a Job has no update strategy (it runs once per spec change)")
            } else if let u = reader.fields(n, f.path("update"), ManifestFields.update) {
                if let m = u["minHealthy"], let v = reader.amount(m, u.path("minHealthy")) { spec.update.minHealthy = v }
                if let m = u["maxSurge"], let v = reader.amount(m, u.path("maxSurge")) { spec.update.maxSurge = v }
                if let m = u["progressDeadline"], let v = reader.duration(m, u.path("progressDeadline")) { spec.update.progressDeadline = v }
                if let m = u["autoRevert"], let v = reader.bool(m, u.path("autoRevert")) { spec.update.autoRevert = v }
                if case .count(let min) = spec.update.minHealthy, min > spec.instances, let m = u["minHealthy"] {
                    reader.report(m, u.path("minHealthy"), "\(min) is more than instances (\(spec.instances))")
                }
            }
        }
        if let n = f["backoff"], let b = reader.fields(n, f.path("backoff"), ManifestFields.backoff) {
            if let m = b["delay"], let v = reader.duration(m, b.path("delay")) { spec.backoff.delay = v }
            if let m = b["factor"], let v = reader.number(m, b.path("factor"), min: 1) { spec.backoff.factor = v }
            if let m = b["max"], let v = reader.duration(m, b.path("max")) { spec.backoff.max = v }
            if spec.backoff.max < spec.backoff.delay {
                reader.report(b["max"] ?? n, b.path("max"), "must not be less than delay")
            }
        }
        if let n = f["killGracePeriod"], let v = reader.duration(n, f.path("killGracePeriod")) { spec.killGracePeriod = v }
        if let n = f["constraints"], let items = reader.list(n, f.path("constraints"), of: "constraints") {
            for (i, item) in items.enumerated() {
                if let c = decodeConstraint(item, "\(f.path("constraints"))[\(i)]") { spec.constraints.append(c) }
            }
        }
        if let n = f["dependsOn"], let items = reader.list(n, f.path("dependsOn"), of: "names") {
            for (i, item) in items.enumerated() {
                let path = "\(f.path("dependsOn"))[\(i)]"
                guard let dependency = reader.string(item, path).map({ AppName($0) }) else { continue }
                if spec.dependsOn.contains(dependency) {
                    reader.report(item, path, "'\(dependency)' is listed twice")
                    continue
                }
                spec.dependsOn.append(dependency)
                dependsOnLocations.append(reader.location(item.mark))
            }
        }
        if let n = f["user"] { spec.user = reader.string(n, f.path("user"), nonEmpty: true) }
        if let n = f["devices"], let items = reader.list(n, f.path("devices"), of: "CDI device names") {
            for (i, item) in items.enumerated() {
                let path = "\(f.path("devices"))[\(i)]"
                guard let text = reader.string(item, path) else { continue }
                do {
                    let device = try CDIDeviceName(parsing: text)
                    if spec.devices.contains(device) {
                        reader.report(item, path, "'\(device)' is listed twice")
                    } else {
                        spec.devices.append(device)
                    }
                } catch {
                    reader.report(item, path, (error as? CapstanError)?.message ?? "\(error)")
                }
            }
        }

        return reader.diagnostics.count == before ? spec : nil
    }

    private func decodeResources(_ node: YAMLNode, _ path: String) -> ResourceRequest {
        var request = ResourceRequest()
        guard let r = reader.fields(node, path, ManifestFields.resources) else { return request }
        if let n = r["cpus"], let v = reader.number(n, r.path("cpus")) {
            if v <= 0 { reader.report(n, r.path("cpus"), "must be more than 0") } else { request.cpus = v }
        }
        if let n = r["mem"], let v = reader.size(n, r.path("mem")) {
            if v <= 0 { reader.report(n, r.path("mem"), "must be more than 0") } else { request.memMiB = v }
        }
        if let n = r["disk"], let v = reader.size(n, r.path("disk")) { request.diskMiB = v }
        if let n = r["gpus"], let v = reader.int(n, r.path("gpus")) { request.gpus = v }
        return request
    }

    private func decodeNetwork(_ node: YAMLNode, _ path: String) -> NetworkSpec {
        var network = NetworkSpec()
        guard let f = reader.fields(node, path, ManifestFields.network) else { return network }
        if let n = f["name"] {
            // One network, or several in order (the first carries the port mappings): `name: [frontend, storage]`.
            var names: [String] = []
            if case .sequence = n {
                if let list = reader.stringList(n, f.path("name")) {
                    if list.isEmpty { reader.report(n, f.path("name"), "name at least one network") }
                    names = list
                }
            } else if let name = reader.string(n, f.path("name"), nonEmpty: true) {
                names = [name]
            }
            var valid: [String] = []
            for (i, name) in names.enumerated() {
                let itemPath = names.count == 1 && !(n.isSequence) ? f.path("name") : "\(f.path("name"))[\(i)]"
                if !NetworkSpec.isValidName(name) {
                    reader.report(n, itemPath, "'\(name)' is not a network name (host, bridge, or a CNI network's name: letters, digits, '_', '.', '-')")
                } else if valid.contains(name) {
                    reader.report(n, itemPath, "network '\(name)' is named twice")
                } else if name == NetworkSpec.host && names.count > 1 {
                    reader.report(n, itemPath, "the host network cannot be joined together with other networks")
                } else {
                    valid.append(name)
                }
            }
            if let first = valid.first {
                network.name = first
                network.additional = Array(valid.dropFirst())
            }
        }
        if let n = f["ports"], let items = reader.list(n, f.path("ports"), of: "ports") {
            var seenNames: Set<String> = []
            var seenHost: Set<Int> = []
            for (i, item) in items.enumerated() {
                let itemPath = "\(f.path("ports"))[\(i)]"
                guard let p = reader.fields(item, itemPath, ManifestFields.port) else { continue }
                var port = PortSpec(name: "")
                if let m = p["name"], let name = reader.string(m, p.path("name")) {
                    if !ManifestValue.isDNSLabel(name) {
                        reader.report(m, p.path("name"), "'\(name)' is not a port name (a DNS label such as http)")
                    } else if !seenNames.insert(name).inserted {
                        reader.report(m, p.path("name"), "duplicate port name '\(name)'")
                    }
                    port.name = name
                } else if p["name"] == nil {
                    missing(p, "name")
                }
                if let m = p["container"] { port.container = reader.int(m, p.path("container"), min: 1, max: 65535) }
                if let m = p["host"], let v = reader.int(m, p.path("host"), min: 0, max: 65535) {
                    if v != 0 && !seenHost.insert(v).inserted { reader.report(m, p.path("host"), "host port \(v) is used twice") }
                    port.host = v
                }
                if let m = p["protocol"], let text = reader.string(m, p.path("protocol")) {
                    if let proto = PortSpec.TransportProtocol(rawValue: text) {
                        port.protocol = proto
                    } else {
                        reader.report(m, p.path("protocol"), "unknown protocol '\(text)' (expected tcp or udp)")
                    }
                }
                if network.name != NetworkSpec.host && p["container"] == nil {
                    reader.report(item, p.path("container"), "missing required field 'container' (the '\(network.name)' network maps ports into the container)")
                }
                network.ports.append(port)
            }
        }
        return network
    }

    private func decodeVolume(_ node: YAMLNode, _ path: String) -> VolumeSpec? {
        guard let v = reader.fields(node, path, ManifestFields.volume) else { return nil }
        var containerPath: String?
        let persistent = v["persistent"] != nil
        if let n = v["path"], let text = reader.string(n, v.path("path"), nonEmpty: true) {
            if text.split(separator: "/").contains("..") {
                reader.report(n, v.path("path"), "'\(text)' must not contain '..'")
            } else if text.hasPrefix("/") || (persistent && !AppVolumeID.sandboxPath(forPath: text).isEmpty) {
                containerPath = text
            } else {
                reader.report(
                    n, v.path("path"),
                    persistent ? "'\(text)' names no directory" : "'\(text)' is not an absolute path (only a persistent volume may be relative to the sandbox)")
            }
        } else if v["path"] == nil {
            missing(v, "path")
        }
        let readOnly = v["readOnly"].flatMap { reader.bool($0, v.path("readOnly")) } ?? false
        let sources = ["persistent", "host", "docker"].filter { v[$0] != nil }
        guard sources.count == 1 else {
            if sources.isEmpty {
                reader.report(node, path, "a volume needs one of persistent, host or docker")
            } else {
                reader.report(v.keys[sources[1]]!, v.path(sources[1]), "a volume has one of persistent, host or docker, not \(sources.joined(separator: " and "))")
            }
            return nil
        }
        var source: VolumeSpec.Source?
        switch sources[0] {
        case "persistent":
            if let p = reader.fields(v["persistent"]!, v.path("persistent"), ManifestFields.persistentVolume) {
                var destroy = false
                if let n = p["destroy"], let text = reader.string(n, p.path("destroy")) {
                    if text == "confirm" {
                        destroy = true
                    } else {
                        reader.report(n, p.path("destroy"), "'\(text)' is not 'confirm' (the only value: it deletes the volume's data on every agent)")
                    }
                }
                if let n = p["size"], let size = reader.size(n, p.path("size")) {
                    if size <= 0 { reader.report(n, p.path("size"), "must be more than 0") } else { source = .persistent(sizeMiB: size, destroy: destroy) }
                } else if p["size"] == nil {
                    missing(p, "size")
                }
            }
        case "host":
            if let text = reader.string(v["host"]!, v.path("host"), nonEmpty: true) {
                if text.hasPrefix("/") { source = .host(text) } else { reader.report(v["host"]!, v.path("host"), "'\(text)' is not an absolute path") }
            }
        default:
            if let d = reader.fields(v["docker"]!, v.path("docker"), ManifestFields.dockerVolume) {
                let driver = d["driver"].flatMap { reader.string($0, d.path("driver"), nonEmpty: true) } ?? (d["driver"] == nil ? "local" : nil)
                let name: String?
                if let n = d["name"] { name = reader.string(n, d.path("name"), nonEmpty: true) } else { missing(d, "name"); name = nil }
                if let driver, let name { source = .docker(driver: driver, name: name) }
            }
        }
        guard let containerPath, let source else { return nil }
        return VolumeSpec(path: containerPath, source: source, readOnly: readOnly)
    }

    private func decodePort(_ node: YAMLNode, _ path: String, ports: [PortSpec]) -> PortReference? {
        if reader.tag(node) == .int {
            return reader.int(node, path, min: 1, max: 65535).map(PortReference.number)
        }
        guard let name = reader.string(node, path) else { return nil }
        guard ports.contains(where: { $0.name == name }) else {
            var known: [String] = []
            for port in ports where !port.name.isEmpty && !known.contains(port.name) { known.append(port.name) }
            reader.report(node, path, "port '\(name)' is not one of spec.network.ports\(known.isEmpty ? " (none are declared)" : " (\(known.joined(separator: ", ")))")")
            return nil
        }
        return .name(name)
    }

    private func decodeHealth(_ node: YAMLNode, _ path: String, ports: [PortSpec]) -> HealthCheckSpec? {
        guard let h = reader.fields(node, path, ManifestFields.health) else { return nil }
        let kinds = ["http", "tcp", "command"].filter { h[$0] != nil }
        var check: HealthCheckSpec.Check?
        if kinds.count != 1 {
            if kinds.isEmpty {
                reader.report(node, path, "a health check needs one of http, tcp or command")
            } else {
                reader.report(h.keys[kinds[1]]!, h.path(kinds[1]), "a health check has one of http, tcp or command, not \(kinds.joined(separator: " and "))")
            }
        } else if let n = h["http"] {
            if let f = reader.fields(n, h.path("http"), ManifestFields.httpCheck) {
                var httpPath = "/"
                if let p = f["path"], let text = reader.string(p, f.path("path"), nonEmpty: true) {
                    if text.hasPrefix("/") { httpPath = text } else { reader.report(p, f.path("path"), "'\(text)' must start with '/'") }
                }
                if let p = f["port"] {
                    if let port = decodePort(p, f.path("port"), ports: ports) { check = .http(port: port, path: httpPath) }
                } else {
                    missing(f, "port")
                }
            }
        } else if let n = h["tcp"] {
            if let f = reader.fields(n, h.path("tcp"), ManifestFields.tcpCheck) {
                if let p = f["port"] {
                    if let port = decodePort(p, f.path("port"), ports: ports) { check = .tcp(port: port) }
                } else {
                    missing(f, "port")
                }
            }
        } else if let n = h["command"] {
            if case .scalar = n, reader.tag(n) == .str, let shell = reader.string(n, h.path("command"), nonEmpty: true) {
                check = .command(["/bin/sh", "-c", shell])
            } else if let argv = reader.stringList(n, h.path("command")) {
                if argv.isEmpty { reader.report(n, h.path("command"), "must not be empty") } else { check = .command(argv) }
            }
        }
        var spec = HealthCheckSpec(check: check ?? .command([]))
        if let n = h["interval"], let v = reader.duration(n, h.path("interval")) { spec.interval = v }
        if let n = h["timeout"], let v = reader.duration(n, h.path("timeout")) { spec.timeout = v }
        if let n = h["gracePeriod"], let v = reader.duration(n, h.path("gracePeriod")) { spec.gracePeriod = v }
        if let n = h["maxFailures"], let v = reader.int(n, h.path("maxFailures"), min: 1) { spec.maxFailures = v }
        if spec.timeout > spec.interval, let n = h["timeout"] {
            reader.report(n, h.path("timeout"), "must not be longer than interval")
        }
        return check == nil ? nil : spec
    }

    private func decodeConstraint(_ node: YAMLNode, _ path: String) -> Constraint? {
        guard let c = reader.fields(node, path, ManifestFields.constraint) else { return nil }
        if let n = c["hostname"] {
            // Shorthand: {hostname: unique}.
            guard c["attribute"] == nil else {
                reader.report(c.keys["attribute"]!, c.path("attribute"), "use either hostname: unique or attribute, not both")
                return nil
            }
            guard let text = reader.string(n, c.path("hostname")) else { return nil }
            guard text == "unique" else {
                reader.report(n, c.path("hostname"), "'\(text)' is not a hostname rule (use hostname: unique, or attribute: hostname with equals, like or maxPer)")
                return nil
            }
            let extra = ["unique", "equals", "like", "maxPer"].filter { c[$0] != nil }
            if let first = extra.first {
                reader.report(c.keys[first]!, c.path(first), "hostname: unique takes no operator")
                return nil
            }
            return Constraint(attribute: Constraint.hostname, .unique)
        }
        guard let attributeNode = c["attribute"] else {
            reader.report(node, path, "a constraint needs attribute (or the shorthand hostname: unique)")
            return nil
        }
        guard let attribute = reader.string(attributeNode, c.path("attribute"), nonEmpty: true) else { return nil }
        let ops = ["unique", "equals", "like", "maxPer"].filter { c[$0] != nil }
        guard ops.count == 1 else {
            if ops.isEmpty {
                reader.report(node, path, "a constraint needs one of unique, equals, like or maxPer")
            } else {
                reader.report(c.keys[ops[1]]!, c.path(ops[1]), "a constraint has one of unique, equals, like or maxPer, not \(ops.joined(separator: " and "))")
            }
            return nil
        }
        let n = c[ops[0]]!
        switch ops[0] {
        case "unique":
            guard let v = reader.bool(n, c.path("unique")) else { return nil }
            guard v else {
                reader.report(n, c.path("unique"), "unique: false is no constraint; remove it")
                return nil
            }
            return Constraint(attribute: attribute, .unique)
        case "equals":
            guard case .scalar(let scalar) = n, reader.tag(n) != .null else {
                reader.typeError(n, c.path("equals"), expected: "a string")
                return nil
            }
            return Constraint(attribute: attribute, .equals(scalar.string))
        case "like":
            guard let pattern = reader.string(n, c.path("like"), nonEmpty: true) else { return nil }
            do {
                _ = try Regex(pattern)
            } catch {
                reader.report(n, c.path("like"), "'\(pattern)' is not a regular expression")
                return nil
            }
            return Constraint(attribute: attribute, .like(pattern))
        default:
            return reader.int(n, c.path("maxPer"), min: 1).map { Constraint(attribute: attribute, .maxPer($0)) }
        }
    }
}
