/// One file that differs between two commits, named by its path from the repository root.
public struct GitChange: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        case added, modified, deleted
    }

    public var path: String
    public var kind: Kind
    /// The blob before the change (nil when added).
    public var oldBlobID: ObjectID?
    /// The blob after the change (nil when deleted).
    public var newBlobID: ObjectID?

    public init(path: String, kind: Kind, oldBlobID: ObjectID?, newBlobID: ObjectID?) {
        self.path = path
        self.kind = kind
        self.oldBlobID = oldBlobID
        self.newBlobID = newBlobID
    }

    public var description: String { "\(kind) \(path)" }

    public static func < (lhs: GitChange, rhs: GitChange) -> Bool { lhs.path < rhs.path }

    /// The changes between two lists of (path, blob) pairs, sorted by path.
    static func between(old: [(String, ObjectID)], new: [(String, ObjectID)]) -> [GitChange] {
        let before = Dictionary(old, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new, uniquingKeysWith: { first, _ in first })
        var changes: [GitChange] = []
        for (path, blob) in after {
            if let previous = before[path] {
                if previous != blob { changes.append(GitChange(path: path, kind: .modified, oldBlobID: previous, newBlobID: blob)) }
            } else {
                changes.append(GitChange(path: path, kind: .added, oldBlobID: nil, newBlobID: blob))
            }
        }
        for (path, blob) in before where after[path] == nil {
            changes.append(GitChange(path: path, kind: .deleted, oldBlobID: blob, newBlobID: nil))
        }
        return changes.sorted()
    }
}
