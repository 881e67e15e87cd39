import Engram

// The `engram` command. Subcommands arrive with the features they drive.
let args = Array(CommandLine.arguments.dropFirst())
if args.first == "--version" || args.first == "version" {
    print("engram \(EngramVersion.string)")
} else {
    print("""
    engram \(EngramVersion.string) - inference engine for DeepSeek Engram models

    usage: engram <command> [options]

    commands:
      version        print the library version
    """)
}
