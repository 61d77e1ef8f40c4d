import Testing

@testable import CapstanCore

private func r(_ begin: UInt64, _ end: UInt64) -> ValueRange { ValueRange(begin: begin, end: end) }

@Suite("Resources")
struct ResourcesTests {
    @Test func normalizesDuplicatesIntoOneEntryPerNameAndRole() {
        let resources = Resources([
            .scalar("mem", 512), .scalar("cpus", 1), .scalar("cpus", 1.5), .scalar("cpus", 1, role: "web"),
        ])
        #expect(resources.entries == [.scalar("cpus", 2.5), .scalar("cpus", 1, role: "web"), .scalar("mem", 512)])
        #expect(resources.cpus == 3.5)
        #expect(resources.mem == 512)
    }

    @Test func dropsZeroNegativeAndEmptyEntries() {
        let resources = Resources([
            .scalar("cpus", 0), .scalar("mem", -5), .ranges("ports", []), .set("zones", []), .scalar("gpus", .nan),
        ])
        #expect(resources.isEmpty)
        #expect(resources == Resources())
    }

    @Test func roundsScalarsToThreeDecimalsSoSumsCompareEqual() {
        let sum = Resources([.scalar("cpus", 0.1)]) + Resources([.scalar("cpus", 0.2)])
        #expect(sum == Resources([.scalar("cpus", 0.3)]))
        #expect(Resources([.scalar("cpus", 1.00049)]).cpus == 1)
    }

    @Test func coalescesOverlappingAndAdjacentRanges() {
        let resources = Resources([.ranges("ports", [r(10, 20), r(1, 5), r(6, 8), r(15, 25), r(40, 40)])])
        #expect(resources.ranges("ports") == [r(1, 8), r(10, 25), r(40, 40)])
    }

    @Test func coalescesRangesEndingAtTheMaximumValue() {
        let ranges = RangeAlgebra.coalesce([r(UInt64.max - 1, .max), r(5, 5), r(.max, .max)])
        #expect(ranges == [r(5, 5), r(UInt64.max - 1, .max)])
    }

    @Test func addsScalarsAndUnitesRangesAndSets() {
        let lhs = Resources([.scalar("cpus", 1), .ranges("ports", [r(1, 10)]), .set("zones", ["a"])])
        let rhs = Resources([
            .scalar("cpus", 2), .scalar("mem", 64), .ranges("ports", [r(11, 20)]), .set("zones", ["b", "a"]),
        ])
        let sum = lhs + rhs
        #expect(sum.cpus == 3)
        #expect(sum.mem == 64)
        #expect(sum.ranges("ports") == [r(1, 20)])
        #expect(sum.set("zones") == ["a", "b"])
    }

    @Test func subtractionSaturatesAtZeroAndIgnoresMissingEntries() {
        let lhs = Resources([.scalar("cpus", 1), .scalar("mem", 100)])
        let difference = lhs - Resources([.scalar("cpus", 3), .scalar("disk", 10), .scalar("mem", 40)])
        #expect(difference == Resources([.scalar("mem", 60)]))
        #expect(difference.cpus == 0)
    }

    @Test func subtractingRangesSplitsThem() {
        let lhs = Resources([.ranges("ports", [r(1, 100), r(200, 300)])])
        let difference = lhs - Resources([.ranges("ports", [r(10, 20), r(90, 210), r(300, 300)])])
        #expect(difference.ranges("ports") == [r(1, 9), r(21, 89), r(211, 299)])
    }

    @Test func subtractingAllRangesRemovesTheEntry() {
        let lhs = Resources([.ranges("ports", [r(5, 9)]), .scalar("cpus", 1)])
        #expect(lhs - Resources([.ranges("ports", [r(1, 20)])]) == Resources([.scalar("cpus", 1)]))
    }

    @Test func subtractingSetItemsKeepsTheRest() {
        let lhs = Resources([.set("zones", ["a", "b", "c"])])
        #expect((lhs - Resources([.set("zones", ["b", "x"])])).set("zones") == ["a", "c"])
    }

