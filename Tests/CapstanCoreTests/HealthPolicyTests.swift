import Testing

@testable import CapstanCore

@Suite("HealthPolicy")
struct HealthPolicyTests {
    private let settings = HealthPolicy.Settings(
        delay: .zero, interval: .seconds(1), timeout: .seconds(1), consecutiveFailures: 3, gracePeriod: .seconds(10))

    @Test func reportsTheFirstSuccessOnlyOnce() {
        var policy = HealthPolicy(settings)
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(1)) == .report(healthy: true))
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(2)) == .none)
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(3)) == .none)
    }

    @Test func ignoresFailuresInTheGracePeriodBeforeTheFirstSuccess() {
        var policy = HealthPolicy(settings)
        for second in 1...10 {
            #expect(policy.record(healthy: false, sinceLaunch: .seconds(second)) == .none)
        }
        #expect(policy.consecutiveFailures == 0)
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(11)) == .report(healthy: false))
        #expect(policy.consecutiveFailures == 1)
    }

    @Test func countsFailuresInTheGracePeriodOnceTheCheckHasSucceeded() {
        var policy = HealthPolicy(settings)
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(1)) == .report(healthy: true))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(2)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(3)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(4)) == .reportUnhealthyAndKill)
    }

    @Test func reportsEveryCountedFailureAndKillsAtTheLimit() {
        var policy = HealthPolicy(settings)
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(11)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(12)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(13)) == .reportUnhealthyAndKill)
        #expect(policy.killRequested)
    }

    @Test func answersNothingAfterTheKill() {
        var policy = HealthPolicy(HealthPolicy.Settings(
            delay: .zero, interval: .seconds(1), timeout: .seconds(1), consecutiveFailures: 1, gracePeriod: .zero))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(1)) == .reportUnhealthyAndKill)
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(2)) == .none)
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(3)) == .none)
    }

    @Test func aSuccessAfterFailuresReportsHealthyAndResetsTheCount() {
        var policy = HealthPolicy(settings)
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(1)) == .report(healthy: true))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(2)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(3)) == .report(healthy: false))
        #expect(policy.record(healthy: true, sinceLaunch: .seconds(4)) == .report(healthy: true))
        #expect(policy.consecutiveFailures == 0)
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(5)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(6)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .seconds(7)) == .reportUnhealthyAndKill)
    }

    @Test func zeroGracePeriodCountsTheVeryFirstFailure() {
        var policy = HealthPolicy(HealthPolicy.Settings(
            delay: .zero, interval: .seconds(1), timeout: .seconds(1), consecutiveFailures: 2, gracePeriod: .zero))
        #expect(policy.record(healthy: false, sinceLaunch: .milliseconds(1)) == .report(healthy: false))
        #expect(policy.record(healthy: false, sinceLaunch: .milliseconds(2)) == .reportUnhealthyAndKill)
    }

    @Test func settingsFillMesosDefaultsAndClampNegativeSeconds() {
        let defaults = HealthPolicy.Settings(
            delaySeconds: nil, intervalSeconds: nil, timeoutSeconds: nil, consecutiveFailures: nil, gracePeriodSeconds: nil)
        #expect(defaults == .mesosDefaults)
        #expect(defaults.delay == .seconds(15))
        #expect(defaults.interval == .seconds(10))
        #expect(defaults.timeout == .seconds(20))
        #expect(defaults.consecutiveFailures == 3)
        #expect(defaults.gracePeriod == .seconds(10))

        let given = HealthPolicy.Settings(
            delaySeconds: 0.5, intervalSeconds: -1, timeoutSeconds: .nan, consecutiveFailures: 7, gracePeriodSeconds: 0)
        #expect(given.delay == .milliseconds(500))
        #expect(given.interval == .zero)
        #expect(given.timeout == .zero)
        #expect(given.consecutiveFailures == 7)
        #expect(given.gracePeriod == .zero)
    }
}
