import CLinux
import CapstanCore
import Glibc

/// The text of an errno value, e.g. `No such file or directory`.
public func errnoText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    return buffer.withUnsafeMutableBufferPointer { String(cString: capstan_strerror(code, $0.baseAddress, $0.count)) }
}

extension CapstanError {
    /// An error for a failed system call: `"<what>: <errno text> (errno <n>)"`, with a code chosen by errno, so that
    /// a full disk or a refused permission reads as what it is wherever it happens.
    public static func system(_ what: String, errno code: Int32) -> CapstanError {
        CapstanError(Code(errno: code), "\(what): \(errnoText(code)) (errno \(code))")
    }
}

extension CapstanError.Code {
    /// The one errno → code table.
    public init(errno code: Int32) {
        switch code {
        case ENOENT, ESRCH, ENOTDIR: self = .notFound
        case EACCES, EPERM, EROFS: self = .permissionDenied
        case EEXIST: self = .alreadyExists
        case EINVAL, E2BIG, ENAMETOOLONG, ENOEXEC, ELOOP: self = .invalidArgument
        case EAGAIN, ENOMEM, EMFILE, ENFILE, ENOSPC, EDQUOT: self = .unavailable
        case ETIMEDOUT: self = .timeout
        case ENOSYS, EOPNOTSUPP: self = .unsupported
        case EBUSY: self = .conflict
        default: self = .internal
        }
    }
}
