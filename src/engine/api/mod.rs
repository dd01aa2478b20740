//! Host modules scripts can call, one file per namespace, each with a `register` function.
