/// Splits the bytes a server sends into complete responses, literals included.
///
/// Feed it whatever `curl_easy_recv` returned, in chunks of any size, with `append(_:)`, then call
/// `nextResponse()` until it returns `nil`. Each response is returned whole: its first line, every
/// literal (`{n}` CRLF and n raw bytes, which may hold CRLF and 8-bit data) and every line that
/// continues after a literal, up to and including the final line ending. The result does not
/// depend on how the stream was chunked.
///
/// - Limits: the response's text, literal bytes and line endings excluded, may not exceed
///   `IMAPLimits.maxLineLength`; it is checked as bytes arrive, so a server that never sends CRLF
///   cannot make the buffer grow without bound. A literal header `{n}` (also `~{n}` literal8 and
///   `{n+}`) above `IMAPLimits.maxLiteralSize`, or taking the response's text and literals past
///   `IMAPLimits.maxResponseSize`, is refused as soon as the header's line is complete, before
///   any literal byte is buffered. With a ``budget`` set, every line and literal is also charged
///   to it (see ``IMAPByteBudget``), literals again from their header.
/// - Line endings: CRLF, also a bare LF (lenient). Empty lines between responses are skipped.
/// - Failure: `nextResponse()` throws `IMAPError` (`.lineTooLong`, `.literalTooLarge`,
///   `.responseTooLarge`, `.literalOverBudget`, `.overBudget`) and keeps throwing it: the
///   stream's framing is lost, so the connection must be dropped.
/// - Not thread-safe: a value type owned by the one connection that reads.
public struct IMAPResponseFramer: Sendable {
    public let limits: IMAPLimits

    private var buffer: [UInt8] = []
    /// First byte of the response being assembled.
    private var start = 0
    /// Next byte not yet examined.
    private var scan = 0
    /// First byte of the current text segment (the response's start, or just after a literal).
    private var segmentStart = 0
    /// Text bytes (line endings excluded) of the response's completed segments.
    private var textBytes = 0
    /// Literal bytes still to come before text resumes.
    private var literalRemaining = 0
    /// Literal bytes announced so far in the response being assembled.
    private var literalBytes = 0
    private var failure: IMAPError?

    /// What the replies to the current command may still take; `nil`: only ``limits`` apply.
    /// Set it before the command's bytes arrive (bytes already framed were charged to the
    /// budget before); read ``IMAPByteBudget/used`` to see what was charged.
    public var budget: IMAPByteBudget?

    public init(limits: IMAPLimits = IMAPLimits()) {
        self.limits = limits
    }

    /// Bytes buffered and not yet returned as a response.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds bytes received from the server; cheap, the work happens in `nextResponse()`.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete response, or `nil` if more bytes are needed.
    ///
    /// - Throws: `IMAPError` when a limit is exceeded; see the type's documentation.
    public mutating func nextResponse() throws(IMAPError) -> [UInt8]? {
        if let failure { throw failure }
        do {
            return try advance()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func advance() throws(IMAPError) -> [UInt8]? {
        while true {
            if literalRemaining > 0 {
                let available = buffer.count - scan
                if available < literalRemaining {
                    scan = buffer.count
                    literalRemaining -= available
                    return nil
                }
                scan += literalRemaining
                literalRemaining = 0
                segmentStart = scan
            }
            guard let lineFeed = buffer[scan...].firstIndex(of: 0x0A) else {
                scan = buffer.count
                var pending = buffer.count - segmentStart
                if buffer.last == 0x0D { pending -= 1 }
                if textBytes + pending > limits.maxLineLength {
                    throw IMAPError(
                        .lineTooLong, "response text exceeds \(limits.maxLineLength) bytes without a line ending",
                        size: textBytes + pending, limit: limits.maxLineLength)
                }
                return nil
            }
            scan = lineFeed + 1
            var contentEnd = lineFeed
            if contentEnd > segmentStart, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            textBytes += contentEnd - segmentStart
            if textBytes > limits.maxLineLength {
                throw IMAPError(.lineTooLong, "response text is \(textBytes) bytes, over the limit of \(limits.maxLineLength)", size: textBytes, limit: limits.maxLineLength)
            }
            try budget?.charge(scan - segmentStart, what: "a line of \(scan - segmentStart) bytes")
            if let size = try literalSize(endingAt: contentEnd) {
                // textBytes ≤ maxLineLength and literalBytes ≤ maxResponseSize: no overflow.
                let responseSize = textBytes + literalBytes
                if size > limits.maxResponseSize - responseSize {
                    throw IMAPError(
                        .responseTooLarge,
                        "a literal of \(size) bytes would take one response past \(limits.maxResponseSize) bytes (\(responseSize) so far)",
                        size: responseSize.addingReportingOverflow(size).overflow ? Int.max : responseSize + size, limit: limits.maxResponseSize)
                }
                try budget?.chargeLiteral(size)
                literalBytes += size
                literalRemaining = size
                if size == 0 { segmentStart = scan }
                continue
            }
            let isEmpty = textBytes == 0
            if !isEmpty { try budget?.charge(IMAPByteBudget.responseCost, what: "one more response") }
            let frame = isEmpty ? nil : Array(buffer[start..<scan])
            finishResponse()
            if let frame { return frame }
        }
    }

    /// The size announced by a literal header (`{n}`, `{n+}`, `~{n}`) ending the segment, if any.
    private func literalSize(endingAt end: Int) throws(IMAPError) -> Int? {
        guard end > segmentStart, buffer[end - 1] == UInt8(ascii: "}") else { return nil }
        var index = end - 2
        if index >= segmentStart, buffer[index] == UInt8(ascii: "+") { index -= 1 }
        let lastDigit = index
        while index >= segmentStart, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") {
            index -= 1
        }
        guard index < lastDigit, index >= segmentStart, buffer[index] == UInt8(ascii: "{") else { return nil }
        let digits = buffer[(index + 1)...lastDigit]
        var size = 0
        for digit in digits {
            let (times10, overflow1) = size.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            size = overflow1 || overflow2 ? Int.max : next
            if size > limits.maxLiteralSize {
                let text = String(decoding: digits, as: UTF8.self)
                throw IMAPError(
                    .literalTooLarge, "literal of \(text) bytes announced, the limit is \(limits.maxLiteralSize)",
                    size: Int(text) ?? Int.max, limit: limits.maxLiteralSize)
            }
        }
        return size
    }

    private mutating func finishResponse() {
        start = scan
        segmentStart = scan
        textBytes = 0
        literalBytes = 0
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
            scan = 0
            segmentStart = 0
        } else if start >= 1 << 16 {
            // Drop consumed bytes only now and then, so draining many small responses stays linear.
            buffer.removeFirst(start)
            scan -= start
            segmentStart -= start
            start = 0
        }
    }
}
