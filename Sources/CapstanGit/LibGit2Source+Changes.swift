import CLibGit2
import CapstanCore

extension LibGit2Source {
    /// What a tree entry is, for comparing: equal IDs mean equal contents all the way down.
    private enum Node: Equatable {
        case tree(ObjectID)
        case blob(ObjectID)
    }

    /// Walks both trees together and descends only into sub-trees whose IDs differ, so the cost
    /// follows the size of the change, not the size of the repository.
    public func changes(
        from old: CommitID?, to new: CommitID, under path: String, matching include: @Sendable (String) -> Bool
    ) throws -> [GitChange] {
        let repo = try cachedRepository()
        let prefix = Self.normalise(path)
        let after = try node(repo, new, prefix)
        let before = try old.flatMap { try node(repo, $0, prefix) }
        if after == nil && before == nil {
            throw CapstanError(.notFound, "\(remote): no '\(prefix)' at \(new.short)\(old.map { " or \($0.short)" } ?? "")")
        }
        var changes: [GitChange] = []
        try compare(repo, before, after, path: prefix, include: include, into: &changes)
        return changes.sorted()
    }

    private func node(_ repo: OpaquePointer, _ commit: CommitID, _ path: String) throws -> Node? {
        let root = try rootTree(repo, commit)
        defer { git_tree_free(root) }
        if path.isEmpty { return .tree(ObjectID(hex: LibGit2.hex(git_tree_id(root)))) }
        var entry: OpaquePointer?
        let result = git_tree_entry_bypath(&entry, root, path)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try LibGit2.check(result, "\(remote): cannot read '\(path)'")
        defer { git_tree_entry_free(entry) }
        return Self.node(entry)
    }

    /// A tree or a regular blob; nil for symbolic links and submodules, which manifests never are.
    private static func node(_ entry: OpaquePointer?) -> Node? {
        let id = ObjectID(hex: LibGit2.hex(git_tree_entry_id(entry)))
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_TREE: return .tree(id)
        case GIT_OBJECT_BLOB where git_tree_entry_filemode(entry) != GIT_FILEMODE_LINK: return .blob(id)
        default: return nil
        }
    }

    private func children(_ repo: OpaquePointer, _ id: ObjectID, path: String) throws -> [String: Node] {
        guard var oid = LibGit2.oid(id.hex) else { return [:] }
        var tree: OpaquePointer?
        try LibGit2.check(git_tree_lookup(&tree, repo, &oid), "\(remote): cannot read '\(path)'")
        defer { git_tree_free(tree) }
        var nodes: [String: Node] = [:]
        for i in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, i), let node = Self.node(entry) else { continue }
            nodes[String(cString: git_tree_entry_name(entry))] = node
        }
        return nodes
    }

    private func compare(
        _ repo: OpaquePointer, _ old: Node?, _ new: Node?, path: String, include: (String) -> Bool, into changes: inout [GitChange]
    ) throws {
        switch (old, new) {
        case _ where old == new:
            return
        case (.blob(let before), .blob(let after)):
            if include(path) { changes.append(GitChange(path: path, kind: .modified, oldBlobID: before, newBlobID: after)) }
        case (nil, .blob(let after)):
            if include(path) { changes.append(GitChange(path: path, kind: .added, oldBlobID: nil, newBlobID: after)) }
        case (.blob(let before), nil):
            if include(path) { changes.append(GitChange(path: path, kind: .deleted, oldBlobID: before, newBlobID: nil)) }
        case (.tree, .blob), (.blob, .tree):
            try compare(repo, old, nil, path: path, include: include, into: &changes)
            try compare(repo, nil, new, path: path, include: include, into: &changes)
        default:
            // At least one side is a tree: compare the children by name.
            var before: [String: Node] = [:]
            var after: [String: Node] = [:]
            if case .tree(let id) = old { before = try children(repo, id, path: path) }
            if case .tree(let id) = new { after = try children(repo, id, path: path) }
            for name in Set(before.keys).union(after.keys).sorted() {
                let child = path.isEmpty ? name : path + "/" + name
                try compare(repo, before[name], after[name], path: child, include: include, into: &changes)
            }
        }
    }
}
