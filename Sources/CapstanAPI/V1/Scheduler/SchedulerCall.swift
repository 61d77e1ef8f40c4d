import CapstanCore

/// `mesos.v1.scheduler.Call`: what a framework POSTs to `/api/v1/scheduler`.
public struct SchedulerCall: Codable, Sendable, Hashable {
    /// `Call.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case subscribe = "SUBSCRIBE"
        case teardown = "TEARDOWN"
        case accept = "ACCEPT"
        case decline = "DECLINE"
        case acceptInverseOffers = "ACCEPT_INVERSE_OFFERS"
        case declineInverseOffers = "DECLINE_INVERSE_OFFERS"
        case revive = "REVIVE"
        case kill = "KILL"
        case shutdown = "SHUTDOWN"
        case acknowledge = "ACKNOWLEDGE"
        case acknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS"
        case reconcile = "RECONCILE"
        case reconcileOperations = "RECONCILE_OPERATIONS"
        case message = "MESSAGE"
        case request = "REQUEST"
        case suppress = "SUPPRESS"
        case updateFramework = "UPDATE_FRAMEWORK"
    }

    public var frameworkID: FrameworkID?
    public var type: Kind?
    public var subscribe: Subscribe?
    public var accept: Accept?
    public var decline: Decline?
    public var acceptInverseOffers: InverseOffers?
    public var declineInverseOffers: InverseOffers?
    public var revive: Revive?
    public var kill: Kill?
    public var shutdown: Shutdown?
    public var acknowledge: Acknowledge?
    public var reconcile: Reconcile?
    public var message: Message?
    public var request: Request?
    public var suppress: Suppress?
    public var updateFramework: Subscribe?

    enum CodingKeys: String, CodingKey {
        case frameworkID = "framework_id"
        case type, subscribe, accept, decline
        case acceptInverseOffers = "accept_inverse_offers"
        case declineInverseOffers = "decline_inverse_offers"
        case revive, kill, shutdown, acknowledge, reconcile, message, request, suppress
        case updateFramework = "update_framework"
    }

    public init(
        type: Kind?, frameworkID: FrameworkID? = nil, subscribe: Subscribe? = nil, accept: Accept? = nil,
        decline: Decline? = nil, acceptInverseOffers: InverseOffers? = nil, declineInverseOffers: InverseOffers? = nil,
        revive: Revive? = nil, kill: Kill? = nil, shutdown: Shutdown? = nil, acknowledge: Acknowledge? = nil,
        reconcile: Reconcile? = nil, message: Message? = nil, request: Request? = nil, suppress: Suppress? = nil,
        updateFramework: Subscribe? = nil
    ) {
        self.frameworkID = frameworkID
        self.type = type
        self.subscribe = subscribe
        self.accept = accept
        self.decline = decline
        self.acceptInverseOffers = acceptInverseOffers
        self.declineInverseOffers = declineInverseOffers
        self.revive = revive
        self.kill = kill
        self.shutdown = shutdown
        self.acknowledge = acknowledge
        self.reconcile = reconcile
        self.message = message
        self.request = request
        self.suppress = suppress
        self.updateFramework = updateFramework
    }
}
