import Foundation

/// Which iptables rules CNI plugins left behind for containers that no longer exist, and the commands that remove them:
/// pure, from `iptables-save` output.
///
/// Plugins tag the rules they add for a container with a comment naming the network and the container ID — the
/// bridge plugin's masquerading (`name: "net" id: "…"`, in POSTROUTING and a chain of its own) and portmap's DNAT jump
/// (`dnat name: "net" id: "…"`, in CNI-HOSTPORT-DNAT, into a chain of its own). A DEL without the container's namespace
/// (all that is possible once the namespace is gone) cannot remove the masquerading, and a lost journal means no DEL
/// at all; this finds those rules by their tag.
public enum IptablesRuleSweep {
    /// One `-A` line of `iptables-save`.
    public struct Rule: Sendable, Hashable {
        public var chain: String
        /// The rule's specification after `-A CHAIN`, unquoted.
        public var specification: [String]

        /// The chain or target after `-j`.
        public var target: String? {
            specification.firstIndex(of: "-j").flatMap { $0 + 1 < specification.count ? specification[$0 + 1] : nil }
        }

        /// The container ID of a plugin's tag (`[dnat ]name: "<network>" id: "<container id>"`).
        public var containerID: String? {
            guard let index = specification.firstIndex(of: "--comment"), index + 1 < specification.count else { return nil }
            return IptablesRuleSweep.taggedContainerID(specification[index + 1])
        }
    }

    /// A table's chains (the `:NAME` lines) and rules.
    public struct Table: Sendable, Hashable {
        public var chains: Set<String> = []
        public var rules: [Rule] = []
    }

    /// Parses `iptables-save -t <table>` output; lines it does not understand are skipped.
    public static func parse(_ save: String) -> Table {
        var table = Table()
        for line in save.split(whereSeparator: \.isNewline) {
            if line.hasPrefix(":") {
                if let name = line.dropFirst().split(separator: " ").first { table.chains.insert(String(name)) }
                continue
            }
            guard line.hasPrefix("-A ") else { continue }
            let words = words(String(line))
            guard words.count >= 2 else { continue }
            table.rules.append(Rule(chain: words[1], specification: Array(words.dropFirst(2))))
        }
        return table
    }

    /// The `iptables -t <table>` arguments that remove the rules tagged with a stale container ID, then the chains only
    /// those rules jump to (flushed, then deleted). Shared chains (`CNI-HOSTPORT-*`) and chains a rule of a live
    /// container still jumps to stay.
    public static func plan(_ table: Table, name: String, isStale: (String) -> Bool) -> [[String]] {
        let stale = table.rules.filter { rule in rule.containerID.map(isStale) ?? false }
        guard !stale.isEmpty else { return [] }
        var doomed = Set(
            stale.compactMap(\.target).filter { table.chains.contains($0) && $0.hasPrefix("CNI-") && !$0.hasPrefix("CNI-HOSTPORT-") })
        let staleSet = Set(stale)
        for rule in table.rules where !staleSet.contains(rule) && !doomed.contains(rule.chain) {
            if let target = rule.target { doomed.remove(target) }
        }
        var commands: [[String]] = []
        for rule in stale where !doomed.contains(rule.chain) {
            commands.append(["-t", name, "-D", rule.chain] + rule.specification)
        }
        for chain in doomed.sorted() {
            commands.append(["-t", name, "-F", chain])
            commands.append(["-t", name, "-X", chain])
        }
        return commands
    }

    /// The container ID at the end of a plugin's comment: `… id: "<id>"`.
    static func taggedContainerID(_ comment: String) -> String? {
        guard comment.hasPrefix("name: ") || comment.hasPrefix("dnat name: "), comment.hasSuffix("\""),
            let marker = comment.range(of: " id: \"", options: .backwards)
        else { return nil }
        let id = comment[marker.upperBound..<comment.index(before: comment.endIndex)]
        return id.isEmpty || id.contains("\"") ? nil : String(id)
    }

    /// Splits an `iptables-save` line into words: double quotes group, a backslash escapes the next character.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false, quoted = false, escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
                inWord = true
            } else if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character == " " && !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
