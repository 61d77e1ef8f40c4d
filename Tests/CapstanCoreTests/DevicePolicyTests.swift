import CapstanCore
import Testing

@Suite("Device policies: rules, access letters and cgroup v1 semantics")
struct DevicePolicyTests {
    @Test("Access letters parse in any order and print as rwm; other letters are refused")
    func accessLetters() {
        #expect(DeviceAccess(letters: "mwr") == .all)
        #expect(DeviceAccess(letters: "r")?.description == "r")
        #expect(DeviceAccess(letters: "wm")?.description == "wm")
        #expect(DeviceAccess(letters: "rx") == nil)
    }

    @Test("A rule prints as a devices.allow line, with * for wildcards and a for both kinds")
    func ruleLines() {
        #expect(DeviceRule(.char, 195, 0, .all).description == "c 195:0 rwm")
        #expect(DeviceRule(.block, nil, nil, .mknod).description == "b *:* m")
        #expect(DeviceRule(nil, 1, nil, [.read]).description == "a 1:* r")
    }

    @Test("One rule must grant every bit asked for, as cgroup v1 checks; defaults allow /dev/null and mknod but not opening a disk")
    func semantics() {
        let policy = DevicePolicy(rules: [DeviceRule(.char, 10, 1, [.read]), DeviceRule(.char, 10, 1, [.write])])
        #expect(policy.allows(.char, major: 10, minor: 1, access: .read))
        #expect(policy.allows(.char, major: 10, minor: 1, access: .write))
        #expect(!policy.allows(.char, major: 10, minor: 1, access: [.read, .write]), "no single rule grants rw")
        let defaults = DevicePolicy.containerDefaults
        #expect(defaults.allows(.char, major: 1, minor: 3, access: [.read, .write]))
        #expect(defaults.allows(.block, major: 8, minor: 0, access: .mknod))
        #expect(!defaults.allows(.block, major: 8, minor: 0, access: .read))
        #expect(defaults.allows(.char, major: 136, minor: 7, access: .write), "pty slaves by wildcard minor")
        #expect(!defaults.allows(.char, major: 195, minor: 0, access: .read))
    }

    @Test("Duplicate and empty rules are not kept")
    func dedup() {
        var policy = DevicePolicy(rules: [DeviceRule(.char, 1, 3, .all), DeviceRule(.char, 1, 3, .all)])
        policy.allow(DeviceRule(.char, 1, 5, []))
        #expect(policy.rules.count == 1)
    }
}
