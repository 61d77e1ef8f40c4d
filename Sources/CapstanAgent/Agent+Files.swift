import CapstanAPI
import CapstanCore
import Foundation
import NIOPosix

extension Agent {
    /// The files API over this agent's sandboxes (`/files/*`, LIST_FILES and READ_FILE).
    nonisolated var files: SandboxFiles {
        SandboxFiles(workDir: configuration.workDir, logger: logger) { [weak self] in await self?.attachedSandboxes() ?? [] }
    }

    /// Every executor's sandbox (of torn-down frameworks too), ended ones first and each framework's running executors
    /// last, so that the last entry for an executor ID is its latest run.
    func attachedSandboxes() -> [SandboxFiles.Sandbox] {
        let agent = agentID?.value ?? "unregistered"
        var sandboxes: [SandboxFiles.Sandbox] = []
        for framework in completedFrameworks + frameworks.values.sorted(by: { $0.id < $1.id }) {
            for executor in framework.completedExecutors + framework.executors.values.sorted(by: { $0.info.executorID < $1.info.executorID }) {
                sandboxes.append(.init(
                    agentID: agent, frameworkID: framework.id.value, executorID: executor.info.executorID.value,
                    directory: executor.sandbox))
            }
        }
        return sandboxes
    }

    /// LIST_FILES and READ_FILE, answered from the same files API as `/files/browse` and `/files/read`.
    func fileCall(_ call: AgentOperatorCall) async throws(CapstanError) -> AgentOperatorResponse {
        do {
            switch call.type {
            case .listFiles?:
                guard let body = call.listFiles else { throw CapstanError(.invalidArgument, "LIST_FILES needs 'list_files'") }
                let listed = try await files.list(body.path)
                return AgentOperatorResponse(
                    type: .listFiles,
                    listFiles: .init(fileInfos: listed.map { item in
                        FileInfo(
                            path: item.entry.path, nlink: Int32(clamping: item.entry.nlink), size: UInt64(max(0, item.entry.size)),
                            mtime: TimeInfo(nanoseconds: item.mtimeNanoseconds), mode: UInt32(item.mode),
                            uid: item.entry.uid, gid: item.entry.gid)
                    }))
            default:
                guard let body = call.readFile else { throw CapstanError(.invalidArgument, "READ_FILE needs 'read_file'") }
                let (bytes, size) = try await files.readForOperator(
                    body.path, offset: Int64(clamping: body.offset), length: body.length.map { Int64(clamping: $0) })
                return AgentOperatorResponse(type: .readFile, readFile: .init(size: UInt64(size), data: Base64Bytes(bytes)))
            }
        } catch let error as CapstanError {
            throw error
        } catch {
            throw CapstanError(.internal, "Reading a sandbox failed", cause: error)
        }
    }
}

extension SandboxFiles {
    /// READ_FILE: up to `length` bytes (``defaultReadLength`` when nil, at most ``maxReadLength``) from `offset`, and
    /// the file's size.
    func readForOperator(_ path: String, offset: Int64, length: Int64?) async throws -> ([UInt8], Int64) {
        guard !path.isEmpty else { throw CapstanError(.invalidArgument, "Expecting 'path' to be present") }
        let real = await realPath(of: path)
        return try await NIOThreadPool.singleton.runIfActive {
            let (bytes, _, size) = try readBytesNow(real ?? "", shown: path, offset: offset, length: length)
            return (bytes, size)
        }
    }
}
