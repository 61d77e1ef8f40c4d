import CapstanAPI
import CapstanCore
import Foundation
import Hummingbird
import NIOCore

/// Mesos' `jsonp=CALLBACK` on its JSON endpoints: the document wrapped as `CALLBACK(...);` and served as JavaScript.
/// The callback is echoed into a script, so only a plain JavaScript name path is taken (`[A-Za-z0-9_.$]`, not starting
/// with a digit or dot, at most 128 characters); anything else is a 400.
public enum JSONP {
    public static let parameter = "jsonp"
    static let maximumLength = 128

    /// Checks a callback name.
    public static func validate(_ callback: String) throws(CapstanError) {
        let allowed = callback.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "$")
        }
        guard !callback.isEmpty, callback.utf8.count <= maximumLength, allowed,
            let first = callback.utf8.first, !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")), first != UInt8(ascii: ".")
        else {
            throw CapstanError(
                .invalidArgument,
                "jsonp callback must be a JavaScript name of at most \(maximumLength) characters from [A-Za-z0-9_.$], not starting with a digit or '.'")
        }
    }
}

extension Response {
    /// The Mesos JSON of `value`, wrapped for the request's `jsonp` callback when it names one (400 for a callback
    /// that is not a plain name).
    public static func mesosJSON(_ value: some Encodable, jsonp request: Request) throws -> Response {
        guard let callback = request.uri.queryParameters.get(JSONP.parameter) else { return try mesosJSON(value) }
        try JSONP.validate(callback)
        var buffer = ByteBuffer()
        buffer.writeString(callback + "(")
        buffer.writeBytes(try MesosJSON.encode(value))
        buffer.writeString(");")
        // libprocess serves JSONP as text/javascript.
        return Response(status: .ok, headers: [.contentType: "text/javascript"], body: .init(byteBuffer: buffer))
    }
}
