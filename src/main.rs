fn main() {
    std::process::exit(stack::cli::main());
}
