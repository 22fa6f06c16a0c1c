import Foundation

/// Tells pages that deflate cannot shrink (already-deflated mail bodies and raw messages, the bulk
/// of a tenant) from pages it can, cheaply: by the order-0 entropy of their bytes, in bits per byte.
///
/// Deflate output and random bytes measure about 7.95 bits per byte over a 4 KiB page (8 less the
/// estimator's bias for 4,096 samples of 256 values); text, ids, indexes and zero-filled pages
/// measure 0–6. A page at or above ``threshold`` is stored as it is: a histogram costs far less
/// than deflating the page, and deflate gains next to nothing on such a page (on the benchmark
/// tenant, storing them left the ratio level with `gzip -1`'s). Order-0 entropy does not
/// see repeats, so a page of one random 16-byte value repeated would be stored although deflate
/// would shrink it; tenant pages are not like that.
enum PageEntropy {
    /// Bits per byte at or above which a page is stored without trying deflate. 7.7.
    static let threshold = 7.7

    /// The page size classified, whatever the database's page size: 4 KiB (SQLite's default). A
    /// larger database page is classified in 4 KiB pieces, which only makes the choice finer.
    static let pageSize = 4096

    /// `c * log2(c)` for every count a histogram of one page can hold.
    private static let weights: [Double] = (0...pageSize).map { count in
        count == 0 ? 0 : Double(count) * log2(Double(count))
    }

    /// Order-0 entropy of `bytes`, in bits per byte (0 for no bytes). At most ``pageSize`` bytes.
    static func bitsPerByte(_ bytes: UnsafeRawBufferPointer) -> Double {
        precondition(bytes.count <= pageSize, "PageEntropy classifies at most \(pageSize) bytes at a time")
        guard !bytes.isEmpty else { return 0 }
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 256) { counts in
            counts.initialize(repeating: 0)
            for byte in bytes { counts[Int(byte)] &+= 1 }  // at most 4,096: no overflow
            var sum = 0.0
            weights.withUnsafeBufferPointer { weights in
                for count in counts { sum += weights[Int(count)] }
            }
            let n = Double(bytes.count)
            return log2(n) - sum / n
        }
    }

    /// Whether deflate is not worth trying on `bytes` (see ``threshold``).
    static func isIncompressible(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bitsPerByte(bytes) >= threshold
    }
}
