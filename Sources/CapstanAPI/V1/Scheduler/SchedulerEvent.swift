import CapstanCore

/// `mesos.v1.scheduler.Event`: what the master streams to a subscribed framework.
public struct SchedulerEvent: Codable, Sendable, Hashable {
    /// `Event.Type`.
    public enum Kind: String, MesosEnum {
        case unknown = "UNKNOWN"
        case subscribed = "SUBSCRIBED"
        case offers = "OFFERS"
        case inverseOffers = "INVERSE_OFFERS"
        case rescind = "RESCIND"
        case rescindInverseOffer = "RESCIND_INVERSE_OFFER"
        case update = "UPDATE"
        case updateOperationStatus = "UPDATE_OPERATION_STATUS"
        case message = "MESSAGE"
        case failure = "FAILURE"
        case error = "ERROR"
        case heartbeat = "HEARTBEAT"
    }

    public var type: Kind?
    public var subscribed: Subscribed?
    public var offers: Offers?
    public var inverseOffers: InverseOffers?
    public var rescind: Rescind?
    public var rescindInverseOffer: RescindInverseOffer?
    public var update: Update?
    public var message: Message?
    public var failure: Failure?
    public var error: Error?

    enum CodingKeys: String, CodingKey {
        case type, subscribed, offers
        case inverseOffers = "inverse_offers"
        case rescind
        case rescindInverseOffer = "rescind_inverse_offer"
        case update, message, failure, error
    }

    public init(
        type: Kind?, subscribed: Subscribed? = nil, offers: Offers? = nil, inverseOffers: InverseOffers? = nil,
        rescind: Rescind? = nil, rescindInverseOffer: RescindInverseOffer? = nil, update: Update? = nil,
        message: Message? = nil, failure: Failure? = nil, error: Error? = nil
    ) {
        self.type = type
        self.subscribed = subscribed
        self.offers = offers
        self.inverseOffers = inverseOffers
        self.rescind = rescind
        self.rescindInverseOffer = rescindInverseOffer
        self.update = update
        self.message = message
        self.failure = failure
        self.error = error
    }

    /// A HEARTBEAT event.
    public static let heartbeat = SchedulerEvent(type: .heartbeat)
}

extension SchedulerEvent {
    /// `Event.Subscribed`.
    public struct Subscribed: Codable, Sendable, Hashable {
        public var frameworkID: FrameworkID
        public var heartbeatIntervalSeconds: Double?
        public var masterInfo: MasterInfo?

        enum CodingKeys: String, CodingKey {
            case frameworkID = "framework_id"
            case heartbeatIntervalSeconds = "heartbeat_interval_seconds"
            case masterInfo = "master_info"
        }

        public init(frameworkID: FrameworkID, heartbeatIntervalSeconds: Double? = nil, masterInfo: MasterInfo? = nil) {
            self.frameworkID = frameworkID
            self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
            self.masterInfo = masterInfo
        }
    }

    /// `Event.Offers`. (Mesos 1.0 also carried `inverse_offers` here; they moved to `Event.InverseOffers`.)
    public struct Offers: Codable, Sendable, Hashable {
        @Repeated public var offers: [Offer]
        @Repeated public var inverseOffers: [InverseOffer]

        enum CodingKeys: String, CodingKey {
            case offers
            case inverseOffers = "inverse_offers"
        }

        public init(offers: [Offer] = [], inverseOffers: [InverseOffer] = []) {
            self.offers = offers
            self.inverseOffers = inverseOffers
        }
    }

    /// `Event.InverseOffers`.
    public struct InverseOffers: Codable, Sendable, Hashable {
        @Repeated public var inverseOffers: [InverseOffer]

        enum CodingKeys: String, CodingKey { case inverseOffers = "inverse_offers" }

        public init(inverseOffers: [InverseOffer] = []) { self.inverseOffers = inverseOffers }
    }

    /// `Event.Rescind`.
    public struct Rescind: Codable, Sendable, Hashable {
        public var offerID: OfferID

        enum CodingKeys: String, CodingKey { case offerID = "offer_id" }

        public init(offerID: OfferID) { self.offerID = offerID }
    }

    /// `Event.RescindInverseOffer`.
    public struct RescindInverseOffer: Codable, Sendable, Hashable {
        public var inverseOfferID: OfferID

        enum CodingKeys: String, CodingKey { case inverseOfferID = "inverse_offer_id" }

        public init(inverseOfferID: OfferID) { self.inverseOfferID = inverseOfferID }
    }

    /// `Event.Update`: a task status update.
    public struct Update: Codable, Sendable, Hashable {
        public var status: TaskStatus

        public init(status: TaskStatus) { self.status = status }
    }

    /// `Event.Message`: opaque data from an executor.
    public struct Message: Codable, Sendable, Hashable {
        public var agentID: AgentID
        public var executorID: ExecutorID
        public var data: Base64Bytes

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case executorID = "executor_id"
            case data
        }

        public init(agentID: AgentID, executorID: ExecutorID, data: Base64Bytes) {
            self.agentID = agentID
            self.executorID = executorID
            self.data = data
        }
    }

    /// `Event.Failure`: an agent was lost (no executor) or an executor terminated (with `status`).
    public struct Failure: Codable, Sendable, Hashable {
        public var agentID: AgentID?
        public var executorID: ExecutorID?
        public var status: Int32?

        enum CodingKeys: String, CodingKey {
            case agentID = "agent_id"
            case executorID = "executor_id"
            case status
        }

        public init(agentID: AgentID? = nil, executorID: ExecutorID? = nil, status: Int32? = nil) {
            self.agentID = agentID
            self.executorID = executorID
            self.status = status
        }
    }

    /// `Event.Error`: the framework's subscription ends.
    public struct Error: Codable, Sendable, Hashable {
        public var message: String

        public init(message: String) { self.message = message }
    }
}
