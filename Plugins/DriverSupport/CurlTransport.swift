import CCurl
import Foundation
import Synchronization

/// HTTP through libcurl: one easy handle per call in flight, kept for reuse afterwards so
/// connections stay alive between calls. Callbacks reach their buffers through userdata,
/// never through captured context (a C function pointer cannot capture).
///
///     let curl = CurlTransport(connectTimeoutMs: 10_000, caBundle: nil)
///     let reply = try curl.send(HTTPRequest(method: "POST", url: endpoint, body: body))
public final class CurlTransport: HTTPTransport {
    let connectTimeoutMs: Int
    let caBundle: String?
    /// `no_proxy` / `NO_PROXY` of the instance set's environment, for CURLOPT_NOPROXY.
    let noProxy: String?
    private let idle = Mutex<[Handle]>([])

    /// A CURL easy handle; used by one thread at a time (taken from and returned to `idle`).
    private struct Handle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }

    public init(connectTimeoutMs: Int, caBundle: String?, noProxy: String? = nil) {
        self.connectTimeoutMs = connectTimeoutMs
        self.caBundle = caBundle
        self.noProxy = noProxy
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))  // refcounted and thread-safe in libcurl ≥ 7.84
    }

    deinit {
        for handle in idle.withLock({ $0 }) { curl_easy_cleanup(handle.raw) }
    }

    public func send(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
        guard let handle = idle.withLock({ $0.popLast() }) ?? curl_easy_init().map(Handle.init) else {
            throw DriverError(.internal, "curl_easy_init failed")
        }
        defer { idle.withLock { $0.append(handle) } }
        let h = handle.raw
        curl_easy_reset(h)  // options only; the connection cache stays
        let sink = Sink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        for (name, value) in request.headers { headers = curl_slist_append(headers, "\(name): \(value)") }
        headers = curl_slist_append(headers, "Expect:")  // no 100-continue round trip

        _ = ccurl_setopt_string(h, CURLOPT_URL, request.url)
        _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, request.timeoutMs)
        _ = ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, min(connectTimeoutMs, request.timeoutMs))
        _ = ccurl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        if request.freshConnection { _ = ccurl_setopt_long(h, CURLOPT_FRESH_CONNECT, 1) }
        if let caBundle { _ = ccurl_setopt_string(h, CURLOPT_CAINFO, caBundle) }
        let proxy = Self.proxySettings(for: request, noProxy: noProxy)
        if let p = proxy.proxy { _ = ccurl_setopt_string(h, CURLOPT_PROXY, p) }
        if let n = proxy.noProxy { _ = ccurl_setopt_string(h, CURLOPT_NOPROXY, n) }
        switch request.method {
        case "GET":
            _ = ccurl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "DELETE" where request.body.isEmpty:
            _ = ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, "DELETE")
        default:
            _ = ccurl_setopt_long(h, CURLOPT_POST, 1)
            _ = ccurl_setopt_long(h, CURLOPT_POSTFIELDSIZE, request.body.count)
            request.body.withUnsafeBufferPointer { buffer in
                // COPYPOSTFIELDS copies POSTFIELDSIZE bytes now, so the buffer may go afterwards.
                _ = ccurl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
            if request.method != "POST" { _ = ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method) }
        }
        _ = ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headers)
        _ = ccurl_setopt_datafn(h, CURLOPT_WRITEFUNCTION, curlWrite)
        _ = ccurl_setopt_ptr(h, CURLOPT_WRITEDATA, sinkPointer)
        _ = ccurl_setopt_datafn(h, CURLOPT_HEADERFUNCTION, curlHeader)
        _ = ccurl_setopt_ptr(h, CURLOPT_HEADERDATA, sinkPointer)

        let code = withExtendedLifetime(sink) { curl_easy_perform(h) }
        guard code == CURLE_OK else {
            let what = String(cString: curl_easy_strerror(code))
            throw DriverError(.transient, "\(request.method) \(Self.redacted(request.url)): \(what)",
                              code: code == CURLE_OPERATION_TIMEDOUT ? "RequestTimeout" : "ConnectionError")
        }
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// The proxy options for `request`: a direct request sets CURLOPT_PROXY to "" (which turns
    /// off every proxy, the environment's too); any other keeps libcurl's proxy from the
    /// environment and passes `no_proxy` on as CURLOPT_NOPROXY.
    public static func proxySettings(for request: HTTPRequest, noProxy: String?) -> (proxy: String?, noProxy: String?) {
        request.direct ? ("", nil) : (nil, noProxy.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Scheme, host and path only: no query string in errors.
    public static func redacted(_ url: String) -> String { String(url.prefix { $0 != "?" }) }
}

/// Body and headers of one response; touched only by the thread running the transfer.
private final class Sink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
}

private func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let data, let user else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
    sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

private func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let data, let user else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        sink.headers = [:]  // a new response (after a 100 Continue or a redirect)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        sink.headers[name] = value
    }
    return size * count
}
