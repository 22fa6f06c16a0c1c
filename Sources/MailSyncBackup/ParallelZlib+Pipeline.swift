import CZlib
import Foundation

extension ParallelZlib {
    /// One block in flight: its input, its encoded output and its Adler-32.
    final class Slot: @unchecked Sendable {  // handed between threads under Pipeline's lock
        let input: UnsafeMutableRawBufferPointer
        let output: UnsafeMutableRawBufferPointer
        var inputCount = 0
        var encoded = BlockEncoder.Encoded()
        var adler: uLong = 0

        init() {
            input = .allocate(byteCount: ParallelZlib.blockSize, alignment: 16)
            output = .allocate(byteCount: BlockEncoder.outputCapacity(forInput: ParallelZlib.blockSize), alignment: 16)
        }

        deinit {
            input.deallocate()
            output.deallocate()
        }
    }

    /// Worker threads and the slots they encode, under one lock (`NSCondition`): the reader
    /// ``submit(_:)``s a filled slot, a worker encodes it, the writer ``waitUntilEncoded(_:)``.
    /// ``stopAndJoin()`` must be called before the slots are dropped (the workers use them).
    final class Pipeline: @unchecked Sendable {  // all mutable state under `condition`
        let slots: [Slot]
        private let level: Int32
        private let storesIncompressiblePages: Bool
        private let condition = NSCondition()
        private var queue: [Int] = []
        private var encoded: [Bool]
        private var failure: BackupError?
        private var stopping = false
        private var running = 0

        init(slots count: Int, level: Int32, storesIncompressiblePages: Bool) throws {
            slots = (0..<count).map { _ in Slot() }
            encoded = Array(repeating: false, count: count)
            self.level = level
            self.storesIncompressiblePages = storesIncompressiblePages
        }

        /// Starts one worker thread (its encoder first, so a zlib failure throws here).
        func startWorker() throws {
            let encoder = try BlockEncoder(level: level, storesIncompressiblePages: storesIncompressiblePages)
            condition.lock()
            running += 1
            condition.unlock()
            let thread = Thread { [self] in work(encoder) }
            thread.name = "backup-deflate"
            thread.start()
        }

        func submit(_ index: Int) {
            condition.lock()
            encoded[index] = false
            queue.append(index)
            condition.signal()
            condition.unlock()
        }

        /// Waits for slot `index` to be encoded; throws the first worker's failure.
        func waitUntilEncoded(_ index: Int) throws {
            condition.lock()
            defer { condition.unlock() }
            while !encoded[index], failure == nil { condition.wait() }
            if let failure { throw failure }
        }

        /// Tells the workers to stop after their current block and waits for all to exit.
        func stopAndJoin() {
            condition.lock()
            stopping = true
            condition.broadcast()
            while running > 0 { condition.wait() }
            condition.unlock()
        }

        private func work(_ encoder: BlockEncoder) {
            condition.lock()
            while true {
                while queue.isEmpty, !stopping { condition.wait() }
                if stopping { break }
                let index = queue.removeFirst()
                condition.unlock()
                let slot = slots[index]
                let input = UnsafeRawBufferPointer(rebasing: slot.input[..<slot.inputCount])
                var failed: BackupError?
                do {
                    slot.encoded = try encoder.encode(input, into: slot.output)
                    slot.adler = adler32(adler32(0, nil, 0), input.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(input.count))
                } catch let error as BackupError {
                    failed = error
                } catch {
                    failed = BackupError(.fileSystem, "\(error)")
                }
                condition.lock()
                if let failed, failure == nil { failure = failed }
                encoded[index] = true
                condition.broadcast()
            }
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }
}
