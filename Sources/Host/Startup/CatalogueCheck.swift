import Config
import DriverHost
import Scheduler

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
            return [SettingProblem("driver.config", "the \(driver) driver cannot list its instance types (\(error.errorClass.name)): \(error.message)")]
        }
        let offered = Set(catalogue.map(\.providerType))
        let shown = offered.sorted().prefix(12).joined(separator: ", ") + (offered.count > 12 ? ", …" : "")
        return types.enumerated().compactMap { i, t in
            guard !offered.contains(t.providerType) else { return nil }
            return SettingProblem("instance_types[\(i)].provider_type",
                                  "\"\(t.providerType)\" (\(t.name)) is not in the \(driver) driver's catalogue (offered: \(shown.isEmpty ? "none" : shown))")
        }
    }
}
