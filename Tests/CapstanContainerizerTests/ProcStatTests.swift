import Glibc
import Testing

@testable import CapstanContainerizer

@Suite("ProcStat")
struct ProcStatTests {
    @Test func parsesFieldsAfterACommandNameWithSpacesAndParentheses() throws {
        let line =
            "4242 (we(i)rd ) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 987654 1000000 321 "
            + "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcStat.parse(line))
        #expect(
            stat
                == ProcStat(
                    pid: 4242, state: "S", processGroup: 4242, session: 4242, userTicks: 250, systemTicks: 75, startTicks: 987654,
                    rssPages: 321))
        #expect(!stat.isZombie)
    }

    @Test func rejectsTruncatedLines() {
        #expect(ProcStat.parse("12 (sh) S 1 12 12") == nil)
        #expect(ProcStat.parse("garbage") == nil)
    }

    @Test func readsItsOwnProcess() throws {
        let stat = try #require(ProcStat.read(pid: getpid()))
        #expect(stat.pid == getpid() && stat.rssPages > 0)
        #expect(ProcStat.all().contains { $0.pid == getpid() })
    }
}

@Suite("Program")
struct ProgramTests {
    @Test func shellCommandsRunUnderBinSh() throws {
        let program = try Program(CommandSpec(value: "echo hi", environment: ["B": "2", "A": "1"]), hooks: LaunchHooks())
        #expect(program.path == "/bin/sh")
        #expect(program.arguments == ["sh", "-c", "echo hi"])
        #expect(program.environment == ["A=1", "B=2"])
    }

    @Test func programsTakeTheirArgumentsAsTheWholeVectorAndHooksWin() throws {
        let command = CommandSpec(shell: false, value: "/bin/echo", arguments: ["echo", "x"], environment: ["A": "1"])
        let program = try Program(command, hooks: LaunchHooks(environment: ["A": "hook"]))
        #expect(program.path == "/bin/echo")
        #expect(program.arguments == ["echo", "x"])
        #expect(program.environment == ["A=hook"])
        let bare = try Program(CommandSpec(shell: false, value: "true"), hooks: LaunchHooks())
        #expect(bare.arguments == ["true"])
    }

    @Test func signalNamesAreSpelledOut() {
        #expect(SignalName.of(9) == "SIGKILL")
        #expect(SignalName.of(15) == "SIGTERM")
        #expect(SignalName.of(40) == "signal 40")
    }
}
