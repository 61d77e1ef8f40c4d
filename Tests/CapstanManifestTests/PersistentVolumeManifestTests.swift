import CapstanCore
import CapstanManifest
import Testing

/// `volumes: [{path, persistent: {size, destroy}}]` as the decoder reads it.
@Suite struct PersistentVolumeManifestTests {
    @Test func aRelativePathIsInTheSandboxAndDestroyMustSayConfirm() throws {
        let yaml = header + """
              volumes:
                - {path: data, persistent: {size: 1Gi}}
                - {path: logs/app, persistent: {size: 64Mi, destroy: confirm}}
            """
        let set = ManifestLoader.load([ManifestFile(path: "apps/web.yaml", text: yaml)])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let volumes = try #require(set.workloads.first?.spec.volumes)
        #expect(volumes == [
            VolumeSpec(path: "data", source: .persistent(sizeMiB: 1024, destroy: false)),
            VolumeSpec(path: "logs/app", source: .persistent(sizeMiB: 64, destroy: true)),
        ])
    }

    @Test func badPersistentVolumesAreReportedAtTheField() {
        let yaml = header + """
              volumes:
                - {path: /data, persistent: {size: 1Gi}}
                - {path: a_b, persistent: {size: 1Gi}}
                - {path: a/b, persistent: {size: 1Gi}}
                - {path: x, persistent: {size: 1Gi, destroy: yes-please}}
                - {path: ../up, persistent: {size: 1Gi}}
                - {path: rel, host: /srv}
            """
        #expect(diagnostics(yaml) == [
            "apps/web.yaml:8:7: spec.volumes[0].path: a persistent volume at an absolute path needs spec.image; without an image give a path in the sandbox, such as 'data'",
            "apps/web.yaml:10:7: spec.volumes[2].path: 'a/b' and 'a_b' name the same persistent volume ('a_b'): rename one",
            "apps/web.yaml:11:50: spec.volumes[3].persistent.destroy: 'yes-please' is not 'confirm' (the only value: it deletes the volume's data on every agent)",
            "apps/web.yaml:12:14: spec.volumes[4].path: '../up' must not contain '..'",
            "apps/web.yaml:13:14: spec.volumes[5].path: 'rel' is not an absolute path (only a persistent volume may be relative to the sandbox)",
        ])
    }

    @Test func aVolumeMarkedDestroyIsNotPartOfWhatTheTaskRuns() {
        let bare = Workload(kind: .app, name: "db", spec: WorkloadSpec(command: ["/bin/true"]))
        var mounted = bare
        mounted.spec.volumes = [VolumeSpec(path: "data", source: .persistent(sizeMiB: 64))]
        var destroyed = bare
        destroyed.spec.volumes = [VolumeSpec(path: "data", source: .persistent(sizeMiB: 64, destroy: true))]
        #expect(destroyed.templateLabel == bare.templateLabel, "marking an unmounted volume destroy restarts nothing")
        #expect(mounted.templateLabel != destroyed.templateLabel, "a mounted volume marked destroy replaces the task without it")
        #expect(destroyed.canonical != bare.canonical, "the manifest still differs (the plan shows it)")
    }
}
