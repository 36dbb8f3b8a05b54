import CCurl
import Foundation

/// One HTTP request as it is signed and sent: the path is kept decoded and encoded once, here, so the
/// URL sent and the canonical request signed are the same bytes.
public struct HTTPRequest: Sendable {
    public var method: String
    /// `https` or `http`.
    public var scheme: String
    /// Host name, with `:port` when not the scheme's default.
    public var host: String
    /// The decoded path (`/bucket/key with spaces`).
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, scheme: String = "https", host: String, path: String = "/",
        query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The path, each segment percent-encoded as SigV4 wants for S3 (`/` kept).
    public var encodedPath: String { SigV4Signer.encode(path, keepSlash: true) }

    /// The query as sent and signed: names and values encoded, sorted.
    public var encodedQuery: String {
        query.map { (SigV4Signer.encode($0.name, keepSlash: false), SigV4Signer.encode($0.value, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    public var url: String {
        let q = encodedQuery
        return "\(scheme)://\(host)\(encodedPath)\(q.isEmpty ? "" : "?" + q)"
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A response's status and headers (names lowercased); the body went to the caller's sink, or, for
/// errors and small answers, is in `body`.
public struct HTTPResponse: Sendable {
    public var status: Int = 0
    public var headers: [String: String] = [:]
    public var body: [UInt8] = []
}

/// A request that did not get an answer: connection refused, reset, timed out, body cut short.
public struct TransportError: Error, Sendable {
    public var curlCode: Int
    public var message: String
    /// Body bytes delivered before the failure (a resumable GET goes on from here).
    public var delivered: Int64
    /// Whether the caller's sink asked to stop (the reader went away).
    public var cancelled: Bool
}

/// Synchronous HTTP over libcurl, which calls back with each piece of the body as it arrives and
/// waits while the sink blocks: a slow reader slows the transfer instead of piling the body up in
/// memory (Foundation's URLSession on Linux queues body pieces to its delegate without waiting).
/// Easy handles are pooled, so connections are reused across requests.
public final class HTTPClient: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []
    /// Seconds to connect; a body that moves less than one byte a second for `stallSeconds` fails.
    public var connectTimeout = 10
    public var stallSeconds = 30

    private static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    public init() { _ = Self.initialised }

    deinit {
        for handle in idle { curl_easy_cleanup(handle) }
    }

    /// Sends `request`. Status and headers are handed to `onHead` before any body byte; a 2xx body goes
    /// to `onBody` (return false to stop: the transfer ends as cancelled); any other body is kept in
    /// the response (up to 1 MiB). `totalTimeout` bounds the whole exchange (0: none). `shouldAbort`,
    /// asked about once a second even while nothing moves, gives the transfer up when it returns true
    /// (the result is a cancelled ``TransportError``): a long poll ends when the daemon stops.
    public func send(
        _ request: HTTPRequest, totalTimeout: Int = 0, onHead: ((HTTPResponse) -> Void)? = nil,
        shouldAbort: (() -> Bool)? = nil, onBody: ((UnsafeRawBufferPointer) -> Bool)? = nil
    ) -> Result<HTTPResponse, TransportError> {
        let handle = takeHandle()
        let context = TransferContext(onHead: onHead, onBody: onBody, shouldAbort: shouldAbort)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer {
            curl_slist_free_all(headerList)
            giveBack(handle)
        }
        let url = request.url
        _ = url.withCString { ccurl_setopt_pointer(handle, CURLOPT_URL, $0) }
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeout)
        _ = ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, stallSeconds)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT, totalTimeout)
        _ = ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        switch request.method {
        case "GET": _ = ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = ccurl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default:
            _ = request.method.withCString { ccurl_setopt_pointer(handle, CURLOPT_CUSTOMREQUEST, $0) }
            _ = ccurl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count)
            _ = request.body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies, so the bytes need not outlive this call; an empty body still
                // needs a valid pointer.
                let empty: [UInt8] = [0]
                return bytes.baseAddress.map { ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0) }
                    ?? empty.withUnsafeBytes { ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            }
        }
        var headers = request.headers
        if request.header("host") == nil { headers.insert(("Host", request.host), at: 0) }
        // No `Expect: 100-continue` round trip, no Content-Type curl would guess for a POST.
        headers.append(("Expect", ""))
        if request.method != "GET" && request.method != "HEAD" && request.header("content-type") == nil {
            headers.append(("Content-Type", ""))
        }
        for (name, value) in headers {
            let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
            headerList = curl_slist_append(headerList, line)
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque())
        _ = ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, bodyCallback)
        if shouldAbort != nil {
            _ = ccurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            _ = ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, unmanaged.toOpaque())
            _ = ccurl_setopt_progress(handle, progressCallback)
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(handle)
            _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        if code != CURLE_OK {
            var message = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
            return .failure(
                TransportError(
                    curlCode: Int(code.rawValue), message: message.lowercased(), delivered: context.delivered,
                    cancelled: context.cancelled || code == CURLE_ABORTED_BY_CALLBACK))
        }
        context.finishHead()
        return .success(context.response)
    }

    private func takeHandle() -> UnsafeMutableRawPointer {
        lock.lock()
        let handle = idle.popLast()
        lock.unlock()
        if let handle {
            curl_easy_reset(handle)
            return handle
        }
        return curl_easy_init()
    }

    private func giveBack(_ handle: UnsafeMutableRawPointer) {
        lock.lock()
        if idle.count < 16 {
            idle.append(handle)
            lock.unlock()
        } else {
            lock.unlock()
            curl_easy_cleanup(handle)
        }
    }
}

