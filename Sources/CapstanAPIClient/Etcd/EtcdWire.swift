import Foundation

/// One key of etcd, decoded from the JSON gateway (keys and values are base64, int64 fields are JSON strings, and
/// proto3 leaves out zero values).
public struct EtcdKeyValue: Sendable, Equatable {
    public var key: String
    public var value: Data
    public var createRevision: Int64
    public var modRevision: Int64
    /// The lease the key is attached to; 0 when none.
    public var lease: Int64
}

/// A condition of a transaction (`compare`).
public enum EtcdCompare: Sendable {
    /// The key was created at `revision` (0: the key does not exist).
    case createRevision(key: String, equals: Int64)
    /// The key holds exactly `value`.
    case value(key: String, equals: Data)
}

/// An operation inside a transaction branch.
public enum EtcdOperation: Sendable {
    case put(key: String, value: Data, lease: Int64 = 0)
    /// Deletes `key`, or every key under it when `prefix`.
    case delete(key: String, prefix: Bool = false)
    case range(key: String)
}

/// What a transaction answered.
public struct EtcdTxnResult: Sendable {
    /// Whether every compare held (and the success branch ran).
    public var succeeded: Bool
    /// The store's revision after the transaction.
    public var revision: Int64
    /// The keys that `range` operations of the branch that ran returned.
    public var ranges: [[EtcdKeyValue]]
}

/// Wire shapes of the JSON gateway, and the request bodies it takes.
enum EtcdWire {
    struct Header: Decodable { var revision: String? }

    struct KeyValue: Decodable {
        var key: String?
        var value: String?
        var create_revision: String?
        var mod_revision: String?
        var lease: String?

        func decoded() -> EtcdKeyValue {
            EtcdKeyValue(
                key: String(decoding: Data(base64Encoded: key ?? "") ?? Data(), as: UTF8.self),
                value: Data(base64Encoded: value ?? "") ?? Data(),
                createRevision: Int64(create_revision ?? "0") ?? 0, modRevision: Int64(mod_revision ?? "0") ?? 0,
                lease: Int64(lease ?? "0") ?? 0)
        }
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
    }

    struct TxnResponse: Decodable {
        struct Response: Decodable { var response_range: RangeResponse? }
        var header: Header?
        var succeeded: Bool?
        var responses: [Response]?
    }

    struct LeaseGrantResponse: Decodable {
        var ID: String?
        var TTL: String?
        var error: String?
    }

    struct KeepAliveResponse: Decodable {
        struct Result: Decodable {
            var ID: String?
            var TTL: String?
        }
        var result: Result?
        var error: Error?
        struct Error: Decodable { var message: String? }
    }

    struct ErrorResponse: Decodable {
        var error: String?
        var message: String?
        var code: Int?
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// The key just past every key that starts with `prefix` (etcd's `range_end` for a prefix).
    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes).base64EncodedString()
            }
            bytes.removeLast()
        }
        return Data([0]).base64EncodedString()
    }

    static func body(_ compare: EtcdCompare) -> [String: Any] {
        switch compare {
        case .createRevision(let key, let revision):
            ["key": base64(key), "target": "CREATE", "result": "EQUAL", "create_revision": String(revision)]
        case .value(let key, let value):
            ["key": base64(key), "target": "VALUE", "result": "EQUAL", "value": value.base64EncodedString()]
        }
    }

    static func body(_ operation: EtcdOperation) -> [String: Any] {
        switch operation {
        case .put(let key, let value, let lease):
            var put: [String: Any] = ["key": base64(key), "value": value.base64EncodedString()]
            if lease != 0 { put["lease"] = String(lease) }
            return ["request_put": put]
        case .delete(let key, let prefix):
            var delete: [String: Any] = ["key": base64(key)]
            if prefix { delete["range_end"] = prefixEnd(key) }
            return ["request_delete_range": delete]
        case .range(let key):
            return ["request_range": ["key": base64(key)]]
        }
    }
}
