/// One shared copy of each long text the sessionizer holds many times (a launch's principal and user
/// agent are the same for many sessions of an account): an event keeps the pool's copy, whose storage
/// all its equals share, instead of its own.
///
/// Texts of up to 15 UTF-8 bytes are held inside the `String` itself and are not pooled. The pool keeps a
/// text after the last event holding it is gone, so its owner rebuilds it from what it holds once
/// ``needsRebuild`` (it has doubled since the last rebuild): its size stays within twice the distinct
/// texts held, at an amortised O(1) per text.
struct StringPool: Sendable {
    private var members = Set<String>()
    private var limit = 1024

    /// The pool's copy of `text` (added when new).
    mutating func intern(_ text: String) -> String {
        guard text.utf8.count > 15 else { return text }
        return members.insert(text).memberAfterInsert
    }

    mutating func intern(_ text: String?) -> String? {
        guard let text else { return nil }
        return intern(text)
    }

    /// Whether the pool has doubled since it was last rebuilt.
    var needsRebuild: Bool { members.count >= limit }

    /// Empties the pool before the owner interns again every text it holds.
    mutating func startRebuild() {
        members = []
    }

    /// Sets the next rebuild at twice the texts now pooled.
    mutating func endRebuild() {
        limit = max(1024, 2 * members.count)
    }
}
