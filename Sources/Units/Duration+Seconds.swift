extension Duration {
    /// The duration as a number of seconds, fractions included (2.5 s → 2.5).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// Whole milliseconds, rounded down (1.9999 s → 1999).
    public var inMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
