import CapstanCore
import CapstanManifest
import Foundation

/// The manifest loader (Yams, the limit scan and the workload decoder), with the default limits and with
/// small ones, so the limit paths are crossed often.
struct ManifestFuzzTarget: FuzzTarget {
    let maximumLength = 64 << 10
    let dictionary = tokens([
        "[", "]", "{", "}", "- ", ": ", ", ", "\n", "\n  ", "\n    - ", "&a ", "*a", "&b ", "*b", "<<: *a\n", "---\n", "...\n",
        "|\n  ", ">-\n  ", "? ", "!!str ", "!!int ", "!!binary ", "!!map ", "!custom ", "%YAML 1.1\n", "%TAG ! tag:x,1:\n",
        "'", "\"", "\\u0000", "\\x", "# c\n", "~", "null", "true", "no", "=",
        "apiVersion: capstan/v1\n", "kind: App\n", "kind: Job\n", "metadata:\n  name: x\n", "spec:\n", "name: ", "labels: ",
        "command: ", "image: ", "instances: ", "resources: ", "cpus: ", "mem: ", "disk: ", "gpus: ", "env: ", "network: ",
        "ports: ", "container: ", "volumes: ", "persistent: ", "size: ", "health: ", "http: ", "tcp: ", "interval: ",
        "gracePeriod: ", "maxFailures: ", "update: ", "minHealthy: ", "maxSurge: ", "progressDeadline: ", "backoff: ",
        "delay: ", "factor: ", "max: ", "killGracePeriod: ", "constraints: ", "hostname: unique", "attribute: ",
        "like: ", "maxPer: ", "dependsOn: ", "user: ", "schedule: ", "128Mi", "1Gi", "99999Ti", "5s", "500ms", "1m", "2h",
        "9999999999h", "1e300s", "50%", "101%", "-1%", "1e30", ".inf", "-.inf", ".nan",
    ])

    /// Values a field may be given in place of its own: numbers at the edges of every type, units, YAML oddities.
    private static let values = tokens([
        "0", "-1", "1.5", "1e30", "-1e30", "1e308", ".inf", "-.inf", ".nan", "9223372036854775807", "9223372036854775808",
        "99999999999999999999999", "0x10", "0o17", "1_000", "500ms", "99999999999999999999999s", "9999999999h", "1e300s",
        "1e30ms", "-5s", "5", "5.5d", "١٢s", "½s", "128Mi", "1e308Ti", "99999999999999999999Gi", "-1Mi", "0.5Ki", "50%",
        "100%", "1e309%", "-0%", "true", "null", "~", "''", "\"\"", "[]", "{}", "[a, b]", "{a: b}", "*a", "&a x", "!!binary AAAA",
        "!!float 1", "!!int x", "|\n  text", "\"\\u0000\"", "docker://", "docker://127.0.0.1:5000/x:1", "/", "..", "a/../b",
    ])

    /// Replaces the value after a `: ` (up to the next `,`, `}`, `]` or line end) with one of ``values``.
    func mutate(_ input: inout [UInt8], using random: inout SplitMix64) -> Bool {
        let colon = UInt8(ascii: ":")
        let space = UInt8(ascii: " ")
        let starts = input.indices.dropLast().filter { input[$0] == colon && input[$0 + 1] == space }.map { $0 + 2 }
        guard !starts.isEmpty else { return false }
        let start = starts[random.below(starts.count)]
        var end = start
        while end < input.count, !"\n,}]".utf8.contains(input[end]) { end += 1 }
        input.replaceSubrange(start..<end, with: Self.values[random.below(Self.values.count)])
        return true
    }

    private static let small = ManifestLimits(maximumFileBytes: 4096, maximumDepth: 8, maximumNodes: 200)

    func run(_ input: [UInt8]) throws(FuzzFinding) {
        let file = ManifestFile(path: "apps/fuzz.yaml", contents: Data(input))
        for limits in [ManifestLimits.default, Self.small] {
            let set = ManifestLoader.load([file], limits: limits)
            for diagnostic in set.diagnostics where diagnostic.line < 1 || diagnostic.column < 1 {
                throw FuzzFinding("diagnostic at an impossible position: \(diagnostic)")
            }
            if set.isValid && set.workloads.isEmpty && !set.entries.isEmpty {
                throw FuzzFinding("a valid set whose entries decoded to no workloads")
            }
        }
    }
}
