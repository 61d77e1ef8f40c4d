import CapstanAPI
import CapstanCore
import Foundation

/// Reads each task's file from its agent in pages, from the start or from its last `--tail` lines, prints its lines,
/// and with `-f` polls for more until every task has ended and its file has stopped growing.
struct LogPrinter {
    let source: TaskLogSource
    let name: String
    let stderr: Bool
    let tail: Int?
    let json: Bool
    let interval: Duration

    /// The most one READ_FILE asks for (the agent answers at most 16 MiB).
    static let page: UInt64 = 1 << 20

    init(source: TaskLogSource, name: String, stderr: Bool, tail: Int?, json: Bool, interval: Duration) {
        self.source = source
        self.name = name
        self.stderr = stderr
        self.tail = tail
        self.json = json
        self.interval = interval
    }

    /// One file being read.
    struct Reader {
        var target: TaskLogSource.Target
        var offset: UInt64?
        var lines = LogLines()
    }

    private var readers: [String: Reader] = [:]
    private var order: [String] = []
    /// Whether lines are prefixed with their task ID: an app's tasks (even one), never a task named by its ID.
    private var prefixed = false
    private var width = 0

    mutating func run(follow: Bool) async throws {
        var snapshot = try await source.snapshot()
        let tasks = snapshot.matching(name)
        guard !tasks.isEmpty else {
            throw CapstanError(.notFound, "no task or app named '\(name)' on the master at \(source.master)")
        }
        prefixed = !(tasks.count == 1 && tasks[0].taskID.value == name)
        // A task's agent the master no longer lists is an error; an app's instances on such agents are left out.
        if !prefixed { _ = try source.target(tasks[0], in: snapshot, stderr: stderr) }
        add(tasks, in: snapshot)
        while true {
            var grew = false
            for id in order { grew = try await drain(id) || grew }
            guard follow else { break }
            if !grew {
                snapshot = try await source.snapshot()
                if prefixed { add(snapshot.matching(name), in: snapshot) }
                // Ended tasks are read once more after the master says so: lines written just before the end are kept.
                let ended = order.allSatisfy { snapshot.isTerminal($0) }
                if ended {
                    var last = false
                    for id in order { last = try await drain(id) || last }
                    if !last { break }
                }
                try await Task.sleep(for: interval)
            }
        }
        for id in order {
            if let rest = readers[id]?.lines.finish() { emit(rest, from: id) }
            if let reader = readers[id], reader.offset == nil {
                let file = stderr ? "stderr" : "stdout"
                FileHandle.standardError.write(Data(
                    "capstan logs: task \(id) has no \(file) on agent \(reader.target.agentID) (not started yet, or its sandbox was removed)\n".utf8))
            }
        }
    }

    /// Starts reading tasks not yet read.
    private mutating func add(_ tasks: [MesosTask], in snapshot: TaskLogSource.Snapshot) {
        for task in tasks where readers[task.taskID.value] == nil {
            guard let target = try? source.target(task, in: snapshot, stderr: stderr) else { continue }
            readers[task.taskID.value] = Reader(target: target)
            order.append(task.taskID.value)
            width = max(width, task.taskID.value.count)
        }
    }

    /// Reads and prints what `id`'s file holds beyond what was printed; whether it printed anything.
    private mutating func drain(_ id: String) async throws -> Bool {
        guard var reader = readers[id] else { return false }
        defer { readers[id] = reader }
        if reader.offset == nil {
            guard let start = try await startOffset(reader.target) else { return false }  // not written yet
            reader.offset = start
        }
        var grew = false
        while let offset = reader.offset, let read = try await source.read(reader.target, offset: offset, length: Self.page) {
            let (data, size) = read
            if size < offset {  // truncated: start again
                reader.offset = 0
                continue
            }
            guard !data.isEmpty else { break }
            grew = true
            reader.offset = offset + UInt64(data.count)
            for line in reader.lines.append(data) { emit(line, from: id) }
        }
        return grew
    }

    /// Where printing starts: 0, or where the last `--tail` lines begin (read backwards in 64 KiB windows).
    private func startOffset(_ target: TaskLogSource.Target) async throws -> UInt64? {
        guard let size = try await source.read(target, offset: 0, length: 0)?.size else { return nil }
        guard let tail else { return 0 }
        let window: UInt64 = 64 << 10
        var from = size
        var collected = Data()
        while true {
            let start = from > window ? from - window : 0
            guard let data = try await source.read(target, offset: start, length: from - start)?.data else { return nil }
            collected = data + collected
            if let at = LogLines.tailStart(of: collected, count: tail, atStart: start == 0) {
                return size - UInt64(collected.count) + UInt64(at)
            }
            if start == 0 { return 0 }
            from = start
        }
    }

    private func emit(_ line: Data, from id: String) {
        var out = Data()
        if json {
            let object: [String: String] = [
                "task_id": id, "agent_id": readers[id]?.target.agentID ?? "", "stream": stderr ? "stderr" : "stdout",
                "line": String(decoding: line, as: UTF8.self),
            ]
            out = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        } else {
            if prefixed { out.append(Data((id.padding(toLength: width, withPad: " ", startingAt: 0) + " | ").utf8)) }
            out.append(line)
        }
        out.append(UInt8(ascii: "\n"))
        FileHandle.standardOutput.write(out)
    }
}
