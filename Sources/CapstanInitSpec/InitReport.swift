/// What `capstan-init` tells ``LinuxLauncher`` on the sync socket (fd 4), in one binary encoding both sides
/// share: a frame is a tag byte, a little-endian `UInt16` payload length, and the payload.
///
/// - `pid1` (tag 1, 4 bytes): the host pid of the container's PID 1, sent at once, before it builds the root.
/// - `started` (tag 2, empty): the task was executed.
/// - `failed` (tag 3): the step that failed — its ``InitStage`` (1 byte), the errno (4 bytes, 0 when no system
///   call failed) and what it was doing, as UTF-8 (`mount overlay on '/…'`).
public enum InitReport: Sendable, Hashable {
    case pid1(Int32)
    case started
    case failed(InitFailure)

    /// The largest payload a frame may carry; longer details are cut.
    public static let maximumPayload = 4096

    /// The frame.
    public var bytes: [UInt8] {
        var payload: [UInt8] = []
        let tag: UInt8
        switch self {
        case .pid1(let pid):
            tag = 1
            payload = Self.littleEndian(UInt32(bitPattern: pid))
        case .started:
            tag = 2
        case .failed(let failure):
            tag = 3
            payload = [failure.stage.rawValue] + Self.littleEndian(UInt32(bitPattern: failure.errno))
            payload += Array(failure.detail.utf8.prefix(Self.maximumPayload - payload.count))
        }
        return [tag, UInt8(payload.count & 0xff), UInt8(payload.count >> 8)] + payload
    }

    /// Decodes one frame from `header` (3 bytes) and its `payload`; nil for a tag, stage or length that is not
    /// this encoding's.
    public static func decode(header: [UInt8], payload: [UInt8]) -> InitReport? {
        guard header.count == 3, let length = payloadLength(header: header), payload.count == length else { return nil }
        switch header[0] {
        case 1:
            guard payload.count == 4 else { return nil }
            return .pid1(Int32(bitPattern: integer(payload[0..<4])))
        case 2:
            return payload.isEmpty ? .started : nil
        case 3:
            guard payload.count >= 5, let stage = InitStage(rawValue: payload[0]) else { return nil }
            let detail = String(decoding: payload[5...], as: UTF8.self)
            return .failed(InitFailure(stage: stage, errno: Int32(bitPattern: integer(payload[1..<5])), detail: detail))
        default:
            return nil
        }
    }

    /// The payload length a header announces; nil when it is longer than any frame carries.
    public static func payloadLength(header: [UInt8]) -> Int? {
        guard header.count == 3 else { return nil }
        let length = Int(header[1]) | Int(header[2]) << 8
        return length <= maximumPayload ? length : nil
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// A step of `capstan-init` that failed.
public struct InitFailure: Sendable, Hashable {
    public var stage: InitStage
    /// The errno of the system call that failed; 0 when the step failed without one (a user not in /etc/passwd).
    public var errno: Int32
    /// What it was doing: `mount overlay on '/…'`, `resolve user: user 'x' is not in the container's /etc/passwd`.
    public var detail: String

    public init(stage: InitStage, errno: Int32, detail: String) {
        self.stage = stage
        self.errno = errno
        self.detail = detail
    }
}

/// Where in `capstan-init` a step failed.
public enum InitStage: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Reading or decoding the spec from fd 3.
    case spec = 1
    /// Opening stdout/stderr in the sandbox, or preparing the sandbox for the task's user.
    case sandbox
    /// Creating the container's namespaces, or forking its PID 1 or task.
    case namespaces
    /// Mounting the root filesystem, /proc, /dev and /sys, and pivoting into it.
    case rootfs
    /// Bind-mounting volumes and other mounts into the root.
    case mounts
    /// Bringing up loopback in a new network namespace.
    case network
    /// Dropping capabilities and setting no_new_privs.
    case capabilities
    /// Resolving and switching to the task's user.
    case user
    /// Changing to the working directory and executing the task.
    case exec

    public var description: String {
        switch self {
        case .spec: "spec"
        case .sandbox: "sandbox"
        case .namespaces: "namespaces"
        case .rootfs: "root filesystem"
        case .mounts: "mounts"
        case .network: "network"
        case .capabilities: "capabilities"
        case .user: "user"
        case .exec: "exec"
        }
    }
}
