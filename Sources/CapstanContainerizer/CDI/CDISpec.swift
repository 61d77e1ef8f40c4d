public import CapstanCore

/// One CDI spec file as decoded and checked by ``CDISpecDecoder``: the devices of one kind and the edits they bring.
public struct CDISpec: Sendable, Equatable {
    /// The declared `cdiVersion`; every field used is at least this old.
    public var version: CDIVersion
    public var kind: CDIKind
    /// `annotations` (0.6.0+): information for consumers, not applied to containers.
    public var annotations: [String: String]
    /// At least one device, names unique within the file.
    public var devices: [CDIDevice]
    /// Spec-level `containerEdits`: applied once when any device of this spec is used.
    public var containerEdits: CDIContainerEdits

    public init(
        version: CDIVersion, kind: CDIKind, annotations: [String: String] = [:], devices: [CDIDevice],
        containerEdits: CDIContainerEdits = CDIContainerEdits()
    ) {
        self.version = version
        self.kind = kind
        self.annotations = annotations
        self.devices = devices
        self.containerEdits = containerEdits
    }
}

/// One device of a spec: its short name (the part after `=` in `vendor.com/class=name`) and its edits.
public struct CDIDevice: Sendable, Equatable {
    public var name: String
    public var annotations: [String: String]
    public var containerEdits: CDIContainerEdits

    public init(name: String, annotations: [String: String] = [:], containerEdits: CDIContainerEdits = CDIContainerEdits()) {
        self.name = name
        self.annotations = annotations
        self.containerEdits = containerEdits
    }
}
