import CapstanCore
import Testing

@Suite("Offer operations on resources: RESERVE, UNRESERVE, CREATE, DESTROY after Mesos 1.0's rules")
struct ResourceOperationTests {
    static let byOps = ResourceReservation(principal: "ops")
    static let disk = Resources([.scalar("cpus", 2), .scalar("disk", 1024)])
    static func reserved(_ size: Double, role: String = "db", principal: String = "ops") -> Resources {
        Resources([Resource(name: "disk", value: .scalar(size), role: role, reservation: ResourceReservation(principal: principal))])
    }
    static func volume(_ size: Double, id: String = "store", path: String = "data", role: String = "db") -> Resources {
        Resources([Resource(name: "disk", value: .scalar(size), role: role, reservation: byOps, volume: PersistentVolume(id: id, principal: "ops", containerPath: path))])
    }

    static func message(_ operation: ResourceOperation, available: Resources, role: String? = "db", principal: String? = "ops", total: Resources? = nil) -> String {
        do {
            let conversion = try operation.conversion(available: available, role: role, principal: principal, agentTotal: total ?? available, field: "accept.operations[0]")
            return "converted \(conversion.consumed) to \(conversion.converted)"
        } catch {
            return error.message
        }
    }

    @Test("RESERVE, CREATE, DESTROY and UNRESERVE round-trip; reservations and volumes stay apart from plain disk")
    func roundTrip() throws {
        let reserve = try ResourceOperation.reserve(Self.reserved(64)).conversion(available: Self.disk, role: "db", principal: "ops", agentTotal: Self.disk, field: "f")
        let reserved = Self.disk - reserve.consumed + reserve.converted
        #expect(reserved.scalar("disk") == 1024 && reserved.reserved(for: "db") == Self.reserved(64))
        #expect("\(reserved)".contains("disk(db, ops):64"))
        let create = try ResourceOperation.create(Self.volume(64)).conversion(available: reserved, role: "db", principal: "ops", agentTotal: reserved, field: "f")
        let withVolume = reserved - create.consumed + create.converted
        #expect(withVolume.contains(Self.volume(64)) && !withVolume.contains(Self.reserved(64)))
        #expect("\(withVolume)".contains("disk(db, ops)[store:data]:64"))
        let destroy = try ResourceOperation.destroy(Self.volume(64)).conversion(available: withVolume, role: "db", principal: "ops", agentTotal: withVolume, field: "f")
        let destroyed = withVolume - destroy.consumed + destroy.converted
        #expect(destroyed == reserved)
        let unreserve = try ResourceOperation.unreserve(Self.reserved(64)).conversion(available: destroyed, role: "db", principal: "ops", agentTotal: destroyed, field: "f")
        #expect(destroyed - unreserve.consumed + unreserve.converted == Self.disk)
    }

    @Test("Each rule, broken, is an error naming the field and the rule")
    func rules() {
        let withVolume = Self.disk - Resources([.scalar("disk", 64)]) + Self.volume(64)
        #expect(Self.message(.reserve(Self.reserved(64, role: "web")), available: Self.disk).contains("is for role 'web', not the framework's role 'db'"))
        #expect(Self.message(.reserve(Self.reserved(64, principal: "mallory")), available: Self.disk).contains("is reserved by 'mallory', not by 'ops' who asks"))
        #expect(Self.message(.reserve(Resources([.scalar("disk", 64, role: "db")])), available: Self.disk).contains("names no reservation"))
        #expect(Self.message(.reserve(Self.reserved(2048)), available: Self.disk).hasPrefix("accept.operations[0].reserve.resources: disk:2048 is not among the resources at hand"))
        #expect(Self.message(.unreserve(Self.volume(64)), available: withVolume).contains("DESTROY it before UNRESERVE"))
        #expect(Self.message(.unreserve(Resources([.scalar("disk", 64, role: "db")])), available: Resources([.scalar("disk", 64, role: "db")])).contains("not dynamically reserved"))
        #expect(Self.message(.create(Self.volume(64)), available: Self.reserved(64), total: withVolume).contains("volume 'store' of role 'db' already exists on this agent"))
        #expect(Self.message(.create(Self.volume(64, path: "/abs")), available: Self.reserved(64)).contains("must be a path relative to the sandbox"))
        #expect(Self.message(.create(Self.volume(64, id: "../x")), available: Self.reserved(64)).contains("volume ID '../x' must be"))
        #expect(Self.message(.create(Self.volume(64)), available: Self.disk).contains("is not among the resources at hand"), "only from reserved disk")
        #expect(Self.message(.destroy(Self.volume(64)), available: Self.disk, total: withVolume).contains("is in use by a task"), "a volume not at hand is held by a task")
        #expect(Self.message(.destroy(Self.volume(32)), available: withVolume).contains("does not exist on this agent") || Self.message(.destroy(Self.volume(32)), available: withVolume).contains("not offered whole"))
        #expect(Self.message(.destroy(Self.volume(64, id: "other")), available: withVolume).contains("volume 'other' of role 'db' does not exist on this agent"))
        #expect(Self.message(.reserve(Resources()), available: Self.disk) == "accept.operations[0].reserve.resources is empty")
    }

    @Test("An operator (no framework role) may act for any role")
    func operatorActsForAnyRole() {
        #expect(Self.message(.reserve(Self.reserved(64, role: "web")), available: Self.disk, role: nil, principal: nil).hasPrefix("converted"))
    }
}
