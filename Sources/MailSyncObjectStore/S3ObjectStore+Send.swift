import Foundation

extension S3ObjectStore {
    /// One request to `key` (prefixed here), retried as ``S3RetryPolicy`` says. Returns the last
    /// answer when it is not worth retrying (2xx, or a 4xx for the caller to map).
    ///
    /// - Throws: ``ObjectStoreError/unavailable(_:)`` when every try failed (naming the last
    ///   failure and the number of tries) or the task was cancelled while waiting;
    ///   ``ObjectStoreError/corrupt(_:)`` when an answer's body is over `maxResponseBytes`.
    func send(
        _ method: String, key: ObjectKey, query: [(String, String)] = [], headers: [String] = [], body: Data? = nil,
        payloadSHA256: String? = nil, maxResponseBytes: Int, bodyMayBeError: Bool = false
    ) async throws(ObjectStoreError) -> S3Transfer.Response {
        try await send(
            method, url: urls.url(key: configuration.prefix + key.value, query: query), place: place(key), headers: headers,
            body: body, payloadSHA256: payloadSHA256, maxResponseBytes: maxResponseBytes, bodyMayBeError: bodyMayBeError)
    }

    /// `bodyMayBeError`: a 200 whose body is an `<Error>` document is a failure (S3's
    /// CompleteMultipartUpload reports late failures that way).
    func send(
        _ method: String, url: String, place: String, headers: [String] = [], body: Data? = nil, payloadSHA256: String? = nil,
        maxResponseBytes: Int, bodyMayBeError: Bool = false
    ) async throws(ObjectStoreError) -> S3Transfer.Response {
        let request = S3Transfer.Request(
            method: method, url: url, headers: headers, body: body, payloadSHA256: payloadSHA256, maxResponseBytes: maxResponseBytes)
        var attempt = 0
        while true {
            attempt += 1
            let failure: String
            var retryAfter: String?
            switch await S3Transfer.send(request, configuration: configuration) {
            case .response(let response):
                var reply: S3ErrorReply?
                if !(200..<300).contains(response.status) || bodyMayBeError {
                    reply = S3ErrorReply(body: response.body)
                }
                let code = reply?.code
                if (200..<300).contains(response.status) && code == nil { return response }
                guard S3RetryPolicy.isRetryable(status: response.status, code: code) else {
                    if let reply, (200..<300).contains(response.status) {
                        throw reply.error(status: response.status, operation: method, place: place)
                    }
                    return response
                }
                failure = reply?.error(status: response.status, operation: method, place: place).detail ?? "\(method) \(place): HTTP \(response.status)"
                retryAfter = response.headers["retry-after"]
            case .connectionFailed(let detail):
                failure = "\(method) \(place): no answer (\(S3ErrorReply.printable(detail)))"
            case .tooLarge(let status, let limit):
                throw ObjectStoreError.corrupt("\(method) \(place): the answer (HTTP \(status)) is larger than \(limit) bytes")
            }
            guard attempt < retry.maxAttempts else {
                throw ObjectStoreError.unavailable("\(failure), after \(attempt) tries")
            }
            do {
                try await Task.sleep(for: retry.delay(after: attempt, retryAfter: retryAfter))
            } catch {
                throw ObjectStoreError.unavailable("\(failure); cancelled before try \(attempt + 1)")
            }
        }
    }
}

extension ObjectStoreError {
    /// The text inside the case, without the case's own explanation.
    var detail: String {
        switch self {
        case .invalidKey(let text), .accessDenied(let text), .missingBucket(let text), .unavailable(let text), .corrupt(let text), .io(let text):
            return text
        }
    }
}
