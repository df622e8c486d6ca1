fn main() {
    if cargo_unasync::read::cargo_run::is_wrapper_invocation() {
        std::process::exit(cargo_unasync::read::cargo_run::wrapper_main());
    }
    std::process::exit(cargo_unasync::cli::main());
}
