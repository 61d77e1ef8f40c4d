import CapstanCore

/// A tiny eBPF interpreter for the instructions ``DeviceProgram`` emits, run on the kernel's byte encoding (so the
/// encoding is tested too) against a `struct bpf_cgroup_dev_ctx`. It rejects what the kernel's verifier would:
/// unknown opcodes, reads of unset registers, context reads outside the struct or unaligned, jumps out of the program,
/// and falling off its end.
struct BPFInterpreter {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Decoded instructions.
    let program: [BPFInstruction]

    /// Decodes `bytes`, 8 per instruction (little-endian `struct bpf_insn`).
    init(bytes: [UInt8]) throws {
        guard bytes.count % 8 == 0, !bytes.isEmpty else { throw Failure(description: "\(bytes.count) bytes is no whole program") }
        program = stride(from: 0, to: bytes.count, by: 8).map { start in
            let b = bytes[start..<start + 8].map { $0 }
            return BPFInstruction(
                opcode: b[0], destination: b[1] & 0x0f, source: b[1] >> 4,
                offset: Int16(bitPattern: UInt16(b[2]) | UInt16(b[3]) << 8),
                immediate: Int32(bitPattern: UInt32(b[4]) | UInt32(b[5]) << 8 | UInt32(b[6]) << 16 | UInt32(b[7]) << 24))
        }
    }

    /// The program's answer (`r0` at `exit`) for a device access: `type` 1 block / 2 char, `access` the
    /// `BPF_DEVCG_ACC_*` bits.
    func run(type: UInt32, access: UInt32, major: UInt32, minor: UInt32) throws -> UInt64 {
        let context: [UInt32] = [access << 16 | type, major, minor]
        // nil: never written. r1 holds the context pointer, represented by a marker no arithmetic may touch.
        var registers = [UInt64?](repeating: nil, count: 11)
        var isContext = [Bool](repeating: false, count: 11)
        registers[1] = 0
        isContext[1] = true
        var pc = 0
        var steps = 0
        func value(_ register: UInt8) throws -> UInt64 {
            guard register < 11, let value = registers[Int(register)] else { throw Failure(description: "r\(register) read before it is set at \(pc)") }
            guard !isContext[Int(register)] else { throw Failure(description: "arithmetic on the context pointer r\(register) at \(pc)") }
            return value
        }
        func set(_ register: UInt8, _ value: UInt64) throws {
            guard register < 10 else { throw Failure(description: "write to r\(register) at \(pc)") }
            registers[Int(register)] = value
            isContext[Int(register)] = false
        }
        while true {
            guard pc >= 0, pc < program.count else { throw Failure(description: "pc \(pc) is outside the program") }
            steps += 1
            guard steps < 100_000 else { throw Failure(description: "no exit after \(steps) steps") }
            let insn = program[pc]
            pc += 1
            switch insn.opcode {
            case 0x61:  // ldxw dst, [src + off]
                guard insn.source < 11, isContext[Int(insn.source)] else { throw Failure(description: "load from a non-context register at \(pc - 1)") }
                guard insn.offset >= 0, insn.offset % 4 == 0, Int(insn.offset) + 4 <= DeviceProgram.Context.size else {
                    throw Failure(description: "context read at offset \(insn.offset)")
                }
                try set(insn.destination, UInt64(context[Int(insn.offset) / 4]))
            case 0xb7:  // mov64 dst, imm (sign-extended)
                try set(insn.destination, UInt64(bitPattern: Int64(insn.immediate)))
            case 0xb4:  // mov32 dst, imm
                try set(insn.destination, UInt64(UInt32(bitPattern: insn.immediate)))
            case 0xbc:  // mov32 dst, src
                try set(insn.destination, try value(insn.source) & 0xffff_ffff)
            case 0x54:  // and32 dst, imm
                try set(insn.destination, (try value(insn.destination) & UInt64(UInt32(bitPattern: insn.immediate))) & 0xffff_ffff)
            case 0x74:  // rsh32 dst, imm
                guard (0..<32).contains(insn.immediate) else { throw Failure(description: "shift by \(insn.immediate)") }
                try set(insn.destination, (try value(insn.destination) & 0xffff_ffff) >> UInt64(insn.immediate))
            case 0x56:  // jne32 dst, imm
                if UInt32(truncatingIfNeeded: try value(insn.destination)) != UInt32(bitPattern: insn.immediate) { pc += Int(insn.offset) }
            case 0x55:  // jne dst, imm (64-bit, imm sign-extended)
                if try value(insn.destination) != UInt64(bitPattern: Int64(insn.immediate)) { pc += Int(insn.offset) }
            case 0x95:  // exit
                return try value(0)
            default:
                throw Failure(description: "unknown opcode 0x\(String(insn.opcode, radix: 16)) at \(pc - 1)")
            }
        }
    }
}
