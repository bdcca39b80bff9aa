//! Command-line interface: clap definitions and one thin file per verb.

pub fn main() -> i32 {
    0
}
