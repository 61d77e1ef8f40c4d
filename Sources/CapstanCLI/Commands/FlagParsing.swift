import ArgumentParser
import CapstanCore
import Foundation

/// Turns flag text into Core values with errors that name the flag.
enum FlagParsing {
    static func hostPort(_ text: String, flag: String) throws -> HostPort {
        do { return try HostPort.parse(text) } catch { throw ValidationError("\(flag): \(error.message)") }
    }

    /// A `--master` value: `HOST:PORT`, several separated by commas, or `etcd://HOST:PORT,…/PREFIX`.
    static func masterAddress(_ text: String, flag: String, defaultPort: Int? = nil) throws -> MasterAddress {
        do { return try MasterAddress.parse(text, defaultPort: defaultPort) } catch { throw ValidationError("\(flag): \(error.message)") }
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        do { return try DurationText.parse(text) } catch { throw ValidationError("\(flag): \(error.message)") }
    }

    static func resources(_ text: String?, workDir: String) throws -> Resources {
        let detected = MachineResources.detect(workDir: workDir)
        guard let text, !text.isEmpty else { return detected }
        do {
            let given = try Resources.parse(text)
            // Resources not named on the command line are detected, as Mesos does.
            var merged = given
            for name in ["cpus", "mem", "disk", "ports"] where !given.entries.contains(where: { $0.name == name }) {
                merged += Resources(detected.entries.filter { $0.name == name })
            }
            return merged
        } catch {
            throw ValidationError("--resources: \(error)")
        }
    }

    static func attributes(_ text: String?) throws -> [Attribute] {
        guard let text, !text.isEmpty else { return [] }
        do { return try AttributeParser.parse(text) } catch { throw ValidationError("--attributes: \(error)") }
    }

    static func weights(_ text: String?) throws -> [String: Double] {
        guard let text, !text.isEmpty else { return [:] }
        var result: [String: Double] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let weight = Double(parts[1]), weight > 0 else {
                throw ValidationError("--weights: '\(pair)' is not ROLE=WEIGHT with a positive weight")
            }
            result[String(parts[0])] = weight
        }
        return result
    }
}

/// What this machine has, for an agent started without `--resources`.
enum MachineResources {
    static func detect(workDir: String) -> Resources {
        let cpus = Double(ProcessInfo.processInfo.activeProcessorCount)
        let memMB = Double(ProcessInfo.processInfo.physicalMemory / (1024 * 1024))
        // Leave room for the system, as Mesos does: 1 GiB, or half of memory on small machines.
        let mem = memMB > 2048 ? memMB - 1024 : memMB / 2
        var diskMB = 10240.0
        if let attributes = try? FileManager.default.attributesOfFileSystem(forPath: workDir),
            let free = attributes[.systemFreeSize] as? NSNumber
        {
            diskMB = max(0, free.doubleValue / (1024 * 1024) - 5120)
        }
        return Resources([
            .scalar("cpus", cpus), .scalar("mem", mem.rounded(.down)), .scalar("disk", diskMB.rounded(.down)),
            .ranges("ports", [ValueRange(begin: 31000, end: 32000)]),
        ])
    }
}
