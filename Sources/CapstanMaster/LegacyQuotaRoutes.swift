import CapstanAPI
import CapstanCore
import CapstanHTTP
import Foundation
import HTTPTypes
import Hummingbird

/// Mesos 1.0's `/quota` (GET, POST, DELETE `/quota/ROLE`) and `/weights` (GET, PUT), also under `/master/`: the same
/// operations as GET/SET/REMOVE_QUOTA, GET_WEIGHTS and UPDATE_WEIGHTS, with the bare messages as bodies.
enum LegacyQuotaRoutes {
    static func register(on router: Router<BasicRequestContext>, master: Master) {
        for prefix in ["", "master/"] {
            router.get(RouterPath(prefix + "quota")) { request, _ in
                try await answering { try Response.mesosJSON(await master.quotaStatus(), jsonp: request) }
            }
            router.post(RouterPath(prefix + "quota")) { request, _ in
                try await answering {
                    let quotaRequest = try await request.decodeMesos(QuotaRequest.self)
                    try await master.setQuota(quotaRequest, field: "quota_request")
                    return Response(status: .ok)
                }
            }
            router.delete(RouterPath(prefix + "quota/:role")) { _, context in
                try await answering {
                    let role = context.parameters.get("role") ?? ""
                    try await master.removeQuota(role, field: "role")
                    return Response(status: .ok)
                }
            }
            router.get(RouterPath(prefix + "weights")) { request, _ in
                try await answering { try Response.mesosJSON(await master.weightInfos(), jsonp: request) }
            }
            router.put(RouterPath(prefix + "weights")) { request, _ in
                try await answering {
                    let infos = try await request.decodeMesos([WeightInfo].self)
                    try await master.updateWeights(infos, field: "weights")
                    return Response(status: .ok)
                }
            }
        }
    }
}
