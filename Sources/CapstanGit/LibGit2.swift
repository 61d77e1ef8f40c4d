import CLibGit2
import CapstanCore
import Foundation

/// Small helpers over libgit2's C API: one-time initialisation, error mapping, object names.
enum LibGit2 {
    /// `git_libgit2_init`, exactly once per process (libgit2 counts calls; we never shut it down).
    static let initialised: Bool = {
        git_libgit2_init()
        return true
    }()

    /// Throws a ``CapstanError`` for a negative libgit2 result, with libgit2's own message.
    @discardableResult
    static func check(_ result: Int32, _ what: @autoclosure () -> String) throws -> Int32 {
        guard result < 0 else { return result }
        throw error(result, what())
    }

    static func error(_ result: Int32, _ what: String) -> CapstanError {
        let detail = git_error_last().flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "libgit2 error \(result)"
        let code: CapstanError.Code
        switch result {
        case GIT_ENOTFOUND.rawValue: code = .notFound
        case GIT_EAUTH.rawValue, GIT_ECERTIFICATE.rawValue: code = .permissionDenied
        case GIT_EAMBIGUOUS.rawValue, GIT_EINVALIDSPEC.rawValue: code = .invalidArgument
        default: code = .unavailable
        }
        return CapstanError(code, "\(what): \(detail)")
    }

    static func hex(_ oid: UnsafePointer<git_oid>) -> String {
        String(cString: git_oid_tostr_s(oid))
    }

    static func oid(_ hex: String) -> git_oid? {
        var oid = git_oid()
        return git_oid_fromstr(&oid, hex) == 0 ? oid : nil
    }

    /// Calls `body` with a `git_strarray` of `strings`.
    static func withStrArray<T>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) throws -> T) rethrows -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return try pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return try body(&array)
        }
    }
}
