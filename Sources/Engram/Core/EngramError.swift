/// The one error type the engine throws. The C layer turns `kind` into an `engram_status`
/// and `message` into the thread's last error, so messages should name the bad value.
public struct EngramError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Int32, Sendable {
        case invalidArgument = 1
        case bufferTooSmall = 2
        case io = 3
        case format = 4
        case unsupported = 5
        case outOfRange = 6
        case outOfMemory = 7
        case invalidUTF8 = 8
        case state = 9
        case cancelled = 10
        case `internal` = 11
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func invalidArgument(_ m: String) -> EngramError { .init(.invalidArgument, m) }
    public static func format(_ m: String) -> EngramError { .init(.format, m) }
    public static func io(_ m: String) -> EngramError { .init(.io, m) }
    public static func unsupported(_ m: String) -> EngramError { .init(.unsupported, m) }
    public static func outOfRange(_ m: String) -> EngramError { .init(.outOfRange, m) }
}
