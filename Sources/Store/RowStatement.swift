import GRDB
import GRDBSQLite
import UsageModel

/// A prepared statement of the rows written by the thousand (events, calls), bound and stepped through
/// SQLite's C API: each value is bound from its bytes, without a `StatementArguments` of boxed values
/// per row, and times, origins and addresses are printed into a reused buffer instead of a `String`
/// each. Text is bound as GRDB binds a `String` (up to its first NUL byte), so the rows are the same.
///
/// ```swift
/// var insert = try RowStatement(db.cachedStatement(sql: "INSERT OR IGNORE INTO calls VALUES (?, ?)"))
/// insert.bind(text: id, at: 1)
/// insert.bind(time: seconds, at: 2)
/// try insert.step()
/// ```
struct RowStatement {
    /// Kept so that the prepared statement outlives its use (GRDB's statement cache owns it too).
    private let statement: Statement
    private let handle: SQLiteStatement
    /// Where times, origins and addresses are printed before they are bound (SQLite copies them).
    private var scratch: [UInt8] = []

    /// SQLite copies the bytes while binding (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        self.statement = statement
        handle = statement.sqliteStatement
        scratch.reserveCapacity(512)
    }

    /// Binds text (NULL for nil).
    mutating func bind(text: String?, at index: Int32) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bind(bytes: UnsafeRawBufferPointer($0), at: index) }
    }

    /// Binds the bytes as text, up to the first NUL byte if any (as a C string is bound).
    private func bind(bytes: UnsafeRawBufferPointer, at index: Int32) {
        let count = bytes.firstIndex(of: 0) ?? bytes.count
        // SQLite binds a NULL pointer as NULL: the empty text needs an address.
        guard count > 0, let base = bytes.baseAddress else {
            sqlite3_bind_text(handle, index, "", 0, Self.transient)
            return
        }
        sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(count), Self.transient)
    }

    mutating func bind(integer: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, integer)
    }

    mutating func bind(real: Double, at index: Int32) {
        sqlite3_bind_double(handle, index, real)
    }

    /// Binds a time as ``Timestamp/format(_:)`` prints it.
    mutating func bind(time: EpochSeconds, at index: Int32) {
        var printed = false
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { buffer in
            guard let count = Timestamp.write(time, into: buffer) else { return }
            bind(bytes: UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: index)
            printed = true
        }
        if !printed { bind(text: Timestamp.format(time), at: index) }
    }

    /// Binds an origin as its `description` prints it (`path:line:column`).
    mutating func bind(origin: EventOrigin, at index: Int32) {
        scratch.removeAll(keepingCapacity: true)
        var path = origin.path
        path.withUTF8 { scratch.append(contentsOf: $0) }
        switch origin.position {
        case .file: break
        case .line(let line):
            scratch.append(0x3A)
            appendDecimal(Int64(line))
        case .lineColumn(let line, let column):
            scratch.append(0x3A)
            appendDecimal(Int64(line))
            scratch.append(0x3A)
            appendDecimal(column)
        case .offset(let offset):
            scratch.append(contentsOf: ":offset ".utf8)
            appendDecimal(offset)
        }
        bindScratch(at: index)
    }

    /// Binds an address as its `description` prints it (NULL for nil).
    mutating func bind(address: IPAddress?, at index: Int32) {
        guard let address else {
            sqlite3_bind_null(handle, index)
            return
        }
        guard address.isV4 else {
            bind(text: address.description, at: index)
            return
        }
        let v = UInt32(truncatingIfNeeded: address.value)
        scratch.removeAll(keepingCapacity: true)
        appendDecimal(Int64(v >> 24))
        scratch.append(0x2E)
        appendDecimal(Int64(v >> 16 & 0xFF))
        scratch.append(0x2E)
        appendDecimal(Int64(v >> 8 & 0xFF))
        scratch.append(0x2E)
        appendDecimal(Int64(v & 0xFF))
        bindScratch(at: index)
    }

    /// Executes the statement with the values bound, and resets it for the next row.
    /// - Throws: `DatabaseError` with SQLite's code and message (a full disk, an I/O error).
    mutating func step() throws {
        let code = sqlite3_step(handle)
        guard code != SQLITE_DONE else {
            sqlite3_reset(handle)
            return
        }
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        sqlite3_reset(handle)
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    private mutating func appendDecimal(_ value: Int64) {
        if value < 0 { scratch.append(0x2D) }
        var magnitude = value.magnitude
        let start = scratch.count
        repeat {
            scratch.append(UInt8(truncatingIfNeeded: 0x30 + magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        scratch[start...].reverse()
    }

    private func bindScratch(at index: Int32) {
        scratch.withUnsafeBytes { bind(bytes: $0, at: index) }
    }
}
