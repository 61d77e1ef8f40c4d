import Foundation

/// A parsed JSON document for semantic comparison: numbers are normalized (2, 2.0 and "2"-free integers compare
/// equal when they denote the same value), and object keys are unordered.
enum JSONValue: Hashable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let int = try? container.decode(Int64.self) {
            self = .integer(int)
        } else if let uint = try? container.decode(UInt64.self) {
            self = .unsigned(uint)
        } else if let double = try? container.decode(Double.self) {
            if double.rounded() == double, let int = Int64(exactly: double) {
                self = .integer(int)
            } else {
                self = .double(double)
            }
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The same document without empty arrays: Mesos (and Capstan) omit empty repeated fields, while the docs
    /// sometimes spell them out as `[]`.
    var droppingEmptyArrays: JSONValue {
        switch self {
        case .array(let items): return .array(items.map(\.droppingEmptyArrays))
        case .object(let fields):
            var kept: [String: JSONValue] = [:]
            for (key, value) in fields {
                if case .array(let items) = value, items.isEmpty { continue }
                kept[key] = value.droppingEmptyArrays
            }
            return .object(kept)
        default: return self
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .unsigned(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let items): "[\(items.map(\.description).joined(separator: ","))]"
        case .object(let fields):
            "{\(fields.keys.sorted().map { "\"\($0)\":\(fields[$0]!)" }.joined(separator: ","))}"
        }
    }

    /// Paths where `self` and `other` differ, for a readable failure message.
    func differences(from other: JSONValue, at path: String = "") -> [String] {
        switch (self, other) {
        case (.object(let left), .object(let right)):
            var out: [String] = []
            for key in Set(left.keys).union(right.keys).sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                switch (left[key], right[key]) {
                case (let l?, let r?): out += l.differences(from: r, at: child)
                case (_?, nil): out.append("\(child): missing after round trip")
                case (nil, _?): out.append("\(child): added by round trip")
                default: break
                }
            }
            return out
        case (.array(let left), .array(let right)) where left.count == right.count:
            return zip(left, right).enumerated().flatMap { index, pair in
                pair.0.differences(from: pair.1, at: "\(path)[\(index)]")
            }
        default:
            return self == other ? [] : ["\(path): \(self) became \(other)"]
        }
    }
}
