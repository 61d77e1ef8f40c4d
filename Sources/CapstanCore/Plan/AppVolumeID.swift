/// The persistent volume of one instance slot of an app: `capstan.<app>.<slot>.<key>` as its Mesos persistence ID,
/// where `key` is the volume's manifest path made into one ID segment (`/var/lib/db` → `var_lib_db`).
///
/// An app's instances hold slots `0..<instances`; each slot's volumes live on one agent, so the instance of a slot
/// always runs there. The ID alone says which app, slot and path a volume belongs to: the reconciler and
/// `capstan diff` find an app's volumes in the agents' resources with nothing else to remember.
public struct AppVolumeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let prefix = "capstan"

    public var app: AppName
    public var slot: Int
    public var key: String

    public init(app: AppName, slot: Int, key: String) {
        self.app = app
        self.slot = slot
        self.key = key
    }

    public init(app: AppName, slot: Int, path: String) {
        self.init(app: app, slot: slot, key: Self.key(forPath: path))
    }

    /// Parses a persistence ID made by ``persistenceID``; nil for any other ID (a volume some framework made).
    public init?(persistenceID: String) {
        let parts = persistenceID.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.prefix, !parts[1].isEmpty, let slot = Int(parts[2]), slot >= 0,
            String(slot) == parts[2], !parts[3].isEmpty
        else { return nil }
        self.init(app: AppName(String(parts[1])), slot: slot, key: String(parts[3]))
    }

    /// `capstan.db.0.data`.
    public var persistenceID: String { "\(Self.prefix).\(app.value).\(slot).\(key)" }

    public var description: String { persistenceID }

    public static func < (lhs: AppVolumeID, rhs: AppVolumeID) -> Bool {
        (lhs.app, lhs.slot, lhs.key) < (rhs.app, rhs.slot, rhs.key)
    }

    /// The ID segment for a manifest path: its components joined by `_`, every byte that is not a letter, digit, `_`
    /// or `-` made `_`, at most 64 bytes.
    public static func key(forPath path: String) -> String {
        // `/` is not kept, so the components of the sandbox path come out joined by `_`.
        let mapped = String(String.UnicodeScalarView(sandboxPath(forPath: path).unicodeScalars.map { scalar -> Unicode.Scalar in
            let v = scalar.value
            let ok = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5a) || (v >= 0x61 && v <= 0x7a) || v == 0x5f || v == 0x2d
            return ok ? scalar : "_"
        }))
        let key = String(mapped.prefix(64))
        return key.isEmpty ? "root" : key
    }

    /// Where the volume is in the task's sandbox (Mesos wants a relative `container_path` for persistent volumes): the
    /// manifest path without its leading `/`.
    public static func sandboxPath(forPath path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
