import Dispatch
import Foundation
import Glibc

/// A host program run to completion (CNI plugins, iptables): its stdin written, stdout and stderr collected
/// concurrently (so neither pipe can fill and stall it), killed at a deadline. Blocking: call on the blocking pool.
enum HostProgram {
    struct Outcome {
        /// The exit status, or the signal that ended it when `signaled`.
        var status: Int32
        var signaled: Bool
        var stdout: Data
        var stderr: Data
    }

    /// - Parameter stdinFile: read as the program's stdin instead of `stdin` through a pipe: a program that may exit
    ///   without reading its stdin (a CDI hook) must not make this process write to a pipe nobody reads (SIGPIPE).
    /// - Throws: when the program cannot be started.
    static func run(
        _ path: String, arguments: [String] = [], environment: [String: String]? = nil, stdin: Data = Data(),
        stdinFile: FileHandle? = nil, timeout: Duration
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = stdinFile ?? input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let pid = process.processIdentifier
        // Foundation starts the program as the leader of its own process group: the deadline kills the group, so a
        // child it forked (a daemonising hook) cannot keep running, or keep its pipes open, past the deadline.
        let killer = DispatchWorkItem {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let deadline = DispatchTime.now() + seconds
        DispatchQueue.global().asyncAfter(deadline: deadline, execute: killer)
        let outputText = LockedBox<Data>(Data()), errorText = LockedBox<Data>(Data())
        let readers = DispatchGroup()
        for (pipe, text) in [(output, outputText), (errors, errorText)] {
            readers.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                text.withLock { $0 = data }
                readers.leave()
            }
        }
        // A program may exit without reading stdin: a broken pipe here is not an error.
        if stdinFile == nil { _ = try? input.fileHandleForWriting.write(contentsOf: stdin) }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        // The output ends when every holder of the pipes has exited. A process the program left behind in its group
        // holds them: it gets until the deadline, then the group is killed; one that left the group (setsid) is not
        // waited for beyond a second more.
        if readers.wait(timeout: deadline) == .timedOut {
            kill(-pid, SIGKILL)
            _ = readers.wait(timeout: .now() + 1)
        }
        killer.cancel()
        return Outcome(
            status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal, stdout: outputText.withLock { $0 },
            stderr: errorText.withLock { $0 })
    }
}
