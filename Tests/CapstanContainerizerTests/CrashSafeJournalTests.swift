@testable import CapstanContainerizer
import CapstanCore
import Foundation
import Glibc
import Testing

/// The containerizer's files that an agent restart reads back: written through `AtomicFile`, and refused with their
/// path when torn (docs/crash-safety.md).
@Suite("Crash-safe containerizer files")
struct CrashSafeJournalTests {
    @Test func aContainerCheckpointIsWrittenWholeWithMode0600AndNoTemporaryFileBeside() async throws {
        try await Sandbox.with { sandbox in
            let checkpoints = sandbox.path + "/checkpoints"
            let containerizer = Containerizer(
                launcher: PosixLauncher(logger: quietLogger), isolators: [], logger: quietLogger, checkpointDirectory: checkpoints)
            let config = sandbox.config("sleep 0.2")
            try await containerizer.launch(config)
            let path = checkpoints + "/\(config.containerID).json"
            #expect(try FileManager.default.contentsOfDirectory(atPath: checkpoints) == ["\(config.containerID).json"])
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600, "the checkpoint holds the task's environment: 0600")
            let state = try JSONDecoder().decode(ContainerRecoveryState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(state.containerID == config.containerID)
            _ = try await containerizer.wait(config.containerID)
        }
    }

    @Test func cleanupRefusesATornCNIAttachmentFileAndNamesIt() async throws {
        try await Sandbox.with { sandbox in
            let run = sandbox.path + "/attachments"
            let journal = CNIAttachmentJournal(root: run)
            let id = ContainerID("c-torn")
            let attachment = CNIAttachmentJournal.Attachment(
                index: 0, network: "net1", interface: "eth0", args: [], runtimeConfig: .object([:]), mesosNetworkInfo: nil)
            try journal.begin(id, attachment, document: .object(["cniVersion": .string("1.0.0"), "name": .string("net1")]))
            let path = try journal.attachmentDirectory(id, attachment) + "/attachment.json"
            let whole = try #require(FileManager.default.contents(atPath: path))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))

            let isolator = CNINetworkIsolator(configDirectories: [], pluginDirectories: [], runDirectory: run, logger: quietLogger)
            do {
                try await isolator.cleanup(id)
                Issue.record("cleanup went past a torn attachment journal")
            } catch let error as CapstanError {
                #expect(error.message.contains("CNI attachment journal file \(path) is not whole"), "\(error)")
            }
            #expect(FileManager.default.fileExists(atPath: path), "the journal stays, so that the attachment can still be released")
        }
    }
}
