/// Every item of a paged list, following the cloud's page tokens (or links) at most `maxPages`
/// times. A token seen twice, or more pages than that, is an error: a partial list would make
/// the host think instances were gone.
///
///     let all = try Paging.all("DescribeInstances", token: "NextToken", maxPages: 50) { token throws(DriverError) in
///         let page = try fetch(token)   // token nil: the first page
///         return (page.items, page.next)
///     }
public enum Paging {
    public static func all<T>(_ what: String, token name: String, maxPages: Int,
                              page: (_ token: String?) throws(DriverError) -> (items: [T], next: String?)) throws(DriverError) -> [T] {
        var out: [T] = []
        var token: String?
        var seen = Set<String>()
        for _ in 0..<maxPages {
            let (items, next) = try page(token)
            out += items
            guard let next, !next.isEmpty else { return out }
            guard seen.insert(next).inserted else {
                throw DriverError(.internal, "\(what): the cloud repeated \(name) \(CurlTransport.redacted(next))")
            }
            token = next
        }
        throw DriverError(.transient, "\(what): more than \(maxPages) pages (max_pages); never answering a partial list")
    }
}
