import CLinux
public import CapstanCore
import Glibc

/// Loading and attaching cgroup v2 device programs (`BPF_PROG_TYPE_CGROUP_DEVICE`) with bpf(2).
public enum CgroupDeviceBPF {
    /// The license string the program is loaded with (it calls no GPL-only helper, so any string is accepted).
    public static let license = "Apache-2.0"

    /// Loads `program` and returns its fd (close-on-exec), which the caller closes.
    /// - Throws: ``CapstanError`` with the errno of BPF_PROG_LOAD and the verifier's log when it gave one.
    public static func load(_ program: DeviceProgram) throws -> Int32 {
        let bytes = program.encoded
        var log = [CChar](repeating: 0, count: 1 << 16)
        let result = bytes.withUnsafeBytes { insns in
            log.withUnsafeMutableBufferPointer { buffer in
                capstan_bpf_cgroup_device_load(insns.baseAddress, UInt32(program.instructions.count), license, buffer.baseAddress, UInt32(buffer.count))
            }
        }
        guard result < 0 else { return result }
        let verifier = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.trimmingWhitespace
        let what = "BPF_PROG_LOAD of a \(program.instructions.count)-instruction cgroup device program"
        var error = CapstanError.system(what, errno: -result)
        if -result == EPERM {
            error = CapstanError(error.code, "\(error.message) (it needs CAP_BPF or CAP_SYS_ADMIN; before Linux 5.11 also RLIMIT_MEMLOCK room)")
        }
        guard !verifier.isEmpty else { throw error }
        throw CapstanError(error.code, "\(error.message); verifier log: \(verifier)")
    }

    /// Attaches the loaded program `programFD` to the cgroup directory `cgroup` as its only device program, replacing
    /// one attached before. The attachment holds the program: the caller may close `programFD` afterwards.
    /// - Throws: ``CapstanError`` naming the cgroup and the errno of open or BPF_PROG_ATTACH.
    public static func attach(_ programFD: Int32, to cgroup: String) throws {
        let fd = try openDirectory(cgroup)
        defer { close(fd) }
        let err = capstan_bpf_cgroup_device_attach(fd, programFD)
        if err != 0 { throw CapstanError.system("BPF_PROG_ATTACH of the device program to cgroup '\(cgroup)'", errno: err) }
    }

    /// Loads `program` and attaches it to `cgroup`, closing the program's fd (the cgroup keeps the program).
    public static func install(_ program: DeviceProgram, on cgroup: String) throws {
        let programFD = try load(program)
        defer { close(programFD) }
        try attach(programFD, to: cgroup)
    }

    /// How many device programs are attached to `cgroup` itself (not inherited).
    /// - Throws: ``CapstanError`` naming the cgroup and the errno of open or BPF_PROG_QUERY.
    public static func attachedCount(_ cgroup: String) throws -> Int {
        let fd = try openDirectory(cgroup)
        defer { close(fd) }
        let count = capstan_bpf_cgroup_device_count(fd)
        if count < 0 { throw CapstanError.system("BPF_PROG_QUERY of cgroup '\(cgroup)'", errno: -count) }
        return Int(count)
    }

    private static func openDirectory(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CapstanError.system("open cgroup '\(path)'", errno: errno) }
        return fd
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        return String(text)
    }
}
