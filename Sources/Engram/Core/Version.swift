/// The library version; `Tests` and the C layer check it against include/engram.h.
public enum EngramVersion {
    public static let major: Int32 = 0
    public static let minor: Int32 = 1
    public static let patch: Int32 = 0
    public static let abi: Int32 = 1
    public static var string: String { "\(major).\(minor).\(patch)" }
    public static var number: Int32 { major * 1_000_000 + minor * 1000 + patch }
}
