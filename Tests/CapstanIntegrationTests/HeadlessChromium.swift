import CapstanTestSupport
import Foundation
import Testing

/// Debian's chromium, headless, driven over the DevTools protocol by a small Python driver
/// (``driverSource``): pages open in named tabs, scripts run in them, and screenshots go to the test artefacts.
final class HeadlessChromium: @unchecked Sendable {
    let directory: String
    let logPath: String
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var pending = Data()

    /// Where screenshots go: `$CAPSTAN_TEST_ARTEFACTS`, or `<tmp>/capstan-test-artefacts`.
    static var artefacts: String {
        ProcessInfo.processInfo.environment["CAPSTAN_TEST_ARTEFACTS"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSTemporaryDirectory() + "capstan-test-artefacts"
    }

    static var prerequisites: [Prerequisite] { [.binaries("chromium", "python3")] }

    init(scratch: String) throws {
        directory = scratch + "/chromium"
        logPath = directory + "/chromium.log"
        try FileManager.default.createDirectory(atPath: directory + "/profile", withIntermediateDirectories: true)
        let driver = directory + "/driver.py"
        try Self.driverSource.write(toFile: driver, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: try Prerequisites.path(of: "python3"))
        process.arguments = [driver, try Prerequisites.path(of: "chromium"), directory + "/profile", logPath]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    /// Loads `url` in tab `page` and waits for it to finish loading.
    func open(_ url: String, page: String = "main") async throws {
        _ = try await send(["op": "open", "url": url, "page": page])
    }

    /// The value of a JavaScript expression (promises are awaited) in tab `page`.
    func evaluate(_ expression: String, page: String = "main") async throws -> Any? {
        try await send(["op": "eval", "expr": expression, "page": page])["value"] ?? nil
    }

    /// Waits until `expression` is truthy in tab `page`; fails naming `what` and the last value otherwise.
    @discardableResult
    func wait(_ what: String, _ expression: String, page: String = "main", timeout: Int = 60) async throws -> Any? {
        let reply = try await send(["op": "wait", "expr": expression, "page": page, "timeout": timeout], check: false)
        guard reply["ok"] as? Bool == true else {
            let text = (try? await evaluate("document.body ? document.body.innerText.slice(0, 3000) : ''", page: page)) as? String
            throw TestFailure("\(what): not seen within \(timeout)s (last value \(String(describing: reply["value"] ?? nil)), \(reply["error"] ?? ""))\n--- page text\n\(text ?? "")")
        }
        return reply["value"] ?? nil
    }

    /// Saves a PNG of tab `page` as `<artefacts>/<name>` and prints where.
    @discardableResult
    func screenshot(_ name: String, page: String = "main") async throws -> String {
        try FileManager.default.createDirectory(atPath: Self.artefacts, withIntermediateDirectories: true)
        let path = Self.artefacts + "/" + name
        _ = try await send(["op": "screenshot", "path": path, "page": page])
        print("Screenshot: \(path)")
        return path
    }

    func stop() async {
        if process.isRunning {
            _ = try? await send(["op": "quit"])
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    private func send(_ command: [String: Any], check: Bool = true) async throws -> [String: Any] {
        var line = try JSONSerialization.data(withJSONObject: command)
        line.append(UInt8(ascii: "\n"))
        input.fileHandleForWriting.write(line)
        let answer = try await readLine()
        guard let reply = try JSONSerialization.jsonObject(with: answer) as? [String: Any] else {
            throw TestFailure("the chromium driver answered \(String(decoding: answer, as: UTF8.self))")
        }
        if check, reply["ok"] as? Bool != true {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw TestFailure("chromium: \(command["op"] ?? "") failed: \(reply["error"] ?? "")\n--- chromium log\n\(log)")
        }
        return reply
    }

    private func readLine() async throws -> Data {
        let handle = output.fileHandleForReading
        let start = pending
        let (line, rest): (Data?, Data) = await Task.detached {
            var buffer = start
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    return (Data(buffer[buffer.startIndex..<newline]), Data(buffer[(newline + 1)...]))
                }
                let chunk = handle.availableData
                if chunk.isEmpty { return (nil, buffer) }
                buffer.append(chunk)
            }
        }.value
        pending = rest
        guard let line else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw TestFailure("the chromium driver exited\n--- chromium log\n\(log)")
        }
        return line
    }
}