private final class TransferContext {
    let onHead: ((HTTPResponse) -> Void)?
    let onBody: ((UnsafeRawBufferPointer) -> Bool)?
    let shouldAbort: (() -> Bool)?
    var response = HTTPResponse()
    var headDone = false
    var delivered: Int64 = 0
    var cancelled = false

    init(
        onHead: ((HTTPResponse) -> Void)?, onBody: ((UnsafeRawBufferPointer) -> Bool)?, shouldAbort: (() -> Bool)?
    ) {
        self.onHead = onHead
        self.onBody = onBody
        self.shouldAbort = shouldAbort
    }

    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // A new status line (after a 100 Continue, or a redirect): start again.
            response = HTTPResponse()
            headDone = false
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count >= 2 { response.status = Int(parts[1]) ?? 0 }
            return
        }
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            if response.status / 100 != 1 { finishHead() }
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].lowercased()
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        response.headers[name] = value
    }

    func finishHead() {
        guard !headDone else { return }
        headDone = true
        onHead?(response)
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        finishHead()
        if response.status / 100 == 2, let onBody {
            guard onBody(bytes) else {
                cancelled = true
                return false
            }
            delivered += Int64(bytes.count)
            return true
        }
        if response.body.count < 1 << 20 { response.body += bytes.prefix((1 << 20) - response.body.count) }
        delivered += Int64(bytes.count)
        return true
    }
}

private let headerCallback: ccurl_data_callback = { data, size, count, context in
    let total = size * count
    guard let data, let context else { return total }
    let transfer = Unmanaged<TransferContext>.fromOpaque(context).takeUnretainedValue()
    transfer.header(String(decoding: UnsafeRawBufferPointer(start: data, count: total), as: UTF8.self))
    return total
}

private let bodyCallback: ccurl_data_callback = { data, size, count, context in
    let total = size * count
    guard let data, let context else { return total }
    let transfer = Unmanaged<TransferContext>.fromOpaque(context).takeUnretainedValue()
    return transfer.body(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

private let progressCallback: ccurl_progress_callback = { context, _, _, _, _ in
    guard let context else { return 0 }
    let transfer = Unmanaged<TransferContext>.fromOpaque(context).takeUnretainedValue()
    return transfer.shouldAbort?() == true ? 1 : 0
}
