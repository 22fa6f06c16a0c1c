import Foundation
import MailSyncSecurity
import Testing

@Suite("Backup sealer: AES-GCM objects for the bucket")
struct BackupSealerTests {
    static func bytes(_ count: Int, seed: UInt8 = 7) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    @Test("sealed and opened again: empty, one byte, exactly one chunk, many chunks with a short last one",
          arguments: [0, 1, 65_536, 65_536 * 3 + 17])
    func roundTrip(_ size: Int) throws {
        let sealer = BackupSealer(key: BackupKey.generate(), chunkSize: 65_536)
        let plaintext = Self.bytes(size)
        let sealed = try sealer.seal(plaintext, name: "acme/wal/1.seg")
        #expect(try sealer.open(sealed, name: "acme/wal/1.seg") == plaintext)
        let chunks = max(1, (size + 65_535) / 65_536)
        #expect(sealed.count == BackupSealer.headerSize + size + 28 * chunks)
        if size >= 16 {
            #expect(sealed.range(of: plaintext.prefix(16)) == nil, "the plaintext shows through")
        }
    }

    @Test("another key is refused naming both fingerprints; the fingerprint is stable per key and differs between keys")
    func wrongKey() throws {
        let first = BackupKey.generate(), second = BackupKey.generate()
        #expect(first.fingerprint != second.fingerprint)
        #expect(try BackupKey(bytes: Array(Data(base64Encoded: first.base64)!)).fingerprint == first.fingerprint)
        let sealed = try BackupSealer(key: first).seal(Data("mail".utf8), name: "k")
        #expect {
            try BackupSealer(key: second).open(sealed, name: "k")
        } throws: { error in
            let text = "\(error)"
            return text.contains(first.fingerprintHex) && text.contains(second.fingerprintHex) && text.contains("backup key")
        }
    }

    @Test("any flipped byte, a cut at a chunk boundary, a dropped or swapped chunk, or another name fails authentication")
    func tampering() throws {
        let sealer = BackupSealer(key: BackupKey.generate(), chunkSize: 65_536)
        let sealed = try sealer.seal(Self.bytes(65_536 * 3), name: "a")
        let chunk = 65_536 + 28
        var candidates: [Data] = []
        for position in stride(from: 24, to: sealed.count, by: 9_973) {
            var flipped = sealed
            flipped[flipped.startIndex + position] ^= 0x40
            candidates.append(flipped)
        }
        candidates.append(sealed.prefix(BackupSealer.headerSize + 2 * chunk))  // cut after chunk 2
        var dropped = Data(sealed.prefix(BackupSealer.headerSize + chunk))
        dropped.append(sealed.suffix(chunk))  // chunk 2 removed
        candidates.append(dropped)
        var swapped = Data(sealed.prefix(BackupSealer.headerSize))
        swapped.append(sealed[(BackupSealer.headerSize + chunk)..<(BackupSealer.headerSize + 2 * chunk)])
        swapped.append(sealed[BackupSealer.headerSize..<(BackupSealer.headerSize + chunk)])
        swapped.append(sealed.suffix(chunk))
        candidates.append(swapped)
        for candidate in candidates {
            #expect(throws: BackupSealError.self) { try sealer.open(candidate, name: "a") }
        }
        #expect(throws: BackupSealError.self) { try sealer.open(sealed, name: "b") }
        #expect(throws: BackupSealError.self) { try sealer.open(Data("plain text".utf8), name: "a") }
        #expect(throws: BackupSealError.self) { try sealer.open(Data(), name: "a") }
    }

    @Test("the key from the environment or a 0600 file; a readable-by-others or wrong-size file is refused naming it; create never replaces")
    func loading() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-bk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/backup.key"
        #expect(try BackupKey.load(file: nil, environment: [:]) == nil)
        let created = try BackupKey.create(file: path)
        #expect(try BackupKey.load(file: path, environment: [:])?.fingerprint == created.fingerprint)
        #expect(throws: BackupSealError.self) { try BackupKey.create(file: path) }
        let fromEnvironment = BackupKey.generate()
        #expect(try BackupKey.load(file: path, environment: [BackupKey.environmentVariable: fromEnvironment.base64])?.fingerprint == fromEnvironment.fingerprint)
        #expect { try BackupKey.load(file: nil, environment: [BackupKey.environmentVariable: "c2hvcnQ="]) } throws: {
            "\($0)".contains(BackupKey.environmentVariable)
        }
        chmod(path, 0o644)
        #expect { try BackupKey.load(file: path, environment: [:]) } throws: { "\($0)".contains("chmod 600 \(path)") }
        let short = directory + "/short.key"
        FileManager.default.createFile(atPath: short, contents: Data([1, 2, 3]), attributes: [.posixPermissions: 0o600])
        #expect { try BackupKey.load(file: short, environment: [:]) } throws: { "\($0)".contains("exactly 32 bytes") }
        #expect { try BackupKey.load(file: directory + "/missing.key", environment: [:]) } throws: { "\($0)".contains("missing.key") }
    }
}
