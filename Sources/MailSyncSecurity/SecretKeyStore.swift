public import Crypto
import Foundation

/// Finds the server's secret key: the `MAILSYNC_SECRET_KEY` environment variable (base64 of 32
/// bytes) if set, otherwise `<dataDirectory>/secret.key`, created with mode 0600 on first start.
///
/// A key file readable by group or others is refused (fix with `chmod 600`), as is one of the
/// wrong size. Losing the key makes stored mailbox secrets unreadable: back it up with the data.
public enum SecretKeyStore {
    public static let environmentVariable = "MAILSYNC_SECRET_KEY"
    public static let fileName = "secret.key"

    public static func load(dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SymmetricKey {
        if let encoded = environment[environmentVariable] {
            guard let bytes = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
                throw SecretBoxError("\(environmentVariable) must be the base64 of 32 random bytes (for example: openssl rand -base64 32)")
            }
            return SymmetricKey(data: bytes)
        }
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        if fd >= 0 {
            let key = SymmetricKey(size: .bits256)
            let bytes = key.withUnsafeBytes { Array($0) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let synced = fsync(fd)
            close(fd)
            guard written == 32, synced == 0 else {
                unlink(path)
                throw SecretBoxError("cannot write the secret key file \(path): \(String(cString: strerror(errno)))")
            }
            return key
        }
        guard errno == EEXIST else {
            throw SecretBoxError("cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SecretBoxError("the secret key file \(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SecretBoxError("the secret key file \(path) is readable by other users; run: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw SecretBoxError("the secret key file \(path) must hold exactly 32 bytes")
        }
        return SymmetricKey(data: data)
    }
}
