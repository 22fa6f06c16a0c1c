/// An error of a lower layer that knows the status a caller gets for it.
///
/// The ``Router`` answers a handler's error with the error's own status when it is an
/// ``RPCError``, with ``rpcError`` when it conforms to this, and with `internal` otherwise. Layers
/// that must not import the RPC layer (the service's tenant data) get their conformance in the
/// module that maps them, so a data error thrown outside an explicit mapping still reaches the
/// caller with its meaning.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}
