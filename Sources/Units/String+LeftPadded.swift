extension String {
    /// The string right-aligned in `width` characters: `"7".leftPadded(to: 3, with: "0")` is "007";
    /// a longer string is left whole.
    public func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
