/// A check on what goes into a login command line.
///
/// libcurl puts the login name and password into IMAP `LOGIN "user" "password"` and SMTP
/// `AUTH PLAIN`/`AUTH LOGIN` as given: a CR LF inside would end that command and start another one
/// of the sender's choosing. The service refuses such values when they are entered; this check
/// stops any that reach a connection anyway (stored before that check existed, or from another
/// caller) before anything is connected.
enum LoginText {
    /// The first of `username`, `password` or `access token` holding a control character (Unicode
    /// category Cc: NUL, CR, LF, TAB, DEL, C1 controls), or nil.
    static func fieldWithControlCharacters(username: String, credentials: IMAPConnection.Credentials) -> String? {
        if hasControl(username) { return "login name" }
        switch credentials {
        case .password(let password): return hasControl(password) ? "password" : nil
        case .oauthBearer(let token): return hasControl(token) ? "access token" : nil
        }
    }

    private static func hasControl(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
