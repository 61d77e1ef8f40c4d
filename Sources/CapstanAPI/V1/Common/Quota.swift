/// `mesos.v1.quota.QuotaRequest`: a role's guarantee as SET_QUOTA and `POST /quota` carry it.
public struct QuotaRequest: Codable, Sendable, Hashable {
    /// Skip the capacity check (a guarantee larger than the cluster is accepted).
    public var force: Bool?
    public var role: String?
    @Repeated public var guarantee: [MesosResource]

    public init(role: String?, guarantee: [MesosResource] = [], force: Bool? = nil) {
        self.role = role
        self.guarantee = guarantee
        self.force = force
    }
}

/// `mesos.v1.quota.QuotaInfo`: a role's quota as the master holds it.
public struct QuotaInfo: Codable, Sendable, Hashable {
    public var role: String?
    public var principal: String?
    @Repeated public var guarantee: [MesosResource]

    public init(role: String?, principal: String? = nil, guarantee: [MesosResource] = []) {
        self.role = role
        self.principal = principal
        self.guarantee = guarantee
    }
}

/// `mesos.v1.quota.QuotaStatus`: every quota (GET_QUOTA, `GET /quota`).
public struct QuotaStatus: Codable, Sendable, Hashable {
    @Repeated public var infos: [QuotaInfo]

    public init(infos: [QuotaInfo] = []) { self.infos = infos }
}

extension OperatorCall {
    /// `Call.SetQuota`.
    public struct SetQuota: Codable, Sendable, Hashable {
        public var quotaRequest: QuotaRequest

        enum CodingKeys: String, CodingKey { case quotaRequest = "quota_request" }

        public init(quotaRequest: QuotaRequest) { self.quotaRequest = quotaRequest }
    }

    /// `Call.RemoveQuota`.
    public struct RemoveQuota: Codable, Sendable, Hashable {
        public var role: String

        public init(role: String) { self.role = role }
    }
}

extension OperatorResponse {
    /// `Response.GetQuota`.
    public struct GetQuota: Codable, Sendable, Hashable {
        public var status: QuotaStatus

        public init(status: QuotaStatus) { self.status = status }
    }
}
