fn main() -> std::process::ExitCode {
    trackit::run()
}
