/// The cgroup v2 form of a ``DevicePolicy``: a `BPF_PROG_TYPE_CGROUP_DEVICE` program that answers 1 (allow) when one
/// rule matches the device and grants every access bit asked for, and 0 (deny) otherwise — cgroup v1's semantics.
///
/// The kernel runs it with `r1` pointing at `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`,
/// where `access_type` holds the device type in its low 16 bits and the access in its high 16 bits. Comparisons use
/// 32-bit jumps (`BPF_JMP32`, Linux 5.1), so every major and minor up to 2³²-1 is matched exactly.
public struct DeviceProgram: Sendable, Hashable {
    /// The program, in order.
    public let instructions: [BPFInstruction]

    /// The program enforcing `policy`.
    public init(_ policy: DevicePolicy) {
        var program: [BPFInstruction] = [
            .loadWord(Register.access, from: Register.context, offset: Context.accessType),
            .move32(Register.type, register: Register.access),
            .and32(Register.type, 0xffff),
            .shiftRight32(Register.access, 16),
            .loadWord(Register.major, from: Register.context, offset: Context.major),
            .loadWord(Register.minor, from: Register.context, offset: Context.minor),
        ]
        for rule in policy.rules { program += Self.block(for: rule) }
        program += [.move(0, 0), .exit]
        instructions = program
    }

    /// The kernel's bytes: `instructions.count` `struct bpf_insn`s.
    public var encoded: [UInt8] { instructions.flatMap(\.encoded) }

    /// One rule: each of its conditions jumps past the block when it fails; the block ends returning 1. Empty for a
    /// rule whose major or minor lies outside the kernel's `u32` (it matches no device).
    static func block(for rule: DeviceRule) -> [BPFInstruction] {
        var checks: [(register: UInt8, value: UInt32)] = []
        if let kind = rule.kind { checks.append((Register.type, Self.type(of: kind))) }
        for (register, number) in [(Register.major, rule.major), (Register.minor, rule.minor)] {
            guard let number else { continue }
            guard let value = UInt32(exactly: number) else { return [] }
            checks.append((register, value))
        }
        // Denied when the access asked for has a bit the rule does not grant: (asked & ~granted) != 0.
        let tail: [BPFInstruction] = [.move32(Register.scratch, register: Register.access), .and32(Register.scratch, Int32(bitPattern: ~Self.access(rule.access)))]
        let length = checks.count + tail.count + 1 + 2  // the checks, the mask, its test, then `r0 = 1; exit`
        var block: [BPFInstruction] = []
        for check in checks {
            block.append(.jumpIfNotEqual32(check.register, check.value, skip: Int16(length - block.count - 1)))
        }
        block += tail
        block.append(.jumpIfNotEqual32(Register.scratch, 0, skip: Int16(length - block.count - 1)))
        block += [.move(0, 1), .exit]
        return block
    }

    /// `BPF_DEVCG_DEV_BLOCK` (1) or `BPF_DEVCG_DEV_CHAR` (2).
    public static func type(of kind: DeviceKind) -> UInt32 {
        switch kind {
        case .block: 1
        case .char: 2
        }
    }

    /// `BPF_DEVCG_ACC_MKNOD` (1), `BPF_DEVCG_ACC_READ` (2), `BPF_DEVCG_ACC_WRITE` (4), or-ed.
    public static func access(_ access: DeviceAccess) -> UInt32 {
        (access.contains(.mknod) ? 1 : 0) | (access.contains(.read) ? 2 : 0) | (access.contains(.write) ? 4 : 0)
    }

    /// Byte offsets in `struct bpf_cgroup_dev_ctx`.
    public enum Context {
        public static let accessType: Int16 = 0
        public static let major: Int16 = 4
        public static let minor: Int16 = 8
        /// Its size in bytes.
        public static let size = 12
    }

    /// What each register holds.
    enum Register {
        static let context: UInt8 = 1
        /// The access bits (`access_type >> 16`).
        static let access: UInt8 = 2
        /// The device type (`access_type & 0xffff`).
        static let type: UInt8 = 3
        static let major: UInt8 = 4
        static let minor: UInt8 = 5
        static let scratch: UInt8 = 6
    }
}
