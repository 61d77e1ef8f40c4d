public import CapstanCore
import Glibc

/// The NVIDIA GPUs a machine has, as NVML reports them.
public struct GPUInventory: Sendable, Equatable {
    /// `nvmlSystemGetDriverVersion`, e.g. `535.104.05`.
    public var driverVersion: String
    public var devices: [GPUDevice]

    public init(driverVersion: String, devices: [GPUDevice]) {
        self.driverVersion = driverVersion
        self.devices = devices
    }
}

/// One whole GPU.
public struct GPUDevice: Sendable, Hashable, Codable {
    /// NVML's index (what `nvidia-smi` and `--nvidia-gpu-devices` number).
    public var index: Int
    /// The minor number of its `/dev/nvidiaN` node (character major 195).
    public var minor: Int
    /// `GPU-…`
    public var uuid: String
    public var name: String
    /// Framebuffer memory, when NVML reports it.
    public var memoryBytes: UInt64?
    /// MIG instances when MIG mode is on (their UUIDs: `MIG-…`).
    public var migDevices: [String]

    public init(index: Int, minor: Int, uuid: String, name: String, memoryBytes: UInt64? = nil, migDevices: [String] = []) {
        self.index = index
        self.minor = minor
        self.uuid = uuid
        self.name = name
        self.memoryBytes = memoryBytes
        self.migDevices = migDevices
    }

    /// `/dev/nvidiaN`
    public var devicePath: String { "/dev/nvidia\(minor)" }
}

/// NVML (`libnvidia-ml.so.1`) loaded at run time with `dlopen`, as Mesos' `gpu/nvidia` isolator does: no link-time
/// dependency, so the agent runs on machines without the driver and says why when the isolator is asked for.
public enum NVMLLibrary {
    /// The library name the driver installs.
    public static let defaultPath = "libnvidia-ml.so.1"

    /// What NVML reports: each GPU's index, minor number, UUID, name, memory and MIG instances, and the driver version.
    ///
    /// - Throws: ``CapstanError`` `.failedPrecondition` naming the library when it cannot be loaded, lacks a function,
    ///   or an NVML call fails (with NVML's return code).
    public static func inventory(library: String = defaultPath) throws(CapstanError) -> GPUInventory {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw CapstanError(
                .failedPrecondition,
                "gpu/nvidia: cannot load NVML (\(library)): \(reason); install the NVIDIA driver, or leave gpu/nvidia out of --isolation")
        }
        defer { dlclose(handle) }
        let nvml = try Functions(handle: handle, library: library)
        try nvml.check(nvml.initialize(), "nvmlInit_v2")
        defer { _ = nvml.shutdown() }

