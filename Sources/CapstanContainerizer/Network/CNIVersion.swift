/// A CNI spec version (`0.3.1`, `1.0.0`), ordered numerically.
public struct CNIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var parts: [Int]

    /// Parses `major.minor.patch` (missing parts are 0); nil for anything else.
    public init?(_ text: String) {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(pieces.count) else { return nil }
        var parts: [Int] = []
        for piece in pieces {
            guard let number = Int(piece), number >= 0, piece.allSatisfy(\.isNumber) else { return nil }
            parts.append(number)
        }
        while parts.count < 3 { parts.append(0) }
        self.parts = parts
    }

    public var description: String { parts.map(String.init).joined(separator: ".") }

    public static func < (lhs: CNIVersion, rhs: CNIVersion) -> Bool { lhs.parts.lexicographicallyPrecedes(rhs.parts) }

    /// The spec versions whose results Capstan reads (0.3.0 introduced the result shape it uses).
    public static let runtimeSupported: [CNIVersion] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"].compactMap(CNIVersion.init)

    /// The highest of `wanted` that Capstan and every plugin (by the versions each answered to VERSION) support.
    public static func negotiate(wanted: [CNIVersion], plugins: [[CNIVersion]]) -> CNIVersion? {
        wanted.sorted(by: >).first { version in
            runtimeSupported.contains(version) && plugins.allSatisfy { $0.contains(version) }
        }
    }
}
