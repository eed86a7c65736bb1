//! The `nnc` command. The only place that prints or exits; everything else is the library.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
