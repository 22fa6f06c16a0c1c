public import Crypto
public import Foundation

/// Seals backup objects (snapshots, WAL segments, manifests) before they leave the machine, so a
/// leaked bucket leaks nothing: AES-256-GCM under the backup key, in chunks.
///
/// Format (all integers big-endian):
/// ```
/// "MSB1"  (4 bytes)          magic and version
/// fingerprint (16 bytes)     BackupKey.fingerprint of the key that sealed it
/// chunk size (4 bytes)       plaintext bytes per chunk (the last may be shorter)
/// chunks: nonce (12) ‖ ciphertext ‖ tag (16), as many as the plaintext needs (at least one)
/// ```
/// Each chunk's additional data binds the header, the object's name, the chunk's index and
/// whether it is the last: chunks cannot be reordered, dropped, cut off at a chunk boundary or
/// moved to another object's name without ``open(_:name:)`` failing. Nonces are random (96 bits);
/// a key seals far fewer than 2^32 chunks over its life.
///
/// Limits: chunk size 1 MiB by default (64 KiB to 64 MiB accepted); an object of n bytes grows
/// by 24 + 28 × ⌈n / chunk⌉ bytes.
public struct BackupSealer: Sendable {
    public static let magic: [UInt8] = Array("MSB1".utf8)
    public static let headerSize = 4 + 16 + 4
    public static let defaultChunkSize = 1 << 20
    static let chunkSizes = (64 << 10)...(64 << 20)

    private let backupKey: BackupKey
    private var key: SymmetricKey { backupKey.key }
    public let fingerprint: [UInt8]
    public let chunkSize: Int

    public init(key: BackupKey, chunkSize: Int = BackupSealer.defaultChunkSize) {
        self.backupKey = key
        self.fingerprint = key.fingerprint
        self.chunkSize = min(max(chunkSize, Self.chunkSizes.lowerBound), Self.chunkSizes.upperBound)
    }

    /// The sealed form of `plaintext`, bound to `name` (the object's key).
    public func seal(_ plaintext: Data, name: String) throws -> Data {
        var header = Self.magic + fingerprint
        header += withUnsafeBytes(of: UInt32(chunkSize).bigEndian, Array.init)
        var output = Data(header)
        output.reserveCapacity(plaintext.count + Self.headerSize + 28 * (plaintext.count / chunkSize + 1))
        let count = max(1, (plaintext.count + chunkSize - 1) / chunkSize)
        for index in 0..<count {
            let start = plaintext.startIndex + index * chunkSize
            let end = min(start + chunkSize, plaintext.endIndex)
            let box = try AES.GCM.seal(
                plaintext[start..<end], using: key,
                authenticating: Self.additionalData(header: header, name: name, index: index, last: index == count - 1))
            output.append(contentsOf: box.nonce)
            output.append(box.ciphertext)
            output.append(box.tag)
        }
        return output
    }

    /// The plaintext of a sealed object named `name`.
    ///
    /// - Throws: ``BackupSealError`` saying whether the object is not sealed by us, was sealed
    ///   with another key (both fingerprints named), or is damaged (truncated, altered, renamed).
    public func open(_ sealed: Data, name: String) throws -> Data {
        let bytes = [UInt8](sealed)
        guard bytes.count >= Self.headerSize, Array(bytes[0..<4]) == Self.magic else {
            throw BackupSealError("the backup object \(name) is not a sealed Mail Sync object (no MSB1 header)")
        }
        let stored = Array(bytes[4..<20])
        guard stored == fingerprint else {
            throw BackupSealError(
                "the backup object \(name) was sealed with the backup key \(BackupKey.hex(stored)), not with this one (\(BackupKey.hex(fingerprint))); restore with the backup key that was in use then (MAILSYNC_BACKUP_KEY or backupKeyFile)")
        }
        let size = Int(bytes[20]) << 24 | Int(bytes[21]) << 16 | Int(bytes[22]) << 8 | Int(bytes[23])
        guard Self.chunkSizes.contains(size) else {
            throw BackupSealError("the backup object \(name) is damaged: chunk size \(size) out of range")
        }
        let header = Array(bytes[0..<Self.headerSize])
        var output = Data()
        output.reserveCapacity(bytes.count)
        var offset = Self.headerSize
        var index = 0
        while true {
            let remaining = bytes.count - offset
            guard remaining >= 28 else {
                throw BackupSealError("the backup object \(name) is damaged: cut off in chunk \(index)")
            }
            let length = min(remaining, size + 28)
            let last = offset + length == bytes.count
            do {
                let box = try AES.GCM.SealedBox(
                    nonce: AES.GCM.Nonce(data: bytes[offset..<offset + 12]),
                    ciphertext: bytes[offset + 12..<offset + length - 16],
                    tag: bytes[offset + length - 16..<offset + length])
                output.append(try AES.GCM.open(box, using: key, authenticating: Self.additionalData(header: header, name: name, index: index, last: last)))
            } catch {
                throw BackupSealError("the backup object \(name) is damaged or was altered: chunk \(index) fails authentication")
            }
            offset += length
            index += 1
            if last { return output }
        }
    }

    static func additionalData(header: [UInt8], name: String, index: Int, last: Bool) -> [UInt8] {
        var data = header
        data += withUnsafeBytes(of: UInt32(name.utf8.count).bigEndian, Array.init)
        data += Array(name.utf8)
        data += withUnsafeBytes(of: UInt64(index).bigEndian, Array.init)
        data.append(last ? 1 : 0)
        return data
    }
}

/// Why a sealed backup object could not be opened, in words an operator can act on.
public struct BackupSealError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
