/// A released version of the CDI specification (`cdiVersion`). Only the versions Capstan knows the fields of are
/// accepted: 0.3.0 (the first with today's schema) through 1.1.0.
///
/// What each version added, from the specification's table of released versions:
/// - 0.4.0: `type` of a mount.
/// - 0.5.0: `hostPath` of a device node; device names may start with a digit.
/// - 0.6.0: `annotations` of the spec and of a device; dots in the class part of `kind`.
/// - 0.7.0: `intelRdt` and `additionalGids` in container edits.
/// - 0.8.0, 1.0.0: no new fields.
/// - 1.1.0: `netDevices` in container edits; `schemata` and `enableMonitoring` in `intelRdt`, which dropped
///   `enableCMT` and `enableMBM`.
public struct CDIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    public static let v0_3_0 = CDIVersion(0, 3, 0)
    public static let v0_4_0 = CDIVersion(0, 4, 0)
    public static let v0_5_0 = CDIVersion(0, 5, 0)
    public static let v0_6_0 = CDIVersion(0, 6, 0)
    public static let v0_7_0 = CDIVersion(0, 7, 0)
    public static let v0_8_0 = CDIVersion(0, 8, 0)
    public static let v1_0_0 = CDIVersion(1, 0, 0)
    public static let v1_1_0 = CDIVersion(1, 1, 0)

    /// Every version accepted, oldest first.
    public static let known: [CDIVersion] = [.v0_3_0, .v0_4_0, .v0_5_0, .v0_6_0, .v0_7_0, .v0_8_0, .v1_0_0, .v1_1_0]

    /// Parses `0.5.0` (a leading `v` is accepted, as the reference library accepts it); nil for anything not in
    /// ``known``.
    public init?(_ text: String) {
        let digits = text.hasPrefix("v") ? text.dropFirst() : Substring(text)
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let major = Int(parts[0]), let minor = Int(parts[1]), let patch = Int(parts[2])
        else { return nil }
        let version = CDIVersion(major, minor, patch)
        guard Self.known.contains(version) else { return nil }
        self = version
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: CDIVersion, rhs: CDIVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
