extension WALShipper {
    /// Copies shipped frames into the database file so the log can restart.
    ///
    /// 1. A passive checkpoint while the pin (taken before the log was last read) is held: SQLite
    ///    copies no frame past a reader's snapshot, so nothing unread is copied. If no writer
    ///    committed since the pin, this copies the whole log; the pin is then retaken (on the
    ///    database file alone, which does not hold the log back) and the next write restarts it.
    /// 2. Otherwise, only when no segment is waiting for upload: writers are held still (the
    ///    write lock, nothing written), the frames they added are read, the pin is released and a
    ///    passive checkpoint copies the whole log — every frame of which has now been read — then
    ///    the pin is retaken and writers resume. The frames read in the pause are uploaded after
    ///    it. Skipped if writers cannot be held still within the lock timeout, and given up (the
    ///    frames read are shipped, the checkpoint waits for a later ship) when writers added more
    ///    than ``WALShipperOptions/pauseReadLimitBytes`` since the read before the pause.
    func checkpoint(_ db: ShippedDatabase, _ report: inout ShipReport) async throws {
        let complete = try await thread.run { () -> Bool in
            let complete = try db.passiveCheckpoint()
            if complete { try db.repin() }
            return complete
        }
        if complete {
            report.checkpointed = true
            return
        }
        guard pending.isEmpty else { return }
        let from = position
        let limit = options.pauseReadLimitBytes
        let paused = try await thread.run { () -> (tail: WALTail, complete: Bool)?? in
            try db.withWritersPaused { () -> (tail: WALTail, complete: Bool)? in
                guard let tail = try db.readTail(after: from, limit: limit) else { return nil }
                // Writers added more than one pause may read: ship it outside the pause, and
                // checkpoint at a later ship.
                guard tail.isComplete else { return (tail, false) }
                db.unpin()
                let complete = try db.passiveCheckpoint()
                try db.repin()
                return (tail, complete)
            }
        }
        guard let paused, let paused else { return }  // writers busy, or a log to start over from
        try await stage(paused.tail)
        report.checkpointed = paused.complete
        try await flushPending(&report)
    }
}
