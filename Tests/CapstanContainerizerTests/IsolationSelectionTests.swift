import CapstanContainerizer
import CapstanCore
import Foundation
import Testing

@Suite("IsolationSelection (--isolation)")
struct IsolationSelectionTests {
    @Test("Without --isolation every cgroup isolator and disk/du run, not disk/xfs or gpu/nvidia")
    func defaultIsCgroupsAndDu() {
        let selection = IsolationSelection.default
        #expect(selection.names == nil)
        #expect(selection.includes("cgroups/mem") && selection.includes("disk/du"))
        #expect(!selection.includes("disk/xfs"))
        #expect(!selection.includes("gpu/nvidia"), "GPUs are opt-in, as in Mesos")
        #expect(selection.disk == "disk/du")
    }

    @Test("A list chooses exactly its isolators, in the agent's order; Mesos' names of always-on isolators are accepted")
    func listChoosesExactly() throws {
        let selection = try IsolationSelection(parsing: "disk/xfs, cgroups/mem,network/cni,cgroups/mem,docker/volume")
        #expect(selection.names == ["cgroups/mem", "disk/xfs"])
        #expect(selection.disk == "disk/xfs")
        #expect(!selection.includes("cgroups/cpu") && !selection.includes("disk/du"))
        #expect(try IsolationSelection(parsing: "cgroups/cpu").disk == nil, "no disk isolator listed, none runs")
    }

    @Test("Both disk isolators, an unknown name or an empty list are refused with an error naming --isolation")
    func badListsAreRefused() {
        for (text, words) in [
            ("disk/du,disk/xfs", "--isolation names both disk/du and disk/xfs: choose one"),
            ("cgroups/cpu,posix/mem", "--isolation: unknown isolator 'posix/mem'; Capstan has cgroups/cpu, cgroups/mem, cgroups/pids, disk/du, disk/xfs"),
            (" , ", "--isolation ' , ' names no isolator"),
        ] {
            let error = #expect(throws: CapstanError.self) { try IsolationSelection(parsing: text) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix(words) == true, "\(text): \(error?.message ?? "")")
        }
    }

    @Test("--xfs-project-range: IDs this host names in /etc/projects or /etc/projid inside the range are found")
    func rangeOverlapsHostProjects() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capstan-projid-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "# xfs_quota projects\n42:/srv/other\n5003:/srv/logs\n".write(toFile: directory + "/projects", atomically: true, encoding: .utf8)
        try "logs:5003\nweb:9000\nbad:line:x\n".write(toFile: directory + "/projid", atomically: true, encoding: .utf8)
        let range = try ProjectIDRange(parsing: "[5000-6000]")
        #expect(
            range.definedElsewhere(projects: directory + "/projects", projid: directory + "/projid") == [
                "5003 (\(directory)/projects: '5003:/srv/logs')", "5003 (\(directory)/projid: 'logs:5003')",
            ])
        #expect(range.definedElsewhere(projects: directory + "/none", projid: directory + "/none").isEmpty)
    }
}
