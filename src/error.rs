//! Argument errors: the one kind of error the SDK throws into the app. Everything else
//! (storage, network, server refusals) is handled, counted and logged instead.

use crate::prelude::*;

/// Where an argument error happened: the exported function and the argument's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    pub function: &'static str,
    pub name: &'static str,
}

impl Arg {
    pub const fn new(function: &'static str, name: &'static str) -> Self {
        Arg { function, name }
    }
}

/// An argument of the wrong kind; thrown to JavaScript as a `TypeError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgError {
    pub at: Arg,
    /// What the argument must be, e.g. "a non-empty string".
    pub expected: &'static str,
}

impl ArgError {
    pub fn new(at: Arg, expected: &'static str) -> Self {
        ArgError { at, expected }
    }

    /// `lunary.identify: userId must be a non-empty string`.
    pub fn message(&self) -> String {
        let mut text = String::with_capacity(48);
        for part in [
            "lunary.",
            self.at.function,
            ": ",
            self.at.name,
            " must be ",
            self.expected,
        ] {
            text.push_str(part);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_function_and_the_argument() {
        let error = ArgError::new(Arg::new("identify", "userId"), "a non-empty string");
        assert_eq!(
            error.message(),
            "lunary.identify: userId must be a non-empty string"
        );
    }
}
