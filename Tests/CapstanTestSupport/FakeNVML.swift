import Foundation

/// A stand-in for NVIDIA's `libnvidia-ml.so.1`, compiled by the tests with the C compiler: it answers the NVML calls
/// Capstan makes as a machine with two GPUs would (UUIDs `GPU-fake-0…`, minors 0 and 1, 16 and 24 GiB), so the
/// `gpu/nvidia` isolator is exercised where there is no GPU. `FAKE_NVML_GPUS` (0–8) changes the count.
public enum FakeNVML {
    static let source = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        typedef struct { unsigned long long total, free, used; } mem_t;
        typedef struct { unsigned int gpu, memory; } util_t;
        struct dev { unsigned int index; };
        static struct dev devices[8];
        static int initialized;

        static unsigned int count(void) {
            const char *env = getenv("FAKE_NVML_GPUS");
            int n = env ? atoi(env) : 2;
            return n < 0 ? 0 : n > 8 ? 8 : (unsigned int)n;
        }
        int nvmlInit_v2(void) { initialized = 1; for (unsigned i = 0; i < 8; i++) devices[i].index = i; return 0; }
        int nvmlShutdown(void) { initialized = 0; return 0; }
        const char *nvmlErrorString(int status) { return status == 1 ? "Uninitialized" : "Invalid Argument"; }
        int nvmlSystemGetDriverVersion(char *out, unsigned int length) { snprintf(out, length, "%s", "999.99-fake"); return 0; }
        int nvmlDeviceGetCount_v2(unsigned int *n) { if (!initialized) return 1; *n = count(); return 0; }
        int nvmlDeviceGetHandleByIndex_v2(unsigned int i, struct dev **out) {
            if (!initialized) return 1;
            if (i >= count()) return 2;
            *out = &devices[i];
            return 0;
        }
        int nvmlDeviceGetHandleByUUID(const char *uuid, struct dev **out) {
            for (unsigned i = 0; i < count(); i++) {
                char want[64]; snprintf(want, sizeof want, "GPU-fake-%u", i);
                if (strcmp(want, uuid) == 0) { *out = &devices[i]; return 0; }
            }
            return 6;
        }
        int nvmlDeviceGetMinorNumber(struct dev *d, unsigned int *minor) { *minor = d->index; return 0; }
        int nvmlDeviceGetUUID(struct dev *d, char *out, unsigned int length) { snprintf(out, length, "GPU-fake-%u", d->index); return 0; }
        int nvmlDeviceGetName(struct dev *d, char *out, unsigned int length) { snprintf(out, length, "Fake GPU %u", d->index); return 0; }
        int nvmlDeviceGetMemoryInfo(struct dev *d, mem_t *m) {
            m->total = (16ULL + 8ULL * d->index) << 30; m->used = (1ULL + d->index) << 20; m->free = m->total - m->used; return 0;
        }
        int nvmlDeviceGetUtilizationRates(struct dev *d, util_t *u) { u->gpu = 7 + d->index; u->memory = 3; return 0; }
        """#

    /// Compiles the library as `DIRECTORY/libnvidia-ml.so.1` and returns its path.
    /// - Throws: when no C compiler (`cc`, `clang` or `gcc`) is on PATH or compiling fails, with the compiler's output.
    public static func build(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sourcePath = directory + "/fake_nvml.c"
        let library = directory + "/libnvidia-ml.so.1"
        let log = directory + "/cc.log"
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        var failures: [String] = []
        for compiler in ["cc", "clang", "gcc"] {
            // Output to a file, not a pipe (a pipe can leak into a child another test forks meanwhile).
            let status = HostCommand.status("/bin/sh", ["-c", "exec \(compiler) -shared -fPIC -O1 -o '\(library)' '\(sourcePath)' >'\(log)' 2>&1"])
            if status == 0 { return library }
            failures.append("\(compiler) (exit \(status)): \(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(400))")
        }
        throw TestFailure("cannot compile the fake NVML library: \(failures.joined(separator: "; "))")
    }
}
