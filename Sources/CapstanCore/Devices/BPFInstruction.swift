/// One eBPF instruction, as the kernel's `struct bpf_insn` lays it out: an 8-bit opcode, the destination and source
/// registers (a nibble each), a signed 16-bit offset and a signed 32-bit immediate.
///
/// Only what ``DeviceProgram`` emits has a constructor here; ``encoded`` gives the kernel's bytes for any value.
public struct BPFInstruction: Sendable, Hashable, CustomStringConvertible {
    public var opcode: UInt8
    /// 0…10 (`r0`…`r10`).
    public var destination: UInt8
    public var source: UInt8
    /// Jump distance in instructions (counted from the next one), or a memory offset in bytes.
    public var offset: Int16
    public var immediate: Int32

    /// An instruction from its fields.
    public init(opcode: UInt8, destination: UInt8 = 0, source: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) {
        self.opcode = opcode
        self.destination = destination
        self.source = source
        self.offset = offset
        self.immediate = immediate
    }

    /// The 8 bytes of `struct bpf_insn` on a little-endian machine: opcode, `dst_reg` in the low nibble and `src_reg`
    /// in the high one, then `off` and `imm` little-endian.
    public var encoded: [UInt8] {
        let offset = UInt16(bitPattern: self.offset)
        let immediate = UInt32(bitPattern: self.immediate)
        return [
            opcode, (source & 0x0f) << 4 | (destination & 0x0f),
            UInt8(truncatingIfNeeded: offset), UInt8(truncatingIfNeeded: offset >> 8),
            UInt8(truncatingIfNeeded: immediate), UInt8(truncatingIfNeeded: immediate >> 8),
            UInt8(truncatingIfNeeded: immediate >> 16), UInt8(truncatingIfNeeded: immediate >> 24),
        ]
    }

    /// For verifier logs and test failures: `op=0x61 dst=r2 src=r1 off=0 imm=0`.
    public var description: String {
        "op=0x\(String(opcode, radix: 16)) dst=r\(destination) src=r\(source) off=\(offset) imm=\(immediate)"
    }

    // MARK: Opcode parts (linux/bpf_common.h, linux/bpf.h)

    /// Instruction classes.
    public enum Class {
        public static let ldx: UInt8 = 0x01
        public static let alu32: UInt8 = 0x04
        public static let jmp: UInt8 = 0x05
        public static let jmp32: UInt8 = 0x06
        public static let alu64: UInt8 = 0x07
    }

    /// Operations of the ALU classes.
    public enum ALU {
        public static let and: UInt8 = 0x50
        public static let rsh: UInt8 = 0x70
        public static let mov: UInt8 = 0xb0
    }

    /// Operations of the jump classes.
    public enum Jump {
        public static let jne: UInt8 = 0x50
        public static let exit: UInt8 = 0x90
    }

    /// The operand: the immediate (`K`) or the source register (`X`).
    public enum Source {
        public static let immediate: UInt8 = 0x00
        public static let register: UInt8 = 0x08
    }

    /// `BPF_MEM | BPF_W`: a 32-bit load.
    public static let memoryWord: UInt8 = 0x60

    // MARK: Constructors

    /// `dst = *(u32 *)(src + offset)`, zero-extended.
    public static func loadWord(_ destination: UInt8, from source: UInt8, offset: Int16) -> BPFInstruction {
        BPFInstruction(opcode: Class.ldx | memoryWord, destination: destination, source: source, offset: offset)
    }

    /// `dst = imm` (64-bit, sign-extended).
    public static func move(_ destination: UInt8, _ immediate: Int32) -> BPFInstruction {
        BPFInstruction(opcode: Class.alu64 | ALU.mov | Source.immediate, destination: destination, immediate: immediate)
    }

    /// `(u32) dst = (u32) src`, clearing the upper half.
    public static func move32(_ destination: UInt8, register source: UInt8) -> BPFInstruction {
        BPFInstruction(opcode: Class.alu32 | ALU.mov | Source.register, destination: destination, source: source)
    }

    /// `(u32) dst &= imm`.
    public static func and32(_ destination: UInt8, _ immediate: Int32) -> BPFInstruction {
        BPFInstruction(opcode: Class.alu32 | ALU.and | Source.immediate, destination: destination, immediate: immediate)
    }

    /// `(u32) dst >>= imm` (logical).
    public static func shiftRight32(_ destination: UInt8, _ immediate: Int32) -> BPFInstruction {
        BPFInstruction(opcode: Class.alu32 | ALU.rsh | Source.immediate, destination: destination, immediate: immediate)
    }

    /// `if (u32) dst != (u32) imm goto +offset`.
    public static func jumpIfNotEqual32(_ destination: UInt8, _ immediate: UInt32, skip offset: Int16) -> BPFInstruction {
        BPFInstruction(
            opcode: Class.jmp32 | Jump.jne | Source.immediate, destination: destination, offset: offset, immediate: Int32(bitPattern: immediate))
    }

    /// `return r0`.
    public static let exit = BPFInstruction(opcode: Class.jmp | Jump.exit)
}
