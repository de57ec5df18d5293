import Hummingbird

/// Per-request state: who the caller is, once authenticated.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: TokenTable.Entry?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
