import CapstanAPI
import CapstanCore
import CapstanHTTP
import Hummingbird

/// Mesos 1.0's maintenance endpoints, the JSON forms of the maintenance operator calls: `/maintenance/schedule`
/// (GET, and POST with a schedule as the body), `/maintenance/status`, and `/machine/down` and `/machine/up` (POST
/// with a JSON list of machines), each also under `/master/`.
enum MaintenanceRoutes {
    static func register(on router: Router<BasicRequestContext>, master: Master) {
        for prefix in ["", "master/"] {
            router.get(RouterPath(prefix + "maintenance/schedule")) { _, _ in
                try Response.mesosJSON(await master.maintenanceSchedule())
            }
            router.post(RouterPath(prefix + "maintenance/schedule")) { request, _ in
                try await answering {
                    let schedule = try await request.decodeMesos(MaintenanceSchedule.self)
                    try await master.updateMaintenanceSchedule(schedule, field: "")
                    return Response(status: .ok)
                }
            }
            router.get(RouterPath(prefix + "maintenance/status")) { _, _ in
                try Response.mesosJSON(await master.maintenanceStatus())
            }
            router.post(RouterPath(prefix + "machine/down")) { request, _ in
                try await answering {
                    let machines = try await request.decodeMesos([MesosMachineID].self)
                    try await master.startMaintenance(machines, field: "machines")
                    return Response(status: .ok)
                }
            }
            router.post(RouterPath(prefix + "machine/up")) { request, _ in
                try await answering {
                    let machines = try await request.decodeMesos([MesosMachineID].self)
                    try await master.stopMaintenance(machines, field: "machines")
                    return Response(status: .ok)
                }
            }
        }
    }
}
