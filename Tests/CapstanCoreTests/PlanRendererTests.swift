import CapstanCore
import Testing

@Suite("PlanRenderer")
struct PlanRendererTests {
    typealias F = PlanFixtures

    /// create api, update web (field changes, will not fit), scale worker, delete old, settings-only cache, unchanged db.
    /// The agent's 4 free cpus grow to 6.5 with the tasks the plan kills (old's 0.5, web's 2 × 1); api then takes 0.5,
    /// so web's 8-cpu instances see "most on one agent: 6".
    static var plan: Plan {
        let webBefore = F.app("web", instances: 2, env: ["MODE": "dev"], cpus: 1)
        let webAfter = F.app("web", instances: 2, env: ["MODE": "prod"], cpus: 8)
        let worker1 = F.app("worker", instances: 1), worker3 = F.app("worker", instances: 3)
        var cacheAfter = F.app("cache", instances: 1)
        cacheAfter.spec.update.maxSurge = .count(2)
        let db = F.app("db", instances: 1)
        let running = [webBefore, worker1, F.app("cache", instances: 1), db]
        let tasks = F.tasks(webBefore, 2) + F.tasks(worker1, 1) + F.tasks(F.app("cache", instances: 1), 1)
            + F.tasks(db, 1) + F.tasks(F.app("old", instances: 1), 1)
        return Planner.plan(
            desired: DesiredState(commit: "d1d1d1d1d1d1d1d1", workloads: [F.app("api", instances: 1), webAfter, worker3, cacheAfter, db]),
            actual: ClusterSnapshot(tasks: tasks, agents: [F.agent("a0", cpus: 4)]),
            runningSpecs: [DesiredState(commit: "c0c0c0c0c0c0", workloads: running)])
    }

    @Test func textIsStableAndReadable() {
        let text = PlanRenderer(against: "live 127.0.0.1:5050").text(Self.plan)
        #expect(text == """
            Plan for d1d1d1d1d1d1 against live 127.0.0.1:5050

            + create   api     1 instance
            = settings cache   no restart
                  spec.update.maxSurge: "1" -> "2"
            - delete   old     1 instance
            ~ update   web     2 instances, 2 to replace
                  spec.env.MODE: "dev" -> "prod"
                  spec.resources.cpus: 1 -> 8
                  will not fit: 0 of 2 new instances placed; no agent has cpus 8 free (most on one agent: 6)
            ~ scale    worker  1 -> 3 instances
                  spec.instances: 1 -> 3

            Plan: 1 to create, 1 to update, 1 to scale, 1 to delete, 2 unchanged.
            1 item will not fit on the agents' free resources.

            """)
    }

    @Test func colourOnlyWhenAsked() {
        let plain = PlanRenderer(against: "x").text(Self.plan)
        let coloured = PlanRenderer(against: "x", color: true).text(Self.plan)
        #expect(!plain.contains("\u{1B}["))
        #expect(coloured.contains("\u{1B}[32m+ create"))
        #expect(coloured.contains("\u{1B}[31m- delete"))
        #expect(coloured.contains("\u{1B}[1;31m      will not fit"))
    }

    @Test func noChangesSaysSo() {
        let web = F.app("web")
        let plan = Planner.plan(desired: DesiredState(commit: "abcdef0123456789", workloads: [web]), actual: ClusterSnapshot(tasks: F.tasks(web, 2)))
        #expect(PlanRenderer(against: "v1 (abc)").text(plan) == """
            Plan for abcdef012345 against v1 (abc)

            No changes: the cluster matches abcdef012345 (1 unchanged).

            """)
        #expect(PlanRenderer(against: "v1").markdown(plan).hasSuffix("No changes: the cluster matches `abcdef012345` (1 unchanged).\n"))
    }

    @Test func jsonIsVersionedAndComplete() {
        let json = PlanRenderer(against: "live 127.0.0.1:5050").json(Self.plan)
        #expect(json.hasPrefix("{\n  \"against\": \"live 127.0.0.1:5050\",\n  \"commit\": \"d1d1d1d1d1d1d1d1\",\n  \"formatVersion\": 1,\n  \"hasChanges\": true,\n"))
        #expect(json.contains("""
                  "changes": [
                    {
                      "new": "prod",
                      "old": "dev",
                      "path": "spec.env.MODE"
                    },
            """))
        #expect(json.contains("""
                  "fit": {
                    "needed": 2,
                    "placed": 0,
                    "reason": "no agent has cpus 8 free (most on one agent: 6)",
                    "status": "willNotFit"
                  },
            """))
        #expect(json.contains("""
              "summary": {
                "create": 1,
                "delete": 1,
                "scale": 1,
                "unchanged": 2,
                "update": 1,
                "willNotFit": 1
              }
            """))
        #expect(json.split(separator: "\"name\": ", omittingEmptySubsequences: false).count - 1 == 6, "every item, unchanged ones included")
        #expect(json == PlanRenderer(against: "live 127.0.0.1:5050").json(Self.plan), "deterministic")
    }

    @Test func markdownHasATableAndCollapsedChanges() {
        let md = PlanRenderer(against: "live 127.0.0.1:5050").markdown(Self.plan)
        #expect(md.hasPrefix("### capstan diff: `d1d1d1d1d1d1` against live 127.0.0.1:5050\n\n**Plan:** 1 to create, 1 to update, 1 to scale, 1 to delete, 2 unchanged.\n"))
        #expect(md.contains("> [!WARNING]\n> 1 item will not fit on the agents' free resources.\n"))
        #expect(md.contains("| + | `api` | App | create | 1 instance | fits |\n"))
        #expect(md.contains("| ~ | `web` | App | update | 2 instances, 2 to replace | **will not fit** (0 of 2 placed: no agent has cpus 8 free (most on one agent: 6)) |\n"))
        #expect(md.contains("<details><summary><code>web</code>: update, 2 field changes</summary>"))
        #expect(md.contains("| `spec.env.MODE` | `\"dev\"` | `\"prod\"` |\n"))
        #expect(md.contains("<details><summary><code>cache</code>: settings only, no restart, 1 field change</summary>"))
        #expect(!md.contains("`db`"), "unchanged items are only counted")
    }

    @Test func markdownEscapesTableCells() {
        var before = F.app("web", env: ["X": "a|b"])
        var after = before
        after.spec.env["X"] = "c`d"
        before.spec.instances = 2
        after.spec.instances = 2
        let plan = Planner.plan(
            desired: DesiredState(commit: "abc", workloads: [after]), actual: ClusterSnapshot(tasks: F.tasks(before, 2)),
            runningSpecs: [DesiredState(commit: "c0c0c0c0c0c0", workloads: [before])])
        let md = PlanRenderer(against: "x").markdown(plan)
        #expect(md.contains("| `spec.env.X` | `\"a\\|b\"` | `\"c'd\"` |"))
    }
}
