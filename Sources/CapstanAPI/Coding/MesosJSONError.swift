import Foundation

/// A Mesos JSON message that could not be decoded, rendered as one sentence that names the field path,
/// e.g. `invalid JSON at 'kill.task_id': missing field 'value'`.
public struct MesosJSONError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The whole sentence.
    public let message: String
    /// The dotted field path (`accept.operations[0].type`), or nil when the error is not about one field.
    public let path: String?

    public init(message: String, path: String?) {
        self.message = message
        self.path = path
    }

    public var description: String { message }
    public var errorDescription: String? { message }

    /// Renders a `DecodingError` from `JSONDecoder`; `data`, when given, lets a syntax error name its position.
    public init(_ error: DecodingError, data: Data? = nil) {
        switch error {
        case .keyNotFound(let key, let context):
            let path = Self.render(context.codingPath)
            self.init(message: "\(Self.prefix(path))missing field '\(key.stringValue)'", path: path)
        case .valueNotFound(_, let context):
            let path = Self.render(context.codingPath)
            self.init(message: "\(Self.prefix(path))null where a value is required", path: path)
        case .typeMismatch(let type, let context):
            let path = Self.render(context.codingPath)
            self.init(message: "\(Self.prefix(path))expected \(Self.describe(type))", path: path)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty, let syntax = Self.syntaxError(context, data: data) {
                self.init(message: "not valid JSON: \(syntax)", path: nil)
            } else {
                let path = Self.render(context.codingPath)
                self.init(message: "\(Self.prefix(path))\(context.debugDescription)", path: path)
            }
        @unknown default:
            self.init(message: "invalid JSON: \(error)", path: nil)
        }
    }

    /// Joins coding keys as `a.b[0].c`.
    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == "\(index)" {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    private static func prefix(_ path: String) -> String {
        path.isEmpty ? "invalid JSON: " : "invalid JSON at '\(path)': "
    }

    /// Why the bytes are not JSON at all, or nil when they are (the error is then about the document's content).
    private static func syntaxError(_ context: DecodingError.Context, data: Data?) -> String? {
        guard let data else { return context.debugDescription }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return nil
        } catch {
            if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
            if let underlying = context.underlyingError { return "\(underlying)" }
            return context.debugDescription
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Double.Type, is Float.Type: return "a number"
        case is any FixedWidthInteger.Type: return "an integer"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
