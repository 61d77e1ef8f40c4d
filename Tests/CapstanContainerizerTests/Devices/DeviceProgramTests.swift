import CapstanContainerizer
import CapstanCore
import Testing

@Suite("DeviceProgram")
struct DeviceProgramTests {
    static let kinds: [DeviceKind] = [.char, .block]
    /// Numbers rules and questions pick from: common ones, 0, and the edges of the kernel's u32 and of Int32.
    static let numbers: [Int64] = [0, 1, 3, 5, 7, 11, 136, 195, 254, 255, 1 << 20, Int64(Int32.max), 1 << 31, (1 << 32) - 1]
    static let accesses: [DeviceAccess] = (0..<8).map { DeviceAccess(rawValue: UInt8($0)) }

    static func randomRule(_ random: inout SeededGenerator) -> DeviceRule {
        let kind: DeviceKind? = Bool.random(using: &random) ? nil : kinds.randomElement(using: &random)
        let major: Int64? = Int.random(in: 0..<3, using: &random) == 0 ? nil : numbers.randomElement(using: &random)
        let minor: Int64? = Int.random(in: 0..<3, using: &random) == 0 ? nil : numbers.randomElement(using: &random)
        let access = DeviceAccess(rawValue: UInt8.random(in: 1..<8, using: &random))
        return DeviceRule(kind, major, minor, access)
    }

    /// Asserts that the program answers exactly as `policy.allows` for every kind, access and pair of `numbers`.
    static func expectEquivalent(_ policy: DevicePolicy, _ label: String) throws {
        let interpreter = try BPFInterpreter(bytes: DeviceProgram(policy).encoded)
        var mismatches: [String] = []
        for kind in kinds {
            for major in numbers {
                for minor in numbers {
                    for access in accesses {
                        let expected = policy.allows(kind, major: major, minor: minor, access: access)
                        let answer = try interpreter.run(
                            type: DeviceProgram.type(of: kind), access: DeviceProgram.access(access), major: UInt32(major), minor: UInt32(minor))
                        #expect(answer == 0 || answer == 1)
                        if (answer == 1) != expected { mismatches.append("\(kind.rawValue) \(major):\(minor) \(access): program \(answer), policy \(expected)") }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(label) (\(policy.rules.map(\.description))): \(mismatches.prefix(5))")
    }

    @Test("the program answers as DevicePolicy.allows for the container defaults, with a GPU and a block device added, and for none")
    func matchesThePolicyForKnownPolicies() throws {
        try Self.expectEquivalent(.containerDefaults, "defaults")
        var gpu = DevicePolicy.containerDefaults
        gpu.allow(DeviceRule(.char, 195, 0, .all))
        gpu.allow(DeviceRule(.char, 195, 255, [.read, .write]))
        gpu.allow(DeviceRule(.block, 254, nil, .read))
        gpu.allow(DeviceRule(nil, nil, 11, .write))
        try Self.expectEquivalent(gpu, "gpu")
        try Self.expectEquivalent(DevicePolicy(rules: []), "empty")
        try Self.expectEquivalent(DevicePolicy(rules: [DeviceRule(nil, nil, nil, .all)]), "everything")
    }

    @Test("the program answers as DevicePolicy.allows for 300 random policies")
    func matchesThePolicyForRandomPolicies() throws {
        var random = SeededGenerator(seed: 0xCA95_7A11)  // deterministic, so that a failure reproduces
        for round in 0..<300 {
            let rules = (0..<Int.random(in: 0..<7, using: &random)).map { _ in Self.randomRule(&random) }
            try Self.expectEquivalent(DevicePolicy(rules: rules), "round \(round)")
        }
    }

    @Test("an empty policy denies everything; a rule beyond the kernel's u32 numbers adds no code and matches nothing")
    func emptyPolicyDeniesAndOutOfRangeRulesAreDropped() throws {
        let empty = try BPFInterpreter(bytes: DeviceProgram(DevicePolicy(rules: [])).encoded)
        #expect(try empty.run(type: 2, access: 2, major: 1, minor: 3) == 0)
        let huge = DevicePolicy(rules: [DeviceRule(.char, 1 << 32, nil, .all), DeviceRule(.char, nil, -1, .all)])
        #expect(DeviceProgram(huge).instructions == DeviceProgram(DevicePolicy(rules: [])).instructions)
    }

    @Test("instructions encode as struct bpf_insn: opcode, dst in the low nibble, src in the high one, off and imm little-endian")
    func encodesLikeTheKernelStruct() {
        #expect(BPFInstruction.loadWord(2, from: 1, offset: 8).encoded == [0x61, 0x12, 8, 0, 0, 0, 0, 0])
        #expect(BPFInstruction.jumpIfNotEqual32(4, 0xffff_fffe, skip: -2).encoded == [0x56, 0x04, 0xfe, 0xff, 0xfe, 0xff, 0xff, 0xff])
        #expect(BPFInstruction.move(0, 1).encoded == [0xb7, 0, 0, 0, 1, 0, 0, 0])
        #expect(BPFInstruction.exit.encoded == [0x95, 0, 0, 0, 0, 0, 0, 0])
        // The defaults: a 6-instruction prologue; rule blocks of 5 + their checks: two with 1 check, one with 2, ten with 3; `r0 = 0; exit`.
        #expect(DeviceProgram(.containerDefaults).instructions.count == 6 + 2 * 6 + 1 * 7 + 10 * 8 + 2)
    }
}
