import CapstanLinux
import CapstanCore
import Glibc

/// A user's ids and home, looked up in the agent (NSS may do I/O and allocate, which the forked child must not).
struct UserAccount: Sendable, Equatable {
    var name: String
    var uid: UInt32
    var gid: UInt32
    /// Supplementary groups, including `gid`.
    var groups: [UInt32]
    /// The home directory (`HOME` of the task); `/` when the entry names none.
    var home: String = "/"

    /// Looks `name` up with `getpwnam_r` and `getgrouplist`.
    /// - Throws: `notFound` when there is no such user; otherwise a ``CapstanError`` naming `getpwnam_r` and the errno.
    static func lookup(_ name: String) throws -> UserAccount {
        var record = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = buffer.withUnsafeMutableBufferPointer { getpwnam_r(name, &record, $0.baseAddress!, $0.count, &result) }
            if rc == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            if rc != 0 { throw CapstanError.system("Failed to launch: getpwnam_r '\(name)'", errno: rc) }
            break
        }
        guard result != nil else { throw CapstanError(.notFound, "Failed to launch: user '\(name)' does not exist") }
        let uid = record.pw_uid
        let gid = record.pw_gid
        let home = record.pw_dir.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/"

        var count: Int32 = 32
        var groups = [gid_t](repeating: 0, count: Int(count))
        while getgrouplist(name, gid, &groups, &count) < 0 {
            // count now holds the number needed.
            groups = [gid_t](repeating: 0, count: Int(count) + 1)
            count = Int32(groups.count)
        }
        return UserAccount(name: name, uid: uid, gid: gid, groups: Array(groups.prefix(Int(count))), home: home)
    }
}
