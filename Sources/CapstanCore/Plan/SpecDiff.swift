/// Field-level differences between two canonical forms, as ``FieldChange``s in path order.
///
/// Objects are compared key by key (`spec.env.MODE`); arrays of objects of equal length element by
/// element (`spec.volumes[1].path`); any other array that differs is one change of the whole array
/// (`spec.command`), which reads better than a change per argument. Because both sides are canonical
/// (defaults applied, units normalized), a difference here is always a real one.
public enum SpecDiff {
    /// The changes from `old` to `new`, walking ``Workload/canonical``.
    public static func changes(from old: Workload, to new: Workload) -> [FieldChange] {
        changes(from: old.canonical, to: new.canonical)
    }

    /// The changes from `old` to `new` below `path` (empty: the root).
    public static func changes(from old: CanonicalValue, to new: CanonicalValue, path: String = "") -> [FieldChange] {
        var out: [FieldChange] = []
        walk(old, new, path, &out)
        return out
    }

    private static func walk(_ old: CanonicalValue, _ new: CanonicalValue, _ path: String, _ out: inout [FieldChange]) {
        if old == new { return }
        switch (old, new) {
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys).sorted() {
                let child = path.isEmpty ? key : path + "." + key
                switch (a[key], b[key]) {
                case (let x?, let y?): walk(x, y, child, &out)
                case (let x?, nil): out.append(FieldChange(path: child, old: x, new: nil))
                case (nil, let y?): out.append(FieldChange(path: child, old: nil, new: y))
                case (nil, nil): break
                }
            }
        case (.array(let a), .array(let b)) where a.count == b.count && a.contains(where: \.isObject):
            for index in a.indices { walk(a[index], b[index], "\(path)[\(index)]", &out) }
        default:
            out.append(FieldChange(path: path, old: old, new: new))
        }
    }
}

extension CanonicalValue {
    var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
