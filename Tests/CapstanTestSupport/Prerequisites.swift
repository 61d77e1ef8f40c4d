import Foundation
import Glibc
import Testing

/// Something a test needs from the machine (root, a binary, a file), and why it is missing here, if it is.
public struct Prerequisite: Sendable {
    /// Why the prerequisite is not met here; nil when it is.
    public let missing: String?

    public init(missing: String?) { self.missing = missing }

    /// Running as uid 0; `why` says what needs it (namespaces, mounts, cgroups, switching users…).
    public static func root(_ why: String = "namespaces, mounts and cgroups need uid 0") -> Prerequisite {
        Prerequisite(missing: geteuid() == 0 ? nil : "not root (\(why))")
    }

    /// `name` on PATH (or in `alsoIn`).
    public static func binary(_ name: String, alsoIn directories: [String] = []) -> Prerequisite {
        binaries([name], alsoIn: directories)
    }

    /// Every one of `names` on PATH; the reason lists all that are missing.
    public static func binaries(_ names: String...) -> Prerequisite { binaries(names) }

    /// Every one of `names` on PATH (or in `alsoIn`).
    public static func binaries(_ names: [String], alsoIn directories: [String] = []) -> Prerequisite {
        let missing = names.filter { Prerequisites.which($0, alsoIn: directories) == nil }
        if missing.isEmpty { return Prerequisite(missing: nil) }
        let them = missing.count == 1 ? "it" : "them"
        return Prerequisite(missing: "no \(missing.joined(separator: ", ")) (scripts/install-deps.sh installs \(them))")
    }

    /// An executable file at `path`; `hint` says how to get it.
    public static func executable(_ path: String, _ hint: String) -> Prerequisite {
        Prerequisite(missing: access(path, X_OK) == 0 ? nil : "no \(path) (\(hint))")
    }

    /// Debian's busybox-static at /bin/busybox, the rootfs of the image tests.
    public static var busybox: Prerequisite { executable("/bin/busybox", "apt-get install busybox-static") }
}

/// Gating of tests on ``Prerequisite``s, in one place. Under `CAPSTAN_TEST_STRICT=1` (CI) a missing prerequisite
/// fails the test; otherwise the test is skipped and the reason printed (`SKIPPED: …`).
public enum Prerequisites {
    /// `CAPSTAN_TEST_STRICT=1`: nothing may be skipped.
    public static var strict: Bool { ProcessInfo.processInfo.environment["CAPSTAN_TEST_STRICT"] == "1" }

    /// The absolute path of executable `name` on PATH, in `alsoIn`, or in /usr/sbin, /sbin, /usr/bin, /bin.
    public static func which(_ name: String, alsoIn directories: [String] = []) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in path + directories + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The absolute path of executable `name` (see ``which(_:alsoIn:)``); throws when it is missing, which a test
    /// that ``requires(_:_:)`` it reaches only under strict.
    public static func path(of name: String, alsoIn directories: [String] = []) throws -> String {
        guard let path = which(name, alsoIn: directories) else {
            throw TestFailure("\(name) is not installed and CAPSTAN_TEST_STRICT=1 forbids skipping (scripts/install-deps.sh installs it)")
        }
        return path
    }

    /// Why the first unmet prerequisite is missing, or nil when all are met.
    public static func missing(_ prerequisites: [Prerequisite]) -> String? {
        prerequisites.lazy.compactMap(\.missing).first
    }

    /// A trait for tests that need `prerequisites`: enabled when they are met, and always under strict (where the
    /// test's ``require(_:)`` then fails it); otherwise disabled, with `SKIPPED: what: why` printed.
    public static func requires(_ what: String, _ prerequisites: Prerequisite...) -> ConditionTrait {
        requires(what, prerequisites)
    }

    /// ``requires(_:_:)`` with an array.
    public static func requires(_ what: String, _ prerequisites: [Prerequisite]) -> ConditionTrait {
        let missing = missing(prerequisites)
        if let missing, !strict { print("SKIPPED: \(what): \(missing)") }
        return .enabled(if: strict || missing == nil, "\(what): \(missing ?? "all prerequisites met")")
    }

    /// Whether a test that checks at run time can go on: true when `prerequisites` are met. Otherwise prints
    /// `SKIPPED: what: why`, and under strict also records an issue, so that the test fails; false.
    public static func met(_ what: String, _ prerequisites: Prerequisite...) -> Bool {
        met(what, missing: missing(prerequisites))
    }

    /// ``met(_:_:)`` for a reason already worked out (nil: nothing is missing).
    public static func met(_ what: String, missing: String?) -> Bool {
        guard let missing else { return true }
        if strict { Issue.record("prerequisite missing: \(missing)") }
        print("SKIPPED: \(what): \(missing)")
        return false
    }

    /// Throws when a prerequisite is missing: inside a test that ``requires(_:_:)`` enabled, this is reached
    /// with something missing only under strict, and fails the test there.
    public static func require(_ prerequisites: Prerequisite...) throws {
        try require(prerequisites)
    }

    /// ``require(_:)`` with an array.
    public static func require(_ prerequisites: [Prerequisite]) throws {
        if let missing = missing(prerequisites) {
            throw TestFailure("prerequisite missing and CAPSTAN_TEST_STRICT=1 forbids skipping: \(missing)")
        }
    }
}
