import Config
import DriverHost
import Foundation
import Scheduler
import WorkerPool

/// Configured instance types whose provider type the driver's catalogue does not offer: every
/// create of them would fail (`invalid`) round after round, so they are named before serving.
///
///     let problems = await CatalogueCheck.problems(config.instanceTypes, in: opened)
enum CatalogueCheck {
    static func problems(_ types: [InstanceType], in opened: DriverOpening.Opened) async -> [SettingProblem] {
        let driver = opened.driver.info.id
        let catalogue: [CatalogInstanceType]
        do {
            catalogue = try await opened.instanceSet.instanceTypes()
        } catch {
            return [
                SettingProblem("driver.config", "the \(driver) driver cannot list its instance types (\(error.errorClass.name)): \(error.message)")
            ]
        }
        let offered = Set(catalogue.map(\.providerType))
        let shown = offered.sorted().prefix(12).joined(separator: ", ") + (offered.count > 12 ? ", …" : "")
        return types.enumerated().compactMap { i, t in
            guard !offered.contains(t.providerType) else { return nil }
            return SettingProblem(
                "instance_types[\(i)].provider_type",
                "\"\(t.providerType)\" (\(t.name)) is not in the \(driver) driver's catalogue (offered: \(shown.isEmpty ? "none" : shown))")
        }
    }

    /// One line per configured type: its price beside the catalogue's (on demand and spot) and the
    /// quota group it will be in, so a price copied wrong or a type in the wrong group shows.
    static func table(_ types: [InstanceType], in opened: DriverOpening.Opened) async -> [String] {
        let driver = opened.driver.info.id
        let catalogue = (try? await opened.instanceSet.instanceTypes()) ?? []
        let offered = Dictionary(catalogue.map { ($0.providerType, $0) }, uniquingKeysWith: { a, _ in a })
        let nameWidth = types.map(\.name.count).max() ?? 0
        let providerWidth = types.map(\.providerType.count).max() ?? 0
        var lines = ["instance types: configured price | the \(driver) driver's catalogue | quota group"]
        for t in types {
            let listed = offered[t.providerType]
            let prices = [listed?.price.map { "\(dollars($0))/h" }, listed?.spotPrice.map { "spot \(dollars($0))/h" }].compactMap { $0 }
            let theirs = listed == nil ? "not offered" : prices.isEmpty ? "no price" : prices.joined(separator: ", ")
            var group = t.quotaGroup
            if group == WorkerPool.unsetQuotaGroup,
                let asked = try? await opened.instanceSet.quotaGroup(providerType: t.providerType, preemptible: t.preemptible)
            {
                group = "\(asked) (the driver's)"
            }
            lines.append(
                "  \(t.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  "
                    + "\(t.providerType.padding(toLength: providerWidth, withPad: " ", startingAt: 0))  "
                    + "\(dollars(t.price))/h\(t.preemptible ? " spot" : "") | \(theirs) | \(group)")
        }
        return lines
    }

    private static func dollars(_ price: Double) -> String { "$" + String(format: "%.4f", price) }
}
