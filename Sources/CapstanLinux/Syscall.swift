import CapstanCore
import Glibc

/// System calls made the one way: retried while interrupted (EINTR), and failures turned into a
/// ``CapstanCore/CapstanError`` whose code comes from the errno (``CapstanCore/CapstanError/system(_:errno:)``).
public enum Syscall {
    /// Calls `body` again while it fails with EINTR; returns its last result (negative with `errno` set on failure).
    @inlinable
    public static func retrying<Result: BinaryInteger>(_ body: () -> Result) -> Result {
        while true {
            let result = body()
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }

    /// Calls `body` (retrying on EINTR) and throws naming `what` when it fails.
    @discardableResult
    public static func check<Result: BinaryInteger>(_ what: @autoclosure () -> String, _ body: () -> Result) throws(CapstanError) -> Result {
        let result = retrying(body)
        if result < 0 { throw CapstanError.system(what(), errno: errno) }
        return result
    }
}
