/// Every item of a paged list RPC: asks with `request`, then again with each `next_page_token`
/// until it is empty, or until `limit` items are in (then cut to `limit`).
func allPages<Request, Item>(
    _ request: Request, token: WritableKeyPath<Request, String>, limit: Int = .max,
    _ fetch: (Request) async throws -> (items: [Item], next: String)
) async throws -> [Item] {
    var request = request
    var all: [Item] = []
    repeat {
        let page = try await fetch(request)
        all += page.items
        request[keyPath: token] = page.next
    } while !request[keyPath: token].isEmpty && all.count < limit
    return Array(all.prefix(limit))
}
