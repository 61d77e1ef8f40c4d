import CLinux
import CapstanCore
import Foundation
import Glibc

/// Whole-file writes that a crash never leaves half done: a temporary file beside the target, written and
/// fsynced, renamed over it, then the directory fsynced so the rename itself survives a power cut.
public enum AtomicFile {
    /// Writes `data` to `path` atomically and durably, with `mode` for a new file. The directory must exist.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(CapstanError) {
        let temporary = path + ".tmp-\(UUID().uuidString.prefix(8))"
        let fd = Syscall.retrying { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw CapstanError.system("cannot create \(temporary)", errno: errno) }
        do {
            try FileDescriptorIO.writeAll(fd, data, what: "cannot write \(temporary)")
            try Syscall.check("cannot fsync \(temporary)") { fsync(fd) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw CapstanError.system("cannot rename \(temporary) to \(path)", errno: code)
        }
        syncDirectory(of: path)
    }

    /// Fsyncs the directory holding `path` (best effort: a file system that refuses it has nothing to flush).
    public static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = Syscall.retrying { fsync(fd) }
            close(fd)
        }
    }
}

extension AtomicFile {
    /// Flushes the whole file system holding `path` (syncfs(2)): what makes a tree of files written without fsync
    /// — an unpacked layer — durable before a marker that says it is complete is written.
    public static func syncFileSystem(containing path: String) throws(CapstanError) {
        let fd = Syscall.retrying { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw CapstanError.system("cannot open \(path) to sync its file system", errno: errno) }
        defer { close(fd) }
        try Syscall.check("cannot sync the file system holding \(path)") { capstan_syncfs(fd) }
    }
}

/// Whole reads and writes on a file descriptor.
public enum FileDescriptorIO {
    /// Writes every byte of `data`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ data: Data, what: @autoclosure () -> String) throws(CapstanError) {
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Syscall.retrying { Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
                if n < 0 { failure = errno; return }
                offset += n
            }
        }
        if failure != 0 { throw CapstanError.system(what(), errno: failure) }
    }
}
