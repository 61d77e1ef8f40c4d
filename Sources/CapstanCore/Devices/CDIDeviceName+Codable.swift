extension CDIDeviceName: Codable {
    /// Decodes `vendor.com/class=name`, checked as ``CDIDeviceName/init(parsing:)`` checks it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch let error as CapstanError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    /// Encodes the fully qualified name as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// How a task or an image asks for CDI devices.
public enum CDIDeviceRequest {
    /// The prefix of CDI's annotation keys (`cdi.k8s.io/<anything>`), as image labels and annotations carry them.
    public static let annotationPrefix = "cdi.k8s.io/"

    /// The devices a comma-separated list names (``TaskLabel/cdiDevices``, or one annotation's value), in order and
    /// each once; blanks around names and empty entries are ignored.
    /// - Throws: `invalidArgument` naming the first name that is not fully qualified.
    public static func parse(_ list: String) throws -> [CDIDeviceName] {
        var names: [CDIDeviceName] = []
        for part in list.split(separator: ",") {
            let text = part.trimmingSpaces
            guard !text.isEmpty else { continue }
            let name = try CDIDeviceName(parsing: text)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The devices that CDI annotations among `labels` name: every key starting with ``annotationPrefix``, in key
    /// order, each device once. Other labels are ignored.
    /// - Throws: `invalidArgument` naming the annotation and the name that is not fully qualified.
    public static func fromAnnotations(_ labels: [String: String]) throws -> [CDIDeviceName] {
        var names: [CDIDeviceName] = []
        for key in labels.keys.sorted() where key.hasPrefix(annotationPrefix) {
            let listed: [CDIDeviceName]
            do { listed = try parse(labels[key] ?? "") } catch let error as CapstanError {
                throw CapstanError(.invalidArgument, "annotation \(key): \(error.message)")
            }
            for name in listed where !names.contains(name) { names.append(name) }
        }
        return names
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
