//! The commands: each runs the stages (read, parse, analyse, render) for its purpose.

pub mod compare;
pub mod expand;
pub mod inspect;
pub mod snapshot;