    @Test func subtractionOnlyTakesFromTheMatchingRole() {
        let lhs = Resources([.scalar("cpus", 2), .scalar("cpus", 1, role: "web")])
        let difference = lhs - Resources([.scalar("cpus", 1, role: "web")])
        #expect(difference == Resources([.scalar("cpus", 2)]))
    }

    @Test func compoundAssignmentMatchesTheOperators() {
        var resources = Resources([.scalar("cpus", 4)])
        resources += Resources([.scalar("mem", 32)])
        resources -= Resources([.scalar("cpus", 1)])
        #expect(resources == Resources([.scalar("cpus", 3), .scalar("mem", 32)]))
    }

    @Test func containsComparesPerNameAndRole() {
        let agent = Resources([
            .scalar("cpus", 4), .scalar("mem", 1024), .scalar("cpus", 1, role: "web"),
            .ranges("ports", [r(31000, 32000)]), .set("zones", ["a", "b"]),
        ])
        #expect(agent.contains(Resources([.scalar("cpus", 4), .ranges("ports", [r(31000, 31010)])])))
        #expect(agent.contains(Resources([.set("zones", ["b"]), .scalar("cpus", 1, role: "web")])))
        #expect(agent.contains(Resources()))
        #expect(!agent.contains(Resources([.scalar("cpus", 4.5)])))
        #expect(!agent.contains(Resources([.scalar("cpus", 2, role: "web")])))
        #expect(!agent.contains(Resources([.scalar("gpus", 1)])))
        #expect(!agent.contains(Resources([.ranges("ports", [r(30999, 31000)])])))
        #expect(!agent.contains(Resources([.set("zones", ["c"])])))
    }

    @Test func containsToleratesFloatingPointNoise() {
        let total = Resources([.scalar("cpus", 0.3)])
        let pieces = [0.1, 0.1, 0.1].reduce(0, +)
        #expect(total.contains(Resources([.scalar("cpus", pieces)])))
    }

    @Test func scalarAndRangesAreSummedAcrossRoles() {
        let resources = Resources([
            .scalar("cpus", 2), .scalar("cpus", 1, role: "web"),
            .ranges("ports", [r(1, 5)]), .ranges("ports", [r(6, 9)], role: "web"),
        ])
        #expect(resources.cpus == 3)
        #expect(resources.ranges("ports") == [r(1, 9)])
        #expect(resources.gpus == 0)
        #expect(resources.disk == 0)
    }

    @Test func splitsByReservation() {
        let resources = Resources([
            .scalar("cpus", 2), .scalar("cpus", 1, role: "web"), .scalar("mem", 64, role: "batch"),
        ])
        #expect(resources.unreserved == Resources([.scalar("cpus", 2)]))
        #expect(resources.reserved(for: "web") == Resources([.scalar("cpus", 1, role: "web")]))
        #expect(resources.allocatable(to: "web") == Resources([.scalar("cpus", 2), .scalar("cpus", 1, role: "web")]))
        #expect(resources.allocatable(to: "other") == resources.unreserved)
        #expect(resources.hasReservations)
        #expect(!resources.unreserved.hasReservations)
    }

    @Test func describesInTheAgentFlagFormSortedByName() {
        let resources = Resources([
            .ranges("ports", [r(33000, 33010), r(31000, 32000)]), .scalar("mem", 1024), .scalar("cpus", 2),
            .scalar("cpus", 1, role: "web"), .set("zones", ["b", "a"]), .scalar("disk", 0.5),
        ])
        #expect(
            resources.description
                == "cpus:2; cpus(web):1; disk:0.5; mem:1024; ports:[31000-32000, 33000-33010]; zones:{a,b}")
    }

    @Test func iteratesItsNormalizedEntries() {
        let resources = Resources([.scalar("mem", 1), .scalar("cpus", 1)])
        #expect(resources.map(\.name) == ["cpus", "mem"])
        #expect(resources.count == 2)
    }

    @Test func formatsFixedDecimalsWithoutFoundation() {
        #expect(ScalarFormat.fixed(1.23456, decimals: 2) == "1.23")
        #expect(ScalarFormat.fixed(0.05, decimals: 3) == "0.050")
        #expect(ScalarFormat.fixed(-2.5, decimals: 1) == "-2.5")
        #expect(ScalarFormat.fixed(7, decimals: 0) == "7")
    }
}
