import CapstanCore
import CapstanReconciler
import CapstanTestSupport
import Foundation
import Testing

extension EndToEnd {
    /// The errors a new user meets first read as one sentence naming the component, the address and the flag.
    @Suite("First-contact errors", .serialized)
    struct FirstContactErrorTests {
        @Test("a taken port names the component, the address and the flag to pass")
        func takenPorts() async throws {
            try await TestCluster().run { cluster in
                try await cluster.startMaster()
                let taken = cluster.master.description
                let master = try await DiffCommandTests.run([
                    CapstanBinary.path, "master", "--listen", taken, "--work-dir", cluster.scratch + "/second-master", "--insecure",
                ])
                #expect(master.status == 1, "\(master.status)")
                #expect(master.stderr.contains("the master cannot listen on \(taken): address in use") && master.stderr.contains("pass --listen"), "\(master.stderr)")
                let reconciler = try await DiffCommandTests.run([
                    CapstanBinary.path, "reconcile", "--listen", taken, "--master", taken, "--repo", cluster.scratch,
                    "--work-dir", cluster.scratch + "/reconciler",
                ])
                #expect(reconciler.status == 1)
                #expect(reconciler.stderr.contains("the reconciler cannot listen on \(taken): address in use") && reconciler.stderr.contains("pass --listen"), "\(reconciler.stderr)")
                #expect(!reconciler.stderr.contains("errno"), "no raw socket error reaches the user: \(reconciler.stderr)")
                let up = try await DiffCommandTests.run([
                    CapstanBinary.path, "up", "--listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0", "--reconciler-listen", taken,
                    "--work-dir", cluster.scratch + "/up",
                ], in: cluster.scratch)
                #expect(up.status != 0 && up.stderr.contains("the reconciler cannot listen on \(taken)") && up.stderr.contains("pass --reconciler-listen"), "\(up.stderr)")
            }
        }

        @Test("a reconciler that loses the master shows every app Unknown since when, not a stale phase; back when it returns")
        func unknownWithoutTheMaster() async throws {
            try await GitOpsFixture.with { f in
                try await f.commit(["web.yaml": GitOpsFixture.app("web", instances: 1)])
                try await f.startReconciler()
                try await f.waitSynced("web")
                await f.cluster.masterProcess?.stop()
                try await eventually("web is Unknown", timeout: .seconds(20)) {
                    let app = try await f.app("web")
                    return app?.phase == .unknown && app?.reason?.contains("cannot reach the master at \(f.cluster.master) since") == true
                        && app?.reason?.contains("connection refused") == true
                }
                let status = try await DiffCommandTests.run([CapstanBinary.path, "status", "--reconciler", "http://\(f.api)"])
                #expect(status.status == 3 && status.stdout.contains("Unknown"), "\(status.stdout)")
                try await f.cluster.startMaster()
                try await f.waitSynced("web", timeout: .seconds(40))
            }
        }
    }
}
