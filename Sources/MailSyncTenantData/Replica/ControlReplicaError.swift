/// A replicated control row that cannot be applied or published as it is (names the table and
/// what is wrong). Nothing of the batch it came in was applied.
package struct ControlReplicaError: Error, Sendable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
