import Foundation

/// Encodes and decodes Mesos v1 JSON: plain key strategies (the types carry snake_case `CodingKeys`), sorted keys.
public enum MesosJSON {
    /// Encodes `value` as JSON with sorted keys, so the output is deterministic.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes a `T` from `data`; a failure is a `MesosJSONError` naming the offending field path. A text
    /// nested deeper than `maximumDepth` is refused before it is decoded.
    public static func decode<T: Decodable>(
        _ type: T.Type, from data: Data, maximumDepth: Int = JSONNesting.defaultMaximumDepth
    ) throws(MesosJSONError) -> T {
        let nesting = JSONNesting.measure(data, limit: maximumDepth)
        if let offset = nesting.firstBeyondLimit {
            throw MesosJSONError(
                message: "JSON is nested \(nesting.depth) levels deep, more than the limit of \(maximumDepth) "
                    + "(level \(maximumDepth + 1) starts at byte \(offset))",
                path: nil)
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw MesosJSONError(error, data: data)
        } catch {
            throw MesosJSONError(message: "not valid JSON: \(error)", path: nil)
        }
    }
}
