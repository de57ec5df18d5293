/// How `serve` prints what stopped it at start-up: a setting's problem with where the setting
/// came from, anything else as it describes itself.
extension SettingOrigins {
    func message(for error: any Error) -> String {
        "cloud-dispatch: " + ((error as? SettingProblem).map(describe) ?? "\(error)")
    }
}
