import Glibc

// Everything lives in CLI and Commands, so the tests can reach it; this is only the entry.
exit(CLI.run(Array(CommandLine.arguments.dropFirst())))
