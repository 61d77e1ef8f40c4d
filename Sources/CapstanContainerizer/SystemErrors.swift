import CLinux
import CapstanCore
import Glibc

/// The text of an errno value, e.g. `No such file or directory`.
func errnoText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    return buffer.withUnsafeMutableBufferPointer { String(cString: capstan_strerror(code, $0.baseAddress, $0.count)) }
}

extension CapstanError {
    /// An error for a failed system call: `"<what>: <errno text> (errno <n>)"`, with a code chosen by errno.
    static func system(_ what: String, errno code: Int32) -> CapstanError {
        CapstanError(errnoCode(code), "\(what): \(errnoText(code)) (errno \(code))")
    }

    /// The `Code` that best describes an errno value.
    private static func errnoCode(_ code: Int32) -> Code {
        switch code {
        case ENOENT, ESRCH, ENOTDIR: .notFound
        case EACCES, EPERM: .permissionDenied
        case EEXIST: .alreadyExists
        case EINVAL, E2BIG, ENAMETOOLONG, ENOEXEC: .invalidArgument
        case EAGAIN, ENOMEM, EMFILE, ENFILE: .unavailable
        case ENOSYS, EOPNOTSUPP: .unsupported
        default: .internal
        }
    }
}
