/// Which due mailboxes get the free sync slots: fair across companies.
///
/// A value with no clock and no I/O, so every rule has a direct test:
/// - at most `maxConcurrent` runs in all, and at most `maxPerCompany` of one company;
/// - each free slot goes to the company with the fewest runs in flight (counting the ones this
///   choice starts), ties to the company whose oldest due mailbox waited longest; within a
///   company, oldest due first.
///
/// So a company with 250 mailboxes, or with mail servers that answer one byte a second, holds at
/// most its share, and a company with one due mailbox gets the next free slot.
package struct SyncSlots<Company: Hashable, Mailbox: Hashable> {
    package struct Due {
        package var company: Company
        package var mailbox: Mailbox
        /// When it became due (any monotonic unit; µs since the epoch in the scheduler).
        package var at: Int64

        package init(company: Company, mailbox: Mailbox, at: Int64) {
            self.company = company
            self.mailbox = mailbox
            self.at = at
        }
    }

    package var maxConcurrent: Int
    package var maxPerCompany: Int

    package init(maxConcurrent: Int, maxPerCompany: Int) {
        self.maxConcurrent = maxConcurrent
        self.maxPerCompany = maxPerCompany
    }

    /// The mailboxes to start now, in the order they were chosen.
    ///
    /// - Parameters:
    ///   - due: mailboxes due and not running (any order).
    ///   - running: runs in flight per company.
    package func choose(from due: [Due], running: [Company: Int]) -> [Due] {
        var inFlight = running
        var total = running.values.reduce(0, +)
        guard total < maxConcurrent, !due.isEmpty else { return [] }
        // Per company, oldest due last (popped first).
        var queues: [Company: [Due]] = [:]
        for item in due { queues[item.company, default: []].append(item) }
        for key in queues.keys { queues[key]!.sort { $0.at > $1.at } }
        var chosen: [Due] = []
        while total < maxConcurrent {
            var best: (company: Company, load: Int, at: Int64)?
            for (company, queue) in queues {
                guard let head = queue.last else { continue }
                let load = inFlight[company, default: 0]
                guard load < maxPerCompany else { continue }
                if let current = best, current.load < load || (current.load == load && current.at <= head.at) { continue }
                best = (company, load, head.at)
            }
            guard let pick = best, let item = queues[pick.company]?.popLast() else { break }
            chosen.append(item)
            inFlight[pick.company, default: 0] += 1
            total += 1
        }
        return chosen
    }
}
