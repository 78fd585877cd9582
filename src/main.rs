fn main() -> std::process::ExitCode {
    sandgen::cli::main()
}