        var text = [CChar](repeating: 0, count: 96)
        try nvml.check(nvml.driverVersion(&text, UInt32(text.count)), "nvmlSystemGetDriverVersion")
        let driver = Self.string(text)
        var count: UInt32 = 0
        try nvml.check(nvml.deviceCount(&count), "nvmlDeviceGetCount_v2")
        guard count <= 256 else { throw CapstanError(.failedPrecondition, "gpu/nvidia: NVML (\(library)) reports \(count) GPUs, more than 256") }
        var devices: [GPUDevice] = []
        for index in 0..<count {
            var device: UnsafeMutableRawPointer?
            try nvml.check(nvml.handleByIndex(index, &device), "nvmlDeviceGetHandleByIndex_v2(\(index))")
            guard let device else { throw CapstanError(.failedPrecondition, "gpu/nvidia: NVML gave no handle for GPU \(index)") }
            var minor: UInt32 = 0
            try nvml.check(nvml.minorNumber(device, &minor), "nvmlDeviceGetMinorNumber(\(index))")
            var uuid = [CChar](repeating: 0, count: 96)
            try nvml.check(nvml.uuid(device, &uuid, UInt32(uuid.count)), "nvmlDeviceGetUUID(\(index))")
            var name = [CChar](repeating: 0, count: 96)
            try nvml.check(nvml.name(device, &name, UInt32(name.count)), "nvmlDeviceGetName(\(index))")
            let memoryBytes = nvml.memoryInfo(device)?.total
            devices.append(
                GPUDevice(
                    index: Int(index), minor: Int(minor), uuid: Self.string(uuid), name: Self.string(name), memoryBytes: memoryBytes,
                    migDevices: nvml.migDevices(of: device)))
        }
        return GPUInventory(driverVersion: driver, devices: devices)
    }

    /// Memory and utilisation of the GPU with `uuid` now; nil when NVML cannot be loaded or does not know the GPU.
    public static func usage(of uuid: String, library: String = defaultPath) -> GPUUsage? {
        usage(of: [uuid], library: library).first.flatMap { $0.memoryTotalBytes == nil && $0.utilizationPercent == nil ? nil : $0 }
    }

    /// Memory and utilisation of each GPU in `uuids` now, in their order, from one NVML session. A GPU NVML cannot
    /// tell about (or every GPU, when NVML cannot be loaded) comes back with nil fields. NVML calls may block: run
    /// this off the caller's executor.
    public static func usage(of uuids: [String], library: String = defaultPath) -> [GPUUsage] {
        let unknown = uuids.map { GPUUsage(uuid: $0) }
        guard !uuids.isEmpty, let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else { return unknown }
        defer { dlclose(handle) }
        guard let nvml = try? Functions(handle: handle, library: library), nvml.initialize() == 0 else { return unknown }
        defer { _ = nvml.shutdown() }
        guard let byUUID = nvml.handleByUUID else { return unknown }
        return uuids.map { uuid in
            var device: UnsafeMutableRawPointer?
            guard byUUID(uuid, &device) == 0, let device else { return GPUUsage(uuid: uuid) }
            let memory = nvml.memoryInfo(device)
            return GPUUsage(uuid: uuid, memoryUsedBytes: memory?.used, memoryTotalBytes: memory?.total, utilizationPercent: nvml.utilization(device))
        }
    }

    static func string(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}


