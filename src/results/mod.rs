//! The only writer of the results directory.
