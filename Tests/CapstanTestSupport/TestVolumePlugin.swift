import CapstanCore
import CapstanTestSupport
import Foundation
import Glibc

/// A Docker volume plugin written for the tests: a python3 HTTP server on a unix socket (or on 127.0.0.1) that
/// records every call in order, mounts volumes as real directories, counts Mounts per ID and can be told to fail a
/// call with an `Err`, stall, answer without end or return another mountpoint.
public final class TestVolumePlugin: @unchecked Sendable {
    public let process: Process
    /// Where it listens: a socket path, or `tcp:` for 127.0.0.1 on a free port.
    public let address: String
    public let state: String

    public static let requirement = Prerequisites.requires("Docker volume plugin tests", .binary("python3"))

    /// One call as the plugin saw it.
    public struct Call: Equatable, CustomStringConvertible {
        public var call: String
        public var body: [String: String]
        public var accept: String?
        public var host: String?
        /// The agent's journal as the call arrived: one "<mount ID> <state> <claimants,…>" per record.
        public var journal: [String] = []
        public var description: String { "\(call) \(body)" }
    }

    /// Starts the plugin listening on `address` (its state under `state`); `startDelay` delays creating the socket,
    /// `listenDelay` listening on it (the socket exists but refuses connections meanwhile). With `waitUntilReady`,
    /// returns once it listens.
    public init(
        address: String, state: String, implements: [String] = ["VolumeDriver"], startDelay: Double = 0, listenDelay: Double = 0,
        capabilities: Bool = true, journal: String? = nil, waitUntilReady: Bool = true
    ) throws {
        self.address = address
        self.state = state
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let script = state + "/plugin.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Prerequisites.path(of: "python3"))
        process.arguments =
            [script, address, state, "--implements", implements.joined(separator: ","), "--start-delay", "\(startDelay)", "--listen-delay", "\(listenDelay)"]
            + (capabilities ? [] : ["--no-capabilities"]) + (journal.map { ["--journal", $0] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        if waitUntilReady { try waitUntilListening() }
    }

    /// Waits (generously: CI is slow) until the plugin listens.
    public func waitUntilListening(timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while !FileManager.default.fileExists(atPath: state + "/ready") {
            guard process.isRunning else { throw TestFailure("the test volume plugin exited with status \(process.terminationStatus)") }
            guard ContinuousClock.now < deadline else { throw TestFailure("the test volume plugin did not start listening within \(timeout)") }
            usleep(20_000)
        }
    }

    /// The port it listens on when started with `tcp:`.
    public var port: Int? { (try? String(contentsOfFile: state + "/port", encoding: .utf8)).flatMap { Int($0) } }

    /// Stops the plugin (by its PID) and waits for it.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// Every call so far, in order.
    public func calls() -> [Call] {
        let text = (try? String(contentsOfFile: state + "/calls.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            let body = (object["body"] as? [String: Any] ?? [:]).mapValues { value in
                (value as? String) ?? String(decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
            }
            let journal = (object["journal"] as? [[Any]] ?? []).map { record in
                "\(record[0]) \(record[1]) \((record[2] as? [String] ?? []).joined(separator: ","))"
            }
            return Call(call: object["call"] as? String ?? "", body: body, accept: object["accept"] as? String, host: object["host"] as? String, journal: journal)
        }
    }

    /// The names of the calls so far, in order.
    public func callNames() -> [String] { calls().map(\.call) }

    /// How many times `call` arrived.
    public func count(_ call: String) -> Int { calls().filter { $0.call == call }.count }

    /// The mount IDs the plugin holds for each volume.
    public func mounts() -> [String: [String]] {
        guard let data = FileManager.default.contents(atPath: state + "/state.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
        else { return [:] }
        return object.mapValues { $0["mounts"] as? [String] ?? [] }
    }

    /// Overrides how calls are answered: `[call: ["err": text, "status": 500, "mountpoint": path, "huge": bytes,
    /// "sleep": seconds]]`.
    public func control(_ overrides: [String: [String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: overrides)
        try data.write(to: URL(fileURLWithPath: state + "/control.json.tmp"))
        _ = rename(state + "/control.json.tmp", state + "/control.json")
    }

    static let script = #"""
# A Docker volume plugin for Capstan's tests: HTTP on a unix socket (or 127.0.0.1), every call recorded in order in
# <state>/calls.jsonl, volumes as real directories under <state>/mnt, Mounts reference-counted by ID (state in
# <state>/state.json), and per-call overrides read from <state>/control.json at each call:
#   {"VolumeDriver.Mount": {"err": "text", "status": 500, "mountpoint": "/x", "huge": 2000000, "sleep": 5}}
import json, os, socket, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler

args = sys.argv[1:]
def option(name, default=None):
    return args[args.index(name) + 1] if name in args else default

address, state = args[0], args[1]
implements = option("--implements", "VolumeDriver").split(",")
listen_delay = float(option("--listen-delay", "0"))
start_delay = float(option("--start-delay", "0"))
capabilities = "--no-capabilities" not in args
lock = threading.Lock()
volumes = {}
os.makedirs(state + "/mnt", exist_ok=True)
log = open(state + "/calls.jsonl", "a")

def control(call):
    try:
        with open(state + "/control.json") as f:
            return json.load(f).get(call, {})
    except FileNotFoundError:
        return {}

def journal():
    # What the agent's journal (--journal DIR) holds as this call arrives: [[mount ID, state, claimants]].
    directory = option("--journal")
    if not directory or not os.path.isdir(directory):
        return []
    records = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            with open(os.path.join(directory, name)) as f:
                record = json.load(f)
            records.append([record["mountID"], record["state"], record["claimants"]])
    return records

def save():
    with open(state + "/state.json.tmp", "w") as f:
        json.dump({name: {"opts": v["opts"], "mounts": sorted(v["mounts"])} for name, v in volumes.items()}, f)
    os.replace(state + "/state.json.tmp", state + "/state.json")

def mountpoint(name):
    return state + "/mnt/" + name.replace("/", "_")

def answer(call, body):
    name = body.get("Name", "")
    if call == "Plugin.Activate":
        return 200, {"Implements": implements}
    if call == "VolumeDriver.Capabilities":
        return (200, {"Capabilities": {"Scope": "local"}}) if capabilities else (404, None)
    if call == "VolumeDriver.Create":
        volumes.setdefault(name, {"opts": body.get("Opts") or {}, "mounts": set()})
        return 200, {"Err": ""}
    if call == "VolumeDriver.Remove":
        volumes.pop(name, None)
        return 200, {"Err": ""}
    if call == "VolumeDriver.Get":
        if name not in volumes:
            return 200, {"Err": "no such volume: " + name}
        return 200, {"Volume": {"Name": name, "Mountpoint": mountpoint(name) if volumes[name]["mounts"] else ""}, "Err": ""}
    if call == "VolumeDriver.Path":
        return 200, {"Mountpoint": mountpoint(name) if volumes.get(name, {}).get("mounts") else "", "Err": ""}
    if call == "VolumeDriver.Mount":
        if name not in volumes:
            return 200, {"Err": "no such volume: " + name}
        os.makedirs(mountpoint(name), exist_ok=True)
        volumes[name]["mounts"].add(body["ID"])
        return 200, {"Mountpoint": mountpoint(name), "Err": ""}
    if call == "VolumeDriver.Unmount":
        if body.get("ID") not in volumes.get(name, {}).get("mounts", set()):
            return 200, {"Err": "volume %s is not mounted with ID %s" % (name, body.get("ID"))}
        volumes[name]["mounts"].discard(body["ID"])
        return 200, {"Err": ""}
    return 404, None

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else {}
        call = self.path.lstrip("/")
        with lock:
            log.write(json.dumps({"call": call, "body": body, "accept": self.headers.get("Accept"), "host": self.headers.get("Host"),
                                  "journal": journal()}) + "\n")
            log.flush()
            override = control(call)
            status, reply = answer(call, body) if "err" not in override else (override.get("status", 200), {"Err": override["err"]})
            if "mountpoint" in override and reply is not None:
                reply["Mountpoint"] = override["mountpoint"]
            save()
        if override.get("sleep"):
            time.sleep(override["sleep"])
        data = b"404 page not found\n" if reply is None else json.dumps(reply).encode()
        if override.get("huge"):
            data = b'{"Mountpoint": "' + b"a" * int(override["huge"]) + b'"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up on a huge or slow answer

class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass
    allow_reuse_address = True

time.sleep(start_delay)
if address.startswith("tcp:"):
    server = TCPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.server_bind()
    with open(state + "/port.tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(state + "/port.tmp", state + "/port")
else:
    if os.path.exists(address):
        os.unlink(address)  # left by an earlier run of the plugin that was killed
    server = UnixServer(address, Handler, bind_and_activate=False)
    server.server_bind()
time.sleep(listen_delay)
server.server_activate()
with open(state + "/ready", "w") as f:
    f.write("ready")
server.serve_forever()
"""#
}