/// The NVML functions Capstan calls, resolved with `dlsym`; the MIG and usage ones are optional (older drivers).
private struct Functions {
    typealias Status = Int32
    typealias Device = UnsafeMutableRawPointer
    let library: String
    let initialize: @convention(c) () -> Status
    let shutdown: @convention(c) () -> Status
    let errorString: (@convention(c) (Status) -> UnsafePointer<CChar>?)?
    let driverVersion: @convention(c) (UnsafeMutablePointer<CChar>, UInt32) -> Status
    let deviceCount: @convention(c) (UnsafeMutablePointer<UInt32>) -> Status
    let handleByIndex: @convention(c) (UInt32, UnsafeMutablePointer<Device?>) -> Status
    let handleByUUID: (@convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<Device?>) -> Status)?
    let minorNumber: @convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Status
    let uuid: @convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Status
    let name: @convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Status
    let memoryInfoCall: @convention(c) (Device, UnsafeMutableRawPointer) -> Status
    let utilizationCall: (@convention(c) (Device, UnsafeMutableRawPointer) -> Status)?
    let migMode: (@convention(c) (Device, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> Status)?
    let maxMigCount: (@convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Status)?
    let migHandle: (@convention(c) (Device, UInt32, UnsafeMutablePointer<Device?>) -> Status)?

    init(handle: UnsafeMutableRawPointer, library: String) throws(CapstanError) {
        self.library = library
        func required<T>(_ symbol: String, as type: T.Type) throws(CapstanError) -> T {
            guard let pointer = dlsym(handle, symbol) else {
                throw CapstanError(.failedPrecondition, "gpu/nvidia: NVML (\(library)) has no \(symbol); the driver is too old or this is not NVML")
            }
            return unsafeBitCast(pointer, to: type)
        }
        func optional<T>(_ symbol: String, as type: T.Type) -> T? {
            dlsym(handle, symbol).map { unsafeBitCast($0, to: type) }
        }
        initialize = try required("nvmlInit_v2", as: (@convention(c) () -> Status).self)
        shutdown = try required("nvmlShutdown", as: (@convention(c) () -> Status).self)
        errorString = optional("nvmlErrorString", as: (@convention(c) (Status) -> UnsafePointer<CChar>?).self)
        driverVersion = try required("nvmlSystemGetDriverVersion", as: (@convention(c) (UnsafeMutablePointer<CChar>, UInt32) -> Status).self)
        deviceCount = try required("nvmlDeviceGetCount_v2", as: (@convention(c) (UnsafeMutablePointer<UInt32>) -> Status).self)
        handleByIndex = try required("nvmlDeviceGetHandleByIndex_v2", as: (@convention(c) (UInt32, UnsafeMutablePointer<Device?>) -> Status).self)
        handleByUUID = optional("nvmlDeviceGetHandleByUUID", as: (@convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<Device?>) -> Status).self)
        minorNumber = try required("nvmlDeviceGetMinorNumber", as: (@convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Status).self)
        uuid = try required("nvmlDeviceGetUUID", as: (@convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Status).self)
        name = try required("nvmlDeviceGetName", as: (@convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Status).self)
        memoryInfoCall = try required("nvmlDeviceGetMemoryInfo", as: (@convention(c) (Device, UnsafeMutableRawPointer) -> Status).self)
        utilizationCall = optional("nvmlDeviceGetUtilizationRates", as: (@convention(c) (Device, UnsafeMutableRawPointer) -> Status).self)
        migMode = optional("nvmlDeviceGetMigMode", as: (@convention(c) (Device, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> Status).self)
        maxMigCount = optional("nvmlDeviceGetMaxMigDeviceCount", as: (@convention(c) (Device, UnsafeMutablePointer<UInt32>) -> Status).self)
        migHandle = optional("nvmlDeviceGetMigDeviceHandleByIndex", as: (@convention(c) (Device, UInt32, UnsafeMutablePointer<Device?>) -> Status).self)
    }

    /// `nvmlDeviceGetMemoryInfo`: `nvmlMemory_t` is three `unsigned long long` (total, free, used).
    func memoryInfo(_ device: Device) -> (total: UInt64, used: UInt64)? {
        var memory: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let status = withUnsafeMutableBytes(of: &memory) { memoryInfoCall(device, $0.baseAddress!) }
        return status == 0 ? (memory.0, memory.2) : nil
    }

    /// `nvmlDeviceGetUtilizationRates`: `nvmlUtilization_t` is two `unsigned int` (gpu, memory percent).
    func utilization(_ device: Device) -> Int? {
        guard let utilizationCall else { return nil }
        var rates: (UInt32, UInt32) = (0, 0)
        let status = withUnsafeMutableBytes(of: &rates) { utilizationCall(device, $0.baseAddress!) }
        return status == 0 ? Int(rates.0) : nil
    }

    /// Throws unless `status` is NVML_SUCCESS (0), with NVML's own words for the code.
    func check(_ status: Status, _ call: String) throws(CapstanError) {
        guard status != 0 else { return }
        let words = errorString.flatMap { $0(status) }.map { String(cString: $0) } ?? "error \(status)"
        throw CapstanError(.failedPrecondition, "gpu/nvidia: \(call) in \(library) failed: \(words) (NVML return code \(status))")
    }

    /// The UUIDs of the MIG devices of `device` when MIG mode is on; none when off or when the driver has no MIG.
    func migDevices(of device: Device) -> [String] {
        guard let migMode, let maxMigCount, let migHandle else { return [] }
        var current: UInt32 = 0
        var pending: UInt32 = 0
        guard migMode(device, &current, &pending) == 0, current == 1 else { return [] }
        var count: UInt32 = 0
        guard maxMigCount(device, &count) == 0 else { return [] }
        var found: [String] = []
        for index in 0..<min(count, 64) {
            var mig: Device?
            guard migHandle(device, index, &mig) == 0, let mig else { continue }
            var text = [CChar](repeating: 0, count: 96)
            if uuid(mig, &text, UInt32(text.count)) == 0 { found.append(NVMLLibrary.string(text)) }
        }
        return found
    }
}
